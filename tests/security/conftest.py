"""Fixtures of the security suites: a seeded world copied per test, a client per role."""
from __future__ import annotations

import pytest

from server import create_app
from server.extensions import db
from tests import factories
from tests.conftest import test_config
from tests.security import world as worlds


@pytest.fixture(scope="session")
def world_template(tmp_path_factory):
    return worlds.build(tmp_path_factory.mktemp("security-world") / "w")


class RoleClients:
    """One Flask test client per role, logged in (accounts) or carrying its bearer token."""

    def __init__(self, app, world: worlds.World):
        self.app, self.world = app, world
        self._clients: dict = {}

    def __getitem__(self, role: str):
        if role not in self._clients:
            client = self.app.test_client()
            if role in worlds.ACCOUNT_ROLES:
                answer = client.post("/api/v1/auth/login", json={
                    "username": self.world.usernames[role], "password": factories.PASSWORD})
                assert answer.status_code == 200, answer.get_json()
            self._clients[role] = client
        return self._clients[role]

    def headers(self, role: str) -> dict:
        token = self.world.tokens.get(role)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, role: str, method: str, url: str, **kw):
        headers = {**self.headers(role), **kw.pop("headers", {})}
        return self[role].open(url, method=method, headers=headers, **kw)


@pytest.fixture
def world_app(tmp_path, world_template):
    """A copy of the seeded world and an app on it (its context pushed)."""
    world = worlds.copy(world_template, tmp_path / "w")
    app = create_app(test_config(world.root, DOCUMENT_RENDER_INLINE=True))
    with app.app_context():
        yield app, world
        db.session.remove()


@pytest.fixture
def roles(world_app):
    app, world = world_app
    clients = RoleClients(app, world)
    for role in worlds.ROLES:
        clients[role]  # log everyone in before the test looks at the database
    return clients


class LiveWorld:
    """A live server process on a copy of the seeded world; this process reads the same file."""

    def __init__(self, app, world: worlds.World, server):
        self.app, self.world, self.server = app, world, server

    @property
    def url(self) -> str:
        return self.server.url


def start_live_world(template: worlds.World, root, **server_kw):
    from tests.live import LiveServer

    world = worlds.copy(template, root)
    app = create_app(test_config(world.root))
    context = app.app_context()
    context.push()
    server = LiveServer(world.root / "data", app.config["DATABASE_URL"], **server_kw)
    try:
        server.start()
    except Exception:
        context.pop()
        raise
    return LiveWorld(app, world, server), context


@pytest.fixture(scope="module")
def live_world(tmp_path_factory, world_template):
    env, context = start_live_world(world_template, tmp_path_factory.mktemp("live") / "w")
    yield env
    env.server.stop()
    db.session.remove()
    context.pop()
