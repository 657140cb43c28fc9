"""Per-reader watermarks stamped onto cached page images, and other cheap image work.

A confidential page is rendered once (the cached PNG master); each reader
gets that image with their name, the meeting and the time stamped on it. The
stamp is cheap and independent of how complex the page is: the reader's text
is rasterised once into a small transparent tile (cached per reader and image
width), then the page image is decoded, the tile is composited across it in a
staggered grid with a readable band at the foot, and the result is encoded.
Pillow does the compositing and JPEG work in C (libjpeg-turbo) and releases
the GIL, so under eventlet ``offload`` runs it in eventlet's thread pool.
"""
from __future__ import annotations

import functools
import io
import sys

from PIL import Image, ImageDraw, ImageFont

from server.pdf import fonts

Image.MAX_IMAGE_PIXELS = 40_000_000  # our own renders are ≤ 12 Mpx; anything else is not ours
DIAGONAL_COLOUR = (180, 30, 30)
DIAGONAL_OPACITY = 0.22
BAND_COLOUR = (120, 0, 0)
JPEG_QUALITY = 85


def offload(function, *args):
    """Run blocking C work off the eventlet hub when the server runs under eventlet."""
    if "eventlet" in sys.modules:  # never import it ourselves: only the server process uses it
        from eventlet import patcher, tpool

        if patcher.is_monkey_patched("thread"):
            return tpool.execute(function, *args)
    return function(*args)


@functools.lru_cache(maxsize=32)
def _font(size: int):
    path = fonts.vietnamese_font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def _text(text: str) -> str:
    return text if fonts.vietnamese_font_path() else fonts.ascii_fallback(text)


@functools.lru_cache(maxsize=512)
def reader_marks(lines: tuple[str, ...], width: int) -> tuple[Image.Image, Image.Image]:
    """The reader's two masks for images ``width`` pixels wide: a rotated tile and a band."""
    size = max(9, width // 48)
    font = _font(size)
    texts = [_text(line) for line in lines]
    measure = ImageDraw.Draw(Image.new("L", (1, 1)))
    text_width = max(int(measure.textlength(t, font=font)) for t in texts) + size
    line_height = int(size * 1.4)
    tile = Image.new("L", (text_width, line_height * len(texts) + size), 0)
    draw = ImageDraw.Draw(tile)
    for index, text in enumerate(texts):
        draw.text((size // 2, size // 2 + index * line_height), text, font=font,
                  fill=int(255 * DIAGONAL_OPACITY))
    tile = tile.rotate(30, expand=True, resample=Image.Resampling.BILINEAR)
    band_font = _font(max(8, size * 2 // 3))
    band_text = " · ".join(texts)
    band = Image.new("L", (width, int(size * 1.3)), 0)
    ImageDraw.Draw(band).text((size // 2, size // 6), band_text, font=band_font, fill=255)
    return tile, band


def stamp(master_png: bytes, lines: tuple[str, ...], ext: str) -> bytes:
    """The page image with the reader's watermark, encoded as ``ext`` (png or jpg)."""
    image = Image.open(io.BytesIO(master_png))
    image = image.convert("RGB")
    tile, band = reader_marks(lines, image.width)
    # Spaced a little apart: half the blending work, and still no gap a hand could cover.
    step_x, step_y = int(tile.width * 1.3), int(tile.height * 1.15)
    for row, y in enumerate(range(-step_y // 3, image.height, step_y)):
        offset = (step_x // 2) * (row % 2)
        for x in range(-offset, image.width, step_x):
            image.paste(DIAGONAL_COLOUR, (x, y, x + tile.width, y + tile.height), tile)
    top = image.height - band.height
    image.paste((255, 255, 255), (0, top, image.width, image.height))
    image.paste(BAND_COLOUR, (0, top, image.width, image.height), band)
    return encode(image, ext)


def encode(image: Image.Image, ext: str) -> bytes:
    out = io.BytesIO()
    if ext == "jpg":
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=False)
    else:
        image.save(out, "PNG", compress_level=1)
    return out.getvalue()
