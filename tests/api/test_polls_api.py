"""REST: /api/v1 polls — manage as staff, vote from tablets, progress, results and exports."""
from __future__ import annotations

import csv
import io
import json
import uuid

import pymupdf
import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import (
    AttendanceStatus, AuditEntry, Ballot, Device, MeetingStatus, Poll, VoterRecord,
)
from server.services.tokens import new_token, token_digest
from tests import factories


class Tablets:
    """A published meeting whose delegates are present, each with a paired tablet's token."""

    def __init__(self, client, n: int = 3):
        self.client = client
        self.meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
        self.people, self.tokens = [], []
        for _ in range(n):
            person = factories.make_participant(self.meeting, attendance=AttendanceStatus.PRESENT)
            token = new_token()
            db.session.add(Device(meeting_id=self.meeting.id, participant_id=person.id,
                                  token_sha256=token_digest(token)))
            self.people.append(person)
            self.tokens.append(token)
        db.session.commit()

    def as_tablet(self, n: int) -> dict:
        return {"Authorization": f"Bearer {self.tokens[n]}"}

    def vote(self, n: int, poll_id: int, choices, ballot_id=None, **extra):
        body = {"ballot_id": str(ballot_id or uuid.uuid4()), "choices": choices, **extra}
        return self.client.post(f"/api/v1/polls/{poll_id}/ballots", json=body,
                                headers=self.as_tablet(n))


@pytest.fixture
def room(client, auth, secretary):
    auth.login(secretary)
    return Tablets(client)


def new_poll(room, **fields) -> dict:
    response = room.client.post(f"/api/v1/meetings/{room.meeting.id}/polls",
                                json={"motion": "Thông qua dự toán ngân sách năm 2027", **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def opened(room, **fields) -> dict:
    poll = new_poll(room, **fields)
    response = room.client.post(f"/api/v1/polls/{poll['id']}/open")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_secret_poll_from_draft_to_published_exports(room):
    client = room.client
    poll = new_poll(room, kind="secret")
    assert poll["status"] == "draft"
    assert [o["key"] for o in poll["options"]] == ["yes", "no", "abstain"]
    edited = client.patch(f"/api/v1/polls/{poll['id']}", json={"majority": "two_thirds"})
    assert edited.status_code == 200 and edited.get_json()["majority"] == "two_thirds"
    assert client.post(f"/api/v1/polls/{poll['id']}/open").get_json()["status"] == "open"
    again = client.post(f"/api/v1/polls/{poll['id']}/open")
    assert again.status_code == 200 and again.get_json()["status"] == "open"
    frozen = client.patch(f"/api/v1/polls/{poll['id']}", json={"majority": "simple"})
    assert frozen.status_code == 409

    ballot_id = uuid.uuid4()
    first = room.vote(0, poll["id"], ["yes"], ballot_id)
    assert first.status_code == 200, first.get_json()
    assert room.vote(0, poll["id"], ["yes"], ballot_id).get_json() == first.get_json()
    second = room.vote(0, poll["id"], ["no"])
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "already_voted"
    room.vote(1, poll["id"], ["yes"])
    room.vote(2, poll["id"], ["no"])

    progress = client.get(f"/api/v1/polls/{poll['id']}/progress").get_json()
    assert progress["cast"] == 3 and "not_voted" not in progress
    mine = client.get(f"/api/v1/polls/{poll['id']}/me", headers=room.as_tablet(0)).get_json()
    assert mine["ballots"][0]["voted"] is True
    hidden = client.get(f"/api/v1/polls/{poll['id']}/result", headers=room.as_tablet(0))
    assert hidden.status_code == 403  # still open

    assert client.post(f"/api/v1/polls/{poll['id']}/close").get_json()["status"] == "closed"
    assert client.get(f"/api/v1/polls/{poll['id']}/result").get_json()["outcome"] == "adopted"
    early = client.get(f"/api/v1/polls/{poll['id']}/result", headers=room.as_tablet(1))
    assert early.status_code == 403 and early.get_json()["error"]["code"] == "result_not_published"
    published = client.post(f"/api/v1/polls/{poll['id']}/publish", json={})
    assert published.get_json()["status"] == "published"
    assert "Thông qua (" in published.get_json()["decision"]

    receipt = first.get_json()["receipt"]
    result = client.get(f"/api/v1/polls/{poll['id']}/result", headers=room.as_tablet(0)).get_json()
    assert {"receipt": receipt, "choices": ["yes"], "weight": "1.0000"} in result["ballot_list"]
    as_json = json.loads(client.get(f"/api/v1/polls/{poll['id']}/result.json").data)
    assert as_json["result"]["totals"]["yes"]["count"] == 2
    table = client.get(f"/api/v1/polls/{poll['id']}/result.csv", headers=room.as_tablet(2))
    assert table.status_code == 200 and table.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(table.data.decode("utf-8-sig"))))
    assert [receipt, "Tán thành", "1.0000"] in rows
    pdf = client.get(f"/api/v1/polls/{poll['id']}/result.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    with pymupdf.open(stream=pdf.data, filetype="pdf") as document:
        text = "".join(page.get_text() for page in document)
        fonts = {f[3] for page in document for f in page.get_fonts()}
    assert "Không tán thành" in text and "Thông qua dự toán ngân sách năm 2027" in text
    assert receipt in text
    assert not any("Helv" in name for name in fonts)


def test_named_poll_progress_lists_who_has_not_voted_for_staff_only(room):
    poll = opened(room)
    room.vote(0, poll["id"], ["abstain"])
    progress = room.client.get(f"/api/v1/polls/{poll['id']}/progress").get_json()
    assert [p["participant_id"] for p in progress["not_voted"]] == [p.id for p in room.people[1:]]
    refused = room.client.get(f"/api/v1/polls/{poll['id']}/progress", headers=room.as_tablet(1))
    assert refused.status_code == 403


def test_candidates_poll(room):
    poll = opened(room, option_kind="candidates", candidates=["Nguyễn Văn An", "Trần Thị Bình"],
                  min_choices=1, max_choices=1)
    room.vote(0, poll["id"], ["c2"])
    room.vote(1, poll["id"], ["c2"])
    too_many = room.vote(2, poll["id"], ["c1", "c2"])
    assert too_many.status_code == 422 and too_many.get_json()["error"]["code"] == "invalid_choices"
    room.client.post(f"/api/v1/polls/{poll['id']}/close")
    assert room.client.get(f"/api/v1/polls/{poll['id']}/result").get_json()["elected"] == ["c2"]


def test_delegates_cannot_manage_polls(room):
    poll = opened(room)
    tablet = room.as_tablet(0)
    for action in ("close", "cancel", "publish", "revote"):
        response = room.client.post(f"/api/v1/polls/{poll['id']}/{action}", json={}, headers=tablet)
        assert response.status_code == 403, action
    created = room.client.post(f"/api/v1/meetings/{room.meeting.id}/polls", json={"motion": "x"},
                               headers=tablet)
    assert created.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Poll)) == 1


