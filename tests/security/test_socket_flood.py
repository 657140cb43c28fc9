"""Finding 7 of issue 23: one tablet (or one account) cannot flood the room by opening sockets.

Twelve sockets on one device token, each with its own rate bucket, alternating
``floor.request``/``floor.withdraw``, pushed 46 ``floor.changed`` a second to every tablet
and as many audit entries. Now a sender (a device token or a user) holds at most
``MAX_CONNECTIONS`` sockets per worker, and its sockets share one bucket for events and a
slower one for the changes they make.
"""
from __future__ import annotations

import socketio
import time

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEntry
from server.realtime.context import BURST, CHANGES, MAX_CONNECTIONS, RATE
from server.services.session import session
from tests.live import wait_until
from tests.realtime.clients import LiveClient, login_cookie
from tests.realtime.conftest import live, seeded  # noqa: F401 (fixtures)
from tests.realtime.seed import pair_device

pytestmark = pytest.mark.live

SOCKETS = 12


def _open(url: str, count: int, **kw) -> tuple[list[LiveClient], list[dict]]:
    """Try ``count`` sockets; the connected ones and the refusals."""
    connected, refused = [], []
    for _ in range(count):
        client = LiveClient(url, **kw)
        try:
            connected.append(client.connect())
        except socketio.exceptions.ConnectionError:
            refused.append(client.connect_error or {})
    return connected, refused


def _floor_audits(meeting_id: int) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.meeting_id == meeting_id, AuditEntry.action.like("floor.%")))


def test_twelve_sockets_of_one_tablet_cannot_flood_the_floor(live, seeded):
    mid = seeded.meeting.id
    _, other_token = pair_device(seeded, seeded.delegates[2])
    session.open_session(seeded.secretary_actor, mid)
    db.session.commit()
    audits_before = _floor_audits(mid)
    with LiveClient(live.url, auth={"token": other_token}) as bystander:
        sockets, refused = _open(live.url, SOCKETS, auth={"token": seeded.tablet_token})
        try:
            assert len(sockets) == MAX_CONNECTIONS["device"]
            assert [r["data"]["code"] for r in refused] == \
                ["too_many_connections"] * (SOCKETS - len(sockets))
            started = time.monotonic()
            made = 0
            for n in range(120):
                socket = sockets[n % len(sockets)]
                if not socket.sio.connected:
                    continue
                try:
                    answer = socket.call("floor.withdraw" if n % 2 else "floor.request",
                                         {"meeting_id": mid})
                except Exception:  # cut off for flooding mid-call
                    continue
                made += answer["ok"]
                if not answer["ok"]:
                    assert answer["error"]["code"] == "too_many_requests", answer
            elapsed = time.monotonic() - started
        finally:
            for socket in sockets:
                socket.close()
        # A bound, not a timing check: the change bucket's burst plus what it refilled.
        rate, burst = CHANGES["device"]
        allowed = burst + rate * elapsed + 1
        assert made <= allowed, (made, elapsed)
        assert _floor_audits(mid) - audits_before <= allowed
        # The other tablet heard of no more changes than were made, and is served as before.
        assert bystander.call("sync", {"meeting_id": mid})["ok"] is True
        assert len(bystander.events("floor.changed")) <= made


def test_an_account_holds_a_bounded_number_of_sockets_sharing_one_bucket(live, seeded):
    mid = seeded.meeting.id
    cookie = login_cookie(live.url, seeded.secretary_user)
    sockets, refused = _open(live.url, MAX_CONNECTIONS["user"] + 2, cookie=cookie,
                             auth={"meeting_id": mid})
    try:
        assert len(sockets) == MAX_CONNECTIONS["user"]
        assert {r["data"]["code"] for r in refused} == {"too_many_connections"}
        started = time.monotonic()
        answered = 0
        for n in range(3 * BURST):
            socket = sockets[n % len(sockets)]
            try:
                answered += socket.call("sync", {"meeting_id": mid})["ok"]
            except Exception:
                continue
        elapsed = time.monotonic() - started
    finally:
        for socket in sockets:
            socket.close()
    assert answered <= BURST + RATE * elapsed + 1, (answered, elapsed)
    # Closed sockets free their places (once the server has seen them go).
    again = wait_until(lambda: _open(live.url, 1, cookie=cookie, auth={"meeting_id": mid})[0],
                       what="a place freed by the closed sockets")
    again[0].close()
