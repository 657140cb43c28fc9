"""Printable pairing sheets: one card per participant with a QR code (the pairing link) and a PIN.

The secretary prints the sheet, cuts the cards and hands each delegate theirs;
scanning the QR code (or typing the PIN) pairs the tablet. Names are written
with an embedded Unicode font (``server.pdf.fonts``): PyMuPDF's built-in
Helvetica drops most Vietnamese letters. The QR code is drawn as vector
squares, so it stays sharp on any printer.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pymupdf
import qrcode

from server.pdf.fonts import ascii_fallback, vietnamese_font_path

A4 = pymupdf.paper_rect("a4")
MARGIN = 36  # points (half an inch)
COLUMNS, ROWS = 2, 4  # cards per page: 2 × 4
QR_SIZE = 118  # points, about 42 mm: easy for a tablet camera at arm's length
GREY = (0.45, 0.45, 0.45)
BLACK = (0, 0, 0)


@dataclass(frozen=True)
class PairingCard:
    """What one card says; the secret link and PIN are shown nowhere else."""

    name: str
    detail: str  # position, seat
    link: str  # the pairing link the QR code holds
    pin: str
    expires_at: datetime


@dataclass(frozen=True)
class SheetLabels:
    """The sheet's fixed words, in the secretary's language."""

    heading: str = "Pairing cards"
    scan: str = "Scan with the tablet's camera, or type the PIN:"
    pin: str = "PIN"
    expires: str = "Valid until"
    one_time: str = "One-time code: do not share."


class _Fonts:
    """The regular and bold faces, registered on each page under short names."""

    def __init__(self) -> None:
        regular = vietnamese_font_path()
        bold = None
        if regular is not None:
            candidate = Path(regular).with_name(Path(regular).name.replace("Regular", "Bold"))
            bold = str(candidate) if candidate.is_file() and candidate != Path(regular) else regular
        self.regular, self.bold = regular, bold

    def text(self, value: str) -> str:
        return value if self.regular else ascii_fallback(value)

    def install(self, page: pymupdf.Page) -> tuple[str, str]:
        if self.regular is None:
            return "helv", "hebo"
        page.insert_font(fontname="hvr", fontfile=self.regular)
        page.insert_font(fontname="hvb", fontfile=self.bold)
        return "hvr", "hvb"


def _draw_qr(page: pymupdf.Page, text: str, rect: pymupdf.Rect) -> None:
    matrix = qr_matrix(text)
    cell = rect.width / len(matrix)
    shape = page.new_shape()
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):  # one rectangle per horizontal run of dark modules
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            shape.draw_rect(pymupdf.Rect(rect.x0 + start * cell, rect.y0 + y * cell,
                                         rect.x0 + x * cell, rect.y0 + (y + 1) * cell))
    shape.finish(color=None, fill=BLACK, width=0)
    shape.commit()


def card_rect(index: int) -> pymupdf.Rect:
    """Where the ``index``-th card of a page sits (row by row)."""
    width = (A4.width - 2 * MARGIN) / COLUMNS
    height = (A4.height - 2 * MARGIN - 24) / ROWS
    column, row = index % COLUMNS, index // COLUMNS
    x0, y0 = MARGIN + column * width, MARGIN + 24 + row * height
    return pymupdf.Rect(x0, y0, x0 + width, y0 + height)


def qr_rect(card: pymupdf.Rect) -> pymupdf.Rect:
    """The QR code's square in a card: bottom left, under the name."""
    inner = card + (10, 10, -10, -10)
    size = min(QR_SIZE, inner.height - 50)
    return pymupdf.Rect(inner.x0, inner.y1 - size, inner.x0 + size, inner.y1)


