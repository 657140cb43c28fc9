"""Every change carried by the session cookie needs the CSRF token; bearer tokens do not.

Generated from ``app.url_map``: each POST/PUT/PATCH/DELETE route, pages and
API alike, is called by a logged-in admin without the token and must answer
400 ``csrf_failed`` and change nothing. ``EXEMPT`` lists the routes that take
no cookie-authenticated change, with the reason.
"""
from __future__ import annotations

import re

import pytest

from server import create_app
from server.extensions import db
from tests import factories
from tests.conftest import test_config as config_for
from tests.security import snapshot as snap
from tests.security import world as worlds

EXEMPT = {
    "api.login": "starts a session; a JSON body cannot be sent cross-site without CORS",
    "api.pair": "public; answers a device token to the tablet, never a cookie",
    "api.check_in": "accepts only a device bearer token, never the cookie",
    "api.present_session_certificate": "the one-time code in the path is the capability "
                                       "(the signer's agent has no session); no cookie counts",
    "api.finish_signing_session": "the one-time code in the path is the capability; "
                                  "no cookie counts",
}
CHANGES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def csrf_app(tmp_path, world_template):
    world = worlds.copy(world_template, tmp_path / "w")
    app = create_app(config_for(world.root, WTF_CSRF_ENABLED=True))
    with app.app_context():
        yield app, world
        db.session.remove()


def test_cookie_changes_without_the_token_are_refused(csrf_app):
    app, world = csrf_app
    admin = app.test_client()
    login = admin.post("/api/v1/auth/login", json={"username": world.usernames["admin"],
                                                    "password": factories.PASSWORD})
    assert login.status_code == 200
    token = login.get_json()["csrf_token"]
    before = snap.snapshot()
    values = {**world.ids, "poll_id": world.ids["poll_open"]}
    problems, checked = [], 0
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & CHANGES):
            if rule.endpoint in EXEMPT:
                continue
            url = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: str(values[m.group(2)]), rule.rule)
            response = admin.open(url, method=method, json={})
            checked += 1
            body = response.get_json(silent=True) or {}
            if rule.rule.startswith("/api/"):
                refused = body.get("error", {}).get("code") == "csrf_failed"
            else:  # a page answers with the (translated) error page
                refused = response.mimetype == "text/html"
            if response.status_code != 400 or not refused:
                problems.append(f"{method} {rule.rule}: {response.status_code}")
    assert checked > 40
    assert not problems, problems
    assert snap.changes(before, snap.snapshot()) == []
    # With the token the same session works: the refusal above was the CSRF check.
    answer = admin.patch("/api/v1/auth/me", json={"locale": "en"}, headers={"X-CSRFToken": token})
    assert answer.status_code == 200, answer.get_json()
    # A tablet's bearer token needs no CSRF token.
    tablet = app.test_client()
    door = tablet.post(f"/api/v1/polls/{world.ids['poll_open']}/ballots",
                       headers={"Authorization": f"Bearer {world.tokens['tablet']}"},
                       json={"ballot_id": "0b7a4c4e-5d1e-4c11-9a3b-0f6f2f7f3a10", "choices": ["yes"]})
    assert door.status_code == 200, door.get_json()
