"""The administrators' system page in Chromium: version, backup, audit chain, tablets online."""
from __future__ import annotations

import pytest

from server.models import Role
from tests import factories
from tests.faults.tablets import Tablet
from tests.live import ok_run
from tests.realtime.seed import seed_meeting

pytestmark = pytest.mark.browser


def test_admin_sees_the_state_of_the_system(page, live_server, login, tmp_path):
    admin = factories.make_user(Role.ADMIN, username="quantri-he-thong", full_name="Phạm Quản Trị")
    seeded = seed_meeting(title="Kỳ họp thứ 13")
    login(page, admin)
    page.click("nav >> text=System")
    page.wait_for_url("**/system")
    assert page.inner_text("h1") == "System"
    assert "Hemicycle 0.1.0" in page.inner_text("#version")
    assert page.inner_text("#database") == "sqlite"
    assert "No backup has been taken" in page.inner_text("#backup")
    assert page.get_attribute("#backup", "class") == "error"
    assert page.inner_text("#audit").startswith("Intact:")
    assert "GB free of" in page.inner_text("#disk")
    assert "No tablet is connected." in page.inner_text("#tablets-online")
    server = live_server.server  # one worker without Redis: it lists itself
    assert page.inner_text("#workers tbody tr").split("\t")[:3] == [
        f"127.0.0.1:{server.port}", str(server.process.pid), "0.1.0"]

    backup = tmp_path / "hemicycle-today.backup"
    ok_run(live_server.server.env(), "backup", "create", "--out", backup)
    tablet = Tablet(live_server.url, seeded.tablet_token, seeded.meeting.id)
    tablet.connect()
    try:
        page.reload()
        assert str(backup) in page.inner_text("#backup")
        assert "hours ago" in page.inner_text("#backup")
        assert page.get_attribute("#backup", "class") is None
        assert page.inner_text("#tablets-online tbody tr") == "Kỳ họp thứ 13\t1"
    finally:
        tablet.close()
    page.goto("/system?lang=vi")
    assert page.inner_text("h1") == "Hệ thống"
    assert not page.console_errors, page.console_errors


def test_the_system_page_is_for_administrators_only(page, live_server, login):
    secretary = factories.make_user(Role.SECRETARY, username="thuky-he-thong")
    login(page, secretary)
    assert page.locator("nav >> text=System").count() == 0
    assert page.goto("/system").status == 403
