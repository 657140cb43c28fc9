"""A live server per test module, on a SQLite file this process seeds through the ORM."""
from __future__ import annotations

import pytest

from server import create_app
from server.extensions import db
from server.models import Base
from tests.conftest import test_config
from tests.live import LiveServer
from tests.realtime.seed import seed_meeting


class LiveEnv:
    def __init__(self, app, server: LiveServer):
        self.app = app
        self.server = server
        self.seeded = None

    @property
    def url(self) -> str:
        return self.server.url


def start_live(tmp_path, async_mode: str = "eventlet", before_start=None, **server_kw):
    """Tables created and an app context pushed here; the server process shares the file.

    ``before_start()`` may seed what the server must find when it starts.
    """
    database_url = f"sqlite:///{tmp_path / 'live.db'}"
    app = create_app(test_config(tmp_path, DATABASE_URL=database_url))
    context = app.app_context()
    context.push()
    Base.metadata.create_all(db.engine)
    seeded = before_start() if before_start else None
    server = LiveServer(tmp_path / "data", database_url, async_mode=async_mode, **server_kw)
    try:
        server.start()
    except Exception:
        context.pop()
        raise
    env = LiveEnv(app, server)
    env.seeded = seeded
    return env, context


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    env, context = start_live(tmp_path_factory.mktemp("live"))
    yield env
    env.server.stop()
    db.session.remove()
    context.pop()


@pytest.fixture
def seeded(live):
    """A fresh meeting (with its own people) in the live server's database."""
    seeded = seed_meeting()
    yield seeded
    db.session.remove()
