"""Every committed change reaches every client of its meeting, and nobody else."""
from __future__ import annotations

import pytest

from server.extensions import db
from server.services import devices
from tests.realtime.clients import LiveClient, login_cookie
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
    """presence.changed is for staff: delegates get a bare revision tick, never a gap."""
    mid = seeded.meeting.id
    staff = LiveClient(live.url, cookie=login_cookie(live.url, seeded.secretary_user),
                       auth={"meeting_id": mid})
    delegate = LiveClient(live.url, cookie=login_cookie(live.url, seeded.delegate_user),
                          auth={"meeting_id": mid})
    tablet = LiveClient(live.url, auth={"token": seeded.tablet_token})
    with staff, delegate:
        start = staff.call("sync", {"meeting_id": mid})["revision"]
        assert delegate.call("sync", {"meeting_id": mid})["revision"] == start
        with tablet:  # the tablet comes online ...
            [online] = staff.wait_for_event("presence.changed", online=True)
            assert online["payload"]["participant_id"] == seeded.delegates[1].id
        staff.wait_for_event("presence.changed", online=False)  # ... and goes offline
        delegate.wait_for(lambda: len(delegate.revisions()) >= 2, what="two revision ticks")
        assert delegate.events("presence.changed") == []
        assert delegate.revisions() == [start + 1, start + 2]
        assert staff.revisions() == [start + 1, start + 1, start + 2, start + 2]
        staff_messages = [name for name, _ in staff.received]
        assert staff_messages == ["event", "revision", "event", "revision"]  # tick after event
