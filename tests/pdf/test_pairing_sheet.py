"""The printable pairing sheet: Vietnamese names intact, one readable QR code and PIN per card."""
from __future__ import annotations

import unicodedata
from datetime import datetime

import pymupdf
import pytest

from tests.conftest import service_unavailable

from server.pdf import fonts
from server.pdf.pairing_sheet import (
    PairingCard, SheetLabels, card_rect, qr_matrix, qr_rect, render_pairing_sheet,
)

NAMES = ["Nguyễn Thị Ngọc Ánh", "Trần Văn Đức", "Lê Hoàng Phương Thảo", "Phạm Quốc Hưng",
         "Đỗ Thị Ỷ Lan", "Vũ Minh Khôi", "Hồ Thị Thu Hường", "Bùi Xuân Trường",
         "Đặng Quỳnh Như"]
WHEN = datetime(2026, 12, 1, 17, 30)

@pytest.fixture
def vietnamese_font():
    if fonts.vietnamese_font_path() is None:
        service_unavailable("A font covering Vietnamese", "apt install fonts-noto-core")


needs_font = pytest.mark.usefixtures("vietnamese_font")


def cards(names=NAMES):
    return [PairingCard(name, f"Đại biểu · Ghế A{n}", f"http://hop.example.vn/tablet/#pair=secret-{n:02d}-"
                        + "x" * 24, f"{n + 20}-{n:06d}", WHEN)  # a PIN names its code
            for n, name in enumerate(names)]


def render(items=None, **kw):
    return pymupdf.open(stream=render_pairing_sheet("Kỳ họp thứ 12 HĐND tỉnh Lâm Đồng",
                                                     cards() if items is None else items, **kw))


def read_qr(page: pymupdf.Page, rect: pymupdf.Rect, size: int) -> list[list[bool]]:
    """Read the printed modules back from a rendering of the page: dark centre = dark module."""
    zoom = 6
    pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), clip=rect, colorspace=pymupdf.csGRAY)
    cell = pixmap.width / size
    return [[pixmap.pixel(int((x + .5) * cell), int((y + .5) * cell))[0] < 128 for x in range(size)]
            for y in range(size)]


@needs_font
def test_vietnamese_names_come_back_exactly_from_the_pdf():
    document = render()
    text = unicodedata.normalize("NFC", "".join(page.get_text() for page in document))
    for name in NAMES + ["Kỳ họp thứ 12 HĐND tỉnh Lâm Đồng", "Đại biểu · Ghế A4"]:
        assert name in text, name
    fonts_used = {(font[2], font[3]) for page in document for font in page.get_fonts()}
    # Embedded TrueType (not one of the 14 standard fonts, which have no Vietnamese letters).
    assert fonts_used and all(kind == "Type0" and "Noto" in name for kind, name in fonts_used), fonts_used


@needs_font
def test_every_glyph_is_drawn_with_the_embedded_font(tmp_path):
    """Render to PNG; every character of every name is in the font that draws it (no blank boxes)."""
    document = render()
    page = document[0]
    png = tmp_path / "sheet.png"
    page.get_pixmap(dpi=100).save(png)
    assert png.stat().st_size > 20_000
    font = pymupdf.Font(fontfile=fonts.vietnamese_font_path())
    for block in page.get_text("rawdict")["blocks"]:
        for line in block.get("lines", []):
            for span in line["spans"]:
                assert "Noto" in span["font"], span["font"]
                for char in span["chars"]:
                    assert font.has_glyph(ord(char["c"])), char["c"]
    # Ink where the first name is written.
    box = card_rect(0)
    pixmap = page.get_pixmap(dpi=100, clip=pymupdf.Rect(box.x0 + 10, box.y0 + 22, box.x1 - 10, box.y0 + 44),
                             colorspace=pymupdf.csGRAY)
    assert min(pixmap.samples) < 80


def test_each_card_has_a_qr_code_holding_its_pairing_link_and_the_pin():
    items = cards()
    document = render(items)
    assert document.page_count == 2  # eight cards a page
    for index, card in ((0, items[0]), (5, items[5]), (8, items[8])):
        page = document[index // 8]
        expected = qr_matrix(card.link)
        printed = read_qr(page, qr_rect(card_rect(index % 8)), len(expected))
        assert printed == expected, f"card {index}: the QR code does not hold its link"
        code, digits = card.pin.split("-")
        assert f"{code}-{digits[:3]} {digits[3:]}" in page.get_text()  # "27-482 913"
    # A QR code of another link reads differently: the check above can fail.
    assert read_qr(document[0], qr_rect(card_rect(0)), len(qr_matrix(items[1].link))) != qr_matrix(items[1].link)


def test_labels_are_translated_and_an_empty_sheet_is_one_page():
    labels = SheetLabels(heading="Phiếu ghép nối máy tính bảng", scan="Quét mã bằng máy tính bảng:",
                         pin="Mã PIN", expires="Hiệu lực đến", one_time="Mã dùng một lần.")
    document = render([], labels=labels)
    assert document.page_count == 1
    text = document[0].get_text()
    if fonts.vietnamese_font_path():
        assert "Phiếu ghép nối máy tính bảng" in text
    document = render(cards(NAMES[:1]), labels=labels)
    text = unicodedata.normalize("NFC", document[0].get_text())
    if fonts.vietnamese_font_path():
        assert "Mã PIN" in text and "Hiệu lực đến 01/12/2026 17:30" in text


def test_without_a_vietnamese_font_names_lose_their_marks_but_stay_readable(monkeypatch):
    monkeypatch.setattr("server.pdf.pairing_sheet.vietnamese_font_path", lambda: None)
    text = render(cards(["Nguyễn Thị Ngọc Ánh"]))[0].get_text()
    assert "Nguyen Thi Ngoc Anh" in text
