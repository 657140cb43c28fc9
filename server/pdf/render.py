"""Page images: sizes, formats, the pixel budget, the on-disk cache, rendering in the sandbox.

Each page is rendered once per (blob sha256, page, size) and kept in the cache
as JPEG and PNG variants. Tablets read JPEG: Pillow (libjpeg-turbo) encodes a
1600 px page in about 10 ms, where PNG takes 80 ms or more, so the background
pass writes every page's JPEGs (and the small PNG thumbnails) first, and the
large PNGs (lossless, for the projector and the staff) in a second pass. The
watermark is stamped on the large JPEG. Renders run in the sandbox process
(``server.pdf.sandbox``); ``render_into_cache`` is what that process executes.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from server.files import atomic_write

# Widths in pixels: "large" for the tablet reader and the projector, "thumb" for page strips.
SIZES = {"large": 1600, "thumb": 400}
# The most pixels one page image may have, whatever the page's shape: a page
# 1 cm wide and 5 m tall is scaled down to fit instead of becoming gigapixels.
MAX_PIXELS = 12_000_000
FORMATS = {"png": "image/png", "jpg": "image/jpeg"}
# What tablets need, written first; then the rest.
FIRST_PASS = [("large", "jpg"), ("thumb", "jpg"), ("thumb", "png")]
SECOND_PASS = [("large", "png")]
ALL_VARIANTS = FIRST_PASS + SECOND_PASS


def cache_root(data_dir: Path) -> Path:
    return Path(data_dir) / "cache" / "pages"


def cache_folder(sha256: str) -> str:
    """A version's folder under ``cache_root``; its files are ``<page>-<size>.<ext>`` (the
    layout nginx's page location relies on, docs/DEPLOYMENT.md)."""
    return f"{sha256[:2]}/{sha256}"


def cache_path(data_dir: Path, sha256: str, page: int, size: str, ext: str) -> Path:
    if size not in SIZES or ext not in FORMATS:
        raise ValueError("unknown size or format")
    return cache_root(data_dir) / cache_folder(sha256) / f"{int(page)}-{size}.{ext}"


def etag_for(sha256: str, page: int, size: str, ext: str) -> str:
    """Strong ETag: the image is a pure function of these four values."""
    return hashlib.sha256(f"{sha256}:{page}:{size}:{ext}:v1".encode()).hexdigest()[:32]


def scale_for(width_pt: float, height_pt: float, target_width: int) -> float:
    scale = target_width / width_pt
    if width_pt * height_pt * scale * scale > MAX_PIXELS:
        scale = (MAX_PIXELS / (width_pt * height_pt)) ** 0.5
    return scale


def render_pixmap(page, size: str):
    import pymupdf

    rect = page.rect
    scale = scale_for(rect.width, rect.height, SIZES[size])
    return page.get_pixmap(matrix=pymupdf.Matrix(scale, scale), alpha=False, annots=True)


def render_png(page, size: str) -> bytes:
    return render_pixmap(page, size).tobytes("png")


def encode_pixmap(pixmap, ext: str) -> bytes:
    if ext == "png":
        return pixmap.tobytes("png")
    from PIL import Image

    from server.pdf.watermark import encode

    mode = {1: "L", 3: "RGB"}[pixmap.n]
    return encode(Image.frombytes(mode, (pixmap.width, pixmap.height), pixmap.samples), "jpg")


def render_into_cache(doc, data_dir: Path, sha256: str, pages: list[int],
                      variants: list[tuple[str, str]], progress=None) -> list[int]:
    """Render the given 1-based pages in every (size, format) variant not cached yet
    (a bare size name means every format of that size).

    Calls ``progress(page)`` after each page; returns the pages that failed.
    """
    variants = [(v, ext) for v in variants if isinstance(v, str) for ext in FORMATS] + [
        tuple(v) for v in variants if not isinstance(v, str)]
    failed = []
    for number in pages:
        try:
            page = None
            for size in SIZES:
                missing = [cache_path(data_dir, sha256, number, s, ext)
                           for s, ext in variants if s == size]
                missing = [target for target in missing if not target.exists()]
                if not missing:
                    continue
                page = page or doc.load_page(number - 1)
                pixmap = render_pixmap(page, size)
                for target in missing:
                    atomic_write(target, encode_pixmap(pixmap, target.suffix[1:]), durable=False)
        except Exception:  # one damaged page must not stop the others
            failed.append(number)
        if progress is not None:
            progress(number)
    return failed
