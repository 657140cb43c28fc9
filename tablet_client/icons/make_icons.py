"""Draw the app icons (a hemicycle of seats) with PyMuPDF: python tablet_client/icons/make_icons.py"""
from __future__ import annotations

import math
from pathlib import Path

import pymupdf

HERE = Path(__file__).resolve().parent
BLUE = (0x15 / 255, 0x3E / 255, 0x75 / 255)
GOLD = (1.0, 0.78, 0.2)


def icon(size: int) -> bytes:
    doc = pymupdf.open()
    page = doc.new_page(width=100, height=100)
    page.draw_rect(page.rect, color=None, fill=BLUE)
    centre = pymupdf.Point(50, 70)
    for row, (radius, seats) in enumerate(((34, 9), (24, 7), (14, 5))):
        for i in range(seats):
            angle = math.pi * (i / (seats - 1))
            point = centre + (-radius * math.cos(angle), -radius * math.sin(angle))
            page.draw_circle(point, 3.4 - row * 0.4, color=None, fill=GOLD if row == 0 else (1, 1, 1))
    page.draw_rect(pymupdf.Rect(38, 74, 62, 80), color=None, fill=(1, 1, 1))
    pix = page.get_pixmap(matrix=pymupdf.Matrix(size / 100, size / 100), alpha=False)
    return pix.tobytes("png")


if __name__ == "__main__":
    for size in (192, 512):
        (HERE / f"icon-{size}.png").write_bytes(icon(size))
