"""The package builds offline into a wheel with its stubs and type
information, and type-checks under mypy --strict."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _copy_sources(dst: Path) -> Path:
    """The package's sources without build artefacts (building in place
    would leave build/ and *.egg-info in the checkout)."""
    ignore = shutil.ignore_patterns(
        "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".mypy_cache", "tests"
    )
    shutil.copytree(PACKAGE_ROOT, dst, ignore=ignore)
    return dst


def test_the_wheel_ships_the_stubs_and_py_typed(tmp_path: Path) -> None:
    src = _copy_sources(tmp_path / "src")
    out = tmp_path / "wheels"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
            str(src),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = out.glob("kindred_client-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for proto in ("record", "kindred", "activity", "events", "cluster"):
        assert f"kindred_client/v1/{proto}_pb2.py" in names
        assert f"kindred_client/v1/{proto}_pb2.pyi" in names
        assert f"kindred_client/v1/{proto}_pb2_grpc.py" in names
    assert "kindred_client/py.typed" in names
    assert not any(n.startswith(("tests/", "scripts/")) for n in names), sorted(names)
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    assert "Name: kindred-client" in text
    requires = {line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Requires-Dist:")}
    protobuf = next(r for r in requires if r.startswith("protobuf"))
    grpcio = next(r for r in requires if r.startswith("grpcio") and not r.startswith("grpcio-"))
    assert ">=7.35.1" in protobuf and "<8" in protobuf, protobuf  # the gencode's runtime check
    assert ">=1.85.1" in grpcio, grpcio  # GRPC_GENERATED_VERSION of the stubs
    assert "Provides-Extra: pandas" in text


USAGE = """
from kindred_client import KindredClient, NotFound
from kindred_client.v1 import kindred_pb2

def family_name(k: KindredClient) -> str:
    try:
        p = k.profile(email="jane@example.com")
    except NotFound:
        return ""
    reveal_type(p)
    return p.golden.family_name.value

def entity(k: KindredClient) -> int:
    r: kindred_pb2.ResolveResult = k.upsert({"source": "crm", "record_id": "1"})
    return r.entity_id
"""


def test_the_package_and_code_using_it_type_check(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy is in the [test] extra")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
        cwd=PACKAGE_ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    user = tmp_path / "user.py"
    user.write_text(USAGE)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache2"), str(user)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    # The installed package is typed: the profile is a Profile, not Any.
    assert 'Revealed type is "kindred_client.v1.kindred_pb2.Profile"' in proc.stdout, proc.stdout + proc.stderr
    assert "error" not in proc.stdout.replace("Revealed type", ""), proc.stdout
