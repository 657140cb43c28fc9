"""The heartbeat: a client that lost an event finds out even when the meeting goes quiet."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from server.extensions import db
from server.models import Meeting
from tests.realtime.clients import LiveClient
from tests.realtime.conftest import start_live
from tests.realtime.seed import seed_meeting

pytestmark = pytest.mark.live


def test_every_client_is_reminded_of_the_meetings_revision(tmp_path):
    env, context = start_live(tmp_path, before_start=seed_meeting,
                              env={"HEMICYCLE_HEARTBEAT_SECONDS": "0.3"})
    try:
        seeded = env.seeded
        meeting_id = seeded.meeting.id
        start = db.session.get(Meeting, meeting_id).revision
        with LiveClient(env.url, auth={"token": seeded.tablet_token}) as tablet:
            def heartbeats():
                return [d for n, d in tablet.received if n == "heartbeat"]

            first = tablet.wait_for(heartbeats, what="a heartbeat")[0]
            assert first == {"meeting_id": meeting_id, "revision": start}
            # A change whose event never reached this client (as when Redis was down):
            db.session.execute(update(Meeting).where(Meeting.id == meeting_id)
                               .values(revision=Meeting.revision + 1))
            db.session.commit()
            tablet.wait_for(lambda: any(h["revision"] == start + 1 for h in heartbeats()),
                            what="a heartbeat naming the new revision")
            assert tablet.events() == []  # a heartbeat is not an event and names none
    finally:
        env.server.stop()
        db.session.remove()
        context.pop()
