"""REST as a tablet sees written consultations: which pairings reach them (docs/CONSULTATIONS.md,
"On the tablet"), the replayed outbox answer, and the refusals the tablet shows."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import (
    Consultation, ConsultationAnswer, Device, DeviceKind, MeetingStatus, Role, SessionState, utcnow,
)
from server.services.tokens import new_token, token_digest
from tests import factories
from tests.factories import PASSWORD


def _device(meeting, participant=None, kind=DeviceKind.TABLET) -> str:
    token = new_token()
    db.session.add(Device(meeting_id=meeting.id, participant_id=participant.id if participant else None,
                          kind=kind, token_sha256=token_digest(token), label=kind.value))
    db.session.commit()
    return token


def _send(client, members, *, allow_change=True, hours=2) -> int:
    office = factories.make_user(Role.SECRETARY)
    client.post("/api/v1/auth/login", json={"username": office.username, "password": PASSWORD})
    answer = client.post("/api/v1/consultations", json={
        "title": "Xin ý kiến", "question": "Đồng ý?", "allow_change": allow_change,
        "members": [{"user_id": m.id} for m in members],
        "closes_at": (utcnow() + timedelta(hours=hours)).isoformat()})
    assert answer.status_code == 201, answer.get_json()
    client.post("/api/v1/auth/logout")
    return answer.get_json()["id"]


def _as(token):
    return {"Authorization": f"Bearer {token}"}


def test_which_tablets_see_a_consultation(app, client):
    member = factories.make_user()
    # The last meeting is over and sealed: its tablet still reaches the member's consultations.
    meeting = factories.make_meeting(status=MeetingStatus.SEALED, session_state=SessionState.ADJOURNED)
    linked = _device(meeting, factories.make_participant(meeting, user=member))
    by_name_only = _device(meeting, factories.make_participant(meeting))
    projector = _device(meeting, kind=DeviceKind.PROJECTOR)
    cid = _send(client, [member])

    listed = client.get("/api/v1/consultations", headers=_as(linked))
    assert listed.status_code == 200
    assert [c["id"] for c in listed.get_json()] == [cid]
    for token in (by_name_only, projector):
        assert client.get("/api/v1/consultations", headers=_as(token)).get_json() == []
        refused = client.put(f"/api/v1/consultations/{cid}/answer", json={"choice": "yes"},
                             headers=_as(token))
        assert refused.status_code == 404
        assert refused.get_json()["error"]["code"] == "consultation_not_found"
    stored = client.put(f"/api/v1/consultations/{cid}/answer", json={"choice": "yes"},
                        headers=_as(linked))
    assert stored.status_code == 200
    assert stored.get_json()["my_answer"]["choice"] == "yes"


def test_the_outbox_replay_and_the_refusals_a_tablet_shows(app, client):
    member = factories.make_user()
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    token = _device(meeting, factories.make_participant(meeting, user=member))
    cid = _send(client, [member], allow_change=False)
    body = {"choice": "no", "comment": "Chưa đủ thông tin"}

    first = client.put(f"/api/v1/consultations/{cid}/answer", json=body, headers=_as(token))
    again = client.put(f"/api/v1/consultations/{cid}/answer", json=body, headers=_as(token))
    assert first.status_code == again.status_code == 200
    assert again.get_json()["my_answer"] == first.get_json()["my_answer"]  # a no-op, not a change
    other = client.put(f"/api/v1/consultations/{cid}/answer", json={"choice": "yes"},
                       headers=_as(token))
    assert (other.status_code, other.get_json()["error"]["code"]) == (409, "answer_final")

    late = _send(client, [member], hours=1)
    consultation = db.session.get(Consultation, late)
    consultation.closes_at = utcnow() - timedelta(seconds=1)  # the deadline passed meanwhile
    db.session.commit()
    closed = client.put(f"/api/v1/consultations/{late}/answer", json=body, headers=_as(token))
    assert (closed.status_code, closed.get_json()["error"]["code"]) == (409, "consultation_closed")
    answers = db.session.scalars(select(ConsultationAnswer.consultation_id)).all()
    assert answers == [cid]
