"""REST: /api/v1/meetings/<id>/participants — list, add, edit, remove, CSV import."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEntry, MeetingRole, MeetingStatus, Participant, Role
from tests import factories

CSV = ("full_name,email,position,role,voting_right,weight,seat\n"
       "Nguyễn Thị Hồng Nhung,nhung@example.vn,Chủ tịch,chair,yes,1,A1\n"
       "Trần Đức Lương,,Đại biểu,delegate,yes,2,A2\n")


@pytest.fixture
def meeting(app):
    return factories.make_meeting(proxy_limit=1)


@pytest.fixture
def logged_in(client, auth, secretary):
    auth.login(secretary)
    return client


def url(meeting, tail=""):
    return f"/api/v1/meetings/{meeting.id}/participants{tail}"


def count(meeting):
    return db.session.scalar(select(func.count()).where(Participant.meeting_id == meeting.id))


def test_add_edit_list_remove(logged_in, meeting):
    user = factories.make_user(full_name="Phạm Minh Chính")
    linked = logged_in.post(url(meeting), json={"user_id": user.id, "role": "chair"})
    assert linked.status_code == 201
    assert linked.get_json()["full_name"] == "Phạm Minh Chính"
    assert linked.get_json()["username"] == user.username
    named = logged_in.post(url(meeting), json={"full_name": "Võ Văn Thưởng", "weight": 1.5}).get_json()
    proxied = logged_in.patch(url(meeting, f"/{named['id']}"),
                              json={"proxy_holder_id": linked.get_json()["id"], "seat": "B3"})
    assert proxied.status_code == 200 and proxied.get_json()["proxy_holder_id"] == linked.get_json()["id"]
    listed = logged_in.get(url(meeting)).get_json()
    assert [p["full_name"] for p in listed] == ["Võ Văn Thưởng", "Phạm Minh Chính"]  # seat order
    assert listed[0]["weight"] == 1.5
    assert logged_in.delete(url(meeting, f"/{named['id']}")).status_code == 204
    assert count(meeting) == 1


@pytest.mark.parametrize("body, field", [
    ({}, "body"), ({"full_name": ""}, "full_name"), ({"full_name": 7}, "full_name"),
    ({"full_name": "A" * 201}, "full_name"), ({"full_name": "A", "weight": 0}, "weight"),
    ({"full_name": "A", "weight": "heavy"}, "weight"), ({"full_name": "A", "weight": 10**6}, "weight"),
    ({"full_name": "A", "role": "president"}, "role"), ({"full_name": "A", "voting_right": "perhaps"}, "voting_right"),
    ({"full_name": "A", "email": "nope"}, "email"), ({"user_id": 4242}, "user_id"),
    ({"full_name": "A", "proxy_holder_id": 4242}, "proxy_holder_id"), ({"full_name": "A", "x": 1}, "x"),
])
def test_add_rejects_bad_input(logged_in, meeting, body, field):
    response = logged_in.post(url(meeting), json=body)
    assert response.status_code == 422, response.get_json()
    fields = response.get_json()["error"]["fields"]
    assert field in fields or (field == "body" and fields)
    assert count(meeting) == 0


def test_proxy_chain_is_refused(logged_in, meeting):
    a, b, c = (factories.make_participant(meeting) for _ in range(3))
    assert logged_in.patch(url(meeting, f"/{a.id}"), json={"proxy_holder_id": b.id}).status_code == 200
    response = logged_in.patch(url(meeting, f"/{b.id}"), json={"proxy_holder_id": c.id})
    assert response.status_code == 422 and "proxy_holder_id" in response.get_json()["error"]["fields"]


def test_duplicate_user_is_409(logged_in, meeting):
    user = factories.make_user()
    factories.make_participant(meeting, user=user)
    assert logged_in.post(url(meeting), json={"user_id": user.id}).status_code == 409


def test_other_meetings_participants_are_404(logged_in, meeting):
    foreign = factories.make_participant(factories.make_meeting())
    assert logged_in.patch(url(meeting, f"/{foreign.id}"), json={"seat": "1"}).status_code == 404
    assert logged_in.delete(url(meeting, f"/{foreign.id}")).status_code == 404
    assert db.session.get(Participant, foreign.id) is not None


def test_import_multipart(logged_in, meeting):
    response = logged_in.post(url(meeting, "/import"), content_type="multipart/form-data",
                              data={"file": (io.BytesIO(b"\xef\xbb\xbf" + CSV.encode()), "ds.csv")})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["imported"] == 2
    assert [p["full_name"] for p in body["participants"]] == ["Nguyễn Thị Hồng Nhung", "Trần Đức Lương"]
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.meeting_id == meeting.id)).all()
    assert actions == ["participant.imported"]


def test_import_text_csv_body(logged_in, meeting):
    response = logged_in.post(url(meeting, "/import"), data=CSV.replace(",", ";").encode(),
                              content_type="text/csv; charset=utf-8")
    assert response.status_code == 201 and response.get_json()["imported"] == 2


@pytest.mark.parametrize("data, line, column", [
    ("full_name\nTr\u00e2\u0300n V\u0103n A\n".encode("cp1258"), 2, None),
    ("full_name,position\nJosé,Señor\n".encode("latin-1"), 2, None),
    (b"email\na@b.vn\n", 1, "full_name"),
    (b"full_name,weight\nAn,1\nBinh,abc\n", 3, "weight"),
    (b"full_name,weight\nAn,-1\n", 2, "weight"),
    ("full_name\nAn\nBình\nAn\n".encode(), 4, "full_name"),
    (b"", 1, None),
    (("full_name\n" + "".join(f"P{i}\n" for i in range(2001))).encode(), 2002, None),
])
def test_import_rejects_bad_files_and_imports_nothing(logged_in, meeting, data, line, column):
    factories.make_participant(meeting, full_name="Đã Có")
    response = logged_in.post(url(meeting, "/import"), content_type="multipart/form-data",
                              data={"file": (io.BytesIO(data), "ds.csv")})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "csv_rejected"
    assert {"line": line, "column": column} in [
        {"line": p["line"], "column": p["column"]} for p in error["problems"]]
    assert count(meeting) == 1


def test_import_needs_a_file(logged_in, meeting):
    response = logged_in.post(url(meeting, "/import"), content_type="multipart/form-data",
                              data={"other": (io.BytesIO(CSV.encode()), "ds.csv")})
    assert response.status_code == 422 and "file" in response.get_json()["error"]["fields"]
    response = logged_in.post(url(meeting, "/import"), json={"csv": CSV})
    assert response.status_code == 415
    response = logged_in.post(url(meeting, "/import"), data=b"x" * (2 * 1024 * 1024),
                              content_type="text/csv")
    assert response.status_code == 413
    assert count(meeting) == 0


@pytest.mark.parametrize("role", [MeetingRole.DELEGATE, MeetingRole.OBSERVER])
def test_delegates_and_observers_cannot_see_or_change(client, auth, role):
    user = factories.make_user(Role.DELEGATE)
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    factories.make_participant(meeting, user=user, role=role)
    auth.login(user)
    assert client.get(url(meeting)).status_code == 403
    assert client.post(url(meeting), json={"full_name": "X"}).status_code == 403
    response = client.post(url(meeting, "/import"), data=CSV.encode(), content_type="text/csv")
    assert response.status_code == 403
    assert count(meeting) == 1


def test_chair_reads_but_cannot_change(client, auth):
    user = factories.make_user(Role.CHAIR)
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    me = factories.make_participant(meeting, user=user, role=MeetingRole.CHAIR)
    auth.login(user)
    assert client.get(url(meeting)).status_code == 200
    assert client.patch(url(meeting, f"/{me.id}"), json={"weight": 5}).status_code == 403
    assert client.delete(url(meeting, f"/{me.id}")).status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"weight": None}, "weight"), ({"role": None}, "role"), ({"full_name": None}, "full_name"),
    ({"voting_right": None}, "voting_right"), ({"weight": -2}, "weight"), ({"seat": 12}, "seat"),
    ({"proxy_holder_id": 0}, "proxy_holder_id"), ({"user_id": 3}, "user_id"),
])
def test_patch_rejects_bad_input(logged_in, meeting, body, field):
    person = factories.make_participant(meeting, full_name="Hoàng Văn Thụ")
    response = logged_in.patch(url(meeting, f"/{person.id}"), json=body)
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]
    db.session.refresh(person)
    assert (person.full_name, person.weight, person.role) == ("Hoàng Văn Thụ", 1, MeetingRole.DELEGATE)
