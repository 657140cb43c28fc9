"""Per-reader watermarks: identification rate on degraded copies, and the cost of marking.

    .venv/bin/python -m bench.watermark              # 6 readers, every degradation
    .venv/bin/python -m bench.watermark --readers 2 --quick

Renders real pages (tests/pdf/samples.py: a dense Vietnamese report page, and a sparse
one), stamps each reader's copy as the server does (``watermark.stamp`` with the reader's
seed), degrades it as a leaker would (tests/pdf/copies.py), and decodes it against every
reader's seed with the thresholds of ``hemicycle watermark identify``. Prints, per page kind
and degradation, the identification rate (the right reader named) and the false
identification rate (someone else named), and the ms per page of the stamp with and without
the invisible mark, measured in the same run.
"""
from __future__ import annotations

import argparse
import io
import statistics
import time

import pymupdf
from PIL import Image

from server.pdf import fingerprint, render, watermark
from tests.pdf import copies, samples

MIN_SCORE, MIN_MARGIN = 0.5, 0.15  # as server.services.documents.leaks
DEGRADATIONS = {
    "none": lambda i: i,
    "JPEG q=50": lambda i: copies.jpeg(i, 50),
    "scale 0.5×": copies.scale,
    "crop 10 % margins": copies.crop_margins,
    "phone photo": copies.phone_photo,
    "JPEG 50 + 0.5× + photo + crop": lambda i: copies.crop_margins(
        copies.phone_photo(copies.scale(copies.jpeg(i, 50))), 0.05),
}
QUICK = ("JPEG q=50", "phone photo")


def _sparse() -> bytes:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_font(fontname="noto", fontfile=samples.FONT)
    page.insert_textbox(pymupdf.Rect(60, 60, 535, 400), samples.VIETNAMESE * 3, fontsize=12,
                        fontname="noto")
    return doc.tobytes()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--readers", type=int, default=6)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seeds = [fingerprint.key_for("bench-secret", f"participant:{n}:1:1") for n in range(args.readers)]
    names = QUICK if args.quick else tuple(DEGRADATIONS)
    print("| page | degradation | identified | falsely identified |\n|---|---|---|---|")
    stamp_ms, plain_ms = [], []
    for kind, data in (("sparse", _sparse()), ("dense", samples.dense(1))):
        with pymupdf.open("pdf", data) as doc:
            master = render.encode_pixmap(render.render_pixmap(doc[0], "large"), "jpg")
        marked = []
        for n, seed in enumerate(seeds):
            lines = (f"Đại biểu {n} (#{n})", "Kỳ họp thứ 12", "03/12/2026 16:30 (UTC+0700)")
            start = time.perf_counter()
            watermark.stamp(master, lines, "jpg")
            plain_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            marked.append(Image.open(io.BytesIO(watermark.stamp(master, lines, "jpg", seed))))
            stamp_ms.append((time.perf_counter() - start) * 1000)
        for name in names:
            right = wrong = 0
            for n, image in enumerate(marked):
                tiles = fingerprint.folded_tiles(fingerprint.grey_for_decoding(DEGRADATIONS[name](image)))
                scores = sorted(((fingerprint.score(tiles, s), i) for i, s in enumerate(seeds)), reverse=True)
                (best, who), runner_up = scores[0], scores[1][0] if len(scores) > 1 else 0.0
                if best >= MIN_SCORE and best - runner_up >= MIN_MARGIN:
                    right += who == n
                    wrong += who != n
            print(f"| {kind} | {name} | {right}/{len(marked)} | {wrong}/{len(marked)} |")
    plain, marked_ms = statistics.median(plain_ms), statistics.median(stamp_ms)
    print(f"\nStamp per 1600 px page (median): visible only {plain:.0f} ms, visible + invisible "
          f"{marked_ms:.0f} ms (×{marked_ms / plain:.2f}, +{marked_ms - plain:.0f} ms)")


if __name__ == "__main__":
    main()
