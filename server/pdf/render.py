"""Page images: sizes, the pixel budget, the on-disk cache, rendering in the sandbox.

Pages are rendered once per (blob sha256, page, size) as PNG: lossless, so
text stays crisp, and the cache is the master the watermark and the JPEG
variant are derived from. Renders run in the sandbox process (see
``server.pdf.sandbox``); this module's ``render_into_cache`` is what that
process executes.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

# Widths in pixels: "large" for the tablet reader and the projector, "thumb" for page strips.
SIZES = {"large": 1600, "thumb": 400}
# The most pixels one page image may have, whatever the page's shape: a page
# 1 cm wide and 5 m tall is scaled down to fit instead of becoming gigapixels.
MAX_PIXELS = 12_000_000
FORMATS = {"png": "image/png", "jpg": "image/jpeg"}


def cache_root(data_dir: Path) -> Path:
    return Path(data_dir) / "cache" / "pages"


def cache_path(data_dir: Path, sha256: str, page: int, size: str, ext: str = "png") -> Path:
    if size not in SIZES or ext not in FORMATS:
        raise ValueError("unknown size or format")
    return cache_root(data_dir) / sha256[:2] / sha256 / f"{int(page)}-{size}.{ext}"


def etag_for(sha256: str, page: int, size: str, ext: str) -> str:
    """Strong ETag: the image is a pure function of these four values."""
    return hashlib.sha256(f"{sha256}:{page}:{size}:{ext}:v1".encode()).hexdigest()[:32]


def scale_for(width_pt: float, height_pt: float, target_width: int) -> float:
    scale = target_width / width_pt
    if width_pt * height_pt * scale * scale > MAX_PIXELS:
        scale = (MAX_PIXELS / (width_pt * height_pt)) ** 0.5
    return scale


def render_png(page, size: str) -> bytes:
    import pymupdf

    rect = page.rect
    scale = scale_for(rect.width, rect.height, SIZES[size])
    pixmap = page.get_pixmap(matrix=pymupdf.Matrix(scale, scale), alpha=False, annots=True)
    return pixmap.tobytes("png")


def write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_into_cache(doc, data_dir: Path, sha256: str, pages: list[int], sizes: list[str],
                      progress=None) -> list[int]:
    """Render the given 1-based pages at every size; skip those already cached.

    Calls ``progress(page)`` after each page; returns the pages that failed.
    """
    failed = []
    for number in pages:
        try:
            page = None
            for size in sizes:
                target = cache_path(data_dir, sha256, number, size)
                if target.exists():
                    continue
                page = page or doc.load_page(number - 1)
                write_atomic(target, render_png(page, size))
        except Exception:  # one damaged page must not stop the others
            failed.append(number)
        if progress is not None:
            progress(number)
    return failed
