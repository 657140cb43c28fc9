"""Refused actions, bad payloads and unknown events get an error ack and change nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry, Meeting, SessionState
from server.services.devices import devices
from tests.realtime.clients import LiveClient, login_cookie

pytestmark = pytest.mark.live

CHAIR_ACTIONS = [
    ("session.open", {}), ("session.adjourn", {}), ("item.next", {}), ("timer.start", {}),
    ("floor.grant", {"request_id": 1}), ("floor.reorder", {"request_ids": []}),
    ("attendance.mark", {"participant_id": 1, "status": "present"}),
]


def revision_of(meeting_id: int) -> int:
    db.session.remove()
    return db.session.scalar(select(Meeting.revision).where(Meeting.id == meeting_id))


def refusals(meeting_id: int) -> list[AuditEntry]:
    db.session.remove()
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.meeting_id == meeting_id, AuditEntry.outcome == "refused")
        .order_by(AuditEntry.seq)))


@pytest.mark.parametrize("who", ["delegate", "tablet", "projector"])
def test_chair_actions_are_refused_audited_and_change_nothing(live, seeded, who):
    mid = seeded.meeting.id
    if who == "delegate":
        client = LiveClient(live.url, cookie=login_cookie(live.url, seeded.delegate_user),
                            auth={"meeting_id": mid})
    elif who == "tablet":
        client = LiveClient(live.url, auth={"token": seeded.tablet_token})
    else:
        _, token = devices.create_projector(seeded.secretary_actor, mid)
        db.session.commit()
        client = LiveClient(live.url, auth={"token": token})
    with client:
        before = revision_of(mid)
        for name, extra in CHAIR_ACTIONS:
            answer = client.call(name, {"meeting_id": mid, **extra})
            assert answer["ok"] is False, (name, answer)
            assert answer["error"]["code"] == "forbidden", (name, answer)
        assert revision_of(mid) == before
        assert client.events() == []
    refused = refusals(mid)
    assert [e.action for e in refused] == [f"socket.{name}" for name, _ in CHAIR_ACTIONS]
    assert {e.actor.split(":")[0] for e in refused} == \
        {"delegate": {"user"}, "tablet": {"device"}, "projector": {"projector"}}[who]
    assert db.session.get(Meeting, mid).session_state == SessionState.NOT_STARTED


def test_projector_cannot_even_ask_for_the_floor(live, seeded):
    _, token = devices.create_projector(seeded.secretary_actor, seeded.meeting.id)
    db.session.commit()
    with LiveClient(live.url, auth={"token": token}) as projector:
        for name in ("floor.request", "floor.withdraw", "floor.end"):
            answer = projector.call(name, {"meeting_id": seeded.meeting.id})
            assert answer["ok"] is False and answer["error"]["code"] == "forbidden", (name, answer)


BAD_PAYLOADS = [
    ("item.set", None, "invalid_payload"),
    ("item.set", "hello", "invalid_payload"),
    ("item.set", [1, 2], "invalid_payload"),
    ("item.set", {}, "invalid_input"),
    ("item.set", {"meeting_id": "one", "item_id": 1}, "invalid_input"),
    ("item.set", {"meeting_id": None, "item_id": 1}, "invalid_input"),
    ("item.set", {"meeting_id": 0, "item_id": -1}, "invalid_input"),
    ("item.set", {"MEETING": 1}, "invalid_input"),
    ("item.set", {"meeting_id": 2**40, "item_id": 1}, "invalid_input"),
    ("floor.reorder", {"request_ids": "1,2"}, "invalid_input"),
    ("floor.reorder", {"request_ids": list(range(5000))}, "invalid_input"),
    ("attendance.mark", {"participant_id": 1, "status": "drunk"}, "invalid_input"),
    ("sync", {"since_revision": -1}, "invalid_input"),
    ("sync", {"since_revision": "x" * 100_000}, "invalid_input"),
]


@pytest.mark.parametrize("name, payload, code", BAD_PAYLOADS)
def test_malformed_payloads(live, seeded, name, payload, code):
    mid = seeded.meeting.id
    if isinstance(payload, dict) and "MEETING" not in payload:
        payload = {"meeting_id": mid, **payload}
    cookie = login_cookie(live.url, seeded.secretary_user)
    with LiveClient(live.url, cookie=cookie, auth={"meeting_id": mid}) as staff:
        before = revision_of(mid)
        answer = staff.call(name) if payload is None else staff.call(name, payload)
        assert answer["ok"] is False and answer["error"]["code"] == code, answer
        assert set(answer["error"]) == {"code", "message", "fields"}
        assert staff.call("sync", {"meeting_id": mid})["ok"] is True  # still connected and well
    assert revision_of(mid) == before


def test_several_arguments_are_refused(live, seeded):
    mid = seeded.meeting.id
    with LiveClient(live.url, auth={"token": seeded.tablet_token}) as tablet:
        answer = tablet.sio.call("sync", ({"meeting_id": mid}, {"meeting_id": mid}), timeout=10)
        assert answer["error"]["code"] == "invalid_payload"


@pytest.mark.parametrize("name", ["nonsense", "session.explode", "x" * 300, "Sync", "message"])
def test_unknown_events(live, seeded, name):
    with LiveClient(live.url, auth={"token": seeded.tablet_token}) as tablet:
        before = revision_of(seeded.meeting.id)
        answer = tablet.call(name, {"meeting_id": seeded.meeting.id})
        assert answer["ok"] is False and answer["error"]["code"] == "unknown_event"
        assert revision_of(seeded.meeting.id) == before


def test_another_meetings_id_is_refused(live, seeded):
    cookie = login_cookie(live.url, seeded.secretary_user)
    with LiveClient(live.url, cookie=cookie, auth={"meeting_id": seeded.meeting.id}) as staff:
        answer = staff.call("session.open", {"meeting_id": seeded.meeting.id + 1000})
        assert answer["error"]["code"] == "wrong_meeting"


def test_domain_conflicts_are_reported(live, seeded):
    mid = seeded.meeting.id
    cookie = login_cookie(live.url, seeded.chair_user)
    with LiveClient(live.url, cookie=cookie, auth={"meeting_id": mid}) as chair:
        assert chair.call("item.next", {"meeting_id": mid})["error"]["code"] == "not_open"
        assert chair.call("session.open", {"meeting_id": mid})["ok"] is True
        assert chair.call("session.open", {"meeting_id": mid})["error"]["code"] == "already_open"
        missing = chair.call("item.set", {"meeting_id": mid, "item_id": 999_999})
        assert missing["error"]["code"] == "not_found"
