"""The bulk stream engine behind ``bulk_upsert`` and ``send_events``.

One bidirectional stream carries batches of items; the node answers each
batch with one result per item, in order. The engine:

* keeps a *window* of the items not yet settled, in input order, and
  yields each item's result (``index`` rewritten to its input position)
  once every item before it is settled;
* bounds the batches in flight (backpressure) and the bytes per batch;
* on a transient failure — the stream breaks with a retryable code, or the
  node answers an item with one (``UNAVAILABLE``, ``ABORTED``) — cancels the
  stream and opens a new one (on the next endpoint if the stream broke),
  sending again every unsettled item from the first, in input order, then
  the rest of the input. Items are idempotent (records are keyed by source
  and record id, events by event id), so an item sent twice is stored
  once, and re-sending in input order keeps "the later version wins";
* counts only failures without progress against the retry policy.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

from ._transport import new_request_id
from .errors import REQUEST_ID_KEY, DeadlineExceeded, Internal, from_rpc_error, status_code
from .v1 import events_pb2, kindred_pb2

if TYPE_CHECKING:
    from .client import KindredClient

log = logging.getLogger("kindred_client")

MAX_BATCH_RECORDS = 10_000  # the node's limit (Limits::max_batch_records)
MAX_BATCH_BYTES = 4 * 1024 * 1024  # well under the node's 16 MiB message limit
MAX_IN_FLIGHT = 4  # batches sent and not yet answered


@dataclass
class Rejected:
    """An input item the client could not turn into a message (not sent)."""

    code: grpc.StatusCode
    field: str
    value: str
    message: str
    ref: kindred_pb2.RecordRef
    event_id: str = ""


class _Entry:
    __slots__ = ("index", "msg", "size", "result")

    def __init__(self, index: int, msg: Any, result: Any = None) -> None:
        self.index = index
        self.msg = msg
        self.size = msg.ByteSize() if msg is not None else 0
        self.result = result


class _TransientItem(Exception):
    """The node answered an item with a transient error (or the stream ended
    before answering every item): the stream is to be resumed."""

    def __init__(self, item: Any, description: str | None = None) -> None:
        super().__init__(item.error.message)
        self.item = item
        self.description = description or f"item {item.index} answered {item.error.message}"


def _error_result(index: int, r: Rejected, events: bool) -> Any:
    if events:
        return events_pb2.BulkEventResult(
            index=index,
            error=events_pb2.EventError(
                record=r.ref, event_id=r.event_id, code=r.code.value[0], field=r.field, value=r.value, message=r.message
            ),
        )
    return kindred_pb2.BulkItemResult(
        index=index,
        error=kindred_pb2.RecordError(
            record=r.ref, code=r.code.value[0], field=r.field, value=r.value, message=r.message
        ),
    )


class _Round:
    """One stream: the request side, run by gRPC's sending thread."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.stop = threading.Event()
        self.in_flight = threading.Semaphore(MAX_IN_FLIGHT)
        # Entries sent on this stream and not yet answered, in order.
        self.sent: deque[_Entry] = deque()
        self.resend: deque[_Entry] = deque(e for e in run.window if e.result is None)
        run.carry = None  # it is in the window, so among the entries to resend
        self.position = 0  # stream index of the next answer

    def requests(self) -> Iterator[Any]:
        run = self.run
        while True:
            while not self.in_flight.acquire(timeout=0.05):
                if self.stop.is_set():
                    return
            with run.pull_lock:
                if self.stop.is_set():
                    return
                batch = self._next_batch()
            if not batch:
                return
            yield run.make_request([e.msg for e in batch])

    def _next_batch(self) -> list[_Entry]:
        """Takes up to batch_size entries: unsettled ones of a failed stream
        first, then new input. Called with the pull lock held."""
        run = self.run
        batch: list[_Entry] = []
        size = 0
        while len(batch) < run.batch_size:
            entry: _Entry | None
            if self.resend:
                entry = self.resend[0]
                if batch and size + entry.size > MAX_BATCH_BYTES:
                    break
                self.resend.popleft()
            else:
                if run.input_done:
                    break
                entry = run.pull()
                if entry is None:
                    break
                if entry.result is not None:  # rejected by the client: not sent
                    continue
                if batch and size + entry.size > MAX_BATCH_BYTES:
                    run.carry = entry
                    break
            batch.append(entry)
            self.sent.append(entry)
            size += entry.size
        return batch


