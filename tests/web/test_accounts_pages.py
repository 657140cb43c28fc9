"""The /login and /logout pages: form, redirects, messages, limits and CSRF."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from server import create_app
from server.extensions import db
from server.models import Base, LoginFailure, utcnow
from server.web.accounts import safe_next
from tests import conftest
from tests.factories import PASSWORD, make_user


def post_login(client, username="an", password=PASSWORD, **extra):
    return client.post("/login", data={"username": username, "password": password, **extra})


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def csrf_app(tmp_path):
    app = create_app(conftest.test_config(tmp_path, WTF_CSRF_ENABLED=True))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        yield app
        db.session.remove()


def test_form_has_the_fields(client):
    html = client.get("/login").get_data(as_text=True)
    for name in ("username", "password", "csrf_token"):
        assert f'name="{name}"' in html
    assert 'type="password"' in html


def test_good_login_goes_to_the_meetings(app, client):
    make_user(username="an")
    response = post_login(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/meetings/"
    assert client.get("/api/v1/auth/me").status_code == 200
    # Logged-in people are sent on from the form.
    assert client.get("/login").status_code == 302


@pytest.mark.parametrize("target", ["/meetings/5", "/meetings/5?tab=agenda", "/"])
def test_login_returns_to_a_local_next(app, client, target):
    make_user(username="an")
    response = post_login(client, next=target)
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", "http:/evil.example", "meetings", "/ok\r\nSet-Cookie: x=1", "",
])
def test_login_ignores_an_unsafe_next(app, client, target):
    assert safe_next(target) is None
    make_user(username="an")
    response = post_login(client, next=target)
    assert response.headers["Location"] == "/meetings/"


def test_a_next_with_nul_is_refused_with_the_form(app, client):
    assert safe_next("/\x00/x") is None
    make_user(username="an")
    response = post_login(client, next="/\x00/x")
    assert response.status_code == 422  # no form field may hold NUL (server/security.py)
    assert "Location" not in response.headers
    assert client.get("/api/v1/auth/me").status_code == 401


def test_next_survives_the_form(app, client):
    html = client.get("/login?next=/meetings/7").get_data(as_text=True)
    assert 'name="next" value="/meetings/7"' in html
    assert 'name="next"' not in client.get("/login?next=//evil.example").get_data(as_text=True)


@pytest.mark.parametrize("headers, query, message", [
    ({}, "", "Sai tên đăng nhập hoặc mật khẩu."),
    ({"Accept-Language": "en-US,en;q=0.9"}, "", "Wrong username or password."),
    ({}, "?lang=en", "Wrong username or password."),
])
def test_wrong_password_shows_a_translated_message(app, client, headers, query, message):
    make_user(username="an")
    response = client.post(f"/login{query}", data={"username": "an", "password": "nope"},
                           headers=headers)
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="an"' in html  # the username is kept, the password is not
    assert "nope" not in html


@pytest.mark.parametrize("data", [
    {}, {"username": "an"}, {"password": PASSWORD}, {"username": "   ", "password": PASSWORD},
])
def test_missing_fields_are_refused(app, client, data):
    make_user(username="an")
    response = client.post("/login", data=data)
    assert response.status_code == 422
    assert "Hãy nhập tên đăng nhập và mật khẩu." in response.get_data(as_text=True)


@pytest.mark.parametrize("username, password", [("a" * 65, PASSWORD), ("an", "p" * 1025)])
def test_oversized_fields_are_refused(app, client, username, password):
    make_user(username="an")
    assert post_login(client, username, password).status_code == 401


def test_throttled_login_shows_the_wait(app, client):
    make_user(username="an")
    for _ in range(5):  # from the test client's address: that (account, address) pair waits
        db.session.add(LoginFailure(username="an", remote_addr="127.0.0.1",
                                    at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = post_login(client)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Vui lòng thử lại sau 5 phút." in response.get_data(as_text=True)


def test_logout_ends_the_session(app, client):
    make_user(username="an")
    post_login(client)
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/api/v1/auth/me").status_code == 401


def test_logout_needs_a_post(app, client):
    assert client.get("/logout").status_code == 405


def test_login_form_needs_its_csrf_token(csrf_app):
    client = csrf_app.test_client()
    make_user(username="an")
    refused = post_login(client)
    assert refused.status_code == 400
    assert "Mã bảo mật bị thiếu hoặc đã hết hạn" in refused.get_data(as_text=True)
    assert client.get("/api/v1/auth/me").status_code == 401

    token = csrf_from(client.get("/login").get_data(as_text=True))
    accepted = post_login(client, csrf_token=token)
    assert accepted.status_code == 302
    assert client.get("/api/v1/auth/me").status_code == 200


def test_logout_form_needs_its_csrf_token(csrf_app):
    client = csrf_app.test_client()
    make_user(username="an")
    post_login(client, csrf_token=csrf_from(client.get("/login").get_data(as_text=True)))
    assert client.post("/logout").status_code == 400
    assert client.get("/api/v1/auth/me").status_code == 200
    # Every page has a logout form with the session's token (base.html); it works.
    page = client.get("/no-such-page", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    assert client.get("/api/v1/auth/me").status_code == 401


def test_pages_that_need_a_login_come_back_after_it(app, client):
    make_user(username="an")
    response = client.get("/meetings/?status=draft")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/meetings/?status%3Ddraft"
    form = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/meetings/?status=draft"' in form
    assert post_login(client, next="/meetings/?status=draft").headers["Location"] == \
        "/meetings/?status=draft"
