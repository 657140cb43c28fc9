"""A tiny run of bench/watermark.py, so the harness keeps working (numbers not judged)."""
from __future__ import annotations

import subprocess
import sys

from tests.live import ROOT


def test_the_watermark_benchmark_runs_with_two_readers():
    run = subprocess.run([sys.executable, "-m", "bench.watermark", "--readers", "2", "--quick"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "| dense | phone photo |" in run.stdout
    assert "Stamp per 1600 px page" in run.stdout
