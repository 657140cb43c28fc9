"""A font that can write Vietnamese, for watermarks and generated PDFs.

PyMuPDF's built-in Helvetica ("helv") has no glyphs for most Vietnamese
letters (ệ, ở, ữ …), and this PyMuPDF build ships no Noto fonts, so we look
for a system TrueType font that covers the whole Vietnamese alphabet. Debian's
``fonts-noto-core`` (NotoSans) comes first, then DejaVu and Liberation.
``HEMICYCLE_FONT`` names another file.
"""
from __future__ import annotations

import functools
import os
import unicodedata
from pathlib import Path

CANDIDATES = (
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/opentype/noto/NotoSans-Regular.otf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
)
# Every letter with every tone mark, precomposed (NFC) as Vietnamese text is.
VIETNAMESE_SAMPLE = (
    "aàảãáạăằẳẵắặâầẩẫấậbcdđeèẻẽéẹêềểễếệghiìỉĩíịklmnoòỏõóọôồổỗốộơờởỡớợ"
    "pqrstuùủũúụưừửữứựvxyỳỷỹýỵ"
)
VIETNAMESE_SAMPLE += VIETNAMESE_SAMPLE.upper()


def covers_vietnamese(path: str | Path) -> bool:
    import pymupdf

    try:
        font = pymupdf.Font(fontfile=str(path))
    except Exception:
        return False
    return all(font.has_glyph(ord(ch)) for ch in VIETNAMESE_SAMPLE)


@functools.cache
def vietnamese_font_path() -> str | None:
    """The first installed font that covers Vietnamese, or None when there is none."""
    configured = os.environ.get("HEMICYCLE_FONT")
    for candidate in ((configured,) if configured else ()) + CANDIDATES:
        if Path(candidate).is_file() and covers_vietnamese(candidate):
            return candidate
    return None


def ascii_fallback(text: str) -> str:
    """Vietnamese without its marks ("Nguyễn" → "Nguyen"), for when no font covers it:
    still readable, which a row of missing-glyph boxes is not."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
