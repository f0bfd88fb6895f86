"""The change feed as it happens: :class:`WatchStream`."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import grpc

from .errors import from_rpc_error
from .v1 import segments_pb2

if TYPE_CHECKING:
    from .client import KindredClient

__all__ = ["WatchStream"]

_END = object()

# A broken stream is opened again after this long at first, doubling up to
# the cap while it keeps breaking before any message arrives.
_BACKOFF_FIRST = 0.2
_BACKOFF_CAP = 5.0


class WatchStream:
    """Segment entries, exits and trigger firings
    (``SegmentsWatchResponse``), in order, as they happen; iterate it.

    :attr:`cursor` is the cursor after the last message yielded: keep it,
    and a later ``watch(cursor=...)`` resumes exactly there (nothing missed,
    nothing twice). A stream broken by a node going away (``UNAVAILABLE``)
    is opened again from that cursor, through the client's failover, so the
    iteration just goes on; any other error raises. Use it as a context
    manager, or call :meth:`cancel`, to stop.
    """

    def __init__(
        self,
        client: KindredClient,
        segments: Sequence[str],
        triggers: Sequence[str],
        cursor: str,
        *,
        reconnect: bool = True,
    ) -> None:
        self._client = client
        self._segments = list(segments)
        self._triggers = list(triggers)
        self.cursor = cursor
        self._reconnect = reconnect
        self._call: Any = None
        self._cancelled = False

    def __enter__(self) -> WatchStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()

    def cancel(self) -> None:
        """Stops the stream (the node stops sending)."""
        self._cancelled = True
        if self._call is not None:
            self._call.cancel()

    def _open(self) -> Any:
        def first(call: Any) -> Any:
            self._call = call
            try:
                return next(call)
            except StopIteration:
                return _END

        req = segments_pb2.SegmentsWatchRequest(segments=self._segments, triggers=self._triggers, cursor=self.cursor)
        return self._client._call(lambda s: s.segments.Watch, req, idempotent=True, timeout=None, first=first)

    def _take(self, m: segments_pb2.SegmentsWatchResponse) -> segments_pb2.SegmentsWatchResponse:
        self.cursor = m.cursor
        return m

    def __iter__(self) -> Iterator[segments_pb2.SegmentsWatchResponse]:
        backoff = _BACKOFF_FIRST
        while not self._cancelled:
            try:
                head = self._open()
                if head is _END:
                    return
                yield self._take(head)
                backoff = _BACKOFF_FIRST
                for m in self._call:
                    yield self._take(m)
                return
            except grpc.RpcError as err:
                if self._cancelled:
                    return
                if not (self._reconnect and err.code() == grpc.StatusCode.UNAVAILABLE):
                    raise from_rpc_error(err, endpoint=self._client.current_endpoint) from err
            time.sleep(backoff)
            backoff = min(backoff * 2, _BACKOFF_CAP)
