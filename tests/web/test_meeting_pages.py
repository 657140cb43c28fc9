"""The secretary's preparation pages, driven through real form posts."""
from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from server import create_app
from server.extensions import db
from server.models import (
    AgendaItem, Base, Meeting, MeetingRole, MeetingStatus, Participant, Role,
)
from tests import factories
from tests.conftest import test_config as make_config

MEETING_FORM = {"title": "Kỳ họp thứ 12", "body": "HĐND tỉnh", "starts_at": "2026-12-01T08:00",
                "ends_at": "", "place": "Hội trường A", "reference": "", "description": "",
                "quorum_rule": "majority", "proxy_limit": "1"}


@pytest.fixture
def page(client, auth, secretary):
    auth.login(secretary)
    return client


def html(response) -> str:
    return response.get_data(as_text=True)


def titles(meeting):
    items = db.session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)).all()
    by_parent = {}
    for item in sorted(items, key=lambda i: i.position):
        by_parent.setdefault(item.parent_id, []).append(item)

    def walk(parent_id, depth):
        for item in by_parent.get(parent_id, []):
            yield "  " * depth + item.title
            yield from walk(item.id, depth + 1)
    return list(walk(None, 0))


def test_pages_need_a_login(client, app):
    response = client.get("/meetings/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_index_lists_meetings_and_offers_a_new_one(page):
    factories.make_meeting(title="Phiên họp thường kỳ")
    body = html(page.get("/meetings/"))
    assert "Phiên họp thường kỳ" in body and 'href="/meetings/new"' in body


def test_create_a_meeting_in_local_time(page):
    response = page.post("/meetings/new", data=MEETING_FORM)
    assert response.status_code == 302
    meeting = db.session.scalars(select(Meeting)).one()
    assert response.headers["Location"].endswith(f"/meetings/{meeting.id}/agenda")
    # 08:00 in Hà Nội is 01:00 UTC.
    assert meeting.starts_at == datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("change, message", [
    ({"title": ""}, "title"), ({"starts_at": "mai"}, "starts_at"),
    ({"ends_at": "2026-12-01T07:00"}, "ends_at"), ({"proxy_limit": "many"}, "proxy_limit"),
    ({"quorum_rule": "all"}, "quorum_rule"), ({"title": "x" * 301}, "title"),
])
def test_bad_meeting_forms_are_shown_again(page, change, message):
    response = page.post("/meetings/new", data={**MEETING_FORM, **change})
    assert response.status_code == 422
    assert f'id="{message}-error"' in html(response) or 'class="flash flash-error"' in html(response)
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_edit_and_publish_from_the_overview(page):
    meeting = factories.make_meeting()
    body = html(page.get(f"/meetings/{meeting.id}"))
    assert 'data-field="agenda"' in body and 'data-field="participants.chair"' in body
    response = page.post(f"/meetings/{meeting.id}", data={**MEETING_FORM, "place": "Phòng 204"})
    assert response.status_code == 302 and meeting.place == "Phòng 204"
    refused = page.post(f"/meetings/{meeting.id}/publish")
    assert refused.status_code == 422 and 'data-field="agenda"' in html(refused)
    assert meeting.status == MeetingStatus.DRAFT
    factories.make_item(meeting)
    factories.make_participant(meeting, role=MeetingRole.CHAIR)
    factories.make_participant(meeting)
    assert page.post(f"/meetings/{meeting.id}/publish").status_code == 302
    db.session.refresh(meeting)
    assert meeting.status == MeetingStatus.PUBLISHED
    assert 'data-status="published"' in html(page.get(f"/meetings/{meeting.id}"))


def test_delete_a_draft(page):
    meeting = factories.make_meeting()
    assert page.post(f"/meetings/{meeting.id}/delete").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_build_and_rearrange_the_agenda(page):
    meeting = factories.make_meeting()
    url = f"/meetings/{meeting.id}/agenda"
    for title in ("Khai mạc", "Báo cáo", "Kinh tế", "Bế mạc"):
        assert page.post(url, data={"title": title, "planned_minutes": "10"}).status_code == 302
    ids = {i.title: i.id for i in db.session.scalars(select(AgendaItem))}
    page.post(f"{url}/{ids['Kinh tế']}/move", data={"direction": "indent"})
    assert titles(meeting) == ["Khai mạc", "Báo cáo", "  Kinh tế", "Bế mạc"]
    page.post(f"{url}/{ids['Bế mạc']}/move", data={"direction": "up"})
    assert titles(meeting) == ["Khai mạc", "Bế mạc", "Báo cáo", "  Kinh tế"]
    page.post(f"{url}/{ids['Kinh tế']}/move", data={"direction": "outdent"})
    page.post(f"{url}/{ids['Bế mạc']}/move", data={"direction": "down"})
    assert titles(meeting) == ["Khai mạc", "Báo cáo", "Bế mạc", "Kinh tế"]
    response = page.post(f"{url}/{ids['Báo cáo']}", data={"title": "Báo cáo KT-XH", "presenter": "UBND",
                                                         "planned_minutes": "", "description": ""})
    assert response.status_code == 302
    assert page.post(f"{url}/{ids['Khai mạc']}/delete").status_code == 302
    body = html(page.get(url))
    assert "Báo cáo KT-XH" in body and "Khai mạc" not in body
    assert re.search(r'class="num">1\.</span>\s*<span class="item-title">Báo cáo KT-XH', body)


@pytest.mark.parametrize("data, field", [
    ({"title": ""}, "title"), ({"title": "x", "planned_minutes": "-3"}, "planned_minutes"),
    ({"title": "x", "planned_minutes": "một giờ"}, "planned_minutes"),
    ({"title": "x", "parent_id": "9999"}, "parent_id"),
])
def test_bad_agenda_forms(page, data, field):
    meeting = factories.make_meeting()
    response = page.post(f"/meetings/{meeting.id}/agenda", data=data)
    assert response.status_code == 422 and f'id="{field}-error"' in html(response)
    assert db.session.scalar(select(func.count()).select_from(AgendaItem)) == 0


def test_agenda_moves_refuse_bad_directions_and_foreign_items(page):
    meeting = factories.make_meeting()
    item = factories.make_item(meeting)
    foreign = factories.make_item(factories.make_meeting())
    url = f"/meetings/{meeting.id}/agenda"
    assert page.post(f"{url}/{item.id}/move", data={"direction": "sideways"}).status_code == 422
    assert page.post(f"{url}/{foreign.id}/move", data={"direction": "up"}).status_code == 404
    assert page.post(f"{url}/{foreign.id}/delete").status_code == 404
    assert page.post(f"{url}/{item.id}/move", data={"direction": "up"}).status_code == 302  # no-op


def test_participants_add_import_edit_remove(page):
    meeting = factories.make_meeting()
    user = factories.make_user(full_name="Phạm Minh Chính")
    url = f"/meetings/{meeting.id}/participants"
    assert page.post(url, data={"user_id": str(user.id), "role": "chair", "voting_right": "1"}).status_code == 302
    csv = "full_name;position;weight\nNguyễn Thị Hồng Nhung;Đại biểu;1\nTrần Đức Lương;Đại biểu;2\n"
    response = page.post(f"{url}/import", content_type="multipart/form-data",
                         data={"file": (io.BytesIO(csv.encode("utf-8-sig")), "ds.csv")})
    assert response.status_code == 302
    body = html(page.get(url))
    for name in ("Phạm Minh Chính", "Nguyễn Thị Hồng Nhung", "Trần Đức Lương"):
        assert name in body
    people = {p.full_name: p for p in db.session.scalars(select(Participant))}
    edit = f"{url}/{people['Trần Đức Lương'].id}"
    form = html(page.get(edit + "?lang=en"))
    assert "Gives a proxy to" in form and "Phạm Minh Chính" in form
    assert "Ủy quyền cho" in html(page.get(edit + "?lang=vi"))
    response = page.post(edit, data={"full_name": "Trần Đức Lương", "role": "delegate", "weight": "3",
                                     "voting_right": "1", "position": "", "email": "", "seat": "C1",
                                     "proxy_holder_id": str(people["Phạm Minh Chính"].id)})
    assert response.status_code == 302
    person = db.session.get(Participant, people["Trần Đức Lương"].id)
    db.session.refresh(person)
    assert (person.weight, person.seat, person.proxy_holder_id) == (3, "C1", people["Phạm Minh Chính"].id)
    assert page.post(f"{url}/{people['Nguyễn Thị Hồng Nhung'].id}/delete").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 2


def test_a_bad_csv_shows_its_lines_and_imports_nothing(page):
    meeting = factories.make_meeting()
    csv = "full_name,weight\nNguyễn Văn An,1\nLê Thị Bình,nặng\nNguyễn Văn An,1\n"
    response = page.post(f"/meetings/{meeting.id}/participants/import", content_type="multipart/form-data",
                         data={"file": (io.BytesIO(csv.encode()), "ds.csv")})
    assert response.status_code == 422
    body = html(response)
    assert 'id="import-problems"' in body
    assert re.search(r"<td>3</td><td>weight</td>", body) and re.search(r"<td>4</td><td>full_name</td>", body)
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 0
    empty = page.post(f"/meetings/{meeting.id}/participants/import", content_type="multipart/form-data", data={})
    assert empty.status_code == 422


@pytest.mark.parametrize("data, field", [
    ({"role": "delegate"}, "form"), ({"full_name": "A", "role": "king"}, "role"),
    ({"full_name": "A", "role": "delegate", "weight": "0"}, "weight"),
    ({"full_name": "A", "role": "delegate", "email": "x"}, "email"),
])
def test_bad_participant_forms(page, data, field):
    meeting = factories.make_meeting()
    response = page.post(f"/meetings/{meeting.id}/participants", data=data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html(response) or (field == "form" and "flash-error" in html(response))
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 0


@pytest.mark.parametrize("role", [MeetingRole.CHAIR, MeetingRole.DELEGATE, MeetingRole.OBSERVER])
def test_participants_cannot_open_preparation_pages(client, auth, role):
    user = factories.make_user(Role.CHAIR if role == MeetingRole.CHAIR else Role.DELEGATE)
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    factories.make_participant(meeting, user=user, role=role)
    auth.login(user)
    body = html(client.get("/meetings/"))
    assert meeting.title in body and 'href="/meetings/new"' not in body
    assert f'href="/meetings/{meeting.id}"' not in body
    for url in ("", "/agenda", "/participants"):
        assert client.get(f"/meetings/{meeting.id}{url}").status_code == 403
    assert client.post(f"/meetings/{meeting.id}/agenda", data={"title": "x"}).status_code == 403
    assert client.get("/meetings/new").status_code == 403


def test_pages_follow_the_csp_and_carry_csrf_tokens(page):
    meeting = factories.make_meeting()
    factories.make_item(meeting)
    factories.make_participant(meeting)
    for url in ("/meetings/", "/meetings/new", f"/meetings/{meeting.id}",
                f"/meetings/{meeting.id}/agenda", f"/meetings/{meeting.id}/participants"):
        body = html(page.get(url))
        assert " style=" not in body and "<style" not in body, url
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), url
        forms = re.findall(r'<form method="post".*?</form>', body, re.S)
        assert all('name="csrf_token"' in form for form in forms), url


@pytest.fixture
def csrf_app(tmp_path):
    app = create_app(make_config(tmp_path, WTF_CSRF_ENABLED=True))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        yield app
        db.session.remove()


def test_forms_without_the_csrf_token_are_refused(csrf_app):
    client = csrf_app.test_client()
    factories.make_user(Role.SECRETARY, username="thuky2")
    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', html(login)).group(1)
    client.post("/login", data={"username": "thuky2", "password": factories.PASSWORD, "csrf_token": token})
    assert client.post("/meetings/new", data=MEETING_FORM).status_code == 400
    page = html(client.get("/meetings/new"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/meetings/new", data={**MEETING_FORM, "csrf_token": token}).status_code == 302


def test_form_errors_speak_the_users_language(page):
    page.get("/meetings/?lang=vi")
    body = html(page.post("/meetings/new", data={**MEETING_FORM, "title": "", "proxy_limit": "nhiều"}))
    assert "Trường này là bắt buộc." in body and "Hãy nhập một số." in body
    page.get("/meetings/?lang=en")
    body = html(page.post("/meetings/new", data={**MEETING_FORM, "title": ""}))
    assert "This field is required." in body


def test_after_a_move_the_focus_returns_to_the_item(page):
    meeting = factories.make_meeting()
    first, second = factories.make_item(meeting, "A"), factories.make_item(meeting, "B")
    response = page.post(f"/meetings/{meeting.id}/agenda/{second.id}/move", data={"direction": "up"})
    assert response.headers["Location"].endswith(f"?focus={second.id}&dir=up")
    body = html(page.get(response.headers["Location"]))
    item = body[body.index(f'id="item-{second.id}"'):body.index(f'id="item-{first.id}"')]
    assert "just-changed" in item and re.search(r'value="down"\s+autofocus', item)  # up is disabled now
    assert body.count("autofocus") == 1
