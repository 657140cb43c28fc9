"""A small run of every topology scenario (bench/topology.py): nginx with the DEPLOYMENT.md
configuration, two workers, PostgreSQL, Redis and the baseline, 5 tablets (numbers not judged;
that every change, ballot and tablet arrives is)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import nginx
from tests.conftest import service_unavailable
from tests.live import ROOT

pytestmark = [pytest.mark.live, pytest.mark.services]


def test_every_topology_scenario_runs_with_a_few_tablets(postgres_url, redis_url):
    if nginx.binary() is None:
        service_unavailable("nginx", "not installed (scripts/setup --dev installs nginx-light)")
    results = ROOT / "bench" / "results"
    before = set(results.glob("topology-*.json")) if results.exists() else set()
    run = subprocess.run([sys.executable, "-m", "bench.topology", "smoke"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for heading in ("Topology fan-out", "Topology meetings", "Topology votes", "Topology pages",
                    "Topology kill"):
        assert heading in run.stdout
    written = set(results.glob("topology-*.json")) - before
    found = {json.loads(path.read_text())["scenario"]: json.loads(path.read_text())
             for path in written}
    assert set(found) == {"fanout", "meetings", "votes", "pages", "kill"}
    [votes] = found["votes"]["results"]
    assert votes["acked"] == votes["stored"] == 5 and votes["lost"] == 0
    [killed] = found["kill"]["results"]
    assert killed["connected_after"] == 5 and killed["lost"] == 0
    [pages] = found["pages"]["results"]
    assert pages["accel"]["pages_per_s"] > 0 and pages["accel"]["failures"] == 0
    for path in written:
        path.unlink()
