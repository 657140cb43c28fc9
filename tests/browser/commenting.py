"""The comment half of a draft resolution in Chromium (test_draft_resolution_browser.py):
the office opens a draft, one delegate comments from a tablet (once while offline), another
on the web, and the office answers every comment and downloads the compiled report as PDF and
spreadsheet, both read back exactly."""
from __future__ import annotations

import io
from pathlib import Path

import pymupdf
from openpyxl import load_workbook
from sqlalchemy import select

from server.extensions import db
from server.models import DraftComment
from tests.browser.test_tablet import (
    Staff, draw_stroke, eventually, open_tablet, pair_tablet, script_errors, synced,
)

TABLET_TEXT = "Đề nghị giảm tổng vốn xuống 1.000 tỷ đồng."
OFFLINE_TEXT = "=Bổ sung nguồn vốn ngân sách Trung ương"
WEB_TEXT = "Sửa “Ủy ban nhân dân” thành “Ủy ban nhân dân tỉnh”."
ANSWERS = {TABLET_TEXT: ("explained", "Giữ nguyên vì đã được Trung ương phân bổ."),
           OFFLINE_TEXT: ("not_accepted", "Không thuộc phạm vi nghị quyết."),
           WEB_TEXT: ("accepted", "Đã tiếp thu, chỉnh sửa tại Điều 2.")}


def comments_by_text() -> dict[str, DraftComment]:
    db.session.remove()
    return {c.text: c for c in db.session.scalars(select(DraftComment))}


def drag(page, selector: str, start, end) -> None:
    box = page.locator(selector).bounding_box()
    x0, y0 = box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1]
    x1, y1 = box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1]
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10)
    page.mouse.up()


def comment_on_tablet(tablet, text: str, kind: str, start, end) -> None:
    tablet.click(".tool-comment")
    draw_stroke(tablet, start, end)
    tablet.select_option("#comment-kind", kind)
    tablet.fill("#comment-text", text)
    tablet.click("#send-comment")


