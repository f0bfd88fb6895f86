"""What is retried and what is not, against an in-process gRPC server whose
answers are scripted (a real node cannot be made to fail exactly so):
idempotent calls are retried on transient codes, a delete is not once it
was delivered, invalid input never is; a bulk stream resumes from the first
unanswered record, in input order, after a broken stream or a transient
per-record error."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from kindred_client import (
    Aborted,
    InvalidArgument,
    KindredClient,
    RetryPolicy,
    Unavailable,
)
from kindred_client.v1 import kindred_pb2, kindred_pb2_grpc

FAST = RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.02)
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE.value[0]


class ScriptedRecords(kindred_pb2_grpc.RecordsServicer):
    """Records service whose failures are scripted per call.

    `failures[method]` is a list of status codes: the n-th call of the
    method fails with the n-th code (None: succeeds). `bulk_script` is a list
    of per-stream scripts: {"abort_after_batches": n} or {"item_error": {record_id: code}}.
    """

    def __init__(self) -> None:
        self.failures: dict[str, list[grpc.StatusCode | None]] = {}
        self.calls: dict[str, int] = {}
        self.bulk_script: list[dict[str, Any]] = []
        self.streams: list[list[str]] = []  # record ids received, per stream
        self.store: dict[tuple[str, str], kindred_pb2.Record] = {}
        self.request_ids: dict[str, list[str]] = {}
        self.lock = threading.Lock()

    def _fail(self, method: str, context: Any) -> None:
        rid = dict(context.invocation_metadata()).get("x-request-id", "")
        with self.lock:
            self.request_ids.setdefault(method, []).append(rid)
            n = self.calls.get(method, 0)
            self.calls[method] = n + 1
            script = self.failures.get(method, [])
            code = script[n] if n < len(script) else None
        if code is not None:
            context.abort(code, f"scripted {code.name}")

    def Upsert(self, request: Any, context: Any) -> Any:
        self._fail("Upsert", context)
        r = request.record
        self.store[(r.source, r.record_id)] = r
        return kindred_pb2.UpsertResponse(
            result=kindred_pb2.ResolveResult(
                record=kindred_pb2.RecordRef(source=r.source, record_id=r.record_id), entity_id=1
            )
        )

    def Delete(self, request: Any, context: Any) -> Any:
        self._fail("Delete", context)
        return kindred_pb2.DeleteResponse(affected_entities=[1])

    def Get(self, request: Any, context: Any) -> Any:
        self._fail("Get", context)
        if request.record.record_id == "rich":
            # The gRPC rich error model: a google.rpc.BadRequest detail.
            from google.rpc import error_details_pb2, status_pb2

            bad = error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field="records[3].emails[0]", description='"ann@": invalid email: no domain'
                    ),
                    error_details_pb2.BadRequest.FieldViolation(field="gender", description="is unknown"),
                ]
            )
            status = status_pb2.Status(
                code=grpc.StatusCode.INVALID_ARGUMENT.value[0], message="a message in no known form"
            )
            status.details.add().Pack(bad)
            context.set_trailing_metadata([("grpc-status-details-bin", status.SerializeToString())])
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, status.message)
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, 'invalid argument: record.source = "": is required')

    def BulkUpsert(self, request_iterator: Any, context: Any) -> Iterator[Any]:
        with self.lock:
            stream_no = len(self.streams)
            received: list[str] = []
            self.streams.append(received)
            script = self.bulk_script[stream_no] if stream_no < len(self.bulk_script) else {}
        index = 0
        for batch_no, batch in enumerate(request_iterator):
            if script.get("abort_after_batches") == batch_no:
                context.abort(grpc.StatusCode.UNAVAILABLE, "scripted: node went away")
            if script.get("end_after_batches") == batch_no:
                return  # ends the stream cleanly without answering the rest
            results = []
            for r in batch.records:
                received.append(r.record_id)
                code = script.get("item_error", {}).get(r.record_id)
                ref = kindred_pb2.RecordRef(source=r.source, record_id=r.record_id)
                if code is not None:
                    results.append(
                        kindred_pb2.BulkItemResult(
                            index=index,
                            error=kindred_pb2.RecordError(record=ref, code=code, message="scripted item error"),
                        )
                    )
                else:
                    self.store[(r.source, r.record_id)] = r
                    results.append(
                        kindred_pb2.BulkItemResult(index=index, ok=kindred_pb2.ResolveResult(record=ref, entity_id=7))
                    )
                index += 1
            yield kindred_pb2.BulkUpsertResponse(results=results)


@pytest.fixture
def scripted() -> Iterator[tuple[ScriptedRecords, str]]:
    servicer = ScriptedRecords()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    kindred_pb2_grpc.add_RecordsServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"127.0.0.1:{port}"
    server.stop(grace=None)


def client(target: str, **kwargs: Any) -> KindredClient:
    kwargs.setdefault("retry", FAST)
    return KindredClient(target, options=[("grpc.enable_http_proxy", 0)], timeout=10.0, **kwargs)


def test_an_upsert_is_retried_on_unavailable_and_aborted(scripted: Any) -> None:
    servicer, target = scripted
    servicer.failures["Upsert"] = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED, None]
    with client(target) as c:
        assert c.upsert({"source": "s", "record_id": "1"}).entity_id == 1
    assert servicer.calls["Upsert"] == 3


def test_retries_stop_at_max_attempts(scripted: Any) -> None:
    servicer, target = scripted
    servicer.failures["Upsert"] = [grpc.StatusCode.ABORTED] * 10
    with client(target) as c, pytest.raises(Aborted) as info:
        c.upsert({"source": "s", "record_id": "1"})
    assert servicer.calls["Upsert"] == FAST.max_attempts == info.value.attempts
    # Every attempt of the call carried the same request id, which the error names.
    ids = servicer.request_ids["Upsert"]
    assert len(set(ids)) == 1 and re.fullmatch(r"[0-9a-f]{16}", ids[0])
    assert info.value.request_id == ids[0]
    assert f"request {ids[0]}" in str(info.value)


def test_a_delivered_delete_is_not_retried(scripted: Any) -> None:
    servicer, target = scripted
    servicer.failures["Delete"] = [grpc.StatusCode.UNAVAILABLE, None]
    with client(target) as c, pytest.raises(Unavailable):
        c.delete("s:1")
    assert servicer.calls["Delete"] == 1


def test_invalid_input_is_never_retried_and_names_the_field(scripted: Any) -> None:
    servicer, target = scripted
    with client(target) as c, pytest.raises(InvalidArgument) as info:
        c.get_record("s:1")
    assert servicer.calls["Get"] == 1
    assert info.value.field == "record.source"


def test_invalid_argument_takes_the_field_from_a_bad_request_detail(scripted: Any) -> None:
    servicer, target = scripted
    with client(target) as c, pytest.raises(InvalidArgument) as info:
        c.get_record("s:rich")
    err = info.value
    assert (err.field, err.value, err.reason) == ("records[3].emails[0]", "ann@", "invalid email: no domain")
    assert err.violations == [("records[3].emails[0]", '"ann@": invalid email: no domain'), ("gender", "is unknown")]


def test_custom_retryable_codes(scripted: Any) -> None:
    servicer, target = scripted
    servicer.failures["Upsert"] = [grpc.StatusCode.RESOURCE_EXHAUSTED, None]
    with client(
        target, retry=RetryPolicy(retryable_codes={grpc.StatusCode.RESOURCE_EXHAUSTED}, initial_backoff=0.01)
    ) as c:
        c.upsert({"source": "s", "record_id": "1"})
    assert servicer.calls["Upsert"] == 2


def _records(n: int, dup_at: int | None = None) -> list[dict[str, Any]]:
    rows = [{"source": "s", "record_id": f"r{i}", "given_name": f"v{i}"} for i in range(n)]
    if dup_at is not None:  # a later version of r0
        rows[dup_at] = {"source": "s", "record_id": "r0", "given_name": "latest"}
    return rows


def test_a_broken_bulk_stream_resumes_from_the_first_unanswered_record(scripted: Any) -> None:
    servicer, target = scripted
    servicer.bulk_script = [{"abort_after_batches": 3}]
    rows = _records(50, dup_at=45)
    with client(target) as c:
        result = c.bulk_upsert(rows, batch_size=5)
    assert len(result) == 50 and result.error_count == 0
    assert [it.index for it in result] == list(range(50))
    assert [it.ok.record.record_id for it in result] == [r["record_id"] for r in rows]
    assert len(servicer.streams) == 2
    first, second = servicer.streams
    assert first[:15] == [f"r{i}" for i in range(15)]
    # The second stream starts right after the last answered record and
    # keeps input order, so the later version of r0 is written last.
    answered = 15
    assert second == [r["record_id"] for r in rows[answered:]]
    assert servicer.store[("s", "r0")].name.given == "latest"


def test_a_transient_item_error_resends_from_that_record_in_order(scripted: Any) -> None:
    servicer, target = scripted
    servicer.bulk_script = [{"item_error": {"r0": UNAVAILABLE}}]
    rows = _records(12, dup_at=7)
    with client(target) as c:
        result = c.bulk_upsert(rows, batch_size=4)
    assert result.error_count == 0 and len(result) == 12
    second = servicer.streams[1]
    assert second[0] == "r0" and second == [r["record_id"] for r in rows]
    assert servicer.store[("s", "r0")].name.given == "latest"


def test_a_stream_that_ends_before_answering_everything_is_resumed(scripted: Any) -> None:
    servicer, target = scripted
    servicer.bulk_script = [{"end_after_batches": 2}]
    with client(target) as c:
        result = c.bulk_upsert(_records(20), batch_size=4)
    assert result.ok_count == 20
    assert servicer.streams[1][0] == "r8"


def test_a_permanent_item_error_is_reported_not_retried(scripted: Any) -> None:
    servicer, target = scripted
    servicer.bulk_script = [{"item_error": {"r3": grpc.StatusCode.INVALID_ARGUMENT.value[0]}}]
    with client(target) as c:
        result = c.bulk_upsert(_records(6), raise_on_error=False)
    assert len(servicer.streams) == 1
    assert [it.index for it in result.errors] == [3]


def test_a_bulk_stream_that_never_progresses_gives_up_with_what_was_done(scripted: Any) -> None:
    servicer, target = scripted
    servicer.bulk_script = [{"abort_after_batches": 1}] + [{"abort_after_batches": 0}] * 10
    with client(target) as c, pytest.raises(Unavailable) as info:
        c.bulk_upsert(_records(20), batch_size=5)
    done = info.value.bulk_result
    assert done is not None
    assert [it.ok.record.record_id for it in done] == [f"r{i}" for i in range(5)]
    assert len(servicer.streams) == 1 + FAST.max_attempts


def test_an_error_in_the_callers_iterator_is_raised_after_what_was_stored(scripted: Any) -> None:
    servicer, target = scripted

    def rows() -> Iterator[dict[str, Any]]:
        yield from _records(7)
        raise OSError("disk on fire")

    seen = []
    with client(target) as c, pytest.raises(OSError, match="disk on fire"):
        for item in c.iter_bulk_upsert(rows(), batch_size=3):
            seen.append(item.index)
    assert seen == list(range(7))
