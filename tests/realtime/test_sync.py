"""Reconnect and replay: a client that drops catches up exactly, or gets a snapshot."""
from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from server.extensions import db
from server.models import Meeting
from server.realtime.sync import MAX_REPLAY
from server.services import events
from tests.realtime.clients import USER_AGENT, LiveClient, login_cookie

pytestmark = pytest.mark.live


def test_dropped_tablet_catches_up_exactly(live, seeded):
    mid = seeded.meeting.id
    chair = LiveClient(live.url, cookie=login_cookie(live.url, seeded.chair_user),
                       auth={"meeting_id": mid})
    tablet = LiveClient(live.url, auth={"token": seeded.tablet_token})
    with chair:
        tablet.connect()
        first = tablet.call("sync", {"meeting_id": mid})
        assert first["mode"] == "snapshot"
        seen = first["revision"]
        tablet.close()  # the Wi-Fi drops
        for command in ("session.open", "item.next", "item.next", "timer.start", "item.next",
                        "floor.request"):
            answer = chair.call(command, {"meeting_id": mid})
            assert answer["ok"] is True, (command, answer)
        last = answer["revision"]
        tablet.connect()  # back: being in session, the tablet checks its delegate in
        replay = tablet.call("sync", {"meeting_id": mid, "since_revision": seen})
        current = replay["revision"]
        chair.wait_for(lambda: max(chair.revisions()) == current, what="the chair seeing it all")
    tablet.close()
    assert replay["ok"] is True and replay["mode"] == "events" and current > last
    expected = [e for e in chair.events() if seen < e["revision"] <= current]
    assert replay["events"] == expected  # same events, same order, same content
    assert [e["type"] for e in replay["events"]] == [
        "session.changed", "item.changed", "item.changed", "timer.changed", "timer.changed",
        "item.changed", "floor.changed", "attendance.changed"]
    assert [e["revision"] for e in replay["events"]] == list(range(seen + 1, current + 1))

def test_snapshot_when_too_far_behind_or_unknown(live, seeded):
    mid = seeded.meeting.id
    with LiveClient(live.url, auth={"token": seeded.tablet_token}) as tablet:
        start = tablet.call("sync", {"meeting_id": mid, "since_revision": 0})
        assert start["mode"] == "events"  # a fresh meeting: the whole log is short
        for _ in range(MAX_REPLAY + 1):
            events.publish(mid, "test.noise", {})
        db.session.commit()
        # Published by this process, which has no message queue: logged, never broadcast.
        current = db.session.scalar(select(Meeting.revision).where(Meeting.id == mid))
        assert current >= start["revision"] + MAX_REPLAY + 1
        near = tablet.call("sync", {"meeting_id": mid, "since_revision": current - MAX_REPLAY})
        assert near["mode"] == "events" and len(near["events"]) == MAX_REPLAY
        far = tablet.call("sync", {"meeting_id": mid, "since_revision": start["revision"]})
        assert far["mode"] == "snapshot" and far["revision"] == current
        # A revision from the future (the server's database was restored): start over.
        future = tablet.call("sync", {"meeting_id": mid, "since_revision": current + 1})
        assert future["mode"] == "snapshot"


def test_live_state_over_rest_matches_the_socket(live, seeded):
    mid = seeded.meeting.id
    cookie = login_cookie(live.url, seeded.secretary_user)
    with LiveClient(live.url, cookie=cookie, auth={"meeting_id": mid}) as staff:
        assert staff.call("session.open", {"meeting_id": mid})["ok"]
        by_socket = staff.call("sync", {"meeting_id": mid, "since_revision": 0})
    by_rest = requests.get(f"{live.url}/api/v1/meetings/{mid}/live?since_revision=0",
                           headers={"Cookie": cookie, "User-Agent": USER_AGENT}, timeout=10)
    assert by_rest.status_code == 200
    body = by_rest.json()
    assert body["revision"] == by_socket["revision"]
    assert body["events"] == by_socket["events"]
