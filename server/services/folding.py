"""Vietnamese text folded for search without diacritics ("bien ban" finds "biên bản").

Folding maps every character to exactly one character, so a match found in the
folded text points at the same place in the original and a snippet shows the
real words. Shared by the archive's index and the meeting's document search.
"""
from __future__ import annotations

import functools
import re
import unicodedata

_FOLD_EXTRA = {"đ": "d", "Đ": "d", "ð": "d", "ł": "l", "ø": "o"}


def _fold_char(char: str) -> str:
    if char in _FOLD_EXTRA:
        return _FOLD_EXTRA[char]
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    base = base.lower()
    return base if len(base) == 1 else char


@functools.cache
def _table() -> dict[int, str]:
    """Every character of the Basic Multilingual Plane that folds to another: folding a
    page of text is then one ``str.translate`` (C speed) instead of a loop in Python."""
    table = {}
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        folded = _fold_char(char)
        if folded != char:
            table[code] = folded
    return table


def fold(value: str) -> str:
    """Lower case without diacritics, one character for one: "Đồng" -> "dong"."""
    value = unicodedata.normalize("NFC", value or "")
    folded = value.translate(_table())
    if any(ord(c) > 0xFFFF for c in value):  # rare: characters outside the table
        folded = "".join(_fold_char(c) for c in folded)
    return folded


def terms_of(query: str) -> list[str]:
    """The folded words of a query."""
    return re.findall(r"\w+", fold(query))


def snippet(original: str, folded: str, terms: list[str], width: int = 70) -> str:
    """A stretch of ``original`` around the first match of ``terms`` (searched in
    ``folded``), cut at word boundaries, with … where it was cut."""
    original = unicodedata.normalize("NFC", original)
    # The words as a phrase, across line breaks and punctuation (OCR text keeps the lines).
    phrase = re.search(r"\b" + r"\W+".join(re.escape(t) for t in terms), folded)
    positions = [m.start() for t in terms for m in [re.search(rf"\b{re.escape(t)}", folded)] if m]
    at = phrase.start() if phrase else min(positions, default=0)
    start, end = max(0, at - width), min(len(original), at + width)
    if start:  # begin and end on whole words
        start = original.find(" ", start, at) + 1 or start
    if end < len(original):
        end = original.rfind(" ", at, end) if original.rfind(" ", at, end) > at else end
    text = " ".join(original[start:end].split())
    return ("…" if start else "") + text + ("…" if end < len(original) else "")
