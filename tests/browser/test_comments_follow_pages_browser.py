"""Draft comments follow a page into a new version, in Chromium against a real server.

A delegate comments on both pages of a draft from the tablet (the second through the
tablet's API). The office uploads version 2
over HTTP: a cover page inserted before them, and page 2 rewritten. On the tablet, version
2's *Earlier comments* lists the comment on the old page 1 at its new place, page 2, saying
it was made on version 1, page 1; the comment on the rewritten page is not carried.
"""
from __future__ import annotations

import uuid

import pymupdf
import pytest
import requests

from server.models import MeetingStatus, Role, SessionState
from server.pdf.fonts_minutes import font_path
from tests import factories
from tests.browser.commenting import comment_on_tablet, comments_by_text
from tests.browser.test_tablet import (
    Staff, eventually, open_tablet, pair_tablet, rendered_document, script_errors, synced,
    token_of,
)
from tests.services.drafts.conftest import draft_pdf

pytestmark = pytest.mark.browser

KEPT = "Đề nghị giảm tổng vốn xuống 1.000 tỷ đồng."
REWRITTEN = "Đề nghị giao Thường trực HĐND giám sát."


def version_two() -> bytes:
    doc = pymupdf.open("pdf", draft_pdf())
    doc.insert_page(0, text="Tờ trình kèm theo", fontname="Noto", fontfile=font_path())
    doc[2].insert_text((72, 400), "Điều 2 (sửa đổi): giao Thường trực HĐND giám sát",
                       fontsize=14, fontname="Noto", fontfile=font_path())
    return doc.tobytes()


def test_a_comment_stays_on_its_page_in_the_next_version(browser, live_server, login):
    secretary = factories.make_user(Role.SECRETARY)
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED,
                                     session_state=SessionState.OPEN)
    delegate = factories.make_participant(meeting, full_name="Nguyễn Thị Hường")
    document = rendered_document(live_server.app, meeting, data=draft_pdf(),
                                 title="Dự thảo Nghị quyết đầu tư công")
    staff = Staff(live_server.url, secretary, meeting.id)
    period = staff.post(f"/documents/{document.id}/comment-periods",
               {"deadline": "2099-01-01T08:00:00+07:00", "title": "Dự thảo"}, status=201)
    context, tablet = open_tablet(browser, live_server.url)
    try:
        pair_tablet(tablet, staff, delegate)
        tablet.click("#tabs a[data-view=docs]")
        tablet.click(f"[data-doc-id='{document.id}'] .doc-link")
        tablet.wait_for_selector(".sheet[data-loaded='1']")
        tablet.wait_for_selector(".tool-comment:not([hidden])")
        assert tablet.locator(".carried-list").count() == 0  # version 1 has no earlier one
        comment_on_tablet(tablet, KEPT, "substantive", (0.05, 0.1), (0.95, 0.16))
        synced(tablet)
        # The comment on page 2 through the tablet's own API (its device token).
        said = requests.put(f"{live_server.url}/api/v1/comments/{uuid.uuid4()}", timeout=30,
                            headers={"Authorization": f"Bearer {token_of(tablet)}"},
                            json={"comment_period_id": period["id"], "page_number": 2,
                                  "kind": "editorial", "text": REWRITTEN})
        assert said.status_code == 200, said.text
        stored = eventually(comments_by_text, lambda found: {KEPT, REWRITTEN} <= set(found))
        assert (stored[KEPT].page_number, stored[REWRITTEN].page_number) == (1, 2)

        upload = staff.http.post(f"{live_server.url}/api/v1/documents/{document.id}/versions",
                                 files={"file": ("du-thao-v2.pdf", version_two(),
                                                 "application/pdf")})
        assert upload.status_code == 201, upload.text
        # The tablet hears of version 2 and shows it; its earlier comments, where they stay.
        tablet.click("#tabs a[data-view=docs]")
        tablet.click(f"[data-doc-id='{document.id}'] .doc-link")
        tablet.wait_for_selector(".carried-list", timeout=30_000)
        tablet.click(".carried-list")
        tablet.wait_for_selector(".carried-sheet .comment-item, .carried-sheet .hint")
        items = tablet.locator(".carried-sheet .comment-item")
        assert items.count() == 1
        assert items.first.get_attribute("data-page") == "2"
        text = items.first.inner_text()
        assert KEPT in text and "made on version 1, page 1" in text and "Page 2/3" in text
        assert REWRITTEN not in tablet.inner_text(".carried-sheet")
        assert script_errors(tablet) == []
    finally:
        context.close()
