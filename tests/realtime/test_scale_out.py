"""Two worker processes on one PostgreSQL database and one Redis queue act as one server."""
from __future__ import annotations

import pytest

from server.extensions import db
from server.models import SpeakerRequest
from tests.realtime.clients import LiveClient, login_cookie
from tests.realtime.seed import seed_meeting

pytestmark = [pytest.mark.live, pytest.mark.services]


def test_an_emit_on_one_worker_reaches_clients_of_the_other(two_workers):
    first, second = two_workers
    seeded = seed_meeting()
    mid = seeded.meeting.id
    chair = LiveClient(first.url, cookie=login_cookie(first.url, seeded.chair_user),
                       auth={"meeting_id": mid})
    # The same login session is honoured by the other worker (shared secret key and database).
    delegate = LiveClient(second.url, cookie=login_cookie(first.url, seeded.delegate_user),
                          auth={"meeting_id": mid})
    tablet = LiveClient(second.url, auth={"token": seeded.tablet_token})
    with chair, delegate, tablet:
        assert chair.call("session.open", {"meeting_id": mid})["ok"] is True
        moved = chair.call("item.next", {"meeting_id": mid})
        assert moved["ok"] is True
        for client in (chair, delegate, tablet):
            [event] = client.wait_for_event("item.changed", current_item_id=seeded.items[0].id)
            assert event["revision"] == moved["revision"]
        # And the other way: a request made on the second worker reaches the chair on the first.
        requested = tablet.call("floor.request", {"meeting_id": mid})
        assert requested["ok"] is True, requested
        [queue] = chair.wait_for_event("floor.changed")
        assert [e["participant_id"] for e in queue["payload"]["queue"]] == [seeded.delegates[1].id]
        # Both workers tell the same story to a client catching up.
        on_first = chair.call("sync", {"meeting_id": mid, "since_revision": 0})
        on_second = delegate.call("sync", {"meeting_id": mid, "since_revision": 0})
        assert on_first["revision"] == on_second["revision"]
        staff_only = {"device.paired"}
        assert [e for e in on_first["events"] if e["type"] not in staff_only] == \
            on_second["events"]
    db.session.remove()
    assert db.session.query(SpeakerRequest).count() == 1
