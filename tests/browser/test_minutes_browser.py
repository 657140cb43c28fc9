"""Minutes in a real browser: the secretary drafts and finalises, the chair then the secretary sign."""
from __future__ import annotations

import pytest

from server.extensions import db
from server.models import MeetingStatus, Role
from server.services.archive.demo_record import DEMO_PASSPHRASE, seed_held_meeting
from tests import factories

pytestmark = pytest.mark.browser


@pytest.fixture
def held(live_server):
    chair = factories.make_user(Role.CHAIR, username="chutoa.bb", full_name="Trần Đức Lương")
    secretary = factories.make_user(Role.SECRETARY, username="thuky.bb",
                                    full_name="Lê Thị Thu Hà")
    meeting, _, _ = seed_held_meeting(chair=chair, secretary=secretary)
    db.session.commit()
    return meeting, chair, secretary


def _sign(browser, live_server, login, user, url):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    login(page, user)
    page.goto(url)
    page.fill("#passphrase", DEMO_PASSPHRASE)
    page.click("button[name=action][value=sign]")
    page.wait_for_selector(".flash")
    text = page.inner_text("#main")
    context.close()
    return text


def test_secretary_drafts_finalises_and_both_sign(page, browser, live_server, login, held,
                                                  screenshot):
    meeting, chair, secretary = held
    url = f"/meetings/{meeting.id}/minutes?lang=vi"
    login(page, secretary)
    page.goto(url)
    page.click("button[name=action][value=draft]")
    page.wait_for_selector("#opening")
    page.fill("#opening", "Chủ tọa khai mạc kỳ họp lúc 08 giờ.")
    page.fill("#locality", "Lâm Đồng")
    screenshot(page, "minutes-page")
    page.click("button[name=action][value=finalise]")
    page.wait_for_selector(".flash")
    assert "#passphrase" not in page.content()  # the chair signs first
    assert page.console_errors == []

    assert "Signed" in _sign(browser, live_server, login, chair, url.replace("vi", "en"))
    text = _sign(browser, live_server, login, secretary, url.replace("vi", "en"))
    assert "Signed and sealed" in text
    db.session.expire_all()
    assert db.session.get(type(meeting), meeting.id).status == MeetingStatus.SEALED

    page.goto("/archive?lang=vi")
    page.fill("#q", "khai mac ky hop luc")
    page.click("form[role=search] button")
    page.wait_for_selector(".hits")
    assert "Chủ tọa khai mạc kỳ họp lúc 08 giờ." in page.inner_text(".hits")
    screenshot(page, "minutes-archive-search")
    with page.expect_download() as download:
        page.click(".hits a[href$='package.zip']")
    assert download.value.suggested_filename == f"hemicycle-meeting-{meeting.id}.zip"
    assert page.console_errors == []
