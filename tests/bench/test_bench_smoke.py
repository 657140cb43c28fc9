"""A small run of every benchmark scenario, so the harness keeps working (numbers not judged)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.live import ROOT

pytestmark = pytest.mark.live


def test_every_scenario_runs_with_a_few_tablets(tmp_path):
    before = set((ROOT / "bench" / "results").glob("*.json")) if (ROOT / "bench" / "results").exists() else set()
    run = subprocess.run([sys.executable, "-m", "bench.run", "smoke"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for heading in ("Fan-out", "Memory", "Async modes", "Reconnect storm", "Vote burst",
                    "Document push"):
        assert heading in run.stdout
    written = set((ROOT / "bench" / "results").glob("*.json")) - before
    scenarios = {json.loads(path.read_text())["scenario"] for path in written}
    assert {"fanout", "memory", "modes", "reconnect", "votes", "documents"} <= scenarios
    for path in written:
        path.unlink()
