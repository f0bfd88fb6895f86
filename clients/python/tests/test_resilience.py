"""Failover, retries and deadlines against real nodes (and a socket that
never answers). No fixed sleeps: each test waits for the progress it needs
(a logged retry, a thread finishing) with a deadline."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

import pytest

from kindred_client import (
    NO_RETRY,
    DeadlineExceeded,
    RetryPolicy,
    Unavailable,
)


class RetryLog(logging.Handler):
    """Collects the client's retry and failover log lines; `seen` is set at
    the first."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.seen.set()


@pytest.fixture
def retry_log() -> Iterator[RetryLog]:
    handler = RetryLog()
    logger = logging.getLogger("kindred_client")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def dead_endpoint() -> str:
    """An address nothing listens on (connections are refused)."""
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


@contextmanager
def silent_endpoint() -> Iterator[str]:
    """An address that accepts TCP connections and never answers."""
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield f"127.0.0.1:{s.getsockname()[1]}"


def in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as e:  # handed to the test
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


# ---------------------------------------------------------------- failover


def test_fails_over_from_a_dead_endpoint_and_stays_on_the_live_one(
    node: Any, make_client: Any, retry_log: RetryLog
) -> None:
    dead = dead_endpoint()
    c = make_client([dead, node.endpoint])
    assert c.current_endpoint == f"http://{dead}"
    assert c.stats().records >= 0
    assert c.current_endpoint == node.endpoint
    assert any("failing over" in m and dead in m for m in retry_log.messages)
    tried = len(retry_log.messages)
    c.upsert({"source": "res-fo", "record_id": "1", "given_name": "Failover"})
    c.profile(record="res-fo:1")
    assert len(retry_log.messages) == tried  # later calls go straight to the live endpoint


def test_a_delete_fails_over_when_the_connection_could_not_be_made(node: Any, make_client: Any) -> None:
    live = make_client(node.endpoint)
    live.upsert({"source": "res-del", "record_id": "1", "given_name": "Gone"})
    c = make_client([dead_endpoint(), node.endpoint])
    assert c.delete("res-del:1")  # not idempotent, but it never reached the dead endpoint


def test_every_endpoint_dead_is_unavailable_after_the_allowed_attempts(make_client: Any) -> None:
    a, b = dead_endpoint(), dead_endpoint()
    c = make_client([a, b], retry=RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05))
    with pytest.raises(Unavailable) as info:
        c.stats()
    assert info.value.attempts == 4
    assert isinstance(info.value, ConnectionError)
    assert "every endpoint tried" in str(info.value)


def test_without_retries_the_first_failure_is_final(make_client: Any, node: Any) -> None:
    c = make_client([dead_endpoint(), node.endpoint], retry=NO_RETRY)
    with pytest.raises(Unavailable) as info:
        c.stats()
    assert info.value.attempts == 1


# ---------------------------------------------------------------- retries


def test_a_call_made_before_the_node_starts_is_retried_until_it_serves(
    start_node: Any, free_port: int, make_client: Any, retry_log: RetryLog
) -> None:
    c = make_client(
        f"127.0.0.1:{free_port}",
        retry=RetryPolicy(max_attempts=10_000, initial_backoff=0.02, max_backoff=0.2),
        timeout=90.0,
    )
    t, out = in_thread(
        lambda: c.upsert({"source": "late", "record_id": "1", "given_name": "Tardy", "family_name": "Starter"})
    )
    assert retry_log.seen.wait(30), "the call never failed: is something listening on the port?"
    assert "UNAVAILABLE" in retry_log.messages[0]
    start_node(port=free_port, wait=False)
    t.join(90)
    assert not t.is_alive(), "the call did not finish after the node started"
    assert "error" not in out, out.get("error")
    assert out["value"].entity_id != 0
    assert c.get_record("late:1").record.name.family == "Starter"


def test_retries_stop_at_the_deadline(make_client: Any) -> None:
    c = make_client(
        dead_endpoint(), retry=RetryPolicy(max_attempts=10_000, initial_backoff=0.05, max_backoff=0.1), timeout=1.0
    )
    start = time.monotonic()
    with pytest.raises((DeadlineExceeded, Unavailable)) as info:
        c.stats()
    elapsed = time.monotonic() - start
    assert elapsed < 5.0
    assert info.value.attempts > 1


