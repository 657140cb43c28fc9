"""In Chromium: an XSS probe in every user-supplied text never runs, nor even tries to.

The probe ``<img src=x onerror=window.__xss=1>`` is set as the meeting title,
agenda titles, participant names, document titles and filenames. The
secretary's pages, the control room, the chair's page, the projector and the
tablet app are opened; ``window.__xss`` must stay unset, the probe must show
as text, and the console must report no CSP violation (a violation would mean
markup was injected and only the CSP stopped it).
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import User
from server.services.devices import devices
from server.services.session import session
from server.services.actors import Actor
from tests import factories
from tests.security.conftest import start_live_world
from tests.security.test_web_hardening import plant_xss
from tests.security.world import XSS

pytestmark = [pytest.mark.browser, pytest.mark.live]

@pytest.fixture(scope="module")
def hostile_world(tmp_path_factory, world_template):
    env, context = start_live_world(world_template, tmp_path_factory.mktemp("xss") / "w")
    world = env.world
    plant_xss(world)
    admin = db.session.scalar(select(User).where(User.username == world.usernames["admin"]))
    session.open_session(Actor.of_user(admin), world.ids["meeting_id"])
    session.set_current_item(Actor.of_user(admin), world.ids["meeting_id"], world.ids["item_id"])
    db.session.commit()
    yield env
    env.server.stop()
    db.session.remove()
    context.pop()


def visit(context, url: str) -> dict:
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(800)  # sockets deliver the live state
    result = {"xss": page.evaluate("window.__xss"), "text": page.inner_text("body"),
              "csp": [p for p in problems if "Content Security Policy" in p]}
    page.close()
    return result


def test_the_probe_never_runs_on_staff_pages_projector_or_tablet(browser, hostile_world):
    world, url = hostile_world.world, hostile_world.url
    mid = world.ids["meeting_id"]
    staff = browser.new_context(base_url=url)
    page = staff.new_page()
    page.goto("/login")
    page.fill("#username", world.usernames["secretary"])
    page.fill("#password", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
    page.close()
    visited = {}
    for path in ("", "/agenda", "/participants", "/documents", "/minutes", "/control", "/chair"):
        visited[f"/meetings/{mid}{path}"] = visit(staff, f"{url}/meetings/{mid}{path}")
    visited["/meetings/"] = visit(staff, f"{url}/meetings/")
    staff.close()

    display = browser.new_context()
    visited["projector"] = visit(display, f"{url}/display/{world.tokens['projector']}")
    display.close()

    admin = db.session.scalar(select(User).where(User.username == world.usernames["admin"]))
    _code, secret, _pin = devices.create_pairing_code(Actor.of_user(admin), mid,
                                                     world.ids["delegate_participant_id"])
    db.session.commit()
    tablet = browser.new_context(viewport={"width": 1024, "height": 768})
    visited["tablet"] = visit(tablet, f"{url}/tablet/#pair={secret}")
    tablet.close()

    ran = [name for name, seen in visited.items() if seen["xss"] is not None]
    assert not ran, f"the probe ran on {ran}"
    blocked = {name: seen["csp"] for name, seen in visited.items() if seen["csp"]}
    assert not blocked, f"markup was injected (the CSP stopped it): {blocked}"
    shown = [name for name, seen in visited.items() if XSS[:12] in seen["text"]]
    for must in (f"/meetings/{mid}", f"/meetings/{mid}/control", "projector", "tablet"):
        assert must in shown, f"the probe was not even shown as text on {must}: the test proves nothing"
