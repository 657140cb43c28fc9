"""Finding 1 of issue 23: a page of another origin cannot drive a logged-in user's socket.

A browser sends its cookies with a WebSocket handshake to any host, whatever page opened it,
and ports do not make sites: a page served from another port of the same host is same-site,
so even ``SameSite=Lax`` cookies go along. Only the ``Origin`` header tells the pages apart,
and engine.io refuses a handshake whose origin is not the deployment's own.
"""
from __future__ import annotations

import http.server
import threading

import pytest
import websocket

from server.extensions import db
from server.models import AttendanceStatus, Participant
from tests import factories
from tests.live import free_port
from tests.realtime.clients import USER_AGENT, login_cookie
from tests.realtime.conftest import live, seeded  # noqa: F401 (fixtures)

pytestmark = pytest.mark.live


def _ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


def _attendance(participant_id: int) -> AttendanceStatus:
    db.session.remove()
    return db.session.get(Participant, participant_id).attendance


def test_a_raw_websocket_with_a_foreign_origin_is_refused(live, seeded):
    cookie = login_cookie(live.url, seeded.secretary_user)
    for origin in ("http://evil.example", f"http://127.0.0.1:{live.server.port + 1}",
                   f"https://127.0.0.1:{live.server.port}", "null"):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(_ws_url(live.url), origin=origin, cookie=cookie,
                                        header={"User-Agent": USER_AGENT}, timeout=10)
        assert refused.value.status_code == 400, origin
    # The same handshake from the server's own origin is accepted and acts as the secretary.
    own = websocket.create_connection(_ws_url(live.url), origin=live.url, cookie=cookie,
                                      header={"User-Agent": USER_AGENT}, timeout=10)
    try:
        assert own.recv().startswith("0")  # engine.io open
        own.send('40{"meeting_id": %d}' % seeded.meeting.id)
        assert own.recv().startswith("40{")  # Socket.IO connected
    finally:
        own.close()


class _ForeignSite:
    """A page of another origin: the same host, another port, as on the hall network."""

    def __init__(self):
        class Page(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"<!doctype html><title>Prize draw</title><p>Loading...</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Page)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# Speaks engine.io/Socket.IO by hand, as an attacker's page would: connect to the meeting,
# then mark a participant. Resolves with what happened; the guard only ends a hung try.
HIJACK = """
({url, meetingId, participantId, status}) => new Promise(resolve => {
  const log = [];
  let opened = false, finished = false;
  const ws = new WebSocket(url);
  const done = how => {
    if (finished) return;
    finished = true;
    try { ws.close(); } catch (e) {}
    resolve({opened, how, log});
  };
  ws.onopen = () => { opened = true; };
  ws.onmessage = message => {
    const data = String(message.data);
    log.push(data.slice(0, 200));
    if (data === "2") ws.send("3");
    else if (data.startsWith("0")) ws.send("40" + JSON.stringify({meeting_id: meetingId}));
    else if (data.startsWith("40")) ws.send("420" + JSON.stringify(
      ["attendance.mark", {meeting_id: meetingId, participant_id: participantId, status}]));
    else if (data.startsWith("430")) done("acknowledged");
    else if (data.startsWith("44")) done("refused");
  };
  ws.onclose = () => done("closed");
  setTimeout(() => done("no answer"), 15000);
})
"""


@pytest.mark.browser
def test_a_cross_origin_page_cannot_use_the_secretarys_cookie(browser, live, seeded):
    target, control = seeded.delegates[2], seeded.delegates[3]
    assert _attendance(target.id) != AttendanceStatus.PRESENT
    context = browser.new_context(user_agent=USER_AGENT)
    try:
        page = context.new_page()
        page.goto(live.url + "/login")
        page.fill("#username", seeded.secretary_user.username)
        page.fill("#password", factories.PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        args = {"url": _ws_url(live.url), "meetingId": seeded.meeting.id}

        with _ForeignSite() as site:
            evil = context.new_page()
            evil.goto(site.url)
            attempt = evil.evaluate(HIJACK, {**args, "participantId": target.id,
                                             "status": "present"})
        assert attempt["opened"] is False, attempt
        assert attempt["how"] == "closed" and attempt["log"] == []
        assert _attendance(target.id) != AttendanceStatus.PRESENT

        # The same script on the server's own page, with the same cookie, is let in: what
        # refused the other page was its origin.
        own = page.evaluate(HIJACK, {**args, "participantId": control.id, "status": "present"})
        assert own["opened"] is True and own["how"] == "acknowledged", own
        assert '"ok":true' in own["log"][-1].replace(" ", "")
        assert _attendance(control.id) == AttendanceStatus.PRESENT
    finally:
        context.close()