# ---------------------------------------------------------------- deadlines


def test_a_server_that_never_answers_hits_the_deadline(make_client: Any) -> None:
    with silent_endpoint() as silent:
        c = make_client(silent, timeout=0.5)
        start = time.monotonic()
        with pytest.raises(DeadlineExceeded) as info:
            c.stats()
        elapsed = time.monotonic() - start
    assert 0.4 <= elapsed < 5.0
    assert isinstance(info.value, TimeoutError)
    assert "0.5s" in str(info.value)


def test_a_per_call_timeout_overrides_the_default(make_client: Any) -> None:
    with silent_endpoint() as silent:
        c = make_client(silent, timeout=60.0)
        start = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            c.profile(email="x@example.com", timeout=0.3)
        assert time.monotonic() - start < 5.0


def test_an_attempt_timeout_fails_over_from_a_silent_node(node: Any, make_client: Any, retry_log: RetryLog) -> None:
    with silent_endpoint() as silent:
        c = make_client(
            [silent, node.endpoint], retry=RetryPolicy(attempt_timeout=0.3, initial_backoff=0.05), timeout=20.0
        )
        start = time.monotonic()
        assert c.health() == "SERVING"
        assert time.monotonic() - start < 10.0
    assert c.current_endpoint == node.endpoint
    assert any("DEADLINE_EXCEEDED" in m for m in retry_log.messages)


def test_the_deadline_bounds_a_bulk_upload(make_client: Any) -> None:
    with silent_endpoint() as silent:
        c = make_client(silent)
        start = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            c.bulk_upsert([{"source": "s", "record_id": "1"}], timeout=0.5)
        assert time.monotonic() - start < 5.0


# ---------------------------------------------------------------- bulk across a crash


def test_a_bulk_upload_resumes_after_its_node_crashes_and_restarts(
    start_node: Any, make_client: Any, retry_log: RetryLog
) -> None:
    first = start_node()
    c = make_client(
        first.endpoint, retry=RetryPolicy(max_attempts=50, initial_backoff=0.05, max_backoff=0.5), timeout=None
    )
    total = 6000
    records = (
        {
            "source": "crash",
            "record_id": f"r-{i}",
            "given_name": f"Given{i % 97}",
            "family_name": f"Family{i // 97}",
            "email": f"r{i}@crash.example",
        }
        for i in range(total)
    )
    restarted = None
    seen = 0
    for item in c.iter_bulk_upsert(records, batch_size=200):
        assert item.index == seen, "results out of input order"
        assert item.WhichOneof("outcome") == "ok", item
        seen += 1
        if seen == 1000:
            # Kill the node mid-stream (more batches are in flight), then
            # start it again on the same port and data.
            first.kill()
            restarted = start_node(data_dir=first.data_dir, port=first.port, wait=False)
    assert seen == total
    assert restarted is not None
    assert any("bulk stream" in m for m in retry_log.messages), retry_log.messages
    stats = c.stats()
    assert stats.records == total
    exported = c.export_assignments().to_dataframe()
    assert sorted(exported["record_id"]) == sorted(f"r-{i}" for i in range(total))


def test_wait_until_ready_waits_for_a_starting_node(start_node: Any, free_port: int, make_client: Any) -> None:
    c = make_client([dead_endpoint(), f"127.0.0.1:{free_port}"])
    start_node(port=free_port, wait=False)
    assert c.wait_until_ready(timeout=60) == f"http://127.0.0.1:{free_port}"
    assert c.current_endpoint == f"http://127.0.0.1:{free_port}"
    assert c.health() == "SERVING"


def test_wait_until_ready_gives_up_at_its_timeout(make_client: Any) -> None:
    c = make_client(dead_endpoint())
    start = time.monotonic()
    with pytest.raises(DeadlineExceeded, match="no endpoint SERVING"):
        c.wait_until_ready(timeout=0.5)
    assert time.monotonic() - start < 5.0
