"""A written consultation end to end in Chromium: the secretary sends it from the form, two
members answer in their browsers (one changes its answer), two over the API, the secretary
watches the answers arrive live, closes and reads the tally."""
from __future__ import annotations

import pytest

from server.models import Role
from tests import factories
from tests.browser.test_tablet import eventually
from tests.realtime.clients import login as api_login

pytestmark = pytest.mark.browser


def member_page(browser, live_server, login, user):
    context = browser.new_context(base_url=live_server.url, locale="en-GB",
                                  timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(10_000)
    page = context.new_page()
    login(page, user)
    return context, page


def answer(page, consultation_id: int, choice: str, comment: str = "") -> None:
    page.goto(f"/consultations/{consultation_id}")
    page.check(f"#answer-form input[value={choice}]")
    page.fill("#comment", comment)
    page.click("#answer-form button[type=submit]")
    page.wait_for_selector("#my-answer")


def test_the_secretary_sends_members_answer_the_tally_follows(browser, live_server, page, login):
    secretary = factories.make_user(Role.SECRETARY, full_name="Lê Thu Hà")
    names = ["Nguyễn Văn An", "Trần Thị Bình", "Phạm Văn Chí", "Đỗ Thị Dung"]
    members = [factories.make_user(Role.DELEGATE, full_name=n) for n in names]
    alice, bao, chi, dung = members

    login(page, secretary)
    page.goto("/")
    page.click("nav >> text=Written consultations")
    page.click("#new-consultation-link")
    page.fill("#title", "Xin ý kiến về Nghị quyết điều chỉnh kế hoạch đầu tư công")
    page.fill("#question", "Đồng ý thông qua dự thảo Nghị quyết?")
    page.fill("#closes_at", "2099-01-01T08:00")
    for member in members:
        page.check(f"input[name=members][value='{member.id}']")
    page.click("#new-consultation button[type=submit]")
    page.wait_for_selector("#progress")
    consultation_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert page.inner_text("#progress") == "0 / 4"

    contexts = []
    try:
        for user, first, then in ((alice, "no", "yes"), (bao, "abstain", None)):
            context, member = member_page(browser, live_server, login, user)
            contexts.append(context)
            answer(member, consultation_id, first, "Cần làm rõ nguồn vốn")
            if then:
                answer(member, consultation_id, then)
                assert member.inner_text("#my-answer") == "Yes"
            assert page.is_visible("#progress")
        for user in (chi, dung):
            said = api_login(live_server.url, user).put(
                f"{live_server.url}/api/v1/consultations/{consultation_id}/answer",
                json={"choice": "yes"})
            assert said.status_code == 200, said.text
    finally:
        for context in contexts:
            context.close()

    # The secretary's page was never reloaded: the answers came over the socket.
    assert eventually(lambda: page.inner_text("#progress"), lambda v: v == "4 / 4") == "4 / 4"
    assert page.locator("#members .answer-state", has_text="not yet").count() == 0
    page.click("text=Close now (everyone has answered)")
    page.wait_for_selector("#result")
    assert page.inner_text("#passed") == "Carried"  # 3 yes of 4: more than half
    rows = page.locator("#result tr")
    assert rows.nth(0).inner_text().split("\t")[:2] == ["Yes", "3"]
    assert page.console_errors == []
