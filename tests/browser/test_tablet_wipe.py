"""The secretary wipes one tablet from the control room; the real tablet app obeys and confirms.

The wipe erases every page, note, ballot and receipt of the meeting on that tablet
(test_tablet_receipts.py reads what is left as a thief would).

Also: the tablet reports its battery and connection when it connects, and the control
room's tablet list shows it.
"""
from __future__ import annotations

import pytest

from server.models import Device
from tests.browser.test_tablet import (  # noqa: F401  (staff and world are fixtures)
    fresh, open_tablet, pair_tablet, script_errors, staff, world,
)
from tests.live import wait_until

pytestmark = pytest.mark.browser


def test_remote_wipe_from_the_control_room(browser, live_server, world, staff, page, login):
    meeting_id = world.meeting.id
    context, tablet = open_tablet(browser, live_server.url)
    try:
        pair_tablet(tablet, staff, world.alice)
        device_id = tablet.evaluate("JSON.parse(localStorage.getItem('hemicycle.pairing')).device_id")
        tablet.click("#tabs a[data-view=docs]")
        tablet.wait_for_selector(f"[data-doc-id='{world.secret.id}'] .offline-state.saved")
        tablet.wait_for_selector(f"[data-doc-id='{world.public.id}'] .offline-state.saved")
        confidential = f"hemicycle-confidential-{meeting_id}"
        assert confidential in tablet.evaluate("caches.keys()")

        # The tablet reported itself on connecting (battery and connection are null where
        # headless Chromium cannot tell).
        reported = wait_until(lambda: fresh(Device, device_id).status, what="the tablet's report")
        assert set(reported) >= {"battery", "charging", "connection", "reported_at"}
        staff.socket.wait_for(lambda: any(entry["device_id"] == device_id
                                          for event in staff.socket.events("device.status")
                                          for entry in event["payload"]["devices"]),
                              what="the report reaching staff")

        # The secretary presses "Wipe" in the control room's tablet list.
        login(page, world.secretary)
        page.goto(f"/meetings/{meeting_id}/control")
        page.wait_for_selector("#connection[data-state=online]")
        row = f"#device-list li[data-device-id='{device_id}']"
        page.wait_for_selector(f"{row}[data-online=true]")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click(f"{row} button[data-wipe]")

        # The tablet wipes every page of the meeting (a lost tablet), and confirms.
        tablet.wait_for_selector("body[data-wiped=true]", timeout=30_000)
        wait_until(lambda: confidential not in tablet.evaluate("caches.keys()"),
                   what="the confidential cache to go")
        wait_until(lambda: f"hemicycle-pages-{meeting_id}" not in tablet.evaluate("caches.keys()"),
                   what="the ordinary pages to go")
        assert "removed" in tablet.inner_text("#toast")
        device = wait_until(lambda: (d := fresh(Device, device_id)).wiped_at and d,
                            what="the tablet's confirmation")
        assert device.wiped_at >= device.wipe_requested_at and device.revoked_at is None
        # The control room says so.
        page.wait_for_function(
            "row => document.querySelector(row)?.textContent.includes('wiped ')", arg=row,
            timeout=20_000)
        assert script_errors(tablet) == []
        assert page.console_errors == []
    finally:
        context.close()
