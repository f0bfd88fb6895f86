"""Fixtures for the Python client-side test suite of Kindred's gRPC API.

The suite talks to a real `kindred-node` process through Python `grpcio`
stubs generated at session start from the repository's `proto/` tree with
`grpc_tools.protoc`: nothing in here is hand-written wire code.

Fixtures:
  kindred      the generated modules: pb (kindred_pb2), records
               (record_pb2), grpc (kindred_pb2_grpc), activity
               (activity_pb2), events (events_pb2), events_grpc
               (events_pb2_grpc), and stub_dir
  node_bin     path of the node binary (KINDRED_NODE_BIN, else the cargo
               target directories); never built here
  node         one node shared by the whole session (fresh temp data dir),
               SERVING, with stubs: records, profiles, explain, admin, events,
               traits, health;
               SIGTERM at session end, must exit 0
  channel      the grpc.Channel to that node
  start_node   starts extra nodes (e.g. a fresh one for exact counts, or a
               restart on an existing data dir); each is stopped at the
               test's teardown and must exit 0
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import types
from contextlib import closing
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
PROTO_ROOT = REPO_ROOT / "proto"
PROTO_FILES = (
    "kindred/v1/record.proto",
    "kindred/v1/kindred.proto",
    "kindred/v1/activity.proto",
    "kindred/v1/events.proto",
)

SERVING_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 20.0

CHANNEL_OPTIONS = [
    # Talk straight to 127.0.0.1 whatever *_proxy variables say.
    ("grpc.enable_http_proxy", 0),
    # Room for the 100 KB records of the size-limit tests.
    ("grpc.max_send_message_length", 16 * 1024 * 1024),
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
]


# ---------------------------------------------------------------- stubs


@pytest.fixture(scope="session")
def kindred(tmp_path_factory):
    """Generates the kindred.v1 stubs into a temp dir and imports them."""
    if not (PROTO_ROOT / PROTO_FILES[1]).is_file():
        pytest.fail(f"proto tree not found at {PROTO_ROOT}")
    out = tmp_path_factory.mktemp("stubs")
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        *PROTO_FILES,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=PROTO_ROOT)
    if proc.returncode != 0:
        pytest.fail(
            "grpc_tools.protoc failed (is grpcio-tools installed? "
            f"pip install -r {HERE / 'requirements.txt'}):\n"
            f"{' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
        )
    # The generated code imports `from kindred.v1 import record_pb2`: make
    # kindred/ and kindred/v1/ regular packages rooted at `out`.
    for pkg in (out / "kindred", out / "kindred" / "v1"):
        (pkg / "__init__.py").touch()
    for name in [m for m in sys.modules if m == "kindred" or m.startswith("kindred.")]:
        del sys.modules[name]
    sys.path.insert(0, str(out))
    from kindred.v1 import (
        activity_pb2,
        events_pb2,
        events_pb2_grpc,
        kindred_pb2,
        kindred_pb2_grpc,
        record_pb2,
    )
    return types.SimpleNamespace(
        pb=kindred_pb2,
        records=record_pb2,
        grpc=kindred_pb2_grpc,
        activity=activity_pb2,
        events=events_pb2,
        events_grpc=events_pb2_grpc,
        stub_dir=out,
    )


# ---------------------------------------------------------------- binary


def _find_node_bin() -> Path:
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
        + ". Build it first (cargo build -p kindred-node --bin kindred-node) "
        "and/or set KINDRED_NODE_BIN to its path."
    )


@pytest.fixture(scope="session")
def node_bin() -> Path:
    return _find_node_bin()


# ---------------------------------------------------------------- node


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """A running kindred-node process and a channel to it."""

    def __init__(
        self,
        binary: Path,
        data_dir: Path,
        log_path: Path,
        kindred,
        extra_args=(),
        credentials=None,
    ):
        self.binary = binary
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
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
        if credentials is None:
            self.channel = grpc.insecure_channel(self.address, options=CHANNEL_OPTIONS)
        else:
            self.channel = grpc.secure_channel(
                f"localhost:{self.port}", credentials, options=CHANNEL_OPTIONS
            )
        self.records = kindred.grpc.RecordsStub(self.channel)
        self.profiles = kindred.grpc.ProfilesStub(self.channel)
        self.explain = kindred.grpc.ExplainStub(self.channel)
        self.admin = kindred.grpc.AdminStub(self.channel)
        self.events = kindred.events_grpc.EventsStub(self.channel)
        self.traits = kindred.events_grpc.TraitsStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)
        self.exit_code: int | None = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "<no log>"
        return "\n".join(text.splitlines()[-lines:])

    def wait_serving(self, timeout: float = SERVING_TIMEOUT_S) -> None:
        """Polls grpc.health.v1 until the node reports SERVING."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"kindred-node exited with {self.proc.returncode} before serving "
                    f"on {self.address}:\n{self.log_tail()}"
                )
            try:
                status = self.health.Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=1.0
                ).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return
                last = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
            except grpc.RpcError as e:
                last = f"{e.code().name}: {e.details()}"
            time.sleep(0.05)
        raise RuntimeError(
            f"kindred-node on {self.address} not SERVING after {timeout:.0f}s "
            f"(last: {last}):\n{self.log_tail()}"
        )

    def stop(self) -> int:
        """SIGTERM, wait, SIGKILL if needed. Returns the exit code."""
        if self.exit_code is not None:
            return self.exit_code
        self.channel.close()
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
                    f"kindred-node did not stop within {SHUTDOWN_TIMEOUT_S:.0f}s of "
                    f"SIGTERM and was killed:\n{self.log_tail()}"
                )
        self._log.close()
        self.exit_code = self.proc.returncode
        return self.exit_code

    def assert_clean_exit(self) -> None:
        code = self.stop()
        assert code == 0, (
            f"kindred-node exited with {code} after SIGTERM (expected a graceful "
            f"shutdown with 0):\n{self.log_tail()}"
        )