def qr_matrix(text: str) -> list[list[bool]]:
    """The modules of the QR code drawn for ``text`` (quiet zone included)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(text)
    code.make(fit=True)
    return code.get_matrix()


def _fit(page, rect, text, fontname, fontsize, color=BLACK, align=0, min_size=7.0) -> None:
    """Write text in a box, shrinking it until it fits (long Vietnamese names wrap)."""
    size = fontsize
    while size >= min_size:
        if page.insert_textbox(rect, text, fontname=fontname, fontsize=size, color=color,
                               align=align) >= 0:
            return
        size -= 1
    page.insert_textbox(rect, text[:120], fontname=fontname, fontsize=min_size, color=color,
                        align=align)


def _card(page, box: pymupdf.Rect, card: PairingCard, meeting_title: str, labels: SheetLabels,
          fonts: _Fonts, faces: tuple[str, str], when: str) -> None:
    regular, bold = faces
    page.draw_rect(box, color=GREY, width=0.5, dashes="[3 3] 0")  # cut line
    inner = box + (10, 10, -10, -10)
    _fit(page, pymupdf.Rect(inner.x0, inner.y0, inner.x1, inner.y0 + 12),
         fonts.text(meeting_title), regular, 8, GREY)
    _fit(page, pymupdf.Rect(inner.x0, inner.y0 + 12, inner.x1, inner.y0 + 34),
         fonts.text(card.name), bold, 14)
    if card.detail:
        _fit(page, pymupdf.Rect(inner.x0, inner.y0 + 34, inner.x1, inner.y0 + 47),
             fonts.text(card.detail), regular, 9, GREY)
    qr = qr_rect(box)
    _draw_qr(page, card.link, qr)
    right = pymupdf.Rect(qr.x1 + 8, qr.y0, inner.x1, inner.y1)
    _fit(page, pymupdf.Rect(right.x0, right.y0, right.x1, right.y0 + 30),
         fonts.text(labels.scan), regular, 8)
    _fit(page, pymupdf.Rect(right.x0, right.y0 + 32, right.x1, right.y0 + 44),
         fonts.text(labels.pin), regular, 9, GREY)
    number, _, digits = card.pin.rpartition("-")  # "27-482913" is printed "27-482 913"
    pin = f"{number}-{digits[:3]} {digits[3:]}" if number else card.pin
    _fit(page, pymupdf.Rect(right.x0, right.y0 + 44, right.x1, right.y0 + 78), pin, bold, 22)
    _fit(page, pymupdf.Rect(right.x0, right.y0 + 78, right.x1, right.y0 + 100),
         fonts.text(f"{labels.expires} {when}"), regular, 8, GREY)
    _fit(page, pymupdf.Rect(right.x0, right.y0 + 100, right.x1, right.y1),
         fonts.text(labels.one_time), regular, 7, GREY)


def render_pairing_sheet(meeting_title: str, cards: list[PairingCard], *,
                         labels: SheetLabels = SheetLabels(),
                         format_time=lambda value: value.strftime("%d/%m/%Y %H:%M")) -> bytes:
    """A4 PDF, eight cards a page, in the order given; an empty list gives one heading page."""
    fonts = _Fonts()
    document = pymupdf.open()
    document.set_metadata({"title": fonts.text(f"{labels.heading} — {meeting_title}"),
                           "creator": "Hemicycle"})
    per_page = COLUMNS * ROWS
    pages = [cards[i:i + per_page] for i in range(0, len(cards), per_page)] or [[]]
    for number, chunk in enumerate(pages, start=1):
        page = document.new_page(width=A4.width, height=A4.height)
        faces = fonts.install(page)
        heading = f"{labels.heading} — {meeting_title}  ({number}/{len(pages)})"
        _fit(page, pymupdf.Rect(MARGIN, MARGIN - 6, A4.width - MARGIN, MARGIN + 18),
             fonts.text(heading), faces[1], 11)
        for index, card in enumerate(chunk):
            _card(page, card_rect(index), card, meeting_title, labels, fonts, faces,
                  format_time(card.expires_at))
    data = document.tobytes(garbage=3, deflate=True)
    document.close()
    return data
