"""Fixtures of the kindred-client tests: real ``kindred-node`` processes.

The node binary is ``KINDRED_NODE_BIN``, else ``<repo>/target/debug/kindred-node``,
else ``$CARGO_TARGET_DIR/debug/kindred-node``; it is never built here.

Fixtures:
  node_bin    the binary
  node        one node for the whole session (fresh temp data dir, a free
              port), SERVING; SIGTERM at the end, must exit 0
  client      a KindredClient to that node
  start_node  factory of more nodes (own data dir and port, optional extra
              flags, or not waiting for SERVING); each is stopped at the
              test's teardown and must exit 0
  free_port   a port nothing listens on (bound and released)

Tests on the shared node use their own sources and people, so they do not
depend on one another. Nothing here sleeps a fixed time: waits poll for
progress (the node's health, a log line) with a deadline.

The tests import the *installed* kindred_client (``pip install
./clients/python``): a check below fails the run if it differs from the
source tree, so that a stale install is not tested by mistake.
"""

from __future__ import annotations

import filecmp
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

import kindred_client
from kindred_client import KindredClient, RetryPolicy

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
REPO_ROOT = PACKAGE_ROOT.parent.parent
SRC = PACKAGE_ROOT / "src" / "kindred_client"

SERVING_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 20.0

# Straight to 127.0.0.1 whatever *_proxy variables say.
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]
# Quick retries: tests wait for progress, not for backoff.
FAST_RETRY = RetryPolicy(max_attempts=6, initial_backoff=0.05, max_backoff=0.5)


def pytest_sessionstart(session: pytest.Session) -> None:
    installed = Path(kindred_client.__file__).resolve().parent
    if installed == SRC.resolve():
        return  # an editable install, or the source tree on sys.path
    cmp = filecmp.dircmp(SRC, installed, ignore=["__pycache__"])
    stale: list[str] = []

    def walk(c: filecmp.dircmp[str], prefix: str) -> None:
        stale.extend(prefix + n for n in c.diff_files + c.left_only)
        for name, sub in c.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(cmp, "")
    if stale:
        pytest.exit(
            f"the installed kindred_client ({installed}) differs from {SRC}: {', '.join(sorted(stale))}. "
            "Reinstall it: pip install './clients/python[test]' (or pip install -e for development).",
            returncode=2,
        )


# ---------------------------------------------------------------- binary


@pytest.fixture(scope="session")
def node_bin() -> Path:
    env = os.environ.get("KINDRED_NODE_BIN")
    if env:
        p = Path(env)
        if not (p.is_file() and os.access(p, os.X_OK)):
            pytest.fail(f"KINDRED_NODE_BIN={env} is not an executable file")
        return p
    candidates = [REPO_ROOT / "target" / "debug" / "kindred-node"]
    if os.environ.get("CARGO_TARGET_DIR"):
        candidates.append(Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / "kindred-node")
    for p in candidates:
        if p.is_file() and os.access(p, os.X_OK):
            return p
    pytest.fail(
        "kindred-node binary not found; looked at "
        + ", ".join(str(p) for p in candidates)
        + ". Build it (cargo build -p kindred-node --bin kindred-node) and/or set KINDRED_NODE_BIN."
    )


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def free_port() -> int:
    return _free_port()


# ---------------------------------------------------------------- node


