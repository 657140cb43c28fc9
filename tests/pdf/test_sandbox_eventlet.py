"""Under eventlet (the server's mode), waiting for the sandbox and stamping a watermark must
not block the hub: other greenlets (every tablet's requests) keep running.

The check runs in a child interpreter, because the test process never imports eventlet.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.pdf import samples

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = r"""
import eventlet
eventlet.monkey_patch()
import json, sys, time
from pathlib import Path
from server.pdf import render, sandbox, watermark
from server.pdf.validate import Limits

ticks = []
def ticker():
    while True:
        ticks.append(time.monotonic())
        eventlet.sleep(0.01)

eventlet.spawn(ticker)
eventlet.sleep(0.05)
tmp = Path(sys.argv[1])
lim = Limits()
before = len(ticks)
try:
    sandbox.run("inspect", {"path": str(tmp / "slow.pdf"), "out_path": str(tmp / "o.pdf"),
                            "limits": lim.as_dict(), "data_dir": str(tmp / "data"), "first_pages": 0},
                memory_mb=1024, cpu_seconds=60, wall_seconds=120)
    outcome = "ok"
except sandbox.SandboxError as exc:
    outcome = exc.code
during_sandbox = len(ticks) - before
import pymupdf
doc = pymupdf.open(); doc.new_page().insert_text((72, 72), "Mật")
master = render.render_png(doc[0], "large")
before = len(ticks)
for n in range(5):
    watermark.offload(watermark.stamp, master, (f"Đại biểu {n}", "Kỳ họp", "08:00"), "png")
during_stamps = len(ticks) - before
print(json.dumps({"outcome": outcome, "during_sandbox": during_sandbox,
                  "during_stamps": during_stamps}))
"""


def test_sandbox_and_stamping_leave_the_eventlet_hub_free(tmp_path):
    (tmp_path / "slow.pdf").write_bytes(samples.slow(15, 20000))  # a second or more of MuPDF work
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["outcome"] == "ok", report
    # Had the hub been blocked, the ticker would not have run at all while we waited.
    assert report["during_sandbox"] >= 5
    assert report["during_stamps"] >= 2