def _launch(
    binary: Path, data_dir: Path, log_path: Path, kindred, extra_args=(), credentials=None
) -> Node:
    """Starts a node on a free port and waits for SERVING.

    The free port is picked by binding port 0 and releasing it; if another
    process grabs it in between, the node fails to bind and we try again.
    """
    errors = []
    for _ in range(3):
        node = Node(binary, data_dir, log_path, kindred, extra_args, credentials)
        try:
            node.wait_serving()
            return node
        except RuntimeError as e:
            errors.append(str(e))
            node.stop()
            if "in use" not in node.log_tail().lower():
                break
    pytest.fail("could not start kindred-node:\n" + "\n---\n".join(errors))


@pytest.fixture
def start_node(node_bin, kindred, tmp_path_factory):
    """Factory: start_node(data_dir=None, extra_args=(), credentials=None)
    -> a SERVING Node.

    Without data_dir the node gets a fresh, empty one. extra_args are more
    kindred-node flags; with credentials (grpc.ChannelCredentials) the
    node's channel is a secure one to localhost. Every node the test
    started is stopped at the test's teardown with SIGTERM and must exit 0; a test may also
    call node.assert_clean_exit() itself (e.g. before a restart).
    """
    started: list[Node] = []

    def start(data_dir: Path | None = None, extra_args=(), credentials=None) -> Node:
        if data_dir is None:
            data_dir = tmp_path_factory.mktemp("node") / "data"
        log_path = data_dir.parent / f"node-{len(started)}.log"
        node = _launch(node_bin, data_dir, log_path, kindred, extra_args, credentials)
        started.append(node)
        return node

    yield start

    failures = []
    for node in started:
        try:
            node.assert_clean_exit()
        except AssertionError as e:
            failures.append(str(e))
    if failures:
        pytest.fail("\n---\n".join(failures))


@pytest.fixture(scope="session")
def node(node_bin, kindred, tmp_path_factory):
    """The node shared by the session, on a fresh data dir."""
    data_dir = tmp_path_factory.mktemp("shared-node") / "data"
    n = _launch(node_bin, data_dir, data_dir.parent / "node.log", kindred)
    yield n
    n.assert_clean_exit()


@pytest.fixture(scope="session")
def channel(node) -> grpc.Channel:
    """A grpc channel to the shared, SERVING node."""
    return node.channel