def test_ballots_after_closing_are_refused_with_a_reason(room):
    poll = opened(room)
    room.client.post(f"/api/v1/polls/{poll['id']}/close")
    late = room.vote(0, poll["id"], ["yes"])
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "poll_closed"


@pytest.mark.parametrize("body, field", [
    ({"choices": ["yes"]}, "ballot_id"),
    ({"ballot_id": "not-a-uuid", "choices": ["yes"]}, "ballot_id"),
    ({"ballot_id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "choices": ["yes"]}, "ballot_id"),  # v1
    ({"ballot_id": str(uuid.uuid4()), "choices": "yes"}, "choices"),
    ({"ballot_id": str(uuid.uuid4()), "choices": [1]}, "choices.0"),
    ({"ballot_id": str(uuid.uuid4()), "choices": ["x" * 41]}, "choices.0"),
    ({"ballot_id": str(uuid.uuid4()), "choices": ["yes"], "on_behalf_of": -1}, "on_behalf_of"),
    ({"ballot_id": str(uuid.uuid4()), "choices": ["yes"], "weight": 9}, "weight"),
])
def test_bad_ballots_get_422_and_change_nothing(room, body, field):
    poll = opened(room)
    response = room.client.post(f"/api/v1/polls/{poll['id']}/ballots", json=body,
                                headers=room.as_tablet(0))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0
    assert db.session.scalar(select(func.count()).select_from(VoterRecord)) == 0


@pytest.mark.parametrize("raw", ["{not json", "[]", "null", '"ballot"'])
def test_malformed_ballot_bodies(room, raw):
    poll = opened(room)
    response = room.client.post(f"/api/v1/polls/{poll['id']}/ballots", data=raw,
                                content_type="application/json", headers=room.as_tablet(0))
    assert response.status_code == 422


@pytest.mark.parametrize("fields, field", [
    ({"motion": ""}, "motion"), ({"kind": "open"}, "kind"), ({"majority": "most"}, "majority"),
    ({"duration_seconds": 5}, "duration_seconds"), ({"max_choices": 0}, "max_choices"),
    ({"option_kind": "candidates"}, "candidates"), ({"candidates": ["A"]}, "candidates"),
    ({"agenda_item_id": 999}, "agenda_item_id"), ({"agenda_item_id": 10**20}, "agenda_item_id"),
    ({"quorum": True}, "quorum"),
    ({"kind": "secret", "allow_change": True}, "allow_change"),
])
def test_bad_poll_definitions_get_422(room, fields, field):
    response = room.client.post(f"/api/v1/meetings/{room.meeting.id}/polls",
                                json={"motion": "Biểu quyết", **fields})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


def test_unknown_polls_and_strangers(client, room):
    assert room.client.get("/api/v1/polls/999").status_code == 404
    assert room.vote(0, 999, ["yes"]).status_code == 404
    poll = opened(room)
    other = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    stranger = factories.make_participant(other, attendance=AttendanceStatus.PRESENT)
    token = new_token()
    db.session.add(Device(meeting_id=other.id, participant_id=stranger.id,
                          token_sha256=token_digest(token)))
    db.session.commit()
    ballot = {"ballot_id": str(uuid.uuid4()), "choices": ["yes"]}
    foreign = room.client.post(f"/api/v1/polls/{poll['id']}/ballots", json=ballot,
                               headers={"Authorization": f"Bearer {token}"})
    assert foreign.status_code == 404
    anonymous = room.client.post(f"/api/v1/polls/{poll['id']}/ballots", headers={
        "Authorization": "Bearer nope"}, json={"ballot_id": str(uuid.uuid4()), "choices": ["yes"]})
    assert anonymous.status_code == 401


def test_list_polls_hides_drafts_from_delegates(room):
    draft = new_poll(room)
    live = opened(room)
    staff_view = room.client.get(f"/api/v1/meetings/{room.meeting.id}/polls").get_json()
    assert [p["id"] for p in staff_view] == [draft["id"], live["id"]]
    tablet_view = room.client.get(f"/api/v1/meetings/{room.meeting.id}/polls",
                                  headers=room.as_tablet(0)).get_json()
    assert [p["id"] for p in tablet_view] == [live["id"]]
    hidden = room.client.get(f"/api/v1/polls/{draft['id']}", headers=room.as_tablet(0))
    assert hidden.status_code == 404


def test_openapi_documents_the_poll_endpoints(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/v1/meetings/{meeting_id}/polls", "/api/v1/polls/{poll_id}/ballots",
                 "/api/v1/polls/{poll_id}/open", "/api/v1/polls/{poll_id}/result.pdf",
                 "/api/v1/polls/{poll_id}/progress", "/api/v1/polls/{poll_id}/me"):
        assert path in paths, path


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/polls/99999999999999999999"),
    ("get", "/api/v1/meetings/99999999999999999999/polls"),
    ("post", "/api/v1/polls/99999999999999999999/ballots"),
    ("get", "/api/v1/polls/99999999999999999999/result.pdf"),
    ("post", "/api/v1/polls/99999999999999999999/close"),
])
def test_ids_beyond_any_row_are_404_not_500(room, method, path):
    ballot = {"ballot_id": str(uuid.uuid4()), "choices": ["yes"]}
    body = ballot if path.endswith("ballots") else None
    response = getattr(room.client, method)(path, json=body, headers=room.as_tablet(0))
    assert response.status_code == 404, response.get_json()


def test_refused_poll_management_is_audited_once(room):
    for person in room.people:
        person.attendance = AttendanceStatus.ABSENT  # everybody left: no quorum
    db.session.commit()
    poll = new_poll(room)
    response = room.client.post(f"/api/v1/polls/{poll['id']}/open")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "no_quorum"
    refused = room.client.post(f"/api/v1/polls/{poll['id']}/cancel", headers=room.as_tablet(0))
    assert refused.status_code == 403
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.outcome == "refused")
                                 .order_by(AuditEntry.seq)).all()
    assert [(e.action, e.payload["reason"]) for e in entries] == [
        ("poll.open", "no_quorum"), ("poll.cancel", "forbidden")]
    assert db.session.get(Poll, poll["id"]).status.value == "draft"
