"""Inspect an uploaded PDF before it is accepted: runs inside the sandbox process.

``inspect()`` opens the file with PyMuPDF and refuses what Hemicycle will not
serve (not a PDF, encrypted, no pages, too many pages, pages or images too
large). Two kinds of damage are neutralised rather than refused, and the file
that is stored is then a rewritten copy:

* JavaScript and other active actions (Launch, ImportData, additional actions)
  are removed. Forms exported from office suites carry harmless scripts so
  often that refusing them would refuse ordinary papers; delegates never get
  the PDF anyway, and staff download a copy without the scripts.
* Files MuPDF had to repair (broken cross-reference table) are rewritten, so
  every later open is fast and sees the same pages. The upload answer says
  ``repaired`` so the secretary can check the page count. A repaired file
  whose pages lost their content or images (typically a cut-off upload, which
  MuPDF would turn into blank pages) is refused as ``damaged_pdf``.

It also computes each page's size, text and content hash (see
``page_content_hash``), says which pages are scans without a text layer (OCR
comes later, in the background: ``server.pdf.ocr``), and renders the first
pages so tablets can start.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from server.pdf import ocr

PDF_MAGIC = b"%PDF-"
POINTS_PER_METRE = 72 / 0.0254


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 64 * 1024 * 1024  # as MAX_CONTENT_LENGTH
    max_pages: int = 2000
    max_page_side_pt: float = 5 * POINTS_PER_METRE  # 5 m
    min_page_side_pt: float = 10.0  # 3.5 mm; MuPDF turns broken boxes into 1 × 1 pt
    max_image_pixels: int = 100_000_000  # a 600 dpi A3 scan is 70 Mpx
    max_content_bytes: int = 64 * 1024 * 1024  # decompressed content streams of one page
    max_text_chars: int = 100_000  # per page, for search
    max_total_text_chars: int = 10_000_000  # per document
    memory_mb: int = 1536
    cpu_seconds: int = 120
    wall_seconds: int = 180
    # OCR of scanned pages (docs/DOCUMENTS.md, "Scanned pages"): Tesseract languages ("" turns
    # OCR off), time per page, the page image's size, the OCR process's address space, pages
    # OCR'd per version.
    ocr_languages: str = "vie"
    ocr_page_seconds: int = 60
    ocr_max_megapixels: float = 100.0
    ocr_memory_mb: int = 1536
    ocr_max_pages: int = 500

    @classmethod
    def from_config(cls, config) -> "Limits":
        """``DOCUMENT_MAX_PAGES`` etc. from the Flask config, else ``HEMICYCLE_DOCUMENT_*``
        environment variables, else the defaults above."""
        values = {}
        for name, spec in cls.__dataclass_fields__.items():
            key = f"DOCUMENT_{name.upper()}"
            if key in config:
                values[name] = config[key]
            elif os.environ.get(f"HEMICYCLE_{key}"):
                values[name] = type(spec.default)(os.environ[f"HEMICYCLE_{key}"])
        return cls(**values)

    def as_dict(self) -> dict:
        return asdict(self)


class Refused(Exception):
    """The file is not acceptable; ``code`` is the API error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def has_pdf_magic(head: bytes) -> bool:
    """PDF readers accept the header anywhere in the first KiB; so do we."""
    return PDF_MAGIC in head[:1024]


_NULLED_KEY = re.compile(r"/(?:JavaScript|AA|OpenAction|A)\s*null(?![A-Za-z0-9])")
_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/RichMediaExecute", "/Rendition"}


def neutralise_active_content(doc) -> int:
    """Remove JavaScript and other active actions in place; returns how many were removed."""
    removed, touched = 0, set()
    catalog = doc.pdf_catalog()
    if doc.xref_get_key(catalog, "Names/JavaScript")[0] != "null":
        doc.xref_set_key(catalog, "Names/JavaScript", "null")
        removed += 1
        touched.add(catalog)
    for xref in range(1, doc.xref_length()):
        if doc.xref_get_key(xref, "S")[1] in _ACTIVE_ACTIONS or doc.xref_get_key(xref, "JS")[0] != "null":
            doc.update_object(xref, "<<>>")
            removed += 1
            continue
        for key in ("A", "OpenAction"):
            if doc.xref_get_key(xref, f"{key}/S")[1] in _ACTIVE_ACTIONS:
                doc.xref_set_key(xref, key, "null")
                removed += 1
                touched.add(xref)
        if doc.xref_get_key(xref, "AA")[0] != "null":
            doc.xref_set_key(xref, "AA", "null")
            removed += 1
            touched.add(xref)
    for xref in touched:  # MuPDF writes "/Key null"; drop the keys altogether
        source = doc.xref_object(xref, compressed=True)
        cleaned = _NULLED_KEY.sub("", source)
        if cleaned != source:
            doc.update_object(xref, cleaned)
    return removed


