"""The delegate's tablet in a real Chromium at tablet size, against a real server process.

Pairing by QR link and PIN, the live agenda, following the presenter (detaching and
rejoining), drawing and reloading, the exported annotated copy, named and secret votes,
and the floor. Offline reading, the offline queue and the wipe are in test_tablet_offline.py.
"""
from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pymupdf
import pytest
import requests
from sqlalchemy import select

from server.extensions import db
from server.models import (
    Annotation, AttendanceStatus, DocumentAccess, MeetingStatus, Participant, Role, SessionState,
    SpeakerRequest, SpeakerStatus,
)
from server.pdf import render
from tests import factories
from tests.browser.conftest import SCREENSHOTS
from tests.realtime.clients import USER_AGENT, LiveClient, login_cookie
from tests.services.documents.test_annotations import make_document, sample_pdf

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 768}
RECEIPT = re.compile(r"[0-9A-Z]{10}")


# Seeding and driving the server ----------------------------------------------------------

def rendered_document(app, meeting, **kw):
    """A document whose page images are already in the render cache (as after an upload)."""
    document = make_document(meeting, **kw)
    version = document.current_version
    data = (app.config["DATA_DIR"] / "blobs" / version.blob_sha256[:2] / version.blob_sha256[2:]).read_bytes()
    with pymupdf.open(stream=data, filetype="pdf") as pdf:
        render.render_into_cache(pdf, app.config["DATA_DIR"], version.blob_sha256,
                                 list(range(1, version.page_count + 1)), list(render.SIZES))
    version.pages_rendered = version.page_count
    db.session.commit()
    return document


def seed_world(live_server) -> SimpleNamespace:
    app = live_server.app
    secretary = factories.make_user(Role.SECRETARY)
    meeting = factories.make_meeting(title="Kỳ họp thứ 12 HĐND tỉnh", status=MeetingStatus.PUBLISHED,
                                     session_state=SessionState.OPEN)
    alice = factories.make_participant(meeting, full_name="Nguyễn Thị Hường")
    bob = factories.make_participant(meeting, full_name="Lê Văn Bình",
                                     attendance=AttendanceStatus.PRESENT)
    opening = factories.make_item(meeting, "Khai mạc kỳ họp")
    report = factories.make_item(meeting, "Báo cáo tình hình kinh tế - xã hội", presenter="Sở Kế hoạch")
    factories.make_item(meeting, "Thảo luận tổ", parent=report)
    factories.make_item(meeting, "Bế mạc")
    meeting.current_item_id = report.id
    db.session.commit()
    public = rendered_document(app, meeting, data=sample_pdf(3), title="Dự thảo nghị quyết ngân sách",
                               agenda_item=report)
    secret = rendered_document(app, meeting, data=sample_pdf(2), title="Phương án nhân sự",
                               confidential=True, access=DocumentAccess.ALL)
    return SimpleNamespace(meeting=meeting, secretary=secretary, alice=alice, bob=bob,
                           opening=opening, report=report, public=public, secret=secret)


class Staff:
    """The secretary, over real HTTP (session cookie + CSRF token) and a real socket."""

    def __init__(self, base_url: str, user, meeting_id: int):
        self.base_url = base_url
        self.meeting_id = meeting_id
        self.http = requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT
        answer = self.http.post(base_url + "/api/v1/auth/login",
                                json={"username": user.username, "password": factories.PASSWORD})
        assert answer.status_code == 200, answer.text
        self.http.headers["X-CSRFToken"] = answer.json()["csrf_token"]
        self.socket = LiveClient(base_url, auth={"meeting_id": meeting_id},
                                 cookie=login_cookie(base_url, user)).connect()

    def post(self, path: str, body: dict | None = None, status: int = 200) -> dict:
        answer = self.http.post(self.base_url + "/api/v1" + path, json=body or {})
        assert answer.status_code == status, answer.text
        return answer.json() if answer.content else {}

    def announce(self, text: str) -> None:
        answer = self.http.post(f"{self.base_url}/meetings/{self.meeting_id}/announcements",
                                json={"text": text})
        assert answer.status_code == 201, answer.text

    def command(self, name: str, **payload) -> dict:
        ack = self.socket.call(name, {"meeting_id": self.meeting_id, **payload})
        assert ack["ok"], ack
        return ack

    def pairing_link(self, participant) -> tuple[str, str]:
        code = self.post(f"/meetings/{self.meeting_id}/participants/{participant.id}/pairing-code",
                         status=201)
        return code["pair_path"], code["pin"]

    def close(self) -> None:
        self.socket.close()


