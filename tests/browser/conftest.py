"""Browser tests: Debian's Chromium driven by Playwright, against a real server process.

Fixtures, for any browser test:

- ``browser``: one headless Chromium for the whole session.
- ``live_server``: a ``LiveServer`` (``python -m server serve``) per test module, on a
  temporary SQLite database whose schema comes from the migrations (the same path
  an installation takes). ``live_server.app`` is an app on that database with its
  context pushed, so a test seeds rows with ``tests.factories`` directly.
- ``page``: a fresh browser context and page per test, 1366×768 (a secretary's
  laptop), with the server's URL as ``base_url``; script errors, CSP violations and
  failed static files are collected in ``page.console_errors``.
- ``login``: ``login(page, user)`` signs in through the real login page.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from server import create_app
from server.extensions import db
from tests import factories
from tests.conftest import test_config as make_config
from tests.live import ROOT, LiveServer

VIEWPORT = {"width": 1366, "height": 768}
SCREENSHOTS = ROOT / "docs" / "screenshots"


def create_schema(database_url: str) -> None:
    """Tables from the migrations: the same path an installation takes."""
    from server.cli.database import upgrade

    upgrade(database_url)


class LiveApp:
    """The server process plus an app (context pushed) on the same database, for seeding."""

    def __init__(self, server: LiveServer, app):
        self.server = server
        self.app = app

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("browser")
    database_url = f"sqlite:///{tmp_path / 'live.db'}"
    app = create_app(make_config(tmp_path, DATABASE_URL=database_url))
    context = app.app_context()
    context.push()
    try:
        create_schema(database_url)
        server = LiveServer(tmp_path / "data", database_url).start()
    except Exception:
        context.pop()
        raise
    yield LiveApp(server, app)
    server.stop()
    db.session.remove()
    context.pop()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url,
                                  locale="en-GB", timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.console_errors = []

    def on_console(message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        # A page answering 4xx on purpose (a refused form) or the browser's own
        # favicon request is not a script or CSP error.
        if message.text.startswith("Failed to load resource") and "/static/" not in url:
            return
        page.console_errors.append(f"{message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


@pytest.fixture
def login():
    def login(page, user, password: str = factories.PASSWORD) -> None:
        page.goto("/login")
        page.fill("#username", user.username)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)

    return login


@pytest.fixture
def screenshot():
    """``screenshot(page, "name")`` saves docs/screenshots/name.png at the viewport size."""
    def take(page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return take
