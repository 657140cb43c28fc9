"""OCR of scanned pages: runs inside the sandbox process (``server.pdf.sandbox``).

A page needs OCR when it shows an image over a good part of its surface but
has no usable text layer: fewer than ``MIN_TEXT_CHARS`` letters or digits, or
mostly U+FFFD (a font without a Unicode map). Each such page is copied into a
one-page PDF and given to OCRmyPDF (Tesseract, language ``vie`` by default)
with ``output_type="none"``: only its text is kept (the "sidecar"), the
uploaded file is never rewritten, so its sha256 stays the one it was uploaded
with. One page at a time, so one page that fails (Tesseract crashes, its time
runs out, its image cannot be decoded) is reported and the others go on.
"""
from __future__ import annotations

import logging
import os
import unicodedata
from pathlib import Path

MIN_TEXT_CHARS = 16
MIN_IMAGE_COVER = 0.3  # share of the page an image must cover for the page to count as a scan
# What OCRmyPDF writes instead of a page's text when Tesseract ran out of time (17.x, 14.x).
SKIPPED_MARKERS = ("[skipped page]", "[OCR skipped on page(s) 1]")


def usable_text(text: str) -> bool:
    letters = sum(1 for c in text if c.isalnum())
    return letters >= MIN_TEXT_CHARS and text.count("\ufffd") * 10 < letters


def needs_ocr(page, text: str) -> bool:
    """A page that is an image (a scan, a photo of a letter) without usable text."""
    if usable_text(text):
        return False
    area = abs(page.rect) or 1.0
    covered = 0.0
    for info in page.get_image_info():
        box = page.rect & info["bbox"]
        covered += abs(box) if not box.is_empty else 0.0
    return covered / area >= MIN_IMAGE_COVER


def _options(language: str, page_seconds: int, max_megapixels: float) -> dict:
    return {
        "language": language.split("+"),
        "output_type": "none",
        "mode": "force",  # a page with a few stray glyphs is rasterised whole
        "rotate_pages": True,  # Tesseract's orientation detection: scans fed in sideways
        "rotate_pages_threshold": 2.0,
        "rasterizer": "pypdfium",  # no Ghostscript needed
        "tesseract_timeout": page_seconds,
        # Pillow's bomb limit, set on every call: OCRmyPDF leaves it in a global.
        "max_image_mpixels": max_megapixels,
        "jobs": 1,
        "progress_bar": False,
        "optimize": 0,
    }


def ocr_page(doc, number: int, workdir: Path, language: str, page_seconds: int,
             max_megapixels: float) -> dict:
    """OCR one 1-based page; returns ``{"page", "status", "text", "error"}``."""
    import ocrmypdf
    import pymupdf

    single = workdir / f"page-{number}.pdf"
    sidecar = workdir / f"page-{number}.txt"
    part = pymupdf.open()
    part.insert_pdf(doc, from_page=number - 1, to_page=number - 1)
    part.save(single)
    part.close()
    try:
        ocrmypdf.ocr(single, "-", sidecar=sidecar,  # "-": no PDF is written (output_type none)
                     **_options(language, page_seconds, max_megapixels))
        text = sidecar.read_text(encoding="utf-8", errors="replace")
    except Exception as exc:  # OCRmyPDF and Tesseract fail in many ways; the page is reported
        reason = f"{type(exc).__name__}: {exc}".strip()[:300]
        return {"page": number, "status": "failed", "text": "", "error": reason}
    finally:
        single.unlink(missing_ok=True)
    if text.strip() in SKIPPED_MARKERS:
        return {"page": number, "status": "failed", "text": "",
                "error": f"time limit: Tesseract stopped after {page_seconds} s"}
    text = unicodedata.normalize("NFC", text).strip()
    return {"page": number, "status": "done" if text else "empty", "text": text, "error": ""}


def ocr_pages(path: Path, pages: list[int], workdir: Path, language: str, page_seconds: int,
              max_megapixels: float, max_text_chars: int, progress) -> None:
    """OCR the given pages of ``path``, calling ``progress(result)`` after each page."""
    import pymupdf

    os.environ["OMP_THREAD_LIMIT"] = "1"  # one core per job: the server has tablets to serve
    os.environ["TMPDIR"] = str(workdir)
    logging.disable(logging.WARNING)  # OCRmyPDF logs to stderr, which nobody reads here
    doc = pymupdf.open(path, filetype="pdf")
    for number in pages:
        result = ocr_page(doc, number, workdir, language, page_seconds, max_megapixels)
        result["text"] = result["text"][:max_text_chars]
        progress(result)
