"""Scanned pages get their text by OCR (Tesseract, Vietnamese), in the background.

Small pages at 150 dpi or less keep these tests to a few seconds of Tesseract each.
"""
from __future__ import annotations

import hashlib
import shutil

import pytest
from sqlalchemy import select

from server.errors import Forbidden, InvalidInput
from server.extensions import db
from server.models import AuditEntry, DocumentPage, MeetingEvent
from server.services.documents import pages as page_images
from server.services.documents.search import search_documents
from server.services.folding import fold
from tests.conftest import REQUIRE_SERVICES
from tests.pdf import samples, scans
from tests.services.documents.test_documents import upload


@pytest.fixture(autouse=True)
def tesseract():
    if shutil.which("tesseract") is None:
        if REQUIRE_SERVICES:
            pytest.fail("tesseract is not installed (scripts/setup installs tesseract-ocr-vie)")
        pytest.skip("tesseract is not installed")


@pytest.fixture
def world(app):
    from tests.pdf.world import make_world

    app.config["DOCUMENT_RENDER_INLINE"] = True
    return make_world()


def pages_of(version):
    return db.session.scalars(select(DocumentPage).where(DocumentPage.version_id == version.id)
                              .order_by(DocumentPage.number)).all()


def ocr_events(world):
    return [e.payload for e in db.session.scalars(select(MeetingEvent).where(
        MeetingEvent.meeting_id == world.meeting.id, MeetingEvent.type == "document.ocr")
        .order_by(MeetingEvent.id))]


def test_a_mixed_pdf_keeps_its_text_page_and_reads_its_scans_even_a_rotated_one(app, world, tmp_path):
    data = scans.mixed(samples.VIETNAMESE, [(scans.LETTER, {}),
                                            (scans.REPORT, {"angle": 90, "dpi": 120})])
    document, version, _ = upload(world, tmp_path, data, filename="Công văn.pdf")
    # The file is stored exactly as uploaded: OCR adds text beside it, never into it.
    assert version.blob_sha256 == hashlib.sha256(data).hexdigest()
    text_page, letter, report = pages_of(version)
    assert text_page.ocr is None and "Đại biểu Nguyễn Thị Hường" in text_page.text
    assert (letter.ocr, report.ocr) == ("done", "done")
    assert scans.char_accuracy(scans.LETTER, letter.text) >= scans.ACCURACY_FLOOR
    assert scans.char_accuracy(scans.REPORT, report.text) >= scans.ACCURACY_FLOOR  # turned upright
    events = ocr_events(world)
    assert events[0] == {"document_id": document.id, "version_id": version.id, "pages_read": 0,
                         "pages_to_read": 2, "failed": [], "finished": False}
    assert events[-1]["pages_read"] == 2 and events[-1]["finished"] is True
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "document.ocr")).one()
    assert entry.payload["failed"] == {} and entry.payload["pages_read"] == 2
    # The page text a reader fetches is the OCR text.
    assert page_images.page_text(world.device(world.reader), document.id, 1, 2) == letter.text


def test_a_page_that_fails_is_reported_and_the_upload_and_other_pages_stand(app, world, tmp_path):
    app.config["DOCUMENT_OCR_MAX_MEGAPIXELS"] = 1.0  # a 200 dpi A4 scan is 3.9 Mpx
    data = scans.mixed(samples.VIETNAMESE, [(scans.LETTER, {"dpi": 80}),
                                            (scans.REPORT, {"dpi": 200})])
    document, version, _ = upload(world, tmp_path, data)
    text_page, small, large = pages_of(version)
    assert (text_page.ocr, small.ocr, large.ocr) == (None, "done", "failed")
    assert large.text == "" and "ngân sách" in small.text
    events = ocr_events(world)
    assert events[-1]["failed"] == [3] and events[-1]["finished"] is True
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "document.ocr")).one()
    assert list(entry.payload["failed"]) == ["3"] and "exceeds limit" in entry.payload["failed"]["3"]
    assert document.current_version.page_count == 3  # the document is there, readable


def test_a_sandbox_that_dies_blames_one_page_and_goes_on(app, world, tmp_path):
    app.config["DOCUMENT_OCR_MEMORY_MB"] = 64  # too little for Python and OCRmyPDF to start
    data = scans.mixed(samples.VIETNAMESE, [(scans.LETTER, {"dpi": 80}),
                                            (scans.REPORT, {"dpi": 80})])
    _document, version, _ = upload(world, tmp_path, data)
    assert [p.ocr for p in pages_of(version)] == [None, "failed", "failed"]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "document.ocr")).one()
    assert set(entry.payload["failed"]) == {"2", "3"}


def test_ocr_text_is_searched_without_diacritics_and_confidential_scans_stay_closed(
        app, world, tmp_path):
    scan = scans.scanned(scans.LETTER, dpi=100)
    public, _v, _ = upload(world, tmp_path, scan, title="Công văn")
    secret, _v2, _ = upload(world, tmp_path, scan, filename="mat.pdf", confidential=True)
    # The same file again: its pages take the text already read, no second OCR.
    assert [p.ocr for p in secret.current_version.pages] == ["done"]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "document.ocr")
                                 .order_by(AuditEntry.seq)).all()
    assert [(e.payload["pages_read"], e.payload["reused"]) for e in entries] == [(1, 0), (1, 1)]
    found = search_documents(world.device(world.reader), world.meeting.id, "chuyen doi so")
    assert [(h["document_id"], h["page"], h["ocr"]) for h in found["hits"]] == [(public.id, 1, True)]
    assert "chuyển đổi số" in found["hits"][0]["snippet"] and found["pages_pending_ocr"] == 0
    staff = search_documents(world.staff, world.meeting.id, "CHUYEN DOI SO")
    assert {h["document_id"] for h in staff["hits"]} == {public.id, secret.id}
    mine = search_documents(world.staff, world.meeting.id, "ngan sach", document_id=secret.id)
    assert [h["document_id"] for h in mine["hits"]] == [secret.id]
    with pytest.raises(Forbidden):
        page_images.page_text(world.device(world.reader), secret.id, 1, 1)
    with pytest.raises(InvalidInput):
        search_documents(world.staff, world.meeting.id, " … ")


def test_scans_are_skipped_when_ocr_is_off_and_text_pages_are_never_read(app, world, tmp_path):
    app.config["DOCUMENT_OCR_LANGUAGES"] = ""
    _d, scanned_version, _ = upload(world, tmp_path, scans.scanned(dpi=80))
    _d, text_version, _ = upload(world, tmp_path, samples.with_image(), filename="b.pdf")
    assert [p.ocr for p in pages_of(scanned_version)] == ["skipped"]
    assert [p.ocr for p in pages_of(text_version)] == [None]  # an image beside real text
    assert ocr_events(world) == []


def test_folding_is_one_character_for_one():
    text = "Đồng ý dự toán NGÂN SÁCH Ủy ban"
    assert fold(text) == "dong y du toan ngan sach uy ban" and len(fold(text)) == len(text)
