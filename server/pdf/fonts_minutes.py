"""Fonts for the minutes and their signature stamps.

PyMuPDF's built-in Helvetica and pyHanko's default stamp font have no
Vietnamese glyphs, so both embed Noto (subset) from the system's fonts.
"""
from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path

from server.errors import Conflict

# Debian's fonts-noto-core; HEMICYCLE_FONT_DIR overrides it.
_DIRS = ("/usr/share/fonts/truetype/noto", "/usr/share/fonts/noto", "/usr/local/share/fonts/noto")
FACES = {
    "regular": "NotoSerif-Regular.ttf",
    "bold": "NotoSerif-Bold.ttf",
    "italic": "NotoSerif-Italic.ttf",
    "bold_italic": "NotoSerif-BoldItalic.ttf",
}


@lru_cache(maxsize=1)
def font_dir() -> Path:
    """The directory holding the Noto Serif faces; Conflict when they are missing."""
    candidates = [os.environ.get("HEMICYCLE_FONT_DIR") or "", *_DIRS]
    for candidate in candidates:
        if candidate and all((Path(candidate) / name).is_file() for name in FACES.values()):
            return Path(candidate)
    raise Conflict("Noto Serif fonts are not installed (Debian: apt install fonts-noto-core).",
                   code="fonts_missing")


def font_path(face: str = "regular") -> str:
    return str(font_dir() / FACES[face])


def font_face_css() -> str:
    """@font-face rules for a PyMuPDF Story whose archive is ``font_dir()``."""
    rules = []
    for face, name in FACES.items():
        weight = "bold" if "bold" in face else "normal"
        style = "italic" if "italic" in face else "normal"
        rules.append(f"@font-face {{font-family: Minutes; src: url({name}); "
                     f"font-weight: {weight}; font-style: {style};}}")
    return "\n".join(rules)


# Latin, Vietnamese and common punctuation: all a stamp needs.
_STAMP_UNICODES = [*range(0x20, 0x250), *range(0x300, 0x370), *range(0x1E00, 0x1F00),
                   *range(0x2000, 0x2070), 0x20AB]


@lru_cache(maxsize=1)
def stamp_font_path() -> str:
    """Noto Serif cut down to Latin and Vietnamese, made once per machine.

    pyHanko subsets the stamp font at every signature; starting from the full
    Noto Serif (3,000+ glyphs) that takes seconds, from this cut a fraction.
    """
    from fontTools import subset

    source = Path(font_path())
    stat = source.stat()
    target = Path(tempfile.gettempdir()) / f"hemicycle-stamp-{stat.st_size}-{int(stat.st_mtime)}.ttf"
    if not target.exists():
        options = subset.Options()
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        options.notdef_outline = True
        font = subset.load_font(str(source), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=_STAMP_UNICODES)
        subsetter.subset(font)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        subset.save_font(font, str(partial), options)
        os.replace(partial, target)
    return str(target)
