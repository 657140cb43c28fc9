"""Per-reader watermarks stamped onto cached page images, and other cheap image work.

A confidential page is rendered once (the cached PNG master); each reader
gets that image with their name, the meeting and the time stamped on it. The
stamp is cheap and independent of how complex the page is: the reader's text
is rasterised once into a small transparent tile (cached per reader and image
width), then the page image is decoded, the tile is composited across it in a
staggered grid with a readable band at the foot, and the result is encoded.
Before that the reader's invisible mark (``server.pdf.fingerprint``) is added to
the page's luminance: it names the reader of a photo from which the visible mark
was cropped or painted out (``hemicycle watermark identify``). Pillow does the compositing and JPEG work in C (libjpeg-turbo) and releases
the GIL, so under eventlet ``offload`` runs it in eventlet's thread pool.
"""
from __future__ import annotations

import functools
import io
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from server.pdf import fingerprint, fonts

Image.MAX_IMAGE_PIXELS = 40_000_000  # our own renders are ≤ 12 Mpx; anything else is not ours
# The visible mark is tiled in several tones: a near-black outline (what "keep only pixels
# darker than X" keeps, as it keeps the text), dark blue, green and grey letters (what
# "drop the red pixels" keeps) and a light halo (so it reads on dark figures too). A
# single light colour was stripped off by a colour filter (docs/SECURITY.md, finding 8).
OUTLINE = (20, 20, 28)
LETTER_COLOURS = ((25, 45, 120), (20, 90, 50), (70, 70, 70), (130, 30, 30))
HALO = (245, 245, 235)
LETTER_OPACITY = 0.55
OUTLINE_OPACITY = 0.9
BAND_COLOUR = (20, 20, 28)
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


@functools.lru_cache(maxsize=256)
def reader_marks(lines: tuple[str, ...], width: int) -> tuple[Image.Image, Image.Image]:
    """The reader's tile (RGBA, rotated, several tones) and foot band (RGBA) for images
    ``width`` pixels wide."""
    size = max(9, width // 40)
    font = _font(size)
    texts = [_text(line) for line in lines]
    measure = ImageDraw.Draw(Image.new("L", (1, 1)))
    stroke = max(1, size // 14)
    text_width = max(int(measure.textlength(t, font=font)) for t in texts) + 2 * size
    line_height = int(size * 1.45)
    tile = Image.new("RGBA", (text_width, line_height * len(texts) + size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(tile)
    for index, text in enumerate(texts):
        colour = LETTER_COLOURS[index % len(LETTER_COLOURS)]
        at = (size, size // 2 + index * line_height)
        draw.text(at, text, font=font, fill=HALO + (150,), stroke_width=stroke + 2,
                  stroke_fill=HALO + (110,))
        draw.text(at, text, font=font, fill=colour + (int(255 * LETTER_OPACITY),),
                  stroke_width=stroke, stroke_fill=OUTLINE + (int(255 * OUTLINE_OPACITY),))
    tile = tile.rotate(30, expand=True, resample=Image.Resampling.BICUBIC)
    band_font = _font(max(8, size * 2 // 3))
    band = Image.new("RGBA", (width, int(size * 1.3)), (255, 255, 255, 255))
    ImageDraw.Draw(band).text((size // 2, size // 6), " · ".join(texts), font=band_font,
                              fill=BAND_COLOUR + (255,))
    return tile, band


def stamp(master_png: bytes, lines: tuple[str, ...], ext: str, seed: bytes | None = None) -> bytes:
    """The page image with the reader's visible watermark and, given a ``seed``
    (``fingerprint.key_for``), their invisible mark, encoded as ``ext`` (png or jpg)."""
    image = Image.open(io.BytesIO(master_png))
    image = image.convert("RGB")
    if seed is not None:  # under the visible mark, so the mark's own pixels carry it too
        image = Image.fromarray(fingerprint.embed(np.asarray(image), seed))
    tile, band = reader_marks(lines, image.width)
    step_x, step_y = int(tile.width * 0.95), int(tile.height * 0.75)
    for row, y in enumerate(range(-step_y // 3, image.height, step_y)):
        offset = (step_x // 2) * (row % 2)
        for x in range(-offset, image.width, step_x):
            image.paste(tile, (x, y), tile)
    image.paste(band, (0, image.height - band.height), band)
    return encode(image, ext)


def encode(image: Image.Image, ext: str) -> bytes:
    out = io.BytesIO()
    if ext == "jpg":
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=False)
    else:
        image.save(out, "PNG", compress_level=1)
    return out.getvalue()