def page_content_hash(doc, page, words) -> str:
    """What the reader sees on the page, hashed: size, rotation, words with their
    positions (rounded to a point), the bytes of every image, and the position
    of every drawing operation.

    It survives a re-export from a word processor (fonts re-subsetted, objects
    renumbered) yet changes when a word, a figure or a chart on the page changes.
    Rendering and hashing pixels would be stricter but costs a render per page.
    """
    digest = hashlib.sha256()
    rect = page.rect
    digest.update(f"{round(rect.width)}x{round(rect.height)}r{page.rotation}\n".encode())
    for x0, y0, _x1, _y1, word, *_ in words:
        digest.update(f"w{round(x0)},{round(y0)}:{word}\n".encode())
    for xref, *_ in page.get_images(full=True):
        digest.update(b"i" + hashlib.sha256(doc.xref_stream_raw(xref) or b"").digest())
    for kind, box in page.get_bboxlog():
        digest.update(f"d{kind}:{round(box[0])},{round(box[1])},{round(box[2])},{round(box[3])}\n".encode())
    return digest.hexdigest()


def _check_repaired_page(doc, page) -> None:
    """A repaired file may have lost objects: a truncated upload repairs into blank pages.
    Refuse it when a page's content or image is missing, rather than show blank pages."""
    xrefs = list(page.get_contents()) + [image[0] for image in page.get_images(full=True)]
    contents = doc.xref_get_key(page.xref, "Contents")
    if contents[0] != "null" and not page.get_contents():
        xrefs.append(0)
    if any(xref <= 0 or not doc.xref_is_stream(xref) for xref in xrefs):
        raise Refused("damaged_pdf", f"The PDF is damaged (page {page.number + 1} lost its "
                      "content); it may have been cut off. Upload the complete file.")


def _check_page(doc, page, limits: Limits) -> None:
    rect = page.rect
    number = page.number + 1
    if min(rect.width, rect.height) < limits.min_page_side_pt:
        raise Refused("page_too_small", f"Page {number} is too small ({rect.width:g} × "
                      f"{rect.height:g} pt) or has a broken page box.")
    if max(rect.width, rect.height) > limits.max_page_side_pt:
        raise Refused("page_too_large",
                      f"Page {number} is {rect.width / POINTS_PER_METRE:.2f} × "
                      f"{rect.height / POINTS_PER_METRE:.2f} m; at most "
                      f"{limits.max_page_side_pt / POINTS_PER_METRE:g} m on each side.")
    for xref, _smask, width, height, *_ in page.get_images(full=True):
        if width * height > limits.max_image_pixels:
            raise Refused("image_too_large",
                          f"Page {number} has an image of {width} × {height} pixels "
                          f"(limit {limits.max_image_pixels // 1_000_000} megapixels).")
    if len(page.read_contents()) > limits.max_content_bytes:
        raise Refused("pdf_too_complex", f"Page {number} has too much drawing content.")


def inspect(path: Path, out_path: Path, limits: Limits) -> dict:
    """Validate ``path`` and describe its pages; a neutralised copy goes to ``out_path``.

    Raises ``Refused`` with a code the API passes on to the client.
    """
    import pymupdf

    size = path.stat().st_size
    if size > limits.max_bytes:
        raise Refused("file_too_large", f"The file is larger than {limits.max_bytes // 2**20} MB.")
    with open(path, "rb") as handle:
        if not has_pdf_magic(handle.read(1024)):
            raise Refused("not_a_pdf", "The file is not a PDF.")
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # MuPDF raises its own types for every kind of damage
        raise Refused("invalid_pdf", f"The PDF cannot be read: {exc}") from None
    if doc.needs_pass or doc.is_encrypted or (doc.metadata or {}).get("encryption"):
        raise Refused("encrypted_pdf",
                      "The PDF is encrypted or password-protected. Save it without protection "
                      "and upload it again.")
    page_count = doc.page_count
    if page_count < 1:
        raise Refused("empty_pdf", "The PDF has no pages.")
    if page_count > limits.max_pages:
        raise Refused("too_many_pages",
                      f"The PDF has {page_count} pages; at most {limits.max_pages} are accepted.")
    repaired = bool(doc.is_repaired)
    javascript_removed = neutralise_active_content(doc)
    pages = []
    text_budget = limits.max_total_text_chars
    for page in doc:
        _check_page(doc, page, limits)
        if repaired:
            _check_repaired_page(doc, page)
        textpage = page.get_textpage()
        words = textpage.extractWORDS()
        text = textpage.extractText()
        pages.append({
            "width_pt": round(page.rect.width, 2),
            "height_pt": round(page.rect.height, 2),
            "content_sha256": page_content_hash(doc, page, words),
            "text": text[: min(limits.max_text_chars, text_budget)],
            "needs_ocr": ocr.needs_ocr(page, text),
        })
        text_budget -= len(pages[-1]["text"])
    rewritten = bool(repaired or javascript_removed)
    if rewritten:
        doc.save(out_path, garbage=1)
    return {"page_count": page_count, "pages": pages, "repaired": repaired,
            "javascript_removed": javascript_removed, "rewritten": rewritten}
