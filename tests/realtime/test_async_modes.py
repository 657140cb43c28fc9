"""The engine works in every supported async mode: connect, act, broadcast."""
from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from server.config import ASYNC_MODES
from server.extensions import db
from server.models import Device
from tests.realtime.clients import LiveClient, login_cookie
from tests.realtime.conftest import start_live
from tests.realtime.seed import seed_meeting

pytestmark = pytest.mark.live


def seed_with_a_stale_connection():
    """A meeting whose tablet a crashed server left counted as connected."""
    seeded = seed_meeting()
    seeded.tablet.connections = 3
    db.session.commit()
    return seeded


@pytest.mark.parametrize("mode", ASYNC_MODES)
def test_connect_and_broadcast(tmp_path, mode):
    env, context = start_live(tmp_path, async_mode=mode, before_start=seed_with_a_stale_connection)
    try:
        assert requests.get(env.url + "/healthz", timeout=10).json()["async_mode"] == mode
        seeded = env.seeded
        mid = seeded.meeting.id
        db.session.commit()  # a new read transaction: see what the server wrote
        stale = db.session.scalar(select(Device.connections).where(Device.id == seeded.tablet.id))
        assert stale == 0  # reset when the server started
        chair = LiveClient(env.url, cookie=login_cookie(env.url, seeded.chair_user),
                           auth={"meeting_id": mid})
        tablet = LiveClient(env.url, auth={"token": seeded.tablet_token})
        with chair, tablet:
            assert chair.call("session.open", {"meeting_id": mid})["ok"] is True
            answer = chair.call("item.next", {"meeting_id": mid})
            assert answer["ok"] is True
            for client in (chair, tablet):
                [moved] = client.wait_for_event("item.changed", current_item_id=seeded.items[0].id)
                assert moved["revision"] == answer["revision"]
    finally:
        env.server.stop()
        db.session.remove()
        context.pop()