class _Run:
    def __init__(
        self,
        client: KindredClient,
        items: Iterable[Any],
        method: Callable[[Any], Any],
        make_request: Callable[[list[Any]], Any],
        results_of: Callable[[Any], Sequence[Any]],
        batch_size: int,
        timeout: float | None,
        events: bool,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH_RECORDS:
            raise ValueError(f"batch_size must be within 1..{MAX_BATCH_RECORDS}, got {batch_size}")
        self.client = client
        self.input = iter(items)
        self.method = method
        self.make_request = make_request
        self.results_of = results_of
        self.batch_size = batch_size
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.timeout = timeout
        self.events = events
        self.window: deque[_Entry] = deque()
        self.pull_lock = threading.Lock()
        self.next_index = 0
        self.input_done = False
        self.input_error: BaseException | None = None
        self.carry: _Entry | None = None
        self.request_id = new_request_id()  # one for every stream of the call

    def pull(self) -> _Entry | None:
        """The next input entry (appended to the window), or None at the end.
        Called with the pull lock held, from gRPC's sending thread."""
        if self.carry is not None:
            entry, self.carry = self.carry, None
            return entry
        try:
            item = next(self.input)
        except StopIteration:
            self.input_done = True
            return None
        except BaseException as e:  # the caller's iterator failed: end the stream, re-raise later
            self.input_error = e
            self.input_done = True
            return None
        index = self.next_index
        self.next_index += 1
        if isinstance(item, Rejected):
            entry = _Entry(index, None, _error_result(index, item, self.events))
        else:
            entry = _Entry(index, item)
        self.window.append(entry)
        return entry

    def settled(self) -> Iterator[Any]:
        while self.window and self.window[0].result is not None:
            yield self.window.popleft().result

    def __iter__(self) -> Iterator[Any]:
        policy = self.client._retry
        targets = self.client._targets
        n = len(targets)
        i = self.client._current
        tried: set[int] = {i}
        failures = 0  # consecutive failed streams without progress
        round_number = 0
        while True:
            remaining = None if self.deadline is None else self.deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise DeadlineExceeded(
                    f"the bulk call did not finish within {self.timeout:g}s", endpoint=targets[i].url
                )
            rnd = _Round(self)
            target = self.client._target(i)
            call = self.method(target.stubs())(
                rnd.requests(), timeout=remaining, metadata=((REQUEST_ID_KEY, self.request_id),)
            )
            progress = False
            failure: grpc.RpcError | _TransientItem | None = None
            try:
                for resp in call:
                    rnd.in_flight.release()
                    for item in self.results_of(resp):
                        self._answer(rnd, item, policy)
                        progress = True
                    yield from self.settled()
                if rnd.sent:
                    # The stream ended without answering everything sent.
                    message = "the stream ended before every item was answered"
                    failure = _TransientItem(_item_error(self.events, grpc.StatusCode.UNAVAILABLE, message), message)
            except _TransientItem as t:
                failure = t
            except grpc.RpcError as err:
                code = err.code()
                if code == grpc.StatusCode.DEADLINE_EXCEEDED and self.deadline is not None:
                    raise DeadlineExceeded(
                        f"the bulk call did not finish within {self.timeout:g}s", endpoint=target.url
                    ) from err
                if not policy.is_retryable(code):
                    if code == grpc.StatusCode.CANCELLED and self.input_error is not None:
                        raise self.input_error from None
                    raise from_rpc_error(
                        err, endpoint=target.url, attempts=failures + 1, request_id=self.request_id
                    ) from err
                failure = err
            finally:
                # Whatever happened (a failure, an error raised, the caller
                # stopping early), this stream is over: stop its sending side
                # and wait until it has left the input alone.
                rnd.stop.set()
                call.cancel()
                with self.pull_lock:
                    pass
            if failure is None:
                yield from self.settled()
                if self.input_error is not None:
                    raise self.input_error
                if self.window:
                    raise Internal("bulk stream finished with unsettled items")  # pragma: no cover
                self.client._current = i
                return
            # A transient failure: try again.
            if progress:
                # It got somewhere: resuming it is a new call, with every attempt.
                self.client._current = i
                failures = 0
                tried = {i}
            else:
                failures += 1
            yield from self.settled()
            if failures >= policy.max_attempts or policy.max_attempts == 1:
                if isinstance(failure, _TransientItem):
                    code = _code_of(failure.item.error.code)
                    raise from_rpc_error(
                        _FakeRpcError(code, failure.item.error.message),
                        endpoint=target.url,
                        attempts=max(failures, 1),
                        request_id=self.request_id,
                    )
                raise from_rpc_error(
                    failure, endpoint=target.url, attempts=max(failures, 1), request_id=self.request_id
                )
            stream_broke = isinstance(failure, grpc.RpcError)
            what = (
                f"{failure.code().name}: {failure.details()}"
                if isinstance(failure, grpc.RpcError)
                else failure.description
            )
            nxt = (i + 1) % n if stream_broke else i
            if not stream_broke or nxt in tried:
                round_number = round_number + 1 if not progress else 1
                delay = policy.backoff(round_number)
                if self.deadline is not None and time.monotonic() + delay >= self.deadline:
                    raise DeadlineExceeded(
                        f"the bulk call did not finish within {self.timeout:g}s (last: {what})", endpoint=target.url
                    )
                log.info(
                    "bulk stream to %s failed (%s, request %s); resuming in %.2fs",
                    target.url,
                    what,
                    self.request_id,
                    delay,
                )
                time.sleep(delay)
                tried = set()
            else:
                log.info(
                    "bulk stream to %s failed (%s, request %s); resuming on %s",
                    target.url,
                    what,
                    self.request_id,
                    targets[nxt].url,
                )
            i = nxt
            tried.add(i)

    def _answer(self, rnd: _Round, item: Any, policy: Any) -> None:
        if not rnd.sent:
            raise Internal(f"the node answered more items than were sent (stream index {item.index})")
        if item.index != rnd.position:
            raise Internal(f"the node answered stream index {item.index}, expected {rnd.position}")
        entry = rnd.sent[0]
        if item.WhichOneof("outcome") == "error" and policy.is_retryable(_code_of(item.error.code)):
            raise _TransientItem(item)
        rnd.sent.popleft()
        rnd.position += 1
        item.index = entry.index
        entry.result = item


def _code_of(number: int) -> grpc.StatusCode:
    return status_code(number)


def _item_error(events: bool, code: grpc.StatusCode, message: str) -> Any:
    if events:
        return events_pb2.BulkEventResult(error=events_pb2.EventError(code=code.value[0], message=message))
    return kindred_pb2.BulkItemResult(error=kindred_pb2.RecordError(code=code.value[0], message=message))


class _FakeRpcError(grpc.RpcError):  # type: ignore[misc]
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


def run(
    client: KindredClient,
    items: Iterable[Any],
    *,
    method: Callable[[Any], Any],
    make_request: Callable[[list[Any]], Any],
    results_of: Callable[[Any], Sequence[Any]],
    batch_size: int,
    timeout: float | None,
    events: bool = False,
) -> Iterator[Any]:
    """Streams ``items`` (messages, or :class:`Rejected`) and yields one
    result per item, in input order."""
    return iter(_Run(client, items, method, make_request, results_of, batch_size, timeout, events))


__all__ = ["run", "Rejected"]
