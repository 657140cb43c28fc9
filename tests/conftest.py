"""Shared fixtures: an app on a fresh SQLite database, clients, services, live servers."""
from __future__ import annotations

import os

import pytest

from server import create_app
from server.extensions import db
from server.models import Base, Role
from tests import factories

REQUIRE_SERVICES = os.environ.get("HEMICYCLE_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get(
    "HEMICYCLE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("HEMICYCLE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def service_unavailable(what: str, reason: str):
    """Skip when a real service is absent, but fail when CI says it must be there."""
    message = f"{what} is not reachable: {reason}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (HEMICYCLE_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def test_config(tmp_path, **overrides) -> dict:
    config = {
        "DATA_DIR": tmp_path / "data",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}",
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "ASYNC_MODE": "threading",
        "SESSION_COOKIE_SECURE": False,
        "WTF_CSRF_ENABLED": False,
    }
    config.update(overrides)
    extra = {k: config.pop(k) for k in list(config) if k.startswith("WTF_")}
    config["extra"] = extra
    return config


@pytest.fixture
def app(tmp_path):
    from server.realtime import context, ticks

    ticks.forget_all()  # a tick gathered by an earlier test's meeting must not reach this one's
    context.forget_senders()  # nor an earlier test's device its rate budget (ids repeat)
    app = create_app(test_config(tmp_path))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        yield app
        db.session.remove()
    ticks.forget_all()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def postgres_url():
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any connection failure means "not here"
        service_unavailable("PostgreSQL", str(exc).splitlines()[0])
    return POSTGRES_URL


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        service_unavailable("Redis", str(exc))
    return REDIS_URL


@pytest.fixture
def two_workers(tmp_path, postgres_url, redis_url):
    """Two server processes on a scratch PostgreSQL database, sharing Redis (tests/live.py)."""
    from tests.live import scaled_out
    from tests.pg import scratch_database

    with scratch_database(postgres_url) as database_url, \
            scaled_out(tmp_path, database_url, redis_url) as workers:
        yield workers


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's) for the whole run, shared by every browser test:
    Playwright's sync API allows one running instance per thread."""
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        service_unavailable("Chromium", f"{CHROMIUM} is missing (scripts/setup --dev installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class AuthActions:
    """Log in and out through the real login endpoint, as a browser would."""

    def __init__(self, client):
        self.client = client

    def login(self, user, password=factories.PASSWORD):
        response = self.client.post("/api/v1/auth/login",
                                    json={"username": user.username, "password": password})
        assert response.status_code == 200, response.get_json()
        return response

    def logout(self):
        return self.client.post("/api/v1/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def secretary(app):
    return factories.make_user(Role.SECRETARY, username="thuky", full_name="Lê Thị Thư Ký")


@pytest.fixture
def admin(app):
    return factories.make_user(Role.ADMIN, username="quantri", full_name="Phạm Quản Trị")
