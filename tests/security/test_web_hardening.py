"""Pages, headers, cookies, tokens and uploads, checked from the app's own registries.

Every HTML page of ``app.url_map`` is rendered (as an admin, and the projector
page with its token) with user-supplied text set to an XSS probe, then parsed:
no inline script, no ``on*`` handler, no ``style=""`` (the CSP forbids them,
so a page relying on them would break anyway), and the probe only ever
escaped.
"""
from __future__ import annotations

import io
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from server import create_app
from server.extensions import db
from server.models import AgendaItem, Document, Meeting, Participant, User
from server.services.devices import devices
from server.services.actors import Actor
from tests import factories
from tests.conftest import test_config as config_for
from tests.live import ROOT
from tests.security.world import XSS, _pdf

NOT_PAGES = ("/api/", "/static/", "/vendor/", "/healthz")
# A value for each path parameter of a page; the rest come from the world's ids.
PAGE_PARAMS = {"path": "index.html"}


class PageAudit(HTMLParser):
    """Collects what a strict CSP would block or what would let markup run."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, _value in attrs:
            if name.lower().startswith("on"):
                self.problems.append(f"<{tag} {name}=...> (inline event handler)")
            if name.lower() == "style":
                self.problems.append(f"<{tag} style=...> (inline style)")
        if tag == "script" and not attributes.get("src"):
            kind = (attributes.get("type") or "").lower()
            self._inline_script = kind not in ("application/json", "application/ld+json")
        if tag == "img" and attributes.get("src") == "x":
            self.problems.append("the XSS probe became a real <img> element")

    def handle_endtag(self, tag):
        if tag == "script":
            self._inline_script = False

    def handle_data(self, data):
        if self._inline_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]!r}")


def audit_html(html: str) -> list[str]:
    parser = PageAudit()
    parser.feed(html)
    return parser.problems


def page_rules(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.rule.startswith(NOT_PAGES):
            yield rule


def page_url(rule, world) -> str:
    values = {**world.ids, **PAGE_PARAMS, "token": world.tokens["projector"]}
    return re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: str(values[m.group(2)]), rule.rule)


def plant_xss(world) -> None:
    """User-supplied text everywhere a page shows it: titles, names, filenames, notes."""
    from server.services.minutes import minutes

    meeting = db.session.get(Meeting, world.ids["meeting_id"])
    meeting.title = meeting.description = meeting.place = XSS
    for item in db.session.scalars(select(AgendaItem)):
        item.title, item.description, item.presenter = XSS, XSS, XSS
    for participant in db.session.scalars(select(Participant)):
        participant.full_name, participant.position = f"{XSS} {participant.id}", XSS
    for user in db.session.scalars(select(User)):
        user.full_name = XSS
    for document in db.session.scalars(select(Document)):
        document.title = XSS
        for version in document.versions:
            version.filename = XSS + ".pdf"
    db.session.commit()
    admin = db.session.scalar(select(User).where(User.username == world.usernames["admin"]))
    minutes.draft_minutes(meeting.id, Actor.of_user(admin))
    db.session.commit()


def test_every_page_is_free_of_inline_code_and_escapes_user_text(world_app, roles):
    app, world = world_app
    plant_xss(world)
    checked, problems = [], []
    for rule in page_rules(app):
        role = "anonymous" if rule.endpoint in ("control.projector", "accounts.login") else "admin"
        url = page_url(rule, world)
        response = roles.request(role, "GET", url)
        assert response.status_code < 500, (url, response.status_code)
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        checked.append(rule.rule)
        problems += [f"{url}: {p}" for p in audit_html(html)]
        if XSS in html:
            problems.append(f"{url}: the probe {XSS!r} is in the page unescaped")
        csp = response.headers.get("Content-Security-Policy", "")
        script_src = re.search(r"script-src([^;]*)", csp)
        if not script_src or "unsafe-inline" in script_src.group(1) or "'self'" not in script_src.group(1):
            problems.append(f"{url}: Content-Security-Policy script-src is not strict: {csp!r}")
        if "frame-ancestors 'none'" not in csp:
            problems.append(f"{url}: no frame-ancestors 'none'")
        if response.headers.get("X-Content-Type-Options") != "nosniff":
            problems.append(f"{url}: no X-Content-Type-Options: nosniff")
        if response.headers.get("X-Frame-Options") != "DENY":
            problems.append(f"{url}: no X-Frame-Options: DENY")
        if not response.headers.get("Referrer-Policy"):
            problems.append(f"{url}: no Referrer-Policy")
    # The secretary's pages, the control room, the chair's page, the projector, the tablet app.
    for must in ("/meetings/<int:meeting_id>", "/meetings/<int:meeting_id>/agenda",
                 "/meetings/<int:meeting_id>/participants", "/meetings/<int:meeting_id>/documents",
                 "/meetings/<int:meeting_id>/control", "/display/<token>", "/tablet/"):
        assert must in checked, f"{must} was not checked as an HTML page"
    assert not problems, "\n".join(problems)


def test_the_error_pages_carry_the_headers_too(client):
    response = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


JS_ROOTS = [ROOT / "static", ROOT / "tablet_client"]
HTML_SINKS = re.compile(r"\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write|"
                        r"createContextualFragment|DOMParser")
# Reviewed uses of an HTML sink, "file:line text" -> why it is safe. Empty: the
# front end builds every node with createElement/textContent.
REVIEWED_SINKS: dict[str, str] = {}
# Templates that print a value unescaped, and why that value is never user data.
REVIEWED_SAFE_TEMPLATES = {
    "templates/meetings/_macros.html": "`attrs|safe` in input(): every caller passes a literal "
                                       "such as 'min=\"0\" max=\"1440\"'",
}


def test_front_end_code_never_writes_markup_from_data():
    found = {}
    for root in JS_ROOTS:
        for path in root.rglob("*.js"):
            if "vendor" in path.parts or "node_modules" in path.parts:
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if HTML_SINKS.search(line):
                    found[f"{path.relative_to(ROOT)}:{number} {line.strip()}"] = line
    unreviewed = sorted(set(found) - set(REVIEWED_SINKS))
    assert not unreviewed, (
        "an HTML sink (innerHTML & co.) in the front end: use textContent/createElement, or "
        f"review it and add it with a reason to REVIEWED_SINKS: {unreviewed}")
    templates = [p for p in (ROOT / "templates").rglob("*.html")]
    unsafe = [str(p.relative_to(ROOT)) for p in templates
              if re.search(r"\|\s*safe\b|autoescape\s+false", p.read_text())
              and str(p.relative_to(ROOT)) not in REVIEWED_SAFE_TEMPLATES]
    assert not unsafe, f"templates that switch escaping off: {unsafe}"


# Headers and cookies ------------------------------------------------------------------

def _login_cookie_header(client, user) -> str:
    response = client.post("/api/v1/auth/login",
                           json={"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 200
    return "; ".join(response.headers.getlist("Set-Cookie"))


@pytest.mark.parametrize("insecure", ["1", None])
def test_session_cookie_flags_and_hsts(tmp_path, monkeypatch, insecure):
    if insecure:
        monkeypatch.setenv("HEMICYCLE_INSECURE_COOKIES", insecure)
    else:
        monkeypatch.delenv("HEMICYCLE_INSECURE_COOKIES", raising=False)
    config = config_for(tmp_path)
    config.pop("SESSION_COOKIE_SECURE")  # as deployed: decided by the environment
    app = create_app(config)
    from server.models import Base, Role

    with app.app_context():
        Base.metadata.create_all(db.engine)
        user = factories.make_user(Role.SECRETARY)
        client = app.test_client()
        cookie = _login_cookie_header(client, user)
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        hsts = client.get("/healthz").headers.get("Strict-Transport-Security")
        if insecure:
            assert "Secure" not in cookie and hsts is None
        else:
            assert "Secure" in cookie
            assert hsts and "max-age=" in hsts
        db.session.remove()


def test_login_starts_a_fresh_session(app, client, secretary):
    """Cross-check of the accounts tests: nothing planted before the login survives it."""
    client.get("/login")
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    answer = client.post("/api/v1/auth/login",
                         json={"username": secretary.username, "password": factories.PASSWORD})
    assert answer.status_code == 200
    with client.session_transaction() as after:
        assert "planted" not in after, "the pre-login session survived the login"
    assert client.get("/api/v1/auth/me").status_code == 200
    client.post("/api/v1/auth/logout")
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_session_cookie_copied_before_logout_is_dead_after_it(app, client, secretary):
    assert client.post("/api/v1/auth/login", json={
        "username": secretary.username, "password": factories.PASSWORD}).status_code == 200
    stolen = client.get_cookie("session").value
    assert client.post("/api/v1/auth/logout").status_code in (200, 204)
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/api/v1/auth/me").status_code == 401, \
        "a session cookie copied before logout still works after it"


def test_login_is_throttled_after_repeated_failures(app, client, secretary):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        wrong = client.post("/api/v1/auth/login",
                            json={"username": secretary.username, "password": "wrong password"})
        assert wrong.status_code == 401
    blocked = client.post("/api/v1/auth/login",
                          json={"username": secretary.username, "password": factories.PASSWORD})
    assert blocked.status_code == 429, "the right password right after a guessing run got in"
    assert "Retry-After" in blocked.headers or blocked.get_json()["error"]["code"]


# Pairing -----------------------------------------------------------------------------

def _pairing(world, ttl=devices.CODE_TTL):
    admin = db.session.scalar(select(User).where(User.username == world.usernames["admin"]))
    _, secret, pin = devices.create_pairing_code(Actor.of_user(admin), world.ids["meeting_id"],
                                                 world.ids["participant_id"], ttl=ttl)
    db.session.commit()
    return secret, pin


def test_a_pairing_code_works_once(world_app):
    app, world = world_app
    client = app.test_client()
    secret, pin = _pairing(world)
    first = client.post("/api/v1/pair", json={"code": secret, "label": "iPad"})
    assert first.status_code in (200, 201), first.get_json()
    assert client.post("/api/v1/pair", json={"code": secret}).status_code == 404
    assert client.post("/api/v1/pair", json={"pin": pin}).status_code == 404, "the PIN outlived its code"


def test_an_expired_pairing_code_does_not_pair(world_app):
    app, world = world_app
    client = app.test_client()
    secret, pin = _pairing(world, ttl=timedelta(seconds=-1))
    assert client.post("/api/v1/pair", json={"code": secret}).status_code == 404
    assert client.post("/api/v1/pair", json={"pin": pin}).status_code == 404


def test_pin_guessing_is_bounded(world_app):
    app, world = world_app
    client = app.test_client()
    _secret, pin = _pairing(world)
    number, _, digits = pin.partition("-")
    wrong = f"{number}-{(int(digits) + 1) % 10**6:06d}"
    statuses = {client.post("/api/v1/pair", json={"pin": wrong}).status_code
                for _ in range(devices.MAX_PIN_FAILURES)}
    assert statuses <= {404, 429}
    answer = client.post("/api/v1/pair", json={"pin": pin})
    assert answer.status_code == 429, "the right PIN still pairs after a guessing run"


def test_a_revoked_tablet_token_stops_working(world_app, roles):
    _app, world = world_app
    url = f"/api/v1/meetings/{world.ids['meeting_id']}/agenda"
    assert roles.request("tablet", "GET", url).status_code == 200
    assert roles.request("admin", "DELETE",
                         f"/api/v1/devices/{world.ids['tablet_device_id']}").status_code in (200, 204)
    assert roles.request("tablet", "GET", url).status_code == 401


# Uploads ------------------------------------------------------------------------------

HOSTILE_NAMES = ['"; filename*=UTF-8\'\'evil.html; x=".pdf', "<script>alert(1)</script>.pdf",
                 "../../etc/passwd.pdf", "Báo cáo\u202eFDP.exe.pdf"]


@pytest.mark.parametrize("filename", HOSTILE_NAMES)
def test_uploads_are_served_as_attachments_with_their_type(world_app, roles, filename):
    _app, world = world_app
    upload = roles.request("admin", "POST", f"/api/v1/meetings/{world.ids['meeting_id']}/documents",
                           data={"file": (io.BytesIO(_pdf(1)), filename)},
                           content_type="multipart/form-data")
    assert upload.status_code == 201, upload.get_json()
    document_id = upload.get_json()["document"]["id"]
    for role in ("admin", "delegate"):
        response = roles.request(role, "GET", f"/api/v1/documents/{document_id}/versions/1/pdf")
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;"), disposition
        assert "\n" not in disposition and "\r" not in disposition
        names = [unquote(v.strip('"')) for v in re.findall(r"filename\*?=(?:UTF-8'')?([^;]+)",
                                                            disposition)]
        assert names and all(n.endswith(".pdf") for n in names), disposition
        assert response.data.startswith(b"%PDF")
    stored = Path(world.root / "data")
    assert not any(p.name.endswith("passwd.pdf") for p in stored.rglob("*"))