class Node:
    """A kindred-node process on 127.0.0.1:port."""

    def __init__(self, binary: Path, data_dir: Path, log_path: Path, port: int, extra_args: Sequence[str] = ()) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self.endpoint = f"http://{self.address}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KINDRED_")}
        env["KINDRED_LOG"] = "info"
        env["NO_COLOR"] = "1"
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [
                str(binary),
                "--data-dir",
                str(data_dir),
                "--listen",
                self.address,
                "--internal-listen",
                "127.0.0.1:0",
                *extra_args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.exit_code: int | None = None
        self.killed = False

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "<no log>"

    def wait_serving(
        self,
        timeout: float = SERVING_TIMEOUT_S,
        target: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        """Polls grpc.health.v1 (plaintext unless credentials) until SERVING."""
        target = target or self.address
        channel = (
            grpc.secure_channel(target, credentials, options=CHANNEL_OPTIONS)
            if credentials
            else grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
        )
        health = health_pb2_grpc.HealthStub(channel)
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        try:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    code = self.proc.returncode
                    raise RuntimeError(
                        f"kindred-node exited with {code} before serving on {self.address}:\n{self.log_tail()}"
                    )
                try:
                    status = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0).status
                    if status == health_pb2.HealthCheckResponse.SERVING:
                        return
                    last = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
                except grpc.RpcError as e:
                    last = f"{e.code().name}: {e.details()}"
                time.sleep(0.05)
        finally:
            channel.close()
        raise RuntimeError(
            f"kindred-node on {self.address} not SERVING after {timeout:.0f}s (last: {last}):\n{self.log_tail()}"
        )

    def stop(self) -> int:
        """SIGTERM, wait, SIGKILL if needed; the exit code."""
        if self.exit_code is not None:
            return self.exit_code
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
                self._log.close()
                self.exit_code = self.proc.returncode
                raise AssertionError(
                    f"kindred-node ignored SIGTERM for {SHUTDOWN_TIMEOUT_S:.0f}s:\n{self.log_tail()}"
                ) from None
        self._log.close()
        self.exit_code = self.proc.returncode
        return self.exit_code

    def kill(self) -> None:
        """SIGKILL (a crash); the node is then not expected to exit 0."""
        self.killed = True
        self.proc.kill()
        self.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
        self._log.close()
        self.exit_code = self.proc.returncode

    def assert_clean_exit(self) -> None:
        if self.killed:
            return
        code = self.stop()
        assert code == 0, f"kindred-node exited with {code} after SIGTERM (expected 0):\n{self.log_tail()}"


def _launch(
    binary: Path,
    data_dir: Path,
    log_path: Path,
    extra_args: Sequence[str],
    wait: bool,
    port: int | None,
    credentials: grpc.ChannelCredentials | None,
) -> Node:
    """Starts a node and (with wait) waits for SERVING. A free port is found
    by binding port 0 and releasing it; if another process takes it in
    between the node fails to bind, and a new port is tried."""
    errors = []
    for _ in range(3):
        node = Node(binary, data_dir, log_path, port or _free_port(), extra_args)
        if not wait:
            return node
        try:
            node.wait_serving(target=f"localhost:{node.port}" if credentials else None, credentials=credentials)
            return node
        except RuntimeError as e:
            errors.append(str(e))
            node.stop()
            if port is not None or "in use" not in node.log_tail().lower():
                break
    pytest.fail("could not start kindred-node:\n" + "\n---\n".join(errors))


class StartNode:
    def __init__(self, binary: Path, tmp: pytest.TempPathFactory) -> None:
        self.binary = binary
        self.tmp = tmp
        self.started: list[Node] = []

    def __call__(
        self,
        *,
        data_dir: Path | None = None,
        extra_args: Sequence[str] = (),
        wait: bool = True,
        port: int | None = None,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> Node:
        """Starts a node (fresh data dir unless given); waits for SERVING
        unless wait=False; with credentials, checks health over TLS."""
        if data_dir is None:
            data_dir = self.tmp.mktemp("node") / "data"
        log_path = data_dir.parent / f"node-{len(self.started)}.log"
        node = _launch(self.binary, data_dir, log_path, extra_args, wait, port, credentials)
        self.started.append(node)
        return node


@pytest.fixture
def start_node(node_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartNode]:
    starter = StartNode(node_bin, tmp_path_factory)
    yield starter
    failures = []
    for node in starter.started:
        try:
            node.assert_clean_exit()
        except AssertionError as e:
            failures.append(str(e))
    if failures:
        pytest.fail("\n---\n".join(failures))


@pytest.fixture(scope="session")
def node(node_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    data_dir = tmp_path_factory.mktemp("shared-node") / "data"
    n = _launch(node_bin, data_dir, data_dir.parent / "node.log", (), True, None, None)
    yield n
    n.assert_clean_exit()


class ClientFactory:
    """make_client(endpoints, **kwargs) -> KindredClient with test defaults
    (no proxy, quick retries, a 20 s deadline); closed at teardown."""

    def __init__(self) -> None:
        self.clients: list[KindredClient] = []

    def __call__(self, endpoints: str | Sequence[str], **kwargs: Any) -> KindredClient:
        kwargs.setdefault("options", CHANNEL_OPTIONS)
        kwargs.setdefault("retry", FAST_RETRY)
        kwargs.setdefault("timeout", 20.0)
        c = KindredClient(endpoints, **kwargs)
        self.clients.append(c)
        return c


@pytest.fixture
def make_client() -> Iterator[ClientFactory]:
    factory = ClientFactory()
    yield factory
    for c in factory.clients:
        c.close()


@pytest.fixture
def client(node: Node, make_client: ClientFactory) -> KindredClient:
    return make_client(node.endpoint)