@pytest.fixture(scope="module")
def world(live_server):
    return seed_world(live_server)


@pytest.fixture(scope="module")
def staff(live_server, world):
    staff = Staff(live_server.url, world.secretary, world.meeting.id)
    yield staff
    staff.close()


def open_tablet(browser, base_url: str, locale: str = "en-GB"):
    context = browser.new_context(viewport=TABLET, has_touch=True, base_url=base_url, locale=locale,
                                  timezone_id="Asia/Ho_Chi_Minh", accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.console_errors = []

    def on_console(message):
        if message.type == "error":
            page.console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    return context, page


@pytest.fixture
def tablet(browser, live_server):
    context, page = open_tablet(browser, live_server.url)
    yield page
    context.close()


def script_errors(page, allow_offline: bool = False) -> list[str]:
    """Console errors that are bugs: script errors and CSP violations (never allowed)."""
    errors = []
    for text in page.console_errors:
        if "Content Security Policy" in text or "Refused to" in text:
            errors.append(text)
        elif text.startswith("Failed to load resource"):
            if not allow_offline and "ERR_CONNECTION_REFUSED" not in text and "status of 4" not in text:
                errors.append(text)
        elif not (allow_offline and ("ERR_CONNECTION_REFUSED" in text or "Failed to fetch" in text
                                     or "WebSocket" in text)):
            errors.append(text)
    return errors


def pair_tablet(page, staff, participant) -> None:
    link, _pin = staff.pairing_link(participant)
    page.goto(link)
    page.wait_for_selector("#connection[data-state=online]")
    assert "pair=" not in page.url  # the one-time secret does not stay in the address bar


def eventually(read, good, timeout: float = 15):
    """``read()`` again until ``good(value)`` (a deadline for slow machines, not a timing check)."""
    deadline = time.monotonic() + timeout
    value = read()
    while not good(value) and time.monotonic() < deadline:
        time.sleep(0.2)
        value = read()
    return value


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"tablet-{name}.png"))


def fresh(model, ident):
    db.session.remove()
    return db.session.get(model, ident)


def token_of(page) -> str:
    return page.evaluate("JSON.parse(localStorage.getItem('hemicycle.pairing')).token")


# Tests -----------------------------------------------------------------------------------------

def test_pairing_by_qr_link_shows_my_meeting_live(tablet, staff, world):
    tablet.goto("/tablet/")
    tablet.wait_for_selector("#pin")
    screenshot(tablet, "pairing")
    pair_tablet(tablet, staff, world.alice)
    assert tablet.inner_text("#meeting-title") == "Kỳ họp thứ 12 HĐND tỉnh"
    assert "Welcome, Nguyễn Thị Hường" in tablet.inner_text("main")
    current = tablet.locator(".agenda li.current")
    assert current.locator(".title").first.inner_text() == "Báo cáo tình hình kinh tế - xã hội"
    # A tablet that connects while the session is open checks its delegate in.
    tablet.wait_for_selector(".attendance-state.att-present")
    # The chair moves on: the highlight follows, live.
    staff.command("item.next")
    tablet.wait_for_selector(".agenda li.current >> text=Thảo luận tổ")
    staff.command("item.set", item_id=world.report.id)
    tablet.wait_for_selector(".agenda li.current >> text=Báo cáo tình hình kinh tế - xã hội")
    assert tablet.inner_text("#connection .label") == "Connected"
    # A message from the control room shows as a banner on every tablet.
    staff.announce("Nghỉ giải lao 15 phút")
    tablet.wait_for_selector("#announcement >> text=Nghỉ giải lao 15 phút")
    screenshot(tablet, "home")
    staff.announce("")
    tablet.wait_for_selector("#announcement", state="hidden")
    # Vietnamese at a tap.
    tablet.click("#lang")
    tablet.wait_for_selector("#connection .label >> text=Đã kết nối")
    assert "Chương trình nghị sự" in tablet.inner_text("main")
    screenshot(tablet, "home-vi")
    tablet.click("#lang")
    # Reloading keeps the pairing.
    tablet.reload()
    tablet.wait_for_selector("#connection[data-state=online]")
    assert tablet.locator(".agenda li.current").count() == 1
    assert script_errors(tablet) == []


