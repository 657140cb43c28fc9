"""A draft resolution end to end in Chromium, as issue 17 asks: two delegates comment on the
draft (one from a tablet, once while offline), the office compiles the comments with its
answers and downloads the report; a delegate tables an amendment from the tablet, the
secretary admits it and puts it to the vote from the control room, the projector shows the
adopted difference, the whole text as amended is voted; then the session is adjourned, the
minutes are drafted, signed by the chair and the secretary, and the sealed meeting's minutes
and archive package hold the comments, the answers, the amendment and the adopted text."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
import zipfile

import pymupdf
import pytest
import requests

from server.extensions import db
from server.models import AttendanceStatus, MeetingRole, MeetingStatus, Role, SessionState
from server.services.archive.demo_record import DEMO_PASSPHRASE
from server.services.archive.package import export_package
from server.services.minutes import ca
from tests import factories
from tests.browser.commenting import ANSWERS, comment_and_compile
from tests.browser.test_tablet import (
    Staff, eventually, fresh, open_tablet, pair_tablet, rendered_document, script_errors, token_of,
)
from tests.services.drafts.conftest import draft_pdf

pytestmark = pytest.mark.browser

DRAFT = "Điều 1. Thông qua kế hoạch đầu tư công năm 2027.\nTổng vốn là 1.200 tỷ đồng.\nĐiều 2. Giao UBND tỉnh tổ chức thực hiện."
NEW_LINE = "Tổng vốn là 1.000 tỷ đồng."
REASONS = "Phù hợp khả năng cân đối ngân sách."


def cast(base_url: str, token: str, poll_id: int) -> None:
    answer = requests.post(f"{base_url}/api/v1/polls/{poll_id}/ballots", timeout=10,
                           headers={"Authorization": f"Bearer {token}"},
                           json={"ballot_id": str(uuid.uuid4()), "choices": ["yes"]})
    assert answer.status_code == 200, answer.text


def test_a_draft_resolution_from_comments_to_the_sealed_record(browser, live_server, page, login,
                                                               screenshot, tmp_path):
    if ca.ca_certificate() is None:
        ca.init_ca("Hemicycle CA - HĐND tỉnh Lâm Đồng", "HĐND tỉnh Lâm Đồng")
    chair = factories.make_user(Role.CHAIR, full_name="Trần Đức Lương")
    secretary = factories.make_user(Role.SECRETARY, full_name="Lê Thị Thu Hà")
    for user in (chair, secretary):
        ca.issue_certificate(user, DEMO_PASSPHRASE)
    meeting = factories.make_meeting(title="Kỳ họp thứ 12 HĐND tỉnh", status=MeetingStatus.PUBLISHED,
                                     session_state=SessionState.OPEN)
    factories.make_participant(meeting, user=chair, role=MeetingRole.CHAIR,
                               full_name=chair.full_name, attendance=AttendanceStatus.PRESENT)
    factories.make_participant(meeting, user=secretary, role=MeetingRole.SECRETARY,
                               full_name=secretary.full_name, voting_right=False,
                               attendance=AttendanceStatus.PRESENT)
    delegate = factories.make_participant(meeting, full_name="Nguyễn Thị Hường",
                                          attendance=AttendanceStatus.PRESENT)
    web_user = factories.make_user(Role.DELEGATE, full_name="Trần Văn Bảo")
    factories.make_participant(meeting, user=web_user, attendance=AttendanceStatus.PRESENT)
    item = factories.make_item(meeting, "Dự thảo Nghị quyết về đầu tư công năm 2027")
    meeting.current_item_id = item.id
    db.session.commit()
    document = rendered_document(live_server.app, meeting, data=draft_pdf(),
                                 title="Dự thảo Nghị quyết đầu tư công", agenda_item=item)
    login(page, secretary)
    comments = comment_and_compile(browser, live_server, page, login, screenshot, meeting=meeting,
                                   secretary=secretary, on_tablet=delegate, web_user=web_user,
                                   document=document)
    assert set(comments) == set(ANSWERS)
    draft = amend_and_adopt(browser, live_server, page, screenshot, meeting=meeting,
                            secretary=secretary, delegate=delegate)

    # The session ends; the minutes are drafted, then signed by the chair and the secretary.
    base = live_server.url
    staff = Staff(base, secretary, meeting.id)
    chair_side = Staff(base, chair, meeting.id)
    try:
        staff.command("session.adjourn")
        staff.post(f"/meetings/{meeting.id}/minutes", {"language": "vi"})
        staff.post(f"/meetings/{meeting.id}/minutes/finalise")
        chair_side.post(f"/meetings/{meeting.id}/minutes/signatures",
                        {"passphrase": DEMO_PASSPHRASE}, status=201)
        staff.post(f"/meetings/{meeting.id}/minutes/signatures",
                   {"passphrase": DEMO_PASSPHRASE}, status=201)
        assert fresh(type(meeting), meeting.id).status == MeetingStatus.SEALED
        minutes_pdf = staff.http.get(f"{base}/api/v1/meetings/{meeting.id}/minutes.pdf")
        assert minutes_pdf.status_code == 200
    finally:
        staff.close()
        chair_side.close()
    with pymupdf.open("pdf", minutes_pdf.content) as minutes:
        text = " ".join("".join(p.get_text() for p in minutes).split())
    assert "Sửa đổi số 1" in text and f"bằng «{NEW_LINE}»" in text, text
    assert "Toàn văn được thông qua" in text
    # The draft opened for comments, with how the office answered them (one of each).
    assert ("Ý kiến góp ý dự thảo: 3 (3 nội dung; tiếp thu 1, giải trình 1, không tiếp thu 1)"
            in text), text

    # The archive package: the comments with the office's answers, the compiled report, the
    # amendment and the adopted text; and it verifies offline.
    package = export_package(meeting.id, tmp_path / "package.zip")
    verified = subprocess.run([sys.executable, "-m", "server", "archive", "verify", str(package)],
                              capture_output=True, text=True, timeout=300,
                              env=live_server.server.env())
    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path / "bag")
    data = tmp_path / "bag" / f"hemicycle-meeting-{meeting.id}" / "data"
    drafts = json.loads((data / "drafts" / "index.json").read_text(encoding="utf-8"))
    archived = {c["text"]: c for c in drafts[0]["comments"]}
    for comment, (response, answer) in ANSWERS.items():
        assert archived[comment]["response_text"] == answer
        assert archived[comment]["response"] == response
    amendments = json.loads((data / "amendments" / "index.json").read_text(encoding="utf-8"))
    assert [a["outcome"] for a in amendments[0]["amendments"]] == ["adopted"]
    assert NEW_LINE in (data / "amendments" / f"{draft['id']}-adopted.txt").read_text(encoding="utf-8")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def amend_and_adopt(browser, live_server, page, screenshot, *, meeting, secretary, delegate) -> dict:
    """The amendment half; ``page`` is logged in as ``secretary``. Returns the draft text."""
    staff = Staff(live_server.url, secretary, meeting.id)
    base = live_server.url
    try:
        # The secretary enters the draft text in the control room.
        page.goto(f"/meetings/{meeting.id}/control")
        page.wait_for_selector("#connection[data-state=online]")
        page.click(".new-draft summary")
        page.fill("#draft-title", "Nghị quyết đầu tư công 2027")
        page.fill("#draft-text", DRAFT)
        page.click("#draft-form button[type=submit]")
        page.wait_for_selector(".draft-text .dt-lines li[data-line='3']")

        # The projector follows the meeting.
        display = staff.post(f"/meetings/{meeting.id}/projectors", {"label": "Hội trường"}, status=201)
        projector_context = browser.new_context(viewport={"width": 1920, "height": 1080}, base_url=base)
        projector = projector_context.new_page()
        projector.goto(f"/display/{display['token']}")
        projector.wait_for_selector("#connection[data-state=online]")

        # The delegate picks line 2 on the tablet, writes the new text and the reasons.
        context, tablet = open_tablet(browser, base)
        pair_tablet(tablet, staff, delegate)
        tablet.click("a[data-view=amend]")
        tablet.click(".dt-lines.pickable .line[data-line='2']")
        tablet.fill("textarea[name=new_text]", NEW_LINE)
        tablet.fill("textarea[name=reasons]", REASONS)
        screenshot(tablet, "tablet-amend")
        tablet.click(".amend-form button[type=submit]")
        tablet.wait_for_selector("#amend-status:has-text('Amendment 1 tabled')")
        assert tablet.locator(".dt-amendment ins").first.inner_text().strip() == "000"

        # The secretary sees it live with its difference, admits it and puts it to the vote.
        page.wait_for_selector(".dt-amendment.tabled del")
        page.click(".dt-amendment button:has-text('Admit')")
        page.wait_for_selector(".dt-amendment.admitted")
        vote = page.locator("button[id^=dt-vote-]:has-text('Put amendment 1 to the vote')")
        vote.click()
        draft = eventually(lambda: staff.http.get(f"{base}/api/v1/meetings/{meeting.id}/draft-texts").json()[0],
                           lambda d: d["under_vote_id"] is not None)
        poll_id = draft["amendments"][0]["poll_id"]
        assert poll_id

        # The projector shows the amendment under vote: its line number and its difference.
        projector.wait_for_selector("#p-draft .dt-diff ins")
        assert projector.locator("#p-draft .dt-lines li[data-line='2']").count() == 1
        assert projector.inner_text("#p-draft del").strip() == "200"  # word by word: 1.200 → 1.000
        assert projector.inner_text("#p-draft ins").strip() == "000"

        cast(base, token_of(tablet), poll_id)
        staff.post(f"/polls/{poll_id}/close")
        staff.post(f"/polls/{poll_id}/publish", {})
        projector.wait_for_selector("#p-draft[data-outcome=adopted] .dt-adopted ins")
        screenshot(projector, "projector-amendment-adopted")
        page.wait_for_selector(".dt-amendment.adopted")
        page.locator(".draft-text .dt-adopted").scroll_into_view_if_needed()
        screenshot(page, "control-amendments")

        # The whole text, as amended, is put to the vote and adopted.
        page.click("button[id^=dt-vote-whole-]")
        draft = eventually(lambda: staff.http.get(f"{base}/api/v1/draft-texts/{draft['id']}").json(),
                           lambda d: d["final_poll_id"] is not None)
        cast(base, token_of(tablet), draft["final_poll_id"])
        staff.post(f"/polls/{draft['final_poll_id']}/close")
        staff.post(f"/polls/{draft['final_poll_id']}/publish", {})
        final = eventually(lambda: staff.http.get(f"{base}/api/v1/draft-texts/{draft['id']}").json(),
                           lambda d: d["outcome"] == "adopted")
        assert final["outcome"] == "adopted"
        assert NEW_LINE in final["adopted"]["text"]
        page.wait_for_selector(".draft-text summary:has-text('The whole text is adopted')")
        tablet.wait_for_selector("#amend-status, .card.amend")
        assert script_errors(tablet) == []
        assert page.console_errors == []
        context.close()
        projector_context.close()
        return final
    finally:
        staff.close()
