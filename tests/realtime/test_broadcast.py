"""Every committed change reaches every client of its meeting, and nobody else."""
from __future__ import annotations

import pytest

from server.extensions import db
from server.services.devices import devices
from tests.realtime.clients import LiveClient, login, login_cookie
from tests.realtime.seed import seed_meeting

pytestmark = pytest.mark.live


def test_change_reaches_the_whole_meeting_and_no_other(live, seeded):
    mid = seeded.meeting.id
    other = seed_meeting(title="Phiên họp khác")
    _, projector_token = devices.create_projector(seeded.secretary_actor, mid)
    db.session.commit()
    chair = LiveClient(live.url, cookie=login_cookie(live.url, seeded.chair_user),
                       auth={"meeting_id": mid})
    delegate = LiveClient(live.url, cookie=login_cookie(live.url, seeded.delegate_user),
                          auth={"meeting_id": mid})
    tablet = LiveClient(live.url, auth={"token": seeded.tablet_token})
    projector = LiveClient(live.url, auth={"token": projector_token})
    outsider_tablet = LiveClient(live.url, auth={"token": other.tablet_token})
    outsider_staff = LiveClient(live.url, cookie=login_cookie(live.url, other.secretary_user),
                                auth={"meeting_id": other.meeting.id})
    clients = [chair, delegate, tablet, projector, outsider_tablet, outsider_staff]
    try:
        for client in clients:
            client.connect()
        answer = chair.call("session.open", {"meeting_id": mid})
        assert answer["ok"] is True, answer
        answer = chair.call("item.next", {"meeting_id": mid})
        assert answer["ok"] is True and answer["current_item_id"] == seeded.items[0].id
        for client in (chair, delegate, tablet, projector):
            [opened] = client.wait_for_event("session.changed", state="open")
            [moved] = client.wait_for_event("item.changed", current_item_id=seeded.items[0].id)
            assert moved["revision"] == answer["revision"] and moved["meeting_id"] == mid
            assert opened["revision"] < moved["revision"]
        # The other meeting's clients heard nothing of it (they do hear their own meeting).
        other_answer = outsider_staff.call("session.open", {"meeting_id": other.meeting.id})
        assert other_answer["ok"] is True
        for client in (outsider_tablet, outsider_staff):
            client.wait_for_event("session.changed", state="open")
            assert {e["meeting_id"] for e in client.events()} == {other.meeting.id}
        for client in (chair, delegate, tablet, projector):
            assert {e["meeting_id"] for e in client.events()} == {mid}
    finally:
        for client in clients:
            client.close()


def test_restricted_events_reach_their_audience_and_tick_everyone_else(live, seeded):
    """device.paired is for staff: delegates get a bare revision tick instead, never a gap."""
    mid = seeded.meeting.id
    secretary = login(live.url, seeded.secretary_user)
    staff = LiveClient(live.url, cookie=login_cookie(live.url, seeded.secretary_user),
                       auth={"meeting_id": mid})
    delegate = LiveClient(live.url, cookie=login_cookie(live.url, seeded.delegate_user),
                          auth={"meeting_id": mid})
    with staff, delegate:
        start = staff.call("sync", {"meeting_id": mid})["revision"]
        assert delegate.call("sync", {"meeting_id": mid})["revision"] == start
        for label in ("Máy chiếu trái", "Máy chiếu phải"):  # through the real REST API
            created = secretary.post(f"{live.url}/api/v1/meetings/{mid}/projectors",
                                     json={"label": label}, timeout=10)
            assert created.status_code == 201, created.text
        staff.wait_for_event("device.paired", count=2)
        delegate.wait_for(lambda: len(delegate.revisions()) >= 2, what="two revision ticks")
        assert delegate.events() == []
        assert delegate.revisions() == [start + 1, start + 2]
        assert [e["payload"]["label"] for e in staff.events("device.paired")] == [
            "Máy chiếu trái", "Máy chiếu phải"]
        # Staff receive each event before the tick everyone gets: already applied.
        staff.wait_for(lambda: len(staff.revisions()) >= 4, what="the ticks reaching staff")
        for revision in (start + 1, start + 2):
            event_at = next(i for i, (name, data) in enumerate(staff.received)
                            if name == "event" and data["revision"] == revision)
            tick_at = next(i for i, (name, data) in enumerate(staff.received)
                           if name == "revision" and revision in data["revisions"])
            assert event_at < tick_at
        assert sorted(staff.revisions()) == [start + 1, start + 1, start + 2, start + 2]
        # An event for everyone is never overtaken by the ticks before it.
        opened = staff.call("session.open", {"meeting_id": mid})
        delegate.wait_for_event("session.changed")
        assert delegate.revisions() == [start + 1, start + 2, opened["revision"]]


def test_staff_see_tablets_come_and_go(live, seeded):
    mid = seeded.meeting.id
    staff = LiveClient(live.url, cookie=login_cookie(live.url, seeded.secretary_user),
                       auth={"meeting_id": mid})
    delegate = LiveClient(live.url, cookie=login_cookie(live.url, seeded.delegate_user),
                          auth={"meeting_id": mid})
    with staff, delegate:
        with LiveClient(live.url, auth={"token": seeded.tablet_token}) as tablet:
            staff.wait_for(lambda: staff.presence(), what="the tablet coming online")
            assert staff.call("sync", {"meeting_id": mid})["online"] == [seeded.delegates[1].id]
            assert "online" not in tablet.call("sync", {"meeting_id": mid})
        staff.wait_for(lambda: len(staff.presence()) == 2, what="the tablet going offline")
        assert [(p["participant_id"], p["online"]) for p in staff.presence()] == [
            (seeded.delegates[1].id, True), (seeded.delegates[1].id, False)]
        assert staff.call("sync", {"meeting_id": mid})["online"] == []
        assert delegate.presence() == []  # presence is for staff only
        assert delegate.revisions() == []  # and it is not a meeting revision
