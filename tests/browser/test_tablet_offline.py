"""The tablet without its server: reading saved documents, annotating into the offline queue,
catching up when the server returns, and wiping confidential copies when the meeting is sealed.

The server process really is stopped and started again on the same port.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import Annotation, Meeting
from server.services.archive import package
from server.services.actors import Actor
from tests.browser.test_tablet import (  # noqa: F401  (staff and world are fixtures)
    draw_stroke, open_tablet, pair_tablet, screenshot, script_errors, staff, synced, world,
)
from tests.live import wait_until

pytestmark = pytest.mark.browser


def cache_names(page) -> list[str]:
    return page.evaluate("caches.keys()")


def test_offline_reading_queue_catch_up_and_wipe_on_sealing(browser, live_server, world, staff):
    context, tablet = open_tablet(browser, live_server.url)
    try:
        pair_tablet(tablet, staff, world.alice)
        wait_until(lambda: tablet.evaluate("!!navigator.serviceWorker.controller"),
                   what="the service worker to control the page")
        tablet.click("#tabs a[data-view=docs]")
        tablet.wait_for_selector(f"[data-doc-id='{world.public.id}'] .offline-state.saved")
        tablet.wait_for_selector(f"[data-doc-id='{world.secret.id}'] .offline-state.saved")
        meeting_id = world.meeting.id
        assert {f"hemicycle-pages-{meeting_id}", f"hemicycle-confidential-{meeting_id}"} <= set(cache_names(tablet))

        # The server goes away. The tablet says so, and still starts and reads.
        live_server.server.stop()
        tablet.wait_for_selector("#connection[data-state=reconnecting], #connection[data-state=offline]")
        tablet.reload()
        tablet.wait_for_selector("#tabs a[data-view=docs]")
        assert tablet.get_attribute("#connection", "data-state") != "online"
        tablet.goto(f"{live_server.url}/tablet/#doc/{world.public.id}/2")
        tablet.wait_for_selector(".sheet[data-loaded='2']")
        assert tablet.evaluate("document.querySelector('.page-img').naturalWidth") > 500
        tablet.click(".thumb[data-page='3']")
        tablet.wait_for_selector(".sheet[data-loaded='3']")
        assert tablet.is_hidden(".page-missing")

        # Annotating offline: kept on the tablet, queued for the server.
        tablet.click(".tool-pen")
        draw_stroke(tablet, (0.15, 0.1), (0.6, 0.12))
        tablet.wait_for_selector("#connection .pending:not([hidden])")
        assert "Notes waiting to sync: 1" in tablet.inner_text("#connection")
        tablet.wait_for_selector("#connection[data-state=offline]", timeout=30_000)
        screenshot(tablet, "offline")
        db.session.remove()
        assert db.session.scalars(select(Annotation)).all() == []

        # The server comes back: the tablet reconnects by itself and sends the queue.
        live_server.server.start()
        tablet.wait_for_selector("#connection[data-state=online]", timeout=30_000)
        synced(tablet)

        def stored_marks():
            db.session.remove()
            return db.session.scalars(select(Annotation)).all()

        stored = wait_until(stored_marks, what="the queued annotation on the server")
        assert [(a.page_number, a.kind.value, a.participant_id) for a in stored] == [(3, "ink", world.alice.id)]
        tablet.reload()
        tablet.wait_for_selector(".sheet[data-marks='1']")

        # The meeting is sealed while this tablet is away (as the signing service does it,
        # without the two signatures); coming back, it catches up on what it missed and wipes.
        live_server.server.stop()
        meeting = db.session.get(Meeting, world.meeting.id)
        package.seal_meeting(meeting, Actor.system())
        db.session.commit()
        live_server.server.start()
        tablet.wait_for_selector("body[data-wiped=true]", timeout=30_000)
        names = wait_until(lambda: (n := cache_names(tablet)) and
                           f"hemicycle-confidential-{meeting_id}" not in n and n,
                           what="the confidential cache to go")
        assert f"hemicycle-pages-{meeting_id}" in names  # ordinary papers stay readable
        assert "sealed" in tablet.inner_text("#toast")
        screenshot(tablet, "sealed")
        tablet.reload()
        tablet.wait_for_selector(".reader.sealed .sheet[data-loaded]")
        assert tablet.is_hidden(".tool-pen")  # read-only now
        # Offline once more: the ordinary document still reads, the confidential one does not.
        live_server.server.stop()
        tablet.goto(f"{live_server.url}/tablet/#doc/{world.secret.id}/1")
        tablet.wait_for_selector(".page-missing:not([hidden])")
        tablet.goto(f"{live_server.url}/tablet/#doc/{world.public.id}/1")
        tablet.wait_for_selector(".sheet[data-loaded='1']")
        assert tablet.is_hidden(".page-missing")
        assert script_errors(tablet, allow_offline=True) == []
    finally:
        context.close()
        if live_server.server.process.poll() is not None:
            live_server.server.start()
