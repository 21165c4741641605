"""The README's demo, run as a user runs it: `poller demo --once` in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_demo_once_delivers_every_seeded_order_and_exits_zero(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "POLLER_"))}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    result = subprocess.run(
        [sys.executable, "-m", "poller.cli", "demo", "--once", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "generated a throwaway key" in output
    assert "all 8 confirmed seeded orders arrived once" in output
    for name in ("S00001", "S00004", "S00007", "S00010"):
        assert name in output
    assert "S00005" not in output and "S00006" not in output  # draft and cancelled
    assert (tmp_path / "demo" / "poller.db").exists()
    # the demo keeps to itself: `poller run` keeps its Prefect server in <data dir>/prefect
    assert (tmp_path / "demo" / "prefect").is_dir() and not (tmp_path / "prefect").exists()
