"""Logging in and out through /api/v1/auth, sessions, and CSRF on the JSON API."""
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from server import create_app
from server.config import Config
from server.extensions import db
from server.models import Base, Device, LoginFailure, MeetingStatus, Role, utcnow
from server.services.tokens import token_digest
from tests import conftest
from tests.conftest import AuthActions
from tests.factories import PASSWORD, make_meeting, make_participant, make_user

LOGIN = "/api/v1/auth/login"


def login(client, username, password=PASSWORD):
    return client.post(LOGIN, json={"username": username, "password": password})


@pytest.fixture
def csrf_app(tmp_path):
    """An app that checks CSRF tokens, as in production."""
    app = create_app(conftest.test_config(tmp_path, WTF_CSRF_ENABLED=True))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        yield app
        db.session.remove()


def test_login_returns_user_and_csrf_token_and_sets_a_safe_cookie(app, client):
    user = make_user(Role.SECRETARY, username="thuky")
    response = login(client, "thuky")
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["id"] == user.id and body["user"]["role"] == "secretary"
    assert "password_hash" not in body["user"]
    assert len(body["csrf_token"]) > 20
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("insecure, secure", [(None, True), ("0", True), ("1", False)])
def test_cookies_are_secure_unless_the_deployment_says_plain_http(monkeypatch, tmp_path, insecure,
                                                                   secure):
    monkeypatch.delenv("HEMICYCLE_INSECURE_COOKIES", raising=False)
    if insecure is not None:
        monkeypatch.setenv("HEMICYCLE_INSECURE_COOKIES", insecure)
    config = Config.from_env(SECRET_KEY="x", DATA_DIR=tmp_path)
    assert (config.SESSION_COOKIE_SECURE, config.SESSION_COOKIE_HTTPONLY,
            config.SESSION_COOKIE_SAMESITE) == (secure, True, "Lax")


def test_secure_session_cookie_is_marked_so(tmp_path):
    app = create_app(conftest.test_config(tmp_path, SESSION_COOKIE_SECURE=True))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        make_user(username="an")
        response = login(app.test_client(), "an")
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("username, password", [("thuky", "wrong"), ("nobody", PASSWORD)])
def test_bad_credentials_get_the_same_401(app, client, username, password):
    make_user(username="thuky")
    response = login(client, username, password)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "bad_credentials"
    assert client.get("/api/v1/auth/me").status_code == 401


