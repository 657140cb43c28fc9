"""OCR of scanned Vietnamese pages: speed per core and character accuracy.

    .venv/bin/python -m bench.ocr            # every condition, both texts
    .venv/bin/python -m bench.ocr --quick    # three conditions, one text (a smoke run)

Pages are rendered from known text (tests/pdf/scans.py: Noto Serif from fonts-noto-core,
embedded), degraded as scans are (low resolution, a slight skew, a quarter turn, speckle
noise), and read back through the real pipeline: the sandbox's ``ocr`` job, OCRmyPDF and
Tesseract (``vie``) with one thread. Speed is pages per CPU second of the sandbox and
Tesseract together (``RUSAGE_CHILDREN``), i.e. pages per second per core, so other work on
a shared machine hardly moves it; wall time is reported beside it. Accuracy is
1 − Levenshtein distance ÷ length of the known text, on whitespace-normalised NFC text.
Writes JSON to bench/results/ocr-*.json and prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import pymupdf

from server.pdf import sandbox
from tests.pdf import scans

CONDITIONS = {
    "clean, 150 dpi": {"dpi": 150},
    "200 dpi": {"dpi": 200},
    "low resolution, 100 dpi": {"dpi": 100},
    "very low resolution, 75 dpi": {"dpi": 75},
    "skewed 2°": {"dpi": 150, "angle": 2},
    "quarter turn (90°)": {"dpi": 150, "angle": 90},
    "noise 1 %": {"dpi": 150, "noise": 0.01},
    "skew 1.5° + noise 0.5 % + 120 dpi": {"dpi": 120, "angle": 1.5, "noise": 0.005},
}
QUICK = ("clean, 150 dpi", "low resolution, 100 dpi", "quarter turn (90°)")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_condition(name: str, degrade: dict, texts, workdir: Path) -> dict:
    doc = pymupdf.open()
    for text in texts:
        scans.add_scan(doc, scans.scan_image(text, **degrade), degrade.get("dpi", 150))
    path = workdir / "scan.pdf"
    doc.save(path)
    results = []
    cpu, wall = _children_cpu(), time.perf_counter()
    sandbox.run("ocr", {"path": str(path), "pages": list(range(1, len(texts) + 1)),
                        "workdir": str(workdir), "languages": "vie", "page_seconds": 120,
                        "max_megapixels": 100.0, "max_text_chars": 100_000},
                memory_mb=1536, cpu_seconds=600, wall_seconds=1200, on_progress=results.append)
    cpu, wall = _children_cpu() - cpu, time.perf_counter() - wall
    accuracy = [scans.char_accuracy(text, r["text"]) for text, r in zip(texts, results)]
    return {"condition": name, "degrade": degrade, "pages": len(texts),
            "statuses": [r["status"] for r in results], "accuracy": accuracy,
            "min_accuracy": min(accuracy), "cpu_seconds": round(cpu, 2),
            "wall_seconds": round(wall, 2), "pages_per_cpu_second": round(len(texts) / cpu, 3)}


def _versions() -> dict:
    import ocrmypdf

    tesseract = subprocess.run(["tesseract", "--version"], capture_output=True, text=True)
    return {"ocrmypdf": ocrmypdf.__version__,
            "tesseract": (tesseract.stdout or tesseract.stderr).splitlines()[0],
            "python": platform.python_version(), "machine": platform.machine()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three conditions, one text")
    args = parser.parse_args()
    names = QUICK if args.quick else tuple(CONDITIONS)
    texts = scans.TEXTS[:1] if args.quick else scans.TEXTS
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        for name in names:
            rows.append(run_condition(name, CONDITIONS[name], texts, Path(tmp)))
    print("| condition | pages | accuracy (min) | pages/s per core | wall s/page |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['condition']} | {row['pages']} | {row['min_accuracy']:.3f} | "
              f"{row['pages_per_cpu_second']:.2f} | {row['wall_seconds'] / row['pages']:.1f} |")
    total_pages = sum(r["pages"] for r in rows)
    overall = total_pages / sum(r["cpu_seconds"] for r in rows)
    print(f"\nAll pages: {overall:.2f} pages/s per core; lowest accuracy "
          f"{min(r['min_accuracy'] for r in rows):.3f} (test floor {scans.ACCURACY_FLOOR}).")
    out = Path(__file__).parent / "results" / f"ocr-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"versions": _versions(), "quick": args.quick, "rows": rows,
                               "pages_per_cpu_second": round(overall, 3),
                               "load_average": list(__import__("os").getloadavg())},
                              ensure_ascii=False, indent=1))
    print(f"Written to {out}")


if __name__ == "__main__":
    main()
