"""The committed stubs are exactly what scripts/generate.py makes from the
repository's protos, so they cannot drift from the API."""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
REPO_ROOT = PACKAGE_ROOT.parent.parent
COMMITTED = PACKAGE_ROOT / "src" / "kindred_client" / "v1"
GENERATE = PACKAGE_ROOT / "scripts" / "generate.py"
PROTO_DIR = REPO_ROOT / "proto" / "kindred" / "v1"


def _files(d: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(d.iterdir()) if p.is_file() and p.suffix in (".py", ".pyi")}


def test_committed_stubs_match_a_fresh_generation(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools", reason="grpcio-tools is in the [test] extra")
    out = tmp_path / "v1"
    proc = subprocess.run([sys.executable, str(GENERATE), "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fresh, committed = _files(out), _files(COMMITTED)
    assert sorted(fresh) == sorted(committed), (
        "generated files differ from the committed ones; run python clients/python/scripts/generate.py"
    )
    diffs = []
    for name in sorted(fresh):
        if fresh[name] != committed[name]:
            diff = difflib.unified_diff(
                committed[name].splitlines(),
                fresh[name].splitlines(),
                f"committed/{name}",
                f"fresh/{name}",
                lineterm="",
                n=1,
            )
            diffs.append("\n".join(list(diff)[:40]))
    if diffs:
        import grpc_tools

        version = getattr(grpc_tools, "__version__", None) or _dist_version("grpcio-tools")
        pytest.fail(
            "the committed stubs differ from what the protos generate now: run "
            f"`python clients/python/scripts/generate.py` and commit the result (grpcio-tools {version} here; "
            "the [test] extra pins the version the stubs are made with).\n\n" + "\n\n".join(diffs)
        )


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def test_every_proto_file_has_its_modules() -> None:
    protos = sorted(p.stem for p in PROTO_DIR.glob("*.proto"))
    assert protos, f"no protos in {PROTO_DIR}"
    names = set(_files(COMMITTED))
    for stem in protos:
        for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"):
            assert f"{stem}{suffix}" in names, f"{stem}{suffix} missing: run scripts/generate.py"


def test_stubs_import_from_the_package_not_from_a_top_level_kindred() -> None:
    for name, text in _files(COMMITTED).items():
        assert "from kindred.v1 import" not in text, name
        assert not re.search(r"'kindred\.v1\.\w+_pb2'", text), name  # module names (service names stay kindred.v1.X)
    import kindred_client.v1.events_pb2_grpc as events_grpc
    import kindred_client.v1.kindred_pb2_grpc as kindred_grpc

    assert {"RecordsStub", "ProfilesStub", "ExplainStub", "AdminStub"} <= set(dir(kindred_grpc))
    assert {"EventsStub", "TraitsStub"} <= set(dir(events_grpc))
    assert "kindred" not in sys.modules or not hasattr(sys.modules["kindred"], "v1")
