"""A delegate's annotated copy: the document with their annotations as real PDF annotations.

Annotations are stored in page-relative coordinates (0..1 of the page as it is
seen, i.e. after its /Rotate). Each is mapped to the visible page rectangle,
then through the page's derotation matrix into PDF space, so a pen stroke
lands where it was drawn on rotated pages too.

- ink → an Ink annotation (the pen's colour and width);
- highlight → a Highlight annotation over the stroke's band when the stroke
  runs roughly along a line of text; otherwise a translucent Ink annotation
  (a highlighter scribble in the margin);
- note → a Text ("sticky note") annotation holding the note.

Confidential documents are never given out as the original file; for them
``raster_copy`` builds the PDF from the reader's watermarked page images, and
the annotations go on top of those.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import pymupdf

AUTHOR = "Hemicycle"
HIGHLIGHT_OPACITY = 0.35


@dataclass(frozen=True)
class Mark:
    """One annotation to draw: kind ("ink" | "highlight" | "note"), 1-based page, data dict."""

    kind: str
    page_number: int
    data: dict
    author: str = ""


def _colour(value: str | None, default: tuple[float, float, float]) -> tuple[float, float, float]:
    if isinstance(value, str) and len(value) == 7 and value.startswith("#"):
        try:
            return tuple(int(value[i:i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]
        except ValueError:
            pass
    return default


def _points(page: pymupdf.Page, data: dict) -> list[pymupdf.Point]:
    """Page-relative points → visible page points → PDF (unrotated) points."""
    rect = page.rect
    derotate = page.derotation_matrix
    result = []
    for pair in data.get("points") or []:
        x, y = float(pair[0]), float(pair[1])
        visible = pymupdf.Point(rect.x0 + x * rect.width, rect.y0 + y * rect.height)
        result.append(visible * derotate if page.rotation else visible)
    return result


def _stroke_width(page: pymupdf.Page, data: dict, default: float) -> float:
    width = data.get("width")
    relative = float(width) if isinstance(width, (int, float)) and width > 0 else default
    return max(0.5, relative * page.rect.width)


def _ink(page: pymupdf.Page, mark: Mark, *, highlighter: bool) -> pymupdf.Annot | None:
    points = _points(page, mark.data)
    if not points:
        return None
    if len(points) == 1:
        points = points * 2  # a dot is a stroke of length zero
    annot = page.add_ink_annot([[(p.x, p.y) for p in points]])
    default = (1.0, 0.85, 0.0) if highlighter else (0.0, 0.2, 0.8)
    annot.set_colors(stroke=_colour(mark.data.get("color"), default))
    annot.set_border(width=_stroke_width(page, mark.data, 0.02 if highlighter else 0.003))
    if highlighter:
        annot.set_opacity(HIGHLIGHT_OPACITY)
    return annot


def _highlight(page: pymupdf.Page, mark: Mark) -> pymupdf.Annot | None:
    points = _points(page, mark.data)
    if not points:
        return None
    width = _stroke_width(page, mark.data, 0.02)
    visible = [pymupdf.Point(x * page.rect.width, y * page.rect.height)
               for x, y in (mark.data.get("points") or [])]
    xs = [p.x for p in visible]
    ys = [p.y for p in visible]
    along_a_line = (max(ys) - min(ys)) <= 1.5 * width and (max(xs) - min(xs)) >= width
    if not along_a_line:
        return _ink(page, mark, highlighter=True)
    middle = (max(ys) + min(ys)) / 2
    band = pymupdf.Rect(min(xs), middle - width / 2, max(xs), middle + width / 2)
    if page.rotation:
        band = band * page.derotation_matrix
    annot = page.add_highlight_annot(band)
    annot.set_colors(stroke=_colour(mark.data.get("color"), (1.0, 0.85, 0.0)))
    return annot


def _note(page: pymupdf.Page, mark: Mark) -> pymupdf.Annot | None:
    points = _points(page, mark.data)
    if not points:
        return None
    annot = page.add_text_annot(points[0], str(mark.data.get("text") or ""), icon="Note")
    annot.set_colors(stroke=_colour(mark.data.get("color"), (1.0, 0.8, 0.0)))
    return annot


def add_marks(doc: pymupdf.Document, marks: Iterable[Mark]) -> int:
    """Draw the marks into ``doc``; returns how many annotations were added."""
    added = 0
    for mark in marks:
        if not 1 <= mark.page_number <= doc.page_count:
            continue
        page = doc[mark.page_number - 1]
        if mark.kind == "note":
            annot = _note(page, mark)
        elif mark.kind == "highlight":
            annot = _highlight(page, mark)
        else:
            annot = _ink(page, mark, highlighter=False)
        if annot is None:
            continue
        annot.set_info(title=mark.author or AUTHOR, subject=mark.kind)
        annot.update()
        added += 1
    return added


def annotated_copy(pdf: bytes, marks: Iterable[Mark]) -> bytes:
    """The PDF with the marks added as annotations (the original's pages untouched)."""
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        add_marks(doc, marks)
        return doc.tobytes(garbage=1, deflate=True)


def raster_copy(pages: Iterable[tuple[bytes, float, float]], marks: Iterable[Mark],
                title: str = "") -> bytes:
    """A PDF made of page images (``(png, width_pt, height_pt)``, as seen), with the marks."""
    with pymupdf.open() as doc:
        for image, width, height in pages:
            page = doc.new_page(width=width, height=height)
            page.insert_image(page.rect, stream=image)
        if title:
            doc.set_metadata({"title": title, "producer": AUTHOR})
        add_marks(doc, marks)
        return doc.tobytes(garbage=1, deflate=True)