def comment_and_compile(browser, live_server, page, login, screenshot, *, meeting, secretary,
                        on_tablet, web_user, document) -> dict[str, DraftComment]:
    """``page`` is logged in as ``secretary``; returns the stored comments by their text."""
    # The office opens the draft for comments on its page.
    page.goto(f"/meetings/{meeting.id}/drafts")
    page.select_option("#document_id", str(document.id))
    page.fill("#deadline", "2099-01-01T08:00")
    page.select_option("#audience", "delegates")
    page.click("#open-draft button")
    page.wait_for_selector("#draft-state")
    compile_url = page.url

    # A delegate comments from the tablet, then again while the tablet is offline.
    staff = Staff(live_server.url, secretary, meeting.id)
    context, tablet = open_tablet(browser, live_server.url)
    try:
        pair_tablet(tablet, staff, on_tablet)
        tablet.click("#tabs a[data-view=docs]")
        tablet.click(f"[data-doc-id='{document.id}'] .doc-link")
        tablet.wait_for_selector(".sheet[data-loaded='1']")
        tablet.wait_for_selector(".tool-comment:not([hidden])")
        assert "Draft open for comments" in tablet.inner_text(".draft-banner")
        comment_on_tablet(tablet, TABLET_TEXT, "substantive", (0.05, 0.1), (0.95, 0.16))
        synced(tablet)
        stored = eventually(comments_by_text, lambda found: TABLET_TEXT in found)
        assert stored[TABLET_TEXT].quote == "Điều 1. Phê duyệt kế hoạch đầu tư công năm 2027"

        context.set_offline(True)
        tablet.wait_for_selector("#connection:not([data-state=online])", timeout=30_000)
        comment_on_tablet(tablet, OFFLINE_TEXT, "editorial", (0.05, 0.16), (0.95, 0.21))
        tablet.wait_for_selector("#connection .pending:not([hidden])")
        assert OFFLINE_TEXT not in comments_by_text()
        context.set_offline(False)
        tablet.wait_for_selector("#connection[data-state=online]", timeout=30_000)
        synced(tablet)
        stored = eventually(comments_by_text, lambda found: OFFLINE_TEXT in found)
        assert stored[OFFLINE_TEXT].quote == "Tổng vốn: 1.250 tỷ đồng"
        # The delegate reads back their own comments on the tablet, with the words they are about.
        tablet.click(".tools .comments-list")
        tablet.wait_for_selector(".comment-list-sheet .comment-item")
        listed = tablet.inner_text(".comment-list-sheet")
        assert TABLET_TEXT in listed and OFFLINE_TEXT in listed and "Tổng vốn: 1.250 tỷ đồng" in listed
        tablet.click(".comment-list-sheet button")
        assert script_errors(tablet, allow_offline=True) == []
    finally:
        context.close()
        staff.close()

    # Another delegate comments on the web, on page 2, marking the passage with the mouse.
    web_context = browser.new_context(viewport={"width": 1366, "height": 900},
                                      base_url=live_server.url, locale="vi-VN")
    try:
        web = web_context.new_page()
        login(web, web_user)
        web.goto(f"/meetings/{meeting.id}/comments")
        web.click("#my-drafts a")
        web.click("text=Trang sau")
        web.wait_for_selector("#draft-sheet img")
        web.wait_for_function("document.querySelector('#draft-sheet img').naturalWidth > 0")
        drag(web, "#draft-sheet", (0.05, 0.1), (0.95, 0.16))
        assert web.input_value("#region") != ""
        web.select_option("#kind", "editorial")
        web.fill("#text", WEB_TEXT)
        web.click("#comment-form button")
        web.wait_for_selector(".flash-success")
        stored = comments_by_text()
        assert stored[WEB_TEXT].page_number == 2
        assert stored[WEB_TEXT].quote == "Điều 2. Hội đồng nhân dân tỉnh giao Ủy ban nhân dân"
        # The web delegate never sees the tablet delegate's unpublished comments.
        assert TABLET_TEXT not in web.inner_text("main")
    finally:
        web_context.close()

    # The office answers every comment and downloads the report.
    page.goto(compile_url)
    for text, (response, answer) in ANSWERS.items():
        comment_id = stored[text].id
        page.select_option(f"#response-{comment_id}", response)
        page.fill(f"#response-text-{comment_id}", answer)
        page.click(f"#comment-{comment_id} form.respond button")
        page.wait_for_selector(f"#comment-{comment_id} .response[data-response={response}]")
    page.goto(compile_url)
    screenshot(page, "drafts-compilation")
    with page.expect_download() as pdf_download:
        page.click("#report-pdf")
    with page.expect_download() as sheet_download:
        page.click("#report-xlsx")
    pdf = Path(pdf_download.value.path()).read_bytes()
    sheet = Path(sheet_download.value.path()).read_bytes()

    with pymupdf.open("pdf", pdf) as report:
        text = " ".join("".join(p.get_text() for p in report).split())
        fonts = {font[3] for p in report for font in p.get_fonts()}
    assert all("Noto" in name for name in fonts), fonts
    for expected in ["BẢNG TỔNG HỢP Ý KIẾN GÓP Ý", "Nguyễn Thị Hường", "Trần Văn Bảo",
                     *ANSWERS, *(answer for _r, answer in ANSWERS.values())]:
        assert expected in text, expected
    values = [c.value for row in load_workbook(io.BytesIO(sheet)).active.iter_rows() for c in row]
    for expected in [TABLET_TEXT, WEB_TEXT, "'" + OFFLINE_TEXT, "Nguyễn Thị Hường", "Trần Văn Bảo",
                     *(answer for _r, answer in ANSWERS.values()), "Giải trình", "Tiếp thu",
                     "Không tiếp thu"]:
        assert expected in values, expected
    assert page.console_errors == []
    return comments_by_text()
