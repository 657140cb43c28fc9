"""REST: /api/v1/meetings — list, create, read, edit, delete, publish."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry, Meeting, MeetingRole, MeetingStatus, Role
from tests import factories

NEW = {"title": "Kỳ họp thứ 12 HĐND tỉnh", "body": "HĐND tỉnh Lâm Đồng",
       "starts_at": "2026-12-01T08:00:00+07:00", "ends_at": "2026-12-01T11:30:00+07:00",
       "place": "Hội trường A", "quorum_rule": "two_thirds", "proxy_limit": 2}


@pytest.fixture
def logged_in(client, auth, secretary):
    auth.login(secretary)
    return client


def ready_meeting(**kw):
    meeting = factories.make_meeting(**kw)
    factories.make_item(meeting, "Khai mạc")
    factories.make_participant(meeting, role=MeetingRole.CHAIR)
    factories.make_participant(meeting)
    return meeting


def test_create_read_list(logged_in):
    response = logged_in.post("/api/v1/meetings", json=NEW)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["status"] == "draft" and created["quorum_rule"] == "two_thirds"
    assert created["starts_at"].startswith("2026-12-01T01:00:00")  # stored in UTC
    assert logged_in.get(f"/api/v1/meetings/{created['id']}").get_json()["title"] == NEW["title"]
    listed = logged_in.get("/api/v1/meetings?status=draft").get_json()
    assert [m["id"] for m in listed] == [created["id"]]
    assert logged_in.get("/api/v1/meetings?status=published").get_json() == []
    bad = logged_in.get("/api/v1/meetings?status=finished")
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["fields"]


@pytest.mark.parametrize("change, field", [
    ({"title": None}, "title"), ({"title": ""}, "title"), ({"title": 12}, "title"),
    ({"title": "x" * 301}, "title"), ({"starts_at": "tomorrow"}, "starts_at"),
    ({"starts_at": "2026-12-01T08:00:00"}, "starts_at"), ({"proxy_limit": "two"}, "proxy_limit"),
    ({"proxy_limit": 11}, "proxy_limit"), ({"quorum_rule": "most"}, "quorum_rule"),
    ({"reference": "x" * 101}, "reference"), ({"secret": True}, "secret"),
    ({"ends_at": "2026-12-01T07:00:00+07:00"}, "ends_at"),
])
def test_create_rejects_bad_input(logged_in, change, field):
    response = logged_in.post("/api/v1/meetings", json={**NEW, **change})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert db.session.scalars(select(Meeting)).all() == []


@pytest.mark.parametrize("raw, content_type", [
    ("{not json", "application/json"), ("[]", "application/json"), ("title=x", "text/plain"),
])
def test_create_rejects_malformed_bodies(logged_in, raw, content_type):
    response = logged_in.post("/api/v1/meetings", data=raw, content_type=content_type)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] in ("invalid_json", "invalid_input")


def test_patch_and_audit(logged_in, secretary):
    meeting = factories.make_meeting()
    response = logged_in.patch(f"/api/v1/meetings/{meeting.id}", json={"place": "Phòng 204"})
    assert response.status_code == 200 and response.get_json()["place"] == "Phòng 204"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.meeting_id == meeting.id)).one()
    assert (entry.action, entry.actor) == ("meeting.updated", f"user:{secretary.id}")


def test_patch_refuses_end_before_start(logged_in):
    meeting = factories.make_meeting()
    response = logged_in.patch(f"/api/v1/meetings/{meeting.id}",
                               json={"ends_at": "2000-01-01T00:00:00Z"})
    assert response.status_code == 422
    assert "ends_at" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_meeting_is_404(logged_in, method):
    response = getattr(logged_in, method)("/api/v1/meetings/999", json={})
    assert response.status_code == 404


def test_delete_only_drafts(logged_in):
    draft, published = factories.make_meeting(), ready_meeting(status=MeetingStatus.PUBLISHED)
    assert logged_in.delete(f"/api/v1/meetings/{draft.id}").status_code == 204
    assert logged_in.get(f"/api/v1/meetings/{draft.id}").status_code == 404
    response = logged_in.delete(f"/api/v1/meetings/{published.id}")
    assert response.status_code == 409


def test_publish_reports_every_problem_then_publishes(logged_in):
    meeting = factories.make_meeting()
    check = logged_in.get(f"/api/v1/meetings/{meeting.id}/publish").get_json()
    assert check["ready"] is False and "agenda" in check["problems"]
    response = logged_in.post(f"/api/v1/meetings/{meeting.id}/publish")
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {
        "agenda", "participants.chair", "participants.delegates"}
    factories.make_item(meeting)
    factories.make_participant(meeting, role=MeetingRole.CHAIR)
    factories.make_participant(meeting)
    response = logged_in.post(f"/api/v1/meetings/{meeting.id}/publish")
    assert response.status_code == 200 and response.get_json()["status"] == "published"
    assert logged_in.post(f"/api/v1/meetings/{meeting.id}/publish").status_code == 409


def test_anonymous_gets_401(client, app):
    meeting = factories.make_meeting()
    assert client.get("/api/v1/meetings").status_code == 401
    assert client.get(f"/api/v1/meetings/{meeting.id}").status_code == 401
    assert client.post("/api/v1/meetings", json=NEW).status_code == 401


@pytest.mark.parametrize("role", [MeetingRole.CHAIR, MeetingRole.DELEGATE, MeetingRole.OBSERVER])
def test_participants_cannot_prepare(client, auth, role):
    user = factories.make_user(Role.CHAIR if role == MeetingRole.CHAIR else Role.DELEGATE)
    meeting = ready_meeting(status=MeetingStatus.PUBLISHED)
    draft = factories.make_meeting()
    for m in (meeting, draft):
        factories.make_participant(m, user=user, role=role)
    auth.login(user)
    assert client.get(f"/api/v1/meetings/{meeting.id}").status_code == 200
    assert client.patch(f"/api/v1/meetings/{meeting.id}", json={"place": "x"}).status_code == 403
    assert client.post("/api/v1/meetings", json=NEW).status_code == 403
    # A draft is invisible to them: it does not even exist.
    assert client.get(f"/api/v1/meetings/{draft.id}").status_code == 404
    assert client.post(f"/api/v1/meetings/{draft.id}/publish").status_code == 404
    assert [m["id"] for m in client.get("/api/v1/meetings").get_json()] == [meeting.id]


def test_meeting_secretary_by_participation_can_prepare(client, auth):
    user = factories.make_user(Role.DELEGATE)
    meeting = factories.make_meeting()
    factories.make_participant(meeting, user=user, role=MeetingRole.SECRETARY)
    auth.login(user)
    assert client.patch(f"/api/v1/meetings/{meeting.id}", json={"place": "x"}).status_code == 200


def test_openapi_documents_the_preparation_api(client):
    document = client.get("/api/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths["/api/v1/meetings/{meeting_id}"]) == {"get", "patch", "delete"}
    assert paths["/api/v1/meetings"]["post"]["responses"]["201"]
    upload = paths["/api/v1/meetings/{meeting_id}/participants/import"]["post"]["requestBody"]
    assert set(upload["content"]) == {"multipart/form-data", "text/csv"}
    assert "secretar" in paths["/api/v1/meetings/{meeting_id}/publish"]["post"]["description"]


def test_a_paired_tablet_sees_its_own_meeting_only(client, app):
    from tests.realtime.seed import seed_meeting

    seeded = seed_meeting(pair_tablet=True)
    factories.make_meeting(title="Khác", status=MeetingStatus.PUBLISHED)
    headers = {"Authorization": f"Bearer {seeded.tablet_token}"}
    listed = client.get("/api/v1/meetings", headers=headers)
    assert listed.status_code == 200
    assert [m["id"] for m in listed.get_json()] == [seeded.meeting.id]
    item = seeded.items[0]
    assert client.get(f"/api/v1/meetings/{seeded.meeting.id}/agenda", headers=headers).status_code == 200
    response = client.patch(f"/api/v1/meetings/{seeded.meeting.id}/agenda/{item.id}",
                            json={"title": "x"}, headers=headers)
    assert response.status_code == 403