def test_pairing_by_pin_and_a_revoked_tablet_goes_back_to_pairing(tablet, staff, world, live_server):
    bob_code = staff.post(f"/meetings/{world.meeting.id}/participants/{world.bob.id}/pairing-code",
                          status=201)
    tablet.goto("/tablet/")
    number, _, digits = bob_code["pin"].partition("-")
    tablet.fill("#pin", f"{number}-{(int(digits) + 1) % 10**6:06d}")  # his code, wrong digits
    tablet.click("button[type=submit]")
    tablet.wait_for_selector(".pair-status >> text=Could not pair")
    tablet.fill("#pin", bob_code["pin"])
    tablet.click("button[type=submit]")
    tablet.wait_for_selector("#connection[data-state=online]")
    assert "Lê Văn Bình" in tablet.inner_text("main")
    device_id = tablet.evaluate("JSON.parse(localStorage.getItem('hemicycle.pairing')).device_id")
    answer = staff.http.delete(f"{live_server.url}/api/v1/devices/{device_id}")
    # The secretary unpairs it: the tablet forgets its token and asks to be paired again.
    tablet.wait_for_selector("#pin")
    assert tablet.evaluate("localStorage.getItem('hemicycle.pairing')") is None
    assert script_errors(tablet) == []
    assert answer.status_code == 204, answer.text


def test_following_the_presenter_detaching_and_rejoining(tablet, staff, world):
    pair_tablet(tablet, staff, world.alice)
    version_id = world.public.current_version.id
    staff.post(f"/meetings/{world.meeting.id}/present", {"version_id": version_id, "page": 2})
    tablet.click(".presented-banner button")
    tablet.wait_for_selector(".sheet[data-loaded='2']")
    assert tablet.inner_text(".follow") == "Following the presenter"
    staff.post(f"/meetings/{world.meeting.id}/present", {"version_id": version_id, "page": 3})
    tablet.wait_for_selector(".sheet[data-loaded='3']")
    assert tablet.inner_text(".page-label") == "Page 3/3"
    screenshot(tablet, "reader")
    # The delegate turns back a page: now reading freely; the presenter no longer moves the page.
    tablet.click(".pager .prev")
    tablet.wait_for_selector(".sheet[data-loaded='2']")
    tablet.wait_for_selector(".follow .rejoin")
    staff.post(f"/meetings/{world.meeting.id}/present", {"version_id": version_id, "page": 1})
    tablet.wait_for_timeout(1500)  # give a wrong page turn every chance to happen
    assert tablet.get_attribute(".sheet", "data-loaded") == "2"
    tablet.click(".follow .rejoin")
    tablet.wait_for_selector(".sheet[data-loaded='1']")
    tablet.wait_for_selector(".follow .following")
    # Thumbnails turn pages too, and the image really is a page from the server.
    tablet.click(".thumb[data-page='3']")
    tablet.wait_for_selector(".sheet[data-loaded='3']")
    assert tablet.evaluate("document.querySelector('.page-img').naturalWidth") > 500
    assert script_errors(tablet) == []


def draw_stroke(page, start=(0.2, 0.12), end=(0.7, 0.16)):
    box = page.locator(".sheet canvas").bounding_box()
    x0, y0 = box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1]
    x1, y1 = box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1]
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10)
    page.mouse.up()


