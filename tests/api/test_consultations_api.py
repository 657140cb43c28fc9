"""REST: a written consultation sent, answered, refused three ways (nothing changed), tallied."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import Consultation, ConsultationAnswer, Role, utcnow
from tests import factories
from tests.factories import PASSWORD


def _login(client, user):
    client.post("/api/v1/auth/logout")
    answer = client.post("/api/v1/auth/login", json={"username": user.username,
                                                      "password": PASSWORD})
    assert answer.status_code == 200, answer.get_json()


def _answers(consultation_id):
    return [(a.user_id, a.choice) for a in db.session.scalars(select(ConsultationAnswer).where(
        ConsultationAnswer.consultation_id == consultation_id).order_by(ConsultationAnswer.user_id))]


def test_consultation_over_rest(app, client):
    office = factories.make_user(Role.SECRETARY)
    members = [factories.make_user() for _ in range(3)]
    outsider = factories.make_user()
    _login(client, office)
    sent = client.post("/api/v1/consultations", json={
        "title": "Xin ý kiến về Nghị quyết", "question": "Đồng ý thông qua?",
        "closes_at": (utcnow() + timedelta(hours=2)).isoformat(), "allow_change": False,
        "members": [{"user_id": m.id} for m in members]})
    assert sent.status_code == 201, sent.get_json()
    cid = sent.get_json()["id"]

    _login(client, members[0])
    ok = client.put(f"/api/v1/consultations/{cid}/answer", json={"choice": "yes"})
    assert ok.status_code == 200 and ok.get_json()["my_answer"]["choice"] == "yes"
    assert ok.get_json()["answered_by"] is None  # only the office sees who answered
    second = client.put(f"/api/v1/consultations/{cid}/answer", json={"choice": "no"})
    assert second.status_code == 409
    assert second.get_json()["error"]["code"] == "answer_final"

    _login(client, outsider)
    stranger = client.put(f"/api/v1/consultations/{cid}/answer", json={"choice": "no"})
    assert stranger.status_code == 404
    assert stranger.get_json()["error"]["code"] == "consultation_not_found"
    assert client.get("/api/v1/consultations").get_json() == []

    _login(client, office)
    office_answer = client.put(f"/api/v1/consultations/{cid}/answer", json={"choice": "no"})
    assert office_answer.status_code == 403
    assert office_answer.get_json()["error"]["code"] == "not_a_member"
    bad = client.put(f"/api/v1/consultations/{cid}/answer", json={"choice": "maybe"})
    assert bad.status_code == 422

    consultation = db.session.get(Consultation, cid)
    consultation.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    _login(client, members[1])
    late = client.put(f"/api/v1/consultations/{cid}/answer", json={"choice": "yes"})
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "consultation_closed"
    assert _answers(cid) == [(members[0].id, "yes")]

    # Read after the deadline: closed and tallied (1 yes of 3 members: not adopted).
    _login(client, office)
    seen = client.get(f"/api/v1/consultations/{cid}").get_json()
    assert seen["closed_at"] is not None and seen["open"] is False
    assert seen["result"]["passed"] is False and seen["result"]["totals"]["yes"]["count"] == 1
    assert seen["answered_by"] == [members[0].id]


def test_only_the_office_sends_and_bad_bodies_get_422(app, client):
    delegate = factories.make_user()
    _login(client, delegate)
    body = {"title": "T", "question": "Q", "members": [{"user_id": delegate.id}],
            "closes_at": (utcnow() + timedelta(hours=1)).isoformat()}
    assert client.post("/api/v1/consultations", json=body).status_code == 403
    _login(client, factories.make_user(Role.SECRETARY))
    for broken in ({**body, "members": []}, {**body, "closes_at": "tomorrow"},
                   {**body, "extra": 1}, {**body, "members": [{"user_id": delegate.id,
                                                                "weight": 0}]}):
        answer = client.post("/api/v1/consultations", json=broken)
        assert answer.status_code == 422, broken
    assert db.session.scalars(select(Consultation)).all() == []


def test_a_tablet_answers_for_the_account_of_its_paired_participant(app, client):
    from server.models import Device, DeviceKind, MeetingStatus
    from server.services.tokens import new_token, token_digest

    member = factories.make_user()
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    participant = factories.make_participant(meeting, user=member)
    unlinked = factories.make_participant(meeting)  # a delegate without an account
    tokens = {}
    for who in (participant, unlinked):
        tokens[who.id] = new_token()
        db.session.add(Device(meeting_id=meeting.id, participant_id=who.id, kind=DeviceKind.TABLET,
                              token_sha256=token_digest(tokens[who.id]), label="tablet"))
    db.session.commit()
    _login(client, factories.make_user(Role.SECRETARY))
    cid = client.post("/api/v1/consultations", json={
        "title": "Xin ý kiến", "question": "Đồng ý?", "members": [{"user_id": member.id}],
        "closes_at": (utcnow() + timedelta(hours=2)).isoformat()}).get_json()["id"]
    client.post("/api/v1/auth/logout")

    def put(token):
        return client.put(f"/api/v1/consultations/{cid}/answer", json={"choice": "no"},
                          headers={"Authorization": f"Bearer {token}"})

    assert put(tokens[unlinked.id]).status_code == 404
    answered = put(tokens[participant.id])
    assert answered.status_code == 200, answered.get_json()
    assert _answers(cid) == [(member.id, "no")]


def test_the_report_and_the_package_over_rest(app, client):
    """Open: 409 consultation_open. Closed: the sealed report for members and the office, the
    archive package for the office only."""
    import io
    import zipfile

    from server.services.minutes import ca

    ca.init_ca("Hemicycle CA", "Hội đồng nhân dân tỉnh Lâm Đồng")
    ca.issue_office_seal("Văn phòng Hội đồng nhân dân tỉnh Lâm Đồng")
    db.session.commit()
    office = factories.make_user(Role.SECRETARY)
    members = [factories.make_user() for _ in range(2)]
    _login(client, office)
    cid = client.post("/api/v1/consultations", json={
        "title": "Xin ý kiến về quy hoạch", "question": "Đồng ý?",
        "closes_at": (utcnow() + timedelta(hours=2)).isoformat(),
        "members": [{"user_id": m.id} for m in members]}).get_json()["id"]
    early = client.get(f"/api/v1/consultations/{cid}/report.pdf")
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "consultation_open"
    assert client.get(f"/api/v1/consultations/{cid}/package").status_code == 409
    for member in members:
        _login(client, member)
        client.put(f"/api/v1/consultations/{cid}/answer", json={"choice": "yes"})
    _login(client, office)
    assert client.post(f"/api/v1/consultations/{cid}/close").status_code == 200
    report = client.get(f"/api/v1/consultations/{cid}/report.pdf")
    assert report.status_code == 200 and report.mimetype == "application/pdf"
    assert report.data.startswith(b"%PDF") and b"/ByteRange" in report.data
    package = client.get(f"/api/v1/consultations/{cid}/package")
    assert package.status_code == 200 and package.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(package.data)).namelist()
    assert f"hemicycle-consultation-{cid}/data/report/report-signed.pdf" in names
    _login(client, members[0])
    assert client.get(f"/api/v1/consultations/{cid}/report.pdf").status_code == 200
    refused = client.get(f"/api/v1/consultations/{cid}/package")
    assert refused.status_code == 403
    assert client.get("/api/v1/consultations/999999/report.pdf").status_code == 404
