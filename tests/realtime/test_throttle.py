"""A flood from one connection is throttled, then cut off; other senders do not suffer."""
from __future__ import annotations

import threading

import pytest

from server.realtime.context import ABUSE_LIMIT, BURST
from tests.realtime.clients import LiveClient
from tests.realtime.seed import pair_device

pytestmark = pytest.mark.live

FLOOD = BURST + ABUSE_LIMIT + 200


def test_flood_is_throttled_and_the_abuser_disconnected(live, seeded):
    mid = seeded.meeting.id
    acks: list[dict] = []
    lock = threading.Lock()

    def collect(answer):
        with lock:
            acks.append(answer)

    _, other_token = pair_device(seeded, seeded.delegates[2])
    with LiveClient(live.url, auth={"token": other_token}) as bystander:
        abuser = LiveClient(live.url, auth={"token": seeded.tablet_token}).connect()
        for _ in range(FLOOD):
            if not abuser.sio.connected:
                break
            try:
                abuser.sio.emit("sync", {"meeting_id": mid}, callback=collect)
            except Exception:  # the server hung up mid-flood
                break
        abuser.wait_for(abuser.disconnected.is_set, what="the abuser being disconnected")
        with lock:
            codes = [a["error"]["code"] for a in acks if not a["ok"]]
            granted = [a for a in acks if a["ok"]]
        assert "too_many_requests" in codes
        assert set(codes) == {"too_many_requests"}
        assert len(granted) < FLOOD
        # Another tablet of the same meeting is served as before.
        assert bystander.call("sync", {"meeting_id": mid})["ok"] is True
    # And the abuser may come back (politely), once its bucket has a token again.
    with LiveClient(live.url, auth={"token": seeded.tablet_token}) as again:
        again.wait_for(lambda: again.call("sync", {"meeting_id": mid})["ok"],
                       what="the abuser's bucket refilling")