def synced(page) -> None:
    page.wait_for_selector("#connection .pending", state="hidden")


def test_drawing_persists_through_a_reload_and_exports_as_real_annotations(tablet, staff, world,
                                                                           live_server):
    pair_tablet(tablet, staff, world.alice)
    document = world.public
    tablet.click("#tabs a[data-view=docs]")
    tablet.click(f"[data-doc-id='{document.id}'] .doc-link")  # reading freely, not following
    tablet.wait_for_selector(".sheet[data-loaded='1']")
    tablet.click(".tool-pen")
    draw_stroke(tablet)
    tablet.click(".tool-highlighter")
    draw_stroke(tablet, (0.1, 0.22), (0.8, 0.22))
    tablet.click(".pager .next")
    tablet.wait_for_selector(".sheet[data-loaded='2']")
    tablet.click(".tool-note")
    box = tablet.locator(".sheet canvas").bounding_box()
    tablet.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15)
    tablet.fill("#note-text", "Đề nghị làm rõ số liệu")
    tablet.click("#save-note")
    tablet.wait_for_selector(".pin.mine")
    # Undo takes the note away, redo brings it back (as a new annotation).
    tablet.click(".tools .undo")
    tablet.wait_for_selector(".pin.mine", state="detached")
    tablet.click(".tools .redo")
    tablet.wait_for_selector(".pin.mine")
    synced(tablet)

    def live_marks():
        db.session.remove()
        return db.session.scalars(select(Annotation).where(
            Annotation.participant_id == world.alice.id, Annotation.deleted_at.is_(None))).all()

    expected = [(1, "highlight"), (1, "ink"), (2, "note")]
    stored = eventually(live_marks, lambda rows: sorted((a.page_number, a.kind.value) for a in rows) == expected)
    assert sorted((a.page_number, a.kind.value) for a in stored) == expected
    ink = next(a for a in stored if a.kind.value == "ink")
    xs = [p[0] for p in ink.data["points"]]
    assert min(xs) == pytest.approx(0.2, abs=0.03) and max(xs) == pytest.approx(0.7, abs=0.03)
    screenshot(tablet, "annotations")

    tablet.reload()
    tablet.wait_for_selector(".sheet[data-loaded='2']")
    tablet.wait_for_selector(".pin.mine")
    tablet.click(".thumb[data-page='1']")
    tablet.wait_for_selector(".sheet[data-loaded='1']")
    tablet.wait_for_selector(".sheet[data-marks='3']")
    # The eraser removes the pen stroke, for good.
    tablet.click(".tool-eraser")
    draw_stroke(tablet, (0.45, 0.06), (0.45, 0.15))
    synced(tablet)
    erased = eventually(lambda: fresh(Annotation, ink.id), lambda a: a.deleted_at is not None)
    assert erased.deleted_at is not None

    answer = requests.get(f"{live_server.url}/api/v1/documents/{document.id}/versions/1/annotated.pdf",
                          headers={"Authorization": f"Bearer {token_of(tablet)}"}, timeout=30)
    assert answer.status_code == 200
    with pymupdf.open(stream=answer.content, filetype="pdf") as pdf:
        found = sorted((page.number + 1, a.type[1]) for page in pdf for a in page.annots())
    assert found == [(1, "Highlight"), (2, "Text")]
    with tablet.expect_download() as download:
        tablet.click(".tools .export")
    assert download.value.suggested_filename.endswith(".pdf")
    assert script_errors(tablet) == []


def create_poll(staff, motion: str, kind: str) -> dict:
    poll = staff.post(f"/meetings/{staff.meeting_id}/polls", {"motion": motion, "kind": kind}, status=201)
    staff.post(f"/polls/{poll['id']}/open")
    return poll


