"""Amendments end to end in Chromium: a delegate tables an amendment from the tablet, the
secretary enters the draft, admits the amendment and puts it to the vote from the control
room, the ballot is cast with the tablet's token, the result is published, the projector
shows the adopted difference, and the whole text as amended is voted."""
from __future__ import annotations

import uuid

import pytest
import requests

from server.models import AttendanceStatus, MeetingStatus, Role, SessionState
from server.extensions import db
from tests import factories
from tests.browser.test_tablet import Staff, eventually, open_tablet, pair_tablet, script_errors, token_of

pytestmark = pytest.mark.browser

DRAFT = "Điều 1. Thông qua kế hoạch đầu tư công năm 2027.\nTổng vốn là 1.200 tỷ đồng.\nĐiều 2. Giao UBND tỉnh tổ chức thực hiện."
NEW_LINE = "Tổng vốn là 1.000 tỷ đồng."


def cast(base_url: str, token: str, poll_id: int) -> None:
    answer = requests.post(f"{base_url}/api/v1/polls/{poll_id}/ballots", timeout=10,
                           headers={"Authorization": f"Bearer {token}"},
                           json={"ballot_id": str(uuid.uuid4()), "choices": ["yes"]})
    assert answer.status_code == 200, answer.text


def test_table_admit_vote_and_adopt_an_amendment_then_the_whole(browser, live_server, page, login,
                                                                screenshot):
    secretary = factories.make_user(Role.SECRETARY)
    meeting = factories.make_meeting(title="Kỳ họp thứ 12 HĐND tỉnh", status=MeetingStatus.PUBLISHED,
                                     session_state=SessionState.OPEN)
    delegate = factories.make_participant(meeting, full_name="Nguyễn Thị Hường",
                                          attendance=AttendanceStatus.PRESENT)
    item = factories.make_item(meeting, "Dự thảo Nghị quyết về đầu tư công năm 2027")
    meeting.current_item_id = item.id
    db.session.commit()
    staff = Staff(live_server.url, secretary, meeting.id)
    base = live_server.url
    try:
        # The secretary enters the draft text in the control room.
        login(page, secretary)
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
        tablet.fill("textarea[name=reasons]", "Phù hợp khả năng cân đối ngân sách.")
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
    finally:
        staff.close()
