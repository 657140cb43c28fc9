"""Fonts for the minutes and their signature stamps.

PyMuPDF's built-in Helvetica and pyHanko's default stamp font have no
Vietnamese glyphs, so both embed Noto (subset) from the system's fonts.
"""
from __future__ import annotations

import os
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
