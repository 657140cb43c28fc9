"""A scanned Vietnamese letter, uploaded in Chromium, is read by OCR in the background:
the meeting's document search finds it without diacritics and, once the meeting is sealed,
so does the archive; the text read back matches the letter (tests/pdf/scans.py)."""
from __future__ import annotations

import hashlib
import shutil

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import Document, DocumentPage, Role
from server.services.archive.demo_record import minute_and_seal, seed_held_meeting
from tests import factories
from tests.conftest import REQUIRE_SERVICES
from tests.live import wait_until
from tests.pdf import scans

pytestmark = pytest.mark.browser


@pytest.fixture
def held(live_server):
    if shutil.which("tesseract") is None:
        if REQUIRE_SERVICES:
            pytest.fail("tesseract is not installed (scripts/setup installs tesseract-ocr-vie)")
        pytest.skip("tesseract is not installed")
    chair = factories.make_user(Role.CHAIR, username="chutoa.scan", full_name="Trần Đức Lương")
    secretary = factories.make_user(Role.SECRETARY, username="thuky.scan",
                                    full_name="Lê Thị Thu Hà")
    meeting, _, _ = seed_held_meeting(chair=chair, secretary=secretary)
    db.session.commit()
    return meeting, chair, secretary


def _search(page, meeting_id: int, words: str) -> str:
    page.goto(f"/meetings/{meeting_id}/documents?lang=vi&q={words.replace(' ', '+')}")
    return page.inner_text("#search-hits") if page.query_selector("#search-hits li") else ""


def test_a_scanned_letter_becomes_searchable_in_the_meeting_and_the_archive(
        page, live_server, login, held, tmp_path, screenshot):
    meeting, chair, secretary = held
    letter = tmp_path / "Công văn 215-UBND.pdf"
    letter.write_bytes(scans.scanned(scans.LETTER, dpi=150, angle=1.5, noise=0.002))
    login(page, secretary)
    page.goto(f"/meetings/{meeting.id}/documents?lang=vi")
    page.set_input_files("#file", str(letter))
    page.fill("#new-title", "Công văn của UBND quận Ba Đình")
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector(".flash")

    # The answer came before the OCR: it runs in the background. Search until it has read
    # the page (the deadline is for a slow machine, not a timing check).
    hits = wait_until(lambda: _search(page, meeting.id, "chuyen doi so"), timeout=120,
                      what="the scanned letter found by its OCR text")
    assert "Công văn của UBND quận Ba Đình" in hits and "chuyển đổi số" in hits
    assert "1/1" in page.inner_text(".ocr-status")
    screenshot(page, "documents-search-scanned")

    db.session.expire_all()
    document = db.session.scalars(select(Document).where(Document.meeting_id == meeting.id,
                                                         Document.title.like("Công văn%"))).one()
    version = document.current_version
    assert version.blob_sha256 == hashlib.sha256(letter.read_bytes()).hexdigest()  # as uploaded
    answer = page.request.get(f"/api/v1/documents/{document.id}/versions/1/pages/1/text")
    read_back = answer.json()["text"]
    assert scans.char_accuracy(scans.LETTER, read_back) >= scans.ACCURACY_FLOOR, read_back
    assert db.session.scalars(select(DocumentPage.ocr).where(
        DocumentPage.version_id == version.id)).all() == ["done"]

    minute_and_seal(db.session.get(type(meeting), meeting.id), chair, secretary)
    page.goto("/archive?lang=vi")
    page.fill("#q", "du toan va bo sung kinh phi")
    page.click("form[role=search] button")
    page.wait_for_selector(".hits")
    found = page.inner_text(".hits")
    assert "Công văn của UBND quận Ba Đình" in found and "dự toán" in found
    assert page.console_errors == []
