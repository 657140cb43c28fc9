"""Account administration through /api/v1/users: who may do what, and bad input."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import Role, User
from tests.factories import PASSWORD, make_user

NON_ADMINS = [Role.SECRETARY, Role.CHAIR, Role.DELEGATE, Role.OBSERVER]
NEW = {"username": "tran.an", "full_name": "Trần Văn An", "role": "delegate",
       "email": "an@example.vn", "password": "mật khẩu mới 2026"}


@pytest.fixture
def as_role(auth):
    def login_as(role: Role) -> User:
        user = make_user(role)
        auth.login(user)
        return user

    return login_as


def test_anonymous_gets_401_everywhere(app, client):
    user = make_user()
    for method, url, body in [("get", "/api/v1/users", None), ("post", "/api/v1/users", NEW),
                              ("get", f"/api/v1/users/{user.id}", None),
                              ("patch", f"/api/v1/users/{user.id}", {"full_name": "X"})]:
        response = getattr(client, method)(url, json=body)
        assert response.status_code == 401, (method, url)


def test_admin_lists_and_creates_users(app, client, as_role):
    as_role(Role.ADMIN)
    created = client.post("/api/v1/users", json=NEW)
    assert created.status_code == 201
    body = created.get_json()
    assert (body["username"], body["role"], body["active"]) == ("tran.an", "delegate", True)
    listed = client.get("/api/v1/users").get_json()
    assert "tran.an" in [u["username"] for u in listed]
    fresh = app.test_client()
    assert fresh.post("/api/v1/auth/login", json={"username": "tran.an",
                                                  "password": NEW["password"]}).status_code == 200


@pytest.mark.parametrize("role", NON_ADMINS)
def test_non_admins_cannot_list_or_create(app, client, as_role, role):
    as_role(role)
    assert client.get("/api/v1/users").status_code == 403
    assert client.post("/api/v1/users", json=NEW).status_code == 403
    assert db.session.scalar(select(User).where(User.username == "tran.an")) is None


def test_duplicate_username_is_409(app, client, as_role):
    as_role(Role.ADMIN)
    make_user(username="tran.an")
    response = client.post("/api/v1/users", json={**NEW, "username": "Tran.An"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "username_taken"


@pytest.mark.parametrize("changes, field", [
    ({"username": None}, "username"), ({"username": "có dấu"}, "username"),
    ({"username": "a" * 65}, "username"), ({"username": 42}, "username"),
    ({"full_name": ""}, "full_name"), ({"full_name": "x" * 201}, "full_name"),
    ({"full_name": ["Trần"]}, "full_name"), ({"role": "president"}, "role"),
    ({"email": "no-at-sign"}, "email"), ({"email": "a@b." + "c" * 260}, "email"),
    ({"password": "short"}, "password"), ({"password": "p" * 1025}, "password"),
    ({"locale": "de"}, "locale"), ({"session_epoch": 5}, "session_epoch"),
])
def test_create_rejects_bad_input_with_fields(app, client, as_role, changes, field):
    as_role(Role.ADMIN)
    response = client.post("/api/v1/users", json={**NEW, **changes})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_missing_required_fields(app, client, as_role):
    as_role(Role.ADMIN)
    response = client.post("/api/v1/users", json={})
    assert response.status_code == 422
    assert {"username", "full_name"} <= set(response.get_json()["error"]["fields"])


@pytest.mark.parametrize("role", [Role.ADMIN, *NON_ADMINS])
def test_everyone_sees_themselves(app, client, as_role, role):
    me = as_role(role)
    response = client.get(f"/api/v1/users/{me.id}")
    assert response.status_code == 200 and response.get_json()["username"] == me.username


@pytest.mark.parametrize("role", NON_ADMINS)
def test_non_admins_cannot_see_or_change_others(app, client, as_role, role):
    other = make_user(full_name="Người Khác")
    as_role(role)
    assert client.get(f"/api/v1/users/{other.id}").status_code == 403
    assert client.patch(f"/api/v1/users/{other.id}", json={"full_name": "Hacked"}).status_code == 403
    db.session.refresh(other)
    assert other.full_name == "Người Khác"


@pytest.mark.parametrize("role", NON_ADMINS)
def test_non_admins_edit_their_profile_but_not_their_role(app, client, as_role, role):
    me = as_role(role)
    ok = client.patch(f"/api/v1/users/{me.id}", json={"full_name": "Tên Mới", "locale": "en"})
    assert ok.status_code == 200 and ok.get_json()["full_name"] == "Tên Mới"
    for changes in ({"role": "admin"}, {"active": True}):
        assert client.patch(f"/api/v1/users/{me.id}", json=changes).status_code == 403
    db.session.refresh(me)
    assert me.role == role


def test_admin_changes_role_and_resets_password(app, client, as_role):
    as_role(Role.ADMIN)
    user = make_user(Role.DELEGATE)
    response = client.patch(f"/api/v1/users/{user.id}",
                            json={"role": "chair", "password": "reset by admin"})
    assert response.status_code == 200 and response.get_json()["role"] == "chair"
    fresh = app.test_client()
    assert fresh.post("/api/v1/auth/login", json={"username": user.username,
                                                  "password": "reset by admin"}).status_code == 200


def test_admin_cannot_deactivate_themselves(app, client, as_role):
    me = as_role(Role.ADMIN)
    response = client.patch(f"/api/v1/users/{me.id}", json={"active": False})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "self_lockout"


@pytest.mark.parametrize("changes, status, field", [
    ({"password": "brand new pass"}, 422, "current_password"),
    ({"password": "brand new pass", "current_password": "wrong"}, 422, "current_password"),
    ({"full_name": None}, 422, "full_name"),
    ({"password": None}, 422, "password"),
    ({"active": "yes please"}, 422, "active"),
    ({"email": 7}, 422, "email"),
])
def test_patch_rejects_bad_input(app, client, as_role, changes, status, field):
    me = as_role(Role.DELEGATE)
    response = client.patch(f"/api/v1/users/{me.id}", json=changes)
    assert response.status_code == status
    assert field in response.get_json()["error"]["fields"]
    assert client.post("/api/v1/auth/login", json={"username": me.username,
                                                   "password": PASSWORD}).status_code == 200


def test_unknown_user_is_404_for_admins(app, client, as_role):
    as_role(Role.ADMIN)
    assert client.get("/api/v1/users/999999").status_code == 404
    assert client.patch("/api/v1/users/999999", json={"full_name": "X"}).status_code == 404


def test_users_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/users"])
    assert {"get", "patch"} <= set(paths["/api/v1/users/{user_id}"])
    assert "post" in paths["/api/v1/auth/login"] and "patch" in paths["/api/v1/auth/me"]
