"""The README's quickstart works as written, against a real node."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
REPO_ROOT = HERE.parent.parent.parent


def quickstart() -> str:
    text = README.read_text()
    m = re.search(r"<!-- quickstart[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert m, "no quickstart block (<!-- quickstart --> then ```python) in the README"
    return m.group(1)


def test_the_quickstart_is_five_lines() -> None:
    lines = [ln for ln in quickstart().splitlines() if ln.strip()]
    assert len(lines) == 5, lines
    assert "pip install ./clients/python" in README.read_text()


def test_the_quickstart_loads_the_sample_and_reads_a_profile(start_node: Any) -> None:
    node = start_node()
    code = quickstart()
    assert "127.0.0.1:7000" in code
    code = code.replace("127.0.0.1:7000", node.address)
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert 'value: "joyce.king65@comcast.net"' in out
    assert 'value: "King"' in out and 'value: "1965-03-29"' in out
    # Her five records from four systems are one customer.
    from kindred_client import KindredClient

    with KindredClient(node.address) as k:
        profile = k.profile(email="joyce.king65@comcast.net")
        assert {r.source for r in profile.records} == {"crm", "loyalty", "callcentre", "web"}
        assert {r.name.family for r in profile.records if r.name.family} == {"King", "Meijer"}
        with open(REPO_ROOT / "client" / "data" / "sample" / "records.csv", newline="") as f:
            rows = sum(1 for _ in csv.DictReader(f))
        assert k.stats().records == rows
