"""Behind nginx, login limits count the client's address, never nginx's or a forged one.

Without HEMICYCLE_TRUSTED_PROXIES every client behind the proxy shares its address, so the
per-(account, address) back-off of finding 10 collapses into one bucket; with it set, the
address nginx appends to X-Forwarded-For is used, and what the client put before it is not.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server import create_app
from server.config import Config
from server.extensions import db
from server.models import Base, LoginFailure
from tests import factories
from tests.conftest import test_config


@pytest.fixture
def behind_nginx(tmp_path):
    app = create_app(test_config(tmp_path, TRUSTED_PROXIES=1))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        yield app
        db.session.remove()


def _fail_login(client, username, forwarded_for):
    return client.post("/api/v1/auth/login", json={"username": username, "password": "wrong"},
                       headers={"X-Forwarded-For": forwarded_for},
                       environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code


def test_the_client_address_nginx_forwards_is_the_one_counted(behind_nginx):
    factories.make_user(username="thuky-proxy")
    client = behind_nginx.test_client()
    # nginx appends the real peer: a client's own X-Forwarded-For entry comes before it.
    assert _fail_login(client, "thuky-proxy", "6.6.6.6, 10.0.0.21") == 401
    assert _fail_login(client, "thuky-proxy", "10.0.0.22") == 401
    addresses = sorted(f.remote_addr for f in db.session.scalars(select(LoginFailure)))
    assert addresses == ["10.0.0.21", "10.0.0.22"]


def test_without_the_setting_a_forwarded_address_is_not_believed(app, client):
    factories.make_user(username="chutoa-proxy")
    assert _fail_login(client, "chutoa-proxy", "10.0.0.23") == 401
    assert [f.remote_addr for f in db.session.scalars(select(LoginFailure))] == ["127.0.0.1"]


@pytest.mark.parametrize("value", ["-1", "x", "9", "1.5"])
def test_a_bad_setting_is_refused_at_start(monkeypatch, value):
    monkeypatch.setenv("HEMICYCLE_TRUSTED_PROXIES", value)
    with pytest.raises(ValueError, match="HEMICYCLE_TRUSTED_PROXIES"):
        Config.from_env()