def test_named_and_secret_votes(tablet, staff, world):
    pair_tablet(tablet, staff, world.alice)
    tablet.wait_for_selector(".attendance-state.att-present")
    poll = create_poll(staff, "Thông qua dự thảo nghị quyết về ngân sách năm 2027", "named")
    tablet.wait_for_selector(".ballot .option-yes")
    assert "named vote" in tablet.inner_text(".ballot").lower()
    screenshot(tablet, "ballot")
    tablet.click(".ballot .option-yes")
    tablet.wait_for_selector("#confirm-vote")
    assert "You chose: " in tablet.inner_text(".ballot")
    tablet.click("#confirm-vote")
    tablet.wait_for_selector(".ballot .recorded")
    assert tablet.locator(".ballot .receipt").count() == 0
    status = requests.get(f"{staff.base_url}/api/v1/polls/{poll['id']}/me",
                          headers={"Authorization": f"Bearer {token_of(tablet)}"}, timeout=10).json()
    assert status["ballots"][0]["voted"] is True
    staff.post(f"/polls/{poll['id']}/close")
    staff.post(f"/polls/{poll['id']}/publish", {})
    tablet.wait_for_selector(".result-modal .outcome")
    assert "1 votes" in tablet.inner_text(".result-modal .totals")
    screenshot(tablet, "result")
    tablet.click(".result-modal button")

    secret = create_poll(staff, "Bầu Phó Chủ tịch HĐND (phiếu kín)", "secret")
    tablet.wait_for_selector(".ballot .option-no")
    assert "secret ballot" in tablet.inner_text(".ballot").lower()
    tablet.click(".ballot .option-no")
    tablet.click("#confirm-vote")
    tablet.wait_for_selector(".ballot .recorded")
    receipt = RECEIPT.search(tablet.inner_text(".ballot .receipt")).group(0)
    screenshot(tablet, "receipt")
    staff.post(f"/polls/{secret['id']}/close")
    staff.post(f"/polls/{secret['id']}/publish", {})
    tablet.wait_for_selector(".result-modal .outcome")
    result = staff.http.get(f"{staff.base_url}/api/v1/polls/{secret['id']}/result").json()
    mine = [b for b in result["ballot_list"] if b.get("receipt") == receipt]
    assert len(mine) == 1 and mine[0]["choices"] == ["no"]
    assert script_errors(tablet) == []


def test_requesting_and_withdrawing_the_floor_with_countdown(tablet, staff, world):
    pair_tablet(tablet, staff, world.alice)
    tablet.click("#tabs a[data-view=floor]")
    tablet.click("#request-floor")
    tablet.wait_for_selector(".my-place >> text=You are number 1 in the queue")
    tablet.click("#withdraw")
    tablet.wait_for_selector("#request-floor")
    tablet.click("#request-floor")
    tablet.wait_for_selector("#withdraw")
    screenshot(tablet, "floor")
    staff.socket.wait_for(lambda: staff.socket.events("floor.changed"), what="floor.changed")
    db.session.remove()
    request = db.session.scalar(select(SpeakerRequest).where(
        SpeakerRequest.participant_id == world.alice.id, SpeakerRequest.status == SpeakerStatus.WAITING))
    staff.command("floor.grant", request_id=request.id, time_limit_seconds=180)
    tablet.wait_for_selector(".speaker.me >> text=You have the floor")
    countdown = tablet.inner_text(".countdown")
    assert re.search(r"0[23]:[0-5]\d left", countdown), countdown
    screenshot(tablet, "floor-speaking")
    staff.command("floor.end")
    tablet.wait_for_selector("#request-floor")
    assert script_errors(tablet) == []


