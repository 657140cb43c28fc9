"""REST: /api/v1/meetings/<id>/agenda — tree, add, edit, delete, move, reorder."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import AgendaItem, MeetingEvent, MeetingRole, MeetingStatus, Role
from tests import factories


@pytest.fixture
def meeting(app):
    return factories.make_meeting()


@pytest.fixture
def logged_in(client, auth, secretary):
    auth.login(secretary)
    return client


def url(meeting, tail=""):
    return f"/api/v1/meetings/{meeting.id}/agenda{tail}"


def numbers(tree):
    out = []
    for node in tree:
        out.append((node["number"], node["title"]))
        out.extend(numbers(node["children"]))
    return out


def test_build_a_nested_agenda(logged_in, meeting):
    first = logged_in.post(url(meeting), json={"title": "Khai mạc", "planned_minutes": 10})
    assert first.status_code == 201
    report_id = logged_in.post(url(meeting), json={"title": "Báo cáo"}).get_json()["items"][1]["id"]
    tree = logged_in.post(url(meeting), json={"title": "Kinh tế", "parent_id": report_id,
                                              "presenter": "Sở Kế hoạch", "planned_minutes": 30})
    assert numbers(tree.get_json()["items"]) == [("1", "Khai mạc"), ("2", "Báo cáo"), ("2.1", "Kinh tế")]
    got = logged_in.get(url(meeting)).get_json()
    assert got["total_minutes"] == 40 and got["items"][1]["children"][0]["presenter_name"] == "Sở Kế hoạch"


def test_edit_move_delete(logged_in, meeting):
    a, b = factories.make_item(meeting, "A"), factories.make_item(meeting, "B")
    response = logged_in.patch(url(meeting, f"/{a.id}"), json={"title": "A mới", "planned_minutes": 5})
    assert response.status_code == 200
    moved = logged_in.post(url(meeting, f"/{a.id}/move"), json={"parent_id": b.id, "position": 0})
    assert numbers(moved.get_json()["items"]) == [("1", "B"), ("1.1", "A mới")]
    assert logged_in.delete(url(meeting, f"/{b.id}")).status_code == 204
    assert logged_in.get(url(meeting)).get_json()["items"] == []
    assert db.session.scalar(select(func.count()).select_from(AgendaItem)) == 0


def test_reorder_with_a_full_tree(logged_in, meeting):
    a, b = factories.make_item(meeting, "A"), factories.make_item(meeting, "B")
    response = logged_in.put(url(meeting), json={"items": [{"id": b.id, "children": [{"id": a.id}]}]})
    assert numbers(response.get_json()["items"]) == [("1", "B"), ("1.1", "A")]
    response = logged_in.put(url(meeting), json={"items": [{"id": b.id}]})
    assert response.status_code == 422 and "items" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("body, field", [
    ({}, "title"), ({"title": ""}, "title"), ({"title": None}, "title"), ({"title": ["x"]}, "title"),
    ({"title": "x" * 501}, "title"), ({"title": "x", "planned_minutes": -5}, "planned_minutes"),
    ({"title": "x", "planned_minutes": 1441}, "planned_minutes"),
    ({"title": "x", "planned_minutes": 1.5}, "planned_minutes"),
    ({"title": "x", "parent_id": "first"}, "parent_id"), ({"title": "x", "parent_id": 9999}, "parent_id"),
    ({"title": "x", "presenter_participant_id": 9999}, "presenter_participant_id"),
    ({"title": "x", "position": -1}, "position"), ({"title": "x", "colour": "red"}, "colour"),
])
def test_add_rejects_bad_input(logged_in, meeting, body, field):
    response = logged_in.post(url(meeting), json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(AgendaItem)) == 0


@pytest.mark.parametrize("body, field", [
    ({"position": 0, "parent_id": "x"}, "parent_id"), ({"parent_id": None}, "position"),
    ({"position": "last"}, "position"),
])
def test_move_rejects_bad_input(logged_in, meeting, body, field):
    item = factories.make_item(meeting)
    response = logged_in.post(url(meeting, f"/{item.id}/move"), json=body)
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]


def test_items_of_another_meeting_are_404(logged_in, meeting):
    foreign = factories.make_item(factories.make_meeting())
    assert logged_in.patch(url(meeting, f"/{foreign.id}"), json={"title": "x"}).status_code == 404
    assert logged_in.delete(url(meeting, f"/{foreign.id}")).status_code == 404
    assert logged_in.post(url(meeting, f"/{foreign.id}/move"), json={"position": 0}).status_code == 404
    assert logged_in.get("/api/v1/meetings/999/agenda").status_code == 404
    assert db.session.get(AgendaItem, foreign.id).title != "x"


def test_published_agenda_changes_are_events(logged_in):
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    logged_in.post(url(meeting), json={"title": "Bổ sung"})
    event = db.session.scalars(select(MeetingEvent)).one()
    assert event.type == "agenda.changed" and event.payload["items"][0]["title"] == "Bổ sung"


@pytest.mark.parametrize("role", [MeetingRole.CHAIR, MeetingRole.DELEGATE, MeetingRole.OBSERVER])
def test_participants_read_but_cannot_change(client, auth, role):
    user = factories.make_user(Role.DELEGATE)
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    item = factories.make_item(meeting, "A")
    factories.make_participant(meeting, user=user, role=role)
    auth.login(user)
    assert client.get(url(meeting)).status_code == 200
    assert client.post(url(meeting), json={"title": "x"}).status_code == 403
    assert client.patch(url(meeting, f"/{item.id}"), json={"title": "x"}).status_code == 403
    assert client.delete(url(meeting, f"/{item.id}")).status_code == 403
    assert client.post(url(meeting, f"/{item.id}/move"), json={"position": 0}).status_code == 403


def test_anonymous_gets_401(client, meeting):
    assert client.get(url(meeting)).status_code == 401
    assert client.post(url(meeting), json={"title": "x"}).status_code == 401


def test_absurdly_nested_json_is_refused_not_a_crash(logged_in, meeting):
    response = logged_in.post(url(meeting), data="[" * 100_000 + "]" * 100_000,
                              content_type="application/json")
    assert response.status_code == 422
    nested = {"id": 1}
    for _ in range(300):
        nested = {"id": 1, "children": [nested]}
    response = logged_in.put(url(meeting), json={"items": [nested]})
    assert response.status_code == 422


@pytest.mark.parametrize("body, field", [
    ({"title": None}, "title"), ({"title": ""}, "title"), ({"planned_minutes": 2000}, "planned_minutes"),
    ({"presenter": "x" * 201}, "presenter"), ({"presenter_participant_id": 4242}, "presenter_participant_id"),
    ({"parent_id": 1}, "parent_id"),
])
def test_patch_rejects_bad_input(logged_in, meeting, body, field):
    item = factories.make_item(meeting, "Giữ nguyên")
    response = logged_in.patch(url(meeting, f"/{item.id}"), json=body)
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]
    db.session.refresh(item)
    assert item.title == "Giữ nguyên"