def test_throttled_login_says_when_to_retry(app, client):
    make_user(username="thuky")
    for _ in range(5):  # from the address the test client logs in from: the pair is throttled
        db.session.add(LoginFailure(username="thuky", remote_addr="127.0.0.1",
                                    at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = login(client, "thuky")
    assert response.status_code == 429
    error = response.get_json()["error"]
    assert error["code"] == "login_throttled"
    assert 0 < error["retry_after"] <= 300
    assert response.headers["Retry-After"] == str(error["retry_after"])


@pytest.mark.parametrize("payload, field", [
    ({}, "username"),
    ({"username": "an"}, "password"),
    ({"username": 5, "password": PASSWORD}, "username"),
    ({"username": "an", "password": ["x"]}, "password"),
    ({"username": "", "password": PASSWORD}, "username"),
    ({"username": "a" * 65, "password": PASSWORD}, "username"),
    ({"username": "an", "password": "p" * 1025}, "password"),
    ({"username": "an", "password": PASSWORD, "remember": True}, "remember"),
])
def test_bad_login_input_is_422_with_fields(app, client, payload, field):
    make_user(username="an")
    response = client.post(LOGIN, json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("data, content_type", [
    ("not json", "application/json"), ("[1, 2]", "application/json"),
    ("username=an", "application/x-www-form-urlencoded"), ('{"username": "an",', "application/json"),
])
def test_login_body_must_be_a_json_object(app, client, data, content_type):
    response = client.post(LOGIN, data=data, content_type=content_type)
    assert response.status_code == 422


def test_login_rotates_the_session(app, client):
    user = make_user(username="an")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["csrf_token"] = "fixed-token"
    before = client.get_cookie("session").value
    login(client, "an")
    assert client.get_cookie("session").value != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != "fixed-token"
        assert session["_user_id"] == f"{user.id}:{user.session_epoch}"


def test_me_and_logout(app, client):
    auth = AuthActions(client)
    assert client.get("/api/v1/auth/me").status_code == 401
    user = make_user(username="an")
    auth.login(user)
    assert client.get("/api/v1/auth/me").get_json()["username"] == "an"
    assert auth.logout().status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_password_change_ends_other_sessions_only(app):
    user = make_user(username="an")
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "an")
    login(elsewhere, "an")
    response = here.patch(f"/api/v1/users/{user.id}",
                          json={"password": "a whole new one", "current_password": PASSWORD})
    assert response.status_code == 200
    assert here.get("/api/v1/auth/me").status_code == 200
    assert elsewhere.get("/api/v1/auth/me").status_code == 401
    assert login(elsewhere, "an").status_code == 401
    assert login(elsewhere, "an", "a whole new one").status_code == 200


def test_deactivated_users_session_ends(app):
    make_user(Role.ADMIN, username="qt")
    user = make_user(username="an")
    admins, users = app.test_client(), app.test_client()
    login(admins, "qt")
    login(users, "an")
    assert admins.patch(f"/api/v1/users/{user.id}", json={"active": False}).status_code == 200
    assert users.get("/api/v1/auth/me").status_code == 401


def test_saving_my_language(app, client):
    user = make_user(username="an")
    assert client.patch("/api/v1/auth/me", json={"locale": "en"}).status_code == 401
    login(client, "an")
    assert client.patch("/api/v1/auth/me", json={"locale": "en"}).get_json()["locale"] == "en"
    db.session.refresh(user)
    assert user.locale == "en"


@pytest.mark.parametrize("payload", [{"locale": "fr"}, {"locale": 1}, {}, {"role": "admin"}])
def test_saving_my_language_rejects_bad_input(app, client, payload):
    make_user(username="an")
    login(client, "an")
    response = client.patch("/api/v1/auth/me", json=payload)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]


# -- CSRF ----------------------------------------------------------------------

def test_csrf_login_needs_no_token_but_changes_do(csrf_app):
    client = csrf_app.test_client()
    make_user(username="an")
    token = login(client, "an").get_json()["csrf_token"]

    refused = client.patch("/api/v1/auth/me", json={"locale": "en"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    forged = client.patch("/api/v1/auth/me", json={"locale": "en"}, headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 400

    accepted = client.patch("/api/v1/auth/me", json={"locale": "en"}, headers={"X-CSRFToken": token})
    assert accepted.status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 400
    assert client.get("/api/v1/auth/me").status_code == 200  # still logged in
    assert client.post("/api/v1/auth/logout", headers={"X-CSRFToken": token}).status_code == 204


def test_csrf_is_not_asked_of_bearer_token_requests(csrf_app):
    meeting = make_meeting(status=MeetingStatus.PUBLISHED)
    participant = make_participant(meeting)
    token = secrets.token_urlsafe(32)
    db.session.add(Device(meeting_id=meeting.id, participant_id=participant.id,
                          token_sha256=token_digest(token)))
    db.session.commit()
    response = csrf_app.test_client().post("/api/v1/auth/logout",
                                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204


def test_a_bearer_header_does_not_let_a_cookie_session_skip_csrf(csrf_app):
    client = csrf_app.test_client()
    make_user(username="an")
    login(client, "an")
    # No CSRF check, but the cookie no longer authenticates: nothing changes.
    response = client.patch("/api/v1/auth/me", json={"locale": "en"},
                            headers={"Authorization": "Bearer not-a-device"})
    assert response.status_code == 401