def test_shared_marks_reach_the_room_live_and_private_ones_do_not(browser, live_server, staff, world):
    alice_context, alice = open_tablet(browser, live_server.url)
    bob_context, bob = open_tablet(browser, live_server.url, locale="vi-VN")
    try:
        pair_tablet(alice, staff, world.alice)
        pair_tablet(bob, staff, world.bob)
        assert bob.inner_text("#connection .label") == "Đã kết nối"  # Vietnamese browser, Vietnamese app
        for tablet in (alice, bob):
            tablet.click("#tabs a[data-view=docs]")
            tablet.click(f"[data-doc-id='{world.public.id}'] .doc-link")
            tablet.wait_for_selector(".sheet[data-loaded='1']")
        before = int(bob.get_attribute(".sheet", "data-marks"))
        alice.click(".tool-pen")
        draw_stroke(alice, (0.3, 0.05), (0.6, 0.06))  # private
        alice.check("#share-marks")
        draw_stroke(alice, (0.3, 0.09), (0.6, 0.1))  # shared
        synced(alice)
        bob.wait_for_selector(f".sheet[data-marks='{before + 1}']")
        alice.wait_for_timeout(1000)
        assert bob.get_attribute(".sheet", "data-marks") == str(before + 1)
        # Bob cannot erase Alice's shared mark.
        bob.click(".tool-eraser")
        draw_stroke(bob, (0.45, 0.07), (0.45, 0.12))
        bob.wait_for_timeout(500)
        assert bob.get_attribute(".sheet", "data-marks") == str(before + 1)
        # Zoom: the page gets bigger, the marks stay on it.
        width = bob.locator(".sheet").bounding_box()["width"]
        bob.click(".tools .zoom-in")
        assert bob.locator(".sheet").bounding_box()["width"] > width * 1.4
        assert script_errors(alice) == [] and script_errors(bob) == []
    finally:
        alice_context.close()
        bob_context.close()


def test_door_qr_link_checks_the_delegate_in(tablet, staff, world, live_server):
    carol = factories.make_participant(world.meeting, full_name="Phạm Thị Cúc",
                                       attendance=AttendanceStatus.ABSENT, attendance_method="manual")
    door = staff.post(f"/meetings/{world.meeting.id}/door-token", status=201)["token"]
    pair_tablet(tablet, staff, carol)
    tablet.wait_for_selector(".attendance-state.att-absent")
    tablet.goto(f"{live_server.url}/tablet/#checkin={door}")
    tablet.wait_for_selector(".attendance-state.att-present")
    assert "checkin=" not in tablet.url
    assert fresh(Participant, carol.id).attendance == AttendanceStatus.PRESENT
    assert script_errors(tablet) == []


def test_the_app_is_served_for_offline_use(live_server):
    """Every file of the app is in the service worker's list, served fresh, within /tablet/."""
    from tests.live import ROOT

    client = ROOT / "tablet_client"
    worker = (client / "service-worker.js").read_text()
    shell = set(re.findall(r'"(/[^"]+)"', worker[worker.index("const SHELL"):worker.index("];")]))
    files = {"/tablet/" + str(p.relative_to(client)) for p in client.rglob("*.js")
             if p.name != "service-worker.js"}
    files |= {"/tablet/" + str(p.relative_to(client)) for p in client.rglob("*.css")}
    assert files <= shell, f"missing from service-worker.js SHELL: {sorted(files - shell)}"
    for path in sorted(shell):
        answer = requests.get(live_server.url + path, timeout=10)
        assert answer.status_code == 200, path
    sw = requests.get(live_server.url + "/tablet/service-worker.js", timeout=10)
    assert sw.headers["Service-Worker-Allowed"] == "/tablet/"
    assert sw.headers["Cache-Control"] == "no-cache"
    assert "javascript" in sw.headers["Content-Type"]
    manifest = requests.get(live_server.url + "/tablet/manifest.webmanifest", timeout=10)
    assert manifest.headers["Content-Type"].startswith("application/manifest+json")
    assert manifest.json()["scope"] == "/tablet/"
    for hidden in ("/tablet/icons/make_icons.py", "/tablet/../server/__init__.py",
                   "/tablet/%2e%2e/pyproject.toml"):
        assert requests.get(live_server.url + hidden, timeout=10).status_code == 404, hidden


