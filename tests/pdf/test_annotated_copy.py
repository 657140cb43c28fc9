"""The annotated copy: page-relative marks become real PDF annotations in the right place."""
from __future__ import annotations

import pymupdf
import pytest

from server.pdf.annotated_copy import Mark, annotated_copy, raster_copy


def blank(pages: int = 2, rotate: int = 0, width: int = 600, height: int = 800) -> bytes:
    doc = pymupdf.open()
    for _ in range(pages):
        page = doc.new_page(width=width, height=height)
        if rotate:
            page.set_rotation(rotate)
    return doc.tobytes()


def red_box(page: pymupdf.Page) -> tuple[float, float, float, float]:
    """Where red ink shows on the rendered page, as fractions of the visible page."""
    pix = page.get_pixmap()
    xs, ys = [], []
    for y in range(0, pix.height, 2):
        for x in range(0, pix.width, 2):
            r, g, b = pix.pixel(x, y)[:3]
            if r > 200 and g < 90 and b < 90:
                xs.append(x)
                ys.append(y)
    assert xs, "no red ink on the page"
    return min(xs) / pix.width, min(ys) / pix.height, max(xs) / pix.width, max(ys) / pix.height


STROKE = {"points": [[0.2, 0.1], [0.4, 0.1], [0.4, 0.3]], "color": "#ff0000", "width": 0.01}


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_ink_lands_where_it_was_drawn_on_rotated_pages(rotate):
    out = annotated_copy(blank(rotate=rotate), [Mark("ink", 1, STROKE)])
    with pymupdf.open(stream=out, filetype="pdf") as doc:
        x0, y0, x1, y1 = red_box(doc[0])
    assert x0 == pytest.approx(0.2, abs=0.03) and x1 == pytest.approx(0.4, abs=0.03)
    assert y0 == pytest.approx(0.1, abs=0.03) and y1 == pytest.approx(0.3, abs=0.03)


def test_each_kind_becomes_its_pdf_annotation_on_its_page():
    marks = [
        Mark("ink", 1, STROKE, "Nguyễn Thị Hường"),
        Mark("highlight", 2, {"points": [[0.1, 0.5], [0.7, 0.505]], "color": "#ffd400",
                              "width": 0.02}),
        Mark("highlight", 2, {"points": [[0.1, 0.1], [0.2, 0.6]], "width": 0.02}),  # a scribble
        Mark("note", 1, {"points": [[0.5, 0.5]], "text": "Xem lại điều 3"}),
        Mark("ink", 7, STROKE),  # no such page: skipped
    ]
    out = annotated_copy(blank(), marks)
    with pymupdf.open(stream=out, filetype="pdf") as doc:
        kinds = sorted((page.number + 1, a.type[1]) for page in doc for a in page.annots())
        ink = next(a for a in doc[0].annots() if a.type[1] == "Ink")
        note = next(a for a in doc[0].annots() if a.type[1] == "Text")
        scribble = next(a for a in doc[1].annots() if a.type[1] == "Ink")
        assert ink.info["title"] == "Nguyễn Thị Hường"
        assert note.info["content"] == "Xem lại điều 3"
        assert scribble.opacity == pytest.approx(0.35, abs=0.01)
    assert kinds == [(1, "Ink"), (1, "Text"), (2, "Highlight"), (2, "Ink")]


def test_raster_copy_puts_marks_over_page_images():
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 60, 80), False)
    pix.clear_with(255)
    png = pix.tobytes("png")
    out = raster_copy([(png, 600, 800), (png, 600, 800)], [Mark("ink", 2, STROKE)], title="Mật")
    with pymupdf.open(stream=out, filetype="pdf") as doc:
        assert doc.page_count == 2 and doc.metadata["title"] == "Mật"
        assert doc[1].get_images() and not list(doc[0].annots())
        assert [a.type[1] for a in doc[1].annots()] == ["Ink"]
        x0, y0, _x1, _y1 = red_box(doc[1])
    assert x0 == pytest.approx(0.2, abs=0.03) and y0 == pytest.approx(0.1, abs=0.03)
