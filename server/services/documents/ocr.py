"""Text for scanned pages: OCR in the background, after the tablets' page images.

The upload marks pages that are images without a usable text layer
(``server.pdf.ocr.needs_ocr``) as ``DocumentPage.ocr = "pending"``. Once the
background render has drawn the tablets' images (``pages.render_remaining``),
``recognise_pending`` reads them in the sandbox, one page at a time, and stores
each page's text in ``DocumentPage.text`` as it arrives: page text, document
search, the tablet's find and the archive then see it like any other text.
The uploaded file is not touched. Progress goes out as coalesced ``document.ocr``
events; a page that fails is marked ``failed`` and reported, the others go on.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from server.extensions import db
from server.models import DocumentPage, DocumentVersion
from server.pdf import sandbox
from server.pdf.validate import Limits
from server.services import audit, events
from server.services.actors import Actor
from server.services.documents import storage
from server.services.documents.access import audiences
from server.services.documents.ingest import limits

log = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 1.0
READ = ("done", "empty", "failed")  # a page in one of these states was read (or tried)


def available(lim: Limits) -> bool:
    """OCR is on (``DOCUMENT_OCR_LANGUAGES``) and Tesseract is installed."""
    return bool(lim.ocr_languages.strip()) and shutil.which("tesseract") is not None


def initial_states(needs: list[bool]) -> list[str | None]:
    """``DocumentPage.ocr`` for a new version's pages: "pending" for scans to read,
    "skipped" for scans when OCR is off or beyond ``DOCUMENT_OCR_MAX_PAGES``."""
    lim = limits()
    on, budget, states = available(lim), lim.ocr_max_pages, []
    for need in needs:
        if not need:
            states.append(None)
        elif on and budget > 0:
            states.append("pending")
            budget -= 1
        else:
            states.append("skipped")
    return states


def progress_of(version: DocumentVersion) -> dict:
    """The ``document.ocr`` payload: how many scanned pages were read, which failed."""
    scanned = [p for p in version.pages if p.ocr in (*READ, "pending")]
    return {"document_id": version.document_id, "version_id": version.id,
            "pages_read": sum(1 for p in scanned if p.ocr in READ), "pages_to_read": len(scanned),
            "failed": [p.number for p in scanned if p.ocr == "failed"],
            "finished": all(p.ocr != "pending" for p in scanned)}


def _publish(version: DocumentVersion) -> None:
    payload = progress_of(version)
    for audience in audiences(version.document):
        events.publish(version.document.meeting_id, "document.ocr", payload, audience)


def _reuse_earlier_reading(version: DocumentVersion, by_number: dict[int, DocumentPage]) -> int:
    """The same file uploaded again (another meeting, a copy) has been read already: its pages
    take that text instead of a second OCR. Pages left to read stay in ``by_number``."""
    earlier = db.session.scalars(
        select(DocumentPage).join(DocumentVersion, DocumentVersion.id == DocumentPage.version_id)
        .where(DocumentVersion.blob_sha256 == version.blob_sha256,
               DocumentVersion.id != version.id, DocumentPage.number.in_(list(by_number)),
               DocumentPage.ocr.in_(("done", "empty")))).all()
    for old in earlier:
        page = by_number.pop(old.number, None)
        if page is not None:
            page.ocr, page.text = old.ocr, old.text
    return len(earlier)


def recognise_pending(version_id: int) -> None:
    """Read every pending page of the version; commits as it goes. A sandbox that dies
    (time, memory) blames the page it was reading, and a new one goes on after it."""
    version = db.session.get(DocumentVersion, version_id)
    if version is None:
        return
    by_number: dict[int, DocumentPage] = {p.number: p for p in version.pages if p.ocr == "pending"}
    if not by_number:
        return
    reused = _reuse_earlier_reading(version, by_number)
    lim = limits()
    remaining = sorted(by_number)
    errors: dict[int, str] = {}
    state = {"at": 0.0}

    def report(force: bool = False) -> None:
        if force or time.monotonic() - state["at"] >= PROGRESS_EVERY_SECONDS:
            _publish(version)
            db.session.commit()
            state["at"] = time.monotonic()

    def received(result: dict) -> None:
        number = result.get("page")
        if number not in remaining:
            return
        remaining.remove(number)
        page = by_number[number]
        page.ocr, page.text = result["status"], result["text"] if result["status"] == "done" else ""
        if result["status"] == "failed":
            errors[number] = result.get("error", "")
        report()

    report(force=True)  # tablets learn at once that text is on its way (or is there)
    while remaining:
        workdir = Path(tempfile.mkdtemp(dir=storage.temp_dir(), prefix="ocr-"))
        cpu = lim.ocr_page_seconds * len(remaining) + 30
        try:
            sandbox.run("ocr", {"path": str(storage.blob_path(version.blob_sha256)),
                                "pages": list(remaining), "workdir": str(workdir),
                                "languages": lim.ocr_languages, "page_seconds": lim.ocr_page_seconds,
                                "max_megapixels": lim.ocr_max_megapixels,
                                "max_text_chars": lim.max_text_chars},
                        memory_mb=lim.ocr_memory_mb, cpu_seconds=cpu, wall_seconds=2 * cpu,
                        on_progress=received)
        except sandbox.SandboxError as exc:
            if remaining:  # the page it was reading when it stopped
                received({"page": remaining[0], "status": "failed", "text": "",
                          "error": f"{exc.code}: {exc.message}"})
        else:
            for number in list(remaining):  # finished without a word on these: never loop
                received({"page": number, "status": "failed", "text": "", "error": "no answer"})
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    summary = progress_of(version)
    audit.record("document.ocr", "document", version.document_id, actor=Actor.system(),
                 meeting_id=version.document.meeting_id,
                 payload={"version_id": version.id, "pages_read": summary["pages_read"],
                          "reused": reused,
                          "failed": {str(n): errors[n] for n in sorted(errors)},
                          "empty": [p.number for p in by_number.values() if p.ocr == "empty"]})
    report(force=True)
    if errors:
        log.warning("OCR of version %s: pages %s failed", version.id, sorted(errors))
