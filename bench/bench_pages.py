"""Page rendering versus per-reader watermark stamping.

    .venv/bin/python -m bench.bench_pages            # full run
    .venv/bin/python -m bench.bench_pages --quick    # a few iterations (CI smoke)
    .venv/bin/python -m bench.bench_pages --requests # page requests in-process only

Renders pages cold with PyMuPDF at the tablet size (1600 px wide, encoded as
JPEG and as PNG, as the cache stores them) and stamps a reader's watermark onto
the cached JPEG, for
a text page, a scanned-looking page (one large photo-like image) and a
vector-heavy page (a chart or map: thousands of paths). Also times the real
pipeline: a 100-page document rendered by the sandbox process at both sizes.
Prints a Markdown table and writes JSON to bench/results/.

``--requests`` measures what one page image request costs the server, in-process
through Flask's test client (no sockets, no other process): SQL statements per request
(counted with SQLAlchemy's ``before_cursor_execute``) and CPU time per request
(``time.process_time``, best of several blocks, so other work on the machine hardly
moves it), next to a bare Flask app answering the same bytes from memory.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import tempfile
import time
from pathlib import Path

import pymupdf

from server.pdf import render, sandbox, watermark
from server.pdf.validate import Limits

RESULTS = Path(__file__).parent / "results"
FONT = "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"
TEXT = ("Nghị quyết về kế hoạch phát triển kinh tế - xã hội năm 2027 của Hội đồng nhân dân "
        "tỉnh. Đại biểu thảo luận, cho ý kiến về dự thảo và biểu quyết thông qua. ") * 30


def text_page(doc):
    page = doc.new_page()
    page.insert_font(fontname="noto", fontfile=FONT)
    page.insert_textbox(pymupdf.Rect(50, 50, 545, 792), TEXT, fontsize=10, fontname="noto")


def scan_page(doc):
    rng = random.Random(1)
    side = 1200  # a 150 dpi A4-ish greyscale scan
    samples = bytes(rng.randrange(200, 256) for _ in range(side * side))
    pixmap = pymupdf.Pixmap(pymupdf.csGRAY, side, side, samples, False)
    doc.new_page().insert_image(pymupdf.Rect(0, 0, 595, 842), pixmap=pixmap)


def vector_page(doc):
    page = doc.new_page()
    rng = random.Random(2)
    shape = page.new_shape()
    for _ in range(1500):  # a dense chart or map
        shape.draw_line((rng.uniform(20, 575), rng.uniform(20, 820)),
                        (rng.uniform(20, 575), rng.uniform(20, 820)))
    shape.finish(color=(0.1, 0.3, 0.6), width=0.3)
    for _ in range(300):
        shape.draw_circle((rng.uniform(40, 555), rng.uniform(40, 800)), rng.uniform(2, 12))
        shape.finish(color=(0.6, 0.1, 0.1), fill=(0.9, 0.8, 0.2), width=0.5)
    shape.commit()


KINDS = {"text": text_page, "scan": scan_page, "vector": vector_page}


def per_second(function, iterations: int) -> float:
    function()  # warm up caches (fonts, glyphs, the reader's tile)
    start = time.perf_counter()
    for _ in range(iterations):
        function()
    return iterations / (time.perf_counter() - start)


def bench_kind(kind: str, iterations: int) -> dict:
    doc = pymupdf.open()
    KINDS[kind](doc)
    data = doc.tobytes(deflate=True)
    master = render.encode_pixmap(render.render_pixmap(doc[0], "large"), "jpg")
    readers = [(f"Đại biểu Nguyễn Văn {n} (#{n})", "Kỳ họp thứ 12 HĐND tỉnh", "25/11/2026 15:00")
               for n in range(iterations + 2)]
    counter = iter(range(10**9))

    def cold(ext):
        # A fresh document each time, as a page (or a reader) without the cache would need:
        # MuPDF would otherwise keep decoded images and fonts in its store.
        page = pymupdf.open(stream=data, filetype="pdf")[0]
        return render.encode_pixmap(render.render_pixmap(page, "large"), ext)

    def sandboxed():
        # What re-rendering for each reader would really cost here: untrusted PDFs are only
        # ever opened in the sandbox process.
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "page.pdf"
            path.write_bytes(data)
            sandbox.run("render", {"path": str(path), "sha256": "0" * 64, "data_dir": tmp,
                                   "pages": [1], "variants": [("large", "jpg")]},
                        memory_mb=1536, cpu_seconds=120, wall_seconds=300)

    renders_jpg = per_second(lambda: cold("jpg"), iterations)
    sandboxed_renders = per_second(sandboxed, max(3, iterations // 4))
    renders_png = per_second(lambda: cold("png"), iterations)
    stamps = per_second(lambda: watermark.stamp(master, readers[0], "jpg"), iterations)
    new_reader = per_second(
        lambda: watermark.stamp(master, readers[next(counter) % len(readers)], "jpg"), iterations)
    return {"page": kind, "renders_per_s_jpg": renders_jpg, "renders_per_s_png": renders_png,
            "sandboxed_renders_per_s_jpg": sandboxed_renders,
            "stamp_vs_sandboxed_render": stamps / sandboxed_renders,
            "stamps_per_s": stamps, "stamps_per_s_new_reader": new_reader,
            "stamp_vs_render": stamps / renders_jpg, "master_jpg_bytes": len(master)}


def bench_pipeline(pages: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        doc = pymupdf.open()
        for _ in range(pages):
            text_page(doc)
        doc.subset_fonts()
        path = Path(tmp) / "doc.pdf"
        doc.save(path, garbage=3, deflate=True)
        lim = Limits()
        start = time.perf_counter()
        result = sandbox.run("inspect", {"path": str(path), "out_path": str(Path(tmp) / "o.pdf"),
                                         "limits": lim.as_dict(), "data_dir": tmp, "first_pages": 3},
                             memory_mb=lim.memory_mb, cpu_seconds=600, wall_seconds=900)
        validated = time.perf_counter() - start
        timings = {}
        for name, variants in (("first_pass", render.FIRST_PASS), ("second_pass", render.SECOND_PASS)):
            start = time.perf_counter()
            sandbox.run("render", {"path": str(path), "sha256": result["sha256"], "data_dir": tmp,
                                   "pages": list(range(4, pages + 1)), "variants": variants},
                        memory_mb=lim.memory_mb, cpu_seconds=600, wall_seconds=900)
            timings[name] = time.perf_counter() - start
    return {"pages": pages, "validate_and_first_3_pages_s": validated,
            "tablet_images_rest_s": timings["first_pass"],
            "large_png_rest_s": timings["second_pass"],
            "tablet_pages_per_s": (pages - 3) / timings["first_pass"]}


def bench_requests(requests: int, blocks: int = 5) -> dict:
    """Statements and CPU time per page request: a tablet's (bearer token), clean, 304 and
    watermarked, and staff's (session cookie); against a bare Flask app."""
    from flask import Flask, Response
    from sqlalchemy import event

    from server import create_app
    from server.extensions import db
    from server.models import Base
    from tests import factories
    from tests.conftest import test_config
    from tests.pdf import samples
    from tests.pdf.world import make_world, post_file

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(test_config(Path(tmp), DOCUMENT_RENDER_INLINE=True))
        with app.app_context():
            Base.metadata.create_all(db.engine)
            world = make_world()
            staff = app.test_client()
            staff.post("/api/v1/auth/login", json={"username": world.secretary.username,
                                                   "password": factories.PASSWORD})
            ids = {}
            for name, fields in (("clean", {}), ("confidential", {"confidential": "true"})):
                answer = post_file(staff, f"/api/v1/meetings/{world.meeting.id}/documents",
                                   samples.vietnamese(2), **fields)
                ids[name] = answer.get_json()["document"]["id"]
            token = world.reader_token
            db.session.remove()
        tablet = app.test_client()
        bearer = {"Authorization": f"Bearer {token}"}
        url = "/api/v1/documents/{}/versions/1/pages/1.jpg".format
        image = tablet.get(url(ids["clean"]), headers=bearer)
        not_modified = {**bearer, "If-None-Match": image.headers["ETag"]}
        cases = {"tablet, clean page": (tablet, url(ids["clean"]), bearer),
                 "tablet, 304": (tablet, url(ids["clean"]), not_modified),
                 "tablet, watermarked": (tablet, url(ids["confidential"]), bearer),
                 "staff (cookie), clean page": (staff, url(ids["clean"]), {})}
        bare = Flask("bare")
        bare.get("/page.jpg")(lambda: Response(image.data, mimetype="image/jpeg"))
        seen: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))

        def cpu_us(client, path, headers, n) -> float:
            best = float("inf")
            for _ in range(blocks):
                start = time.process_time()
                for _ in range(n):
                    client.get(path, headers=headers)
                best = min(best, (time.process_time() - start) / n)
            return best * 1e6

        rows = []
        for name, (client, path, headers) in cases.items():
            response = client.get(path, headers=headers)
            seen.clear()
            response = client.get(path, headers=headers)
            statements = len(seen)
            # A stamp costs tens of milliseconds: fewer of them.
            us = cpu_us(client, path, headers, requests // 20 if "watermarked" in name else requests)
            rows.append({"request": name, "status": response.status_code,
                         "statements": statements, "cpu_us": round(us), "per_cpu_s": round(1e6 / us)})
        us = cpu_us(bare.test_client(), "/page.jpg", {}, requests)
        rows.append({"request": "bare Flask, bytes from memory", "status": 200, "statements": 0,
                     "cpu_us": round(us), "per_cpu_s": round(1e6 / us)})
    return {"requests": requests, "blocks": blocks, "results": rows}


def print_requests(result: dict) -> None:
    print("| request | status | SQL statements | CPU µs per request | requests per CPU second |")
    print("|---|---|---:|---:|---:|")
    for row in result["results"]:
        print(f"| {row['request']} | {row['status']} | {row['statements']} | {row['cpu_us']} | "
              f"{row['per_cpu_s']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--requests", action="store_true",
                        help="only the in-process page request measures")
    args = parser.parse_args()
    if args.requests:
        result = bench_requests(50 if args.quick else 500, 2 if args.quick else 5)
        print_requests(result)
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"page-requests-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps({"scenario": "page-requests", "machine": platform.platform(),
                                   **result}, indent=1))
        print(f"\nwritten to {out}")
        return
    iterations = 3 if args.quick else 20
    rows = [bench_kind(kind, iterations) for kind in KINDS]
    pipeline = bench_pipeline(20 if args.quick else 100)
    print("| page | renders/s → JPEG | renders/s → PNG | sandboxed renders/s → JPEG | "
          "stamps/s (JPEG) | stamps/s, new reader each time | stamps ÷ renders | "
          "stamps ÷ sandboxed renders |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['page']} | {row['renders_per_s_jpg']:.1f} | {row['renders_per_s_png']:.1f} | "
              f"{row['sandboxed_renders_per_s_jpg']:.1f} | {row['stamps_per_s']:.1f} | "
              f"{row['stamps_per_s_new_reader']:.1f} | {row['stamp_vs_render']:.2f}× | "
              f"{row['stamp_vs_sandboxed_render']:.1f}× |")
    print()
    print(f"Sandbox pipeline, {pipeline['pages']} text pages: validate + text + hashes + first 3 "
          f"pages {pipeline['validate_and_first_3_pages_s']:.2f} s; tablet images (JPEG large + "
          f"thumb, PNG thumb) of the other pages {pipeline['tablet_images_rest_s']:.2f} s "
          f"({pipeline['tablet_pages_per_s']:.1f} pages/s); large PNGs "
          f"{pipeline['large_png_rest_s']:.2f} s.")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"pages-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"scenario": "pages", "machine": platform.platform(),
                               "iterations": iterations, "results": rows, "pipeline": pipeline},
                              indent=1))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