def test_every_string_is_translated():
    """Each key the app asks for exists in Vietnamese and in English."""
    from tests.live import ROOT

    js = ROOT / "tablet_client" / "js"
    source = (js / "i18n.js").read_text()
    vi = source[source.index("  vi: {"):source.index("  en: {")]
    en = source[source.index("  en: {"):source.index("const KEY")]
    keys = lambda block: set(re.findall(r"^\s{4}(\w+):", block, re.M))  # noqa: E731
    assert keys(vi) == keys(en)
    used = set()
    for path in js.rglob("*.js"):
        if path.name != "i18n.js":
            used |= set(re.findall(r"""\bt\(\s*["'](\w+)["']""", path.read_text()))
    assert len(used) > 50, "t() calls not found"
    # Keys built at run time: the index's tab labels, states, outcomes, tools.
    used |= set(re.findall(r'data-label="(\w+)"', (ROOT / "tablet_client" / "index.html").read_text()))
    used |= {f"state_{s}" for s in ("not_started", "open", "paused", "adjourned")}
    used |= {f"outcome_{o}" for o in ("adopted", "rejected", "no_quorum", "elected", "tie", "none_elected")}
    used |= {f"tool_{n}" for n in ("read", "pen", "highlighter", "note", "eraser")}
    used |= {"present", "absent", "excused"}
    used |= {"connecting", "syncing", "online", "reconnecting", "offline", "refused"}
    assert used <= keys(en), f"missing strings: {sorted(used - keys(en))}"


def touch(cdp, kind: str, points) -> None:
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
        {"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]})


def test_swipe_turns_pages_and_pinch_zooms(tablet, staff, world):
    pair_tablet(tablet, staff, world.alice)
    tablet.click("#tabs a[data-view=docs]")
    tablet.click(f"[data-doc-id='{world.public.id}'] .doc-link")
    tablet.wait_for_selector(".sheet[data-loaded='1']")
    cdp = tablet.context.new_cdp_session(tablet)
    box = tablet.locator(".stage").bounding_box()
    y = box["y"] + box["height"] / 2
    start, end = box["x"] + box["width"] * 0.8, box["x"] + box["width"] * 0.2
    touch(cdp, "touchStart", [(start, y)])
    for i in range(1, 9):
        touch(cdp, "touchMove", [(start + (end - start) * i / 8, y)])
    touch(cdp, "touchEnd", [])
    tablet.wait_for_selector(".sheet[data-loaded='2']")
    width = tablet.locator(".sheet").bounding_box()["width"]
    cx = box["x"] + box["width"] / 2
    touch(cdp, "touchStart", [(cx - 40, y), (cx + 40, y)])
    for i in range(1, 9):
        touch(cdp, "touchMove", [(cx - 40 - 20 * i, y), (cx + 40 + 20 * i, y)])
    touch(cdp, "touchEnd", [])
    tablet.wait_for_timeout(300)
    assert tablet.locator(".sheet").bounding_box()["width"] > width * 1.4
    assert tablet.get_attribute(".sheet", "data-loaded") == "2"  # a pinch is not a swipe
    assert script_errors(tablet) == []


def test_find_in_the_document_turns_to_the_page_and_confidential_documents_have_no_find(
        tablet, staff, world):
    pair_tablet(tablet, staff, world.alice)
    tablet.goto(f"/tablet/#doc/{world.public.id}/1")
    tablet.wait_for_selector(".sheet[data-loaded='1']")
    tablet.click(".tools .find")
    tablet.fill("#find-words", "TRANG 3")  # the page says "Trang 3: Nghi quyet …"
    tablet.press("#find-words", "Enter")
    tablet.wait_for_selector("#find-hits .hit")
    assert tablet.inner_text("#find-status") == "Found on 1 pages."
    tablet.click("#find-hits .hit[data-page='3']")
    tablet.wait_for_selector(".sheet[data-loaded='3']")
    assert tablet.inner_text(".page-label") == "Page 3/3"
    tablet.goto(f"/tablet/#doc/{world.secret.id}/1")
    tablet.wait_for_selector(".sheet[data-loaded='1']")
    assert tablet.query_selector(".tools .find") is None and tablet.query_selector(".tools .export")
    assert script_errors(tablet) == []
