"""Values no column can hold are a 4xx before any query runs, on SQLite and on PostgreSQL.

The requests of issue 14 (ids past 2**31-1 answered 500 from the database driver) and the
same kind of value in each other place a client can put one: a JSON body, a form, a query
string, NUL and lone surrogates in text, times far in the past or future.
"""
from __future__ import annotations

import pytest

from server import create_app
from server.extensions import db
from server.models import Base, MeetingRole, MeetingStatus, Role
from tests import factories
from tests.conftest import test_config as config_for
from tests.pg import scratch_database

HUGE = "99999999999999999999999"

# (method, path, role): every request the issue reports, as the role that found it.
ISSUE_REQUESTS = [
    ("GET", f"/api/v1/meetings/{HUGE}", "secretary"),
    ("GET", f"/api/v1/meetings/{HUGE}/agenda", "secretary"),
    ("GET", f"/api/v1/meetings/{HUGE}/live", "secretary"),
    ("GET", "/api/v1/documents/9999999999999999999999", "secretary"),
    ("GET", f"/meetings/{HUGE}", "secretary"),
    ("GET", f"/meetings/{HUGE}/control", "secretary"),
    ("POST", f"/api/v1/meetings/{HUGE}/publish", "secretary"),
    ("POST", f"/api/v1/meetings/{HUGE}/minutes/finalise", "secretary"),
    ("POST", "/api/v1/meetings/2331329061960871732838400/minutes/signatures", "chair"),
    ("GET", "/api/v1/meetings/2147483648", "secretary"),  # the first id past the column
    ("GET", "/api/v1/meetings/0", "secretary"),
    ("GET", f"/api/v1/documents/1/versions/{HUGE}/pages/1.png", "secretary"),
    ("GET", f"/api/v1/documents/1/versions/1/pages/{HUGE}/text", "secretary"),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path):
    """An app on each backend with a secretary and a chair logged in through the API."""
    if request.param == "postgresql":
        with scratch_database(request.getfixturevalue("postgres_url")) as url:
            yield from _world(tmp_path, url)
    else:
        yield from _world(tmp_path, f"sqlite:///{tmp_path / 'test.db'}")


def _world(tmp_path, database_url):
    app = create_app(config_for(tmp_path, DATABASE_URL=database_url))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        secretary = factories.make_user(Role.SECRETARY, username="thuky")
        chair = factories.make_user(Role.DELEGATE, username="chutoa")
        meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
        factories.make_participant(meeting, user=chair, role=MeetingRole.CHAIR)
        db.session.commit()
        clients = {}
        for role, user in (("secretary", secretary), ("chair", chair)):
            clients[role] = app.test_client()
            answer = clients[role].post("/api/v1/auth/login", json={
                "username": user.username, "password": factories.PASSWORD})
            assert answer.status_code == 200
        yield clients, meeting.id
        db.session.remove()

        db.engine.dispose()


def _not_found(answer):
    assert answer.status_code == 404, answer.get_data(as_text=True)[:300]
    if answer.is_json:
        assert answer.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("method, path, role", ISSUE_REQUESTS)
def test_an_id_past_the_column_is_not_found(backend, method, path, role):
    clients, _meeting_id = backend
    accept = {"Accept": "text/html"} if not path.startswith("/api/") else {}
    _not_found(clients[role].open(path, method=method, headers=accept, json={}
                                  if method == "POST" else None))


@pytest.mark.parametrize("body", [
    {"title": "Mục", "parent_id": 2**31},
    {"title": "Mục", "presenter_participant_id": int(HUGE)},
    {"title": "Mục", "planned_minutes": 2**63},
    {"title": "Mục\x00"},
    {"title": "Mục \ud800"},
    {"title\ud800": "Mục"},
])
def test_a_body_value_past_the_column_is_refused(backend, body):
    clients, meeting_id = backend
    answer = clients["secretary"].post(f"/api/v1/meetings/{meeting_id}/agenda", json=body)
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["error"]["code"] in ("invalid_input", "invalid_characters")
    listing = clients["secretary"].get(f"/api/v1/meetings/{meeting_id}/agenda").get_json()
    assert listing["items"] == []  # nothing was half-made


@pytest.mark.parametrize("starts_at", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                                       "1899-12-31T23:59:59+07:00"])
def test_a_time_far_away_is_refused(backend, starts_at):
    clients, _meeting_id = backend
    answer = clients["secretary"].post("/api/v1/meetings", json={
        "title": "Kỳ họp", "body": "HĐND", "starts_at": starts_at})
    assert answer.status_code == 422
    assert "starts_at" in answer.get_json()["error"]["fields"]


@pytest.mark.parametrize("query", ["q=h%E1%BB%8Dp&to=9999-12-31", "q=h%E1%BB%8Dp&from=0001-01-01",
                                   "q=a%00b"])
def test_an_archive_search_out_of_range_is_refused(backend, query):
    clients, _meeting_id = backend
    answer = clients["secretary"].get(f"/api/v1/archive/search?{query}")
    assert answer.status_code == 422


def test_nul_in_a_form_field_is_refused(backend):
    clients, meeting_id = backend
    answer = clients["secretary"].post(f"/meetings/{meeting_id}/edit",
                                       data={"title": "Kỳ\x00họp"}, headers={"Accept": "text/html"})
    assert answer.status_code == 422


def test_nul_in_the_path_is_refused(backend):
    clients, _meeting_id = backend
    answer = clients["secretary"].get("/api/v1/auth/me%00")
    assert answer.status_code in (404, 422)


def test_valid_vietnamese_text_still_passes(backend):
    clients, meeting_id = backend
    answer = clients["secretary"].post(f"/api/v1/meetings/{meeting_id}/agenda",
                                       json={"title": "Báo cáo kinh tế – xã hội 😀"})
    assert answer.status_code == 201, answer.get_json()


@pytest.mark.parametrize("readers", [False, 0, 1.5, {"a": 1}])
def test_readers_that_are_not_a_list_are_refused(backend, readers):
    """Found by bench/fuzz.py: a non-list ``readers`` raised TypeError in its parser (500)."""
    clients, meeting_id = backend
    from io import BytesIO

    from tests.security.world import _pdf

    upload = clients["secretary"].post(f"/api/v1/meetings/{meeting_id}/documents", data={
        "file": (BytesIO(_pdf(1)), "a.pdf")}, content_type="multipart/form-data")
    assert upload.status_code == 201, upload.get_json()
    document_id = upload.get_json()["document"]["id"]
    answer = clients["secretary"].patch(f"/api/v1/documents/{document_id}",
                                        json={"readers": readers})
    assert answer.status_code == 422
    assert "readers" in answer.get_json()["error"]["fields"]
