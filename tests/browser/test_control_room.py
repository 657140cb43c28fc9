"""Run a meeting from the control room while the projector and tablets follow it.

Views of one live server: the secretary's control room (Chromium, 1366×768), the
projector (Chromium, 1920×1080, opened with a display link made in the control
room), the real tablet app (``/tablet/``, 1024×768) paired with a PIN shown in the
control room, and a delegate's tablet as a Socket.IO client holding a paired
device token (``tests/realtime/clients.py``), which checks the exact events and
casts a ballot. Each action is made in the control room (or the chair's view)
and checked on the others.
"""
from __future__ import annotations

import re
import uuid

import pytest
import requests

from tests.browser.conftest import SCREENSHOTS
from tests.pdf import samples
from tests.realtime.clients import LiveClient, login_cookie
from tests.realtime.seed import seed_meeting

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1920, "height": 1080}
CONTROL = {"width": 1366, "height": 768}
TABLET = {"width": 1024, "height": 768}


@pytest.fixture(scope="module")
def server(live_server):
    """The shared live server (tests/browser/conftest.py): seed with factories, then drive it."""
    return live_server


def open_page(browser, server, viewport):
    context = browser.new_context(viewport=viewport, base_url=server.url, locale="en-GB",
                                  timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.console_errors = []

    def on_console(message):
        # A 404 for the favicon is the browser's own request, not the page's.
        if message.type == "error" and "favicon" not in (message.location or {}).get("url", ""):
            page.console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    # Confirmations are accepted; the one prompt (the reason for an excuse) gets a reason.
    page.on("dialog", lambda dialog: dialog.accept("Đi công tác") if dialog.type == "prompt"
            else dialog.accept())
    return page


def sign_in(page, user):
    page.goto("/login")
    page.fill("#username", user.username)
    page.fill("#password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def no_horizontal_overflow(page):
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"page is {width}px wide in a {inner}px window"


def csp_clean(page, network_cut: bool = False):
    """No CSP violation and no script error; after a deliberate network cut, the browser's
    own reports of failed reconnection attempts are expected."""
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
    errors = [e for e in page.console_errors
              if not (network_cut and "ERR_INTERNET_DISCONNECTED" in e)]
    assert not errors, errors


def tidy_for_screenshot(page):
    """Columns scrolled to the top and no passing notice, for the documentation."""
    page.evaluate("""() => {
        document.querySelectorAll('.col').forEach((c) => { c.scrollTop = 0; });
        document.getElementById('toast')?.setAttribute('hidden', '');
        document.activeElement?.blur();
    }""")


def upload(page, meeting_id: int, title: str, pdf: bytes) -> dict:
    """Upload through the real API with the secretary's session (as the preparation pages do)."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    response = page.request.post(f"/api/v1/meetings/{meeting_id}/documents",
                                 headers={"X-CSRFToken": token},
                                 multipart={"title": title, "file": {
                                     "name": "bao-cao.pdf", "mimeType": "application/pdf",
                                     "buffer": pdf}})
    assert response.status == 201, response.text()
    return response.json()


def test_run_a_meeting_from_the_control_room(browser, server):
    seeded = seed_meeting(delegates=4)
    meeting_id = seeded.meeting.id
    tablet_person = seeded.delegates[1]
    item = seeded.items[1]

    control = open_page(browser, server, CONTROL)
    sign_in(control, seeded.secretary_user)
    control.goto(f"/meetings/{meeting_id}/control")
    control.wait_for_selector("#connection[data-state=online]")

    # The projector, with a display link made in the control room.
    control.click("#make-projector")
    projector_url = control.locator("#projector-url").inner_text()
    assert re.match(r"^http://127\.0\.0\.1:\d+/display/[\w-]{20,}$", projector_url)
    assert control.locator("#projector-result img").evaluate("img => img.naturalWidth") > 0
    projector = open_page(browser, server, PROJECTOR)
    projector.goto(projector_url)
    projector.wait_for_selector("#connection[data-state=online]")

    tablet = LiveClient(server.url, auth={"token": seeded.tablet_token}).connect()
    speaker = LiveClient(server.url, auth={"meeting_id": meeting_id},
                         cookie=login_cookie(server.url, seeded.delegate_user))
    # A second delegate pairs the real tablet app with a PIN shown in the control room.
    app_person = seeded.delegates[2]
    tablet_app = open_page(browser, server, TABLET)
    try:
        control.click(f"#people li[data-participant-id='{app_person.id}'] button[data-pair]")
        pin = control.locator("#pairing-pin").inner_text()
        assert re.fullmatch(r"\d+-\d{6}", pin)
        assert control.locator("#pairing-result img").evaluate("img => img.naturalWidth") > 0
        tablet_app.goto("/tablet/")
        tablet_app.fill("#pin", pin)
        tablet_app.click(".pair-form button[type=submit]")
        tablet_app.wait_for_selector("#connection[data-state=online]")
        control.wait_for_selector(f"#device-list li[data-online=true]:has-text('{app_person.full_name}')")
        control.click("#pairing-close")  # the PIN is not left on screen
        assert control.locator("#pairing-result").is_hidden()

        # Open the session.
        control.click("#session-open")
        control.wait_for_selector("#session-state[data-state=open]")
        tablet.wait_for_event("session.changed", state="open")
        projector.wait_for_selector("#p-session:has-text('In session')")

        # Door check-in: the tablet scans the door code made in the control room.
        control.click("#make-door")
        door_link = control.locator("#door-link").inner_text()
        assert door_link.startswith(server.url + "/tablet/#checkin=")
        door_token = door_link.split("#checkin=", 1)[1]
        assert control.locator("#door-projector-link").get_attribute("href") == \
            f"{projector_url}?door={door_token}"
        checked = tablet.call("attendance.check_in", {"meeting_id": meeting_id, "door_token": door_token})
        assert checked["ok"], checked
        control.wait_for_selector(
            f"#people li[data-participant-id='{tablet_person.id}'][data-attendance=present]")

        # Attendance: two more present make the quorum (3 of 5 members). From the keyboard
        # the focus stays on the button after the list is redrawn.
        for person in (seeded.chair, seeded.delegates[0]):
            control.focus(f"#people li[data-participant-id='{person.id}'] button[data-status=present]")
            control.keyboard.press("Enter")
            control.wait_for_selector(
                f"#people li[data-participant-id='{person.id}'][data-attendance=present]")
            assert control.evaluate("document.activeElement.getAttribute('aria-label')") == \
                f"Present: {person.full_name}"
        excused = seeded.delegates[3]
        control.click(f"#people li[data-participant-id='{excused.id}'] button[data-status=excused]")
        control.wait_for_selector(
            f"#people li[data-participant-id='{excused.id}'][data-attendance=excused]:has-text('Đi công tác')")
        control.wait_for_selector("#quorum.reached")
        assert "3 present · 1 excused · 2 absent" in control.locator("#attendance-count").inner_text()
        projector.wait_for_selector("#p-quorum.reached")
        assert projector.locator("#p-quorum-figure").inner_text() == "3 / 5"

        # Set the current item.
        control.click(f"#agenda-list li[data-item-id='{item.id}'] button")
        control.wait_for_selector(f"#agenda-list li.current[data-item-id='{item.id}']")
        tablet.wait_for_event("item.changed", current_item_id=item.id)
        tablet_app.wait_for_selector(f".agenda li.current >> text={item.title}")
        projector.wait_for_selector(f"#p-item:has-text('{item.title}')")
        # T: the item's clock starts (and shows the pause button).
        control.locator("body").press("t")
        control.wait_for_selector("#item-timer [data-timer=pause]")
        tablet.wait_for(lambda: [e for e in tablet.events("timer.changed")
                                 if e["payload"]["item_id"] == item.id and e["payload"]["running_since"]],
                        what="the item clock started")
        control.wait_for_selector("#item-clock:not(:has-text('00:00'))", timeout=5_000)
        # N: the next item (2.1), from the keyboard.
        control.locator("body").press("n")
        control.wait_for_selector(f"#agenda-list li.current[data-item-id='{seeded.items[2].id}']")
        projector.wait_for_selector(f"#p-item:has-text('{seeded.items[2].title}')")

        # Push a document and present its pages.
        document = upload(control, meeting_id, "Báo cáo kinh tế - xã hội", samples.vietnamese(3))
        document_id = document["document"]["id"]
        control.click(f"#document-list li[data-document-id='{document_id}'] button[data-push]")
        tablet.wait_for_event("document.pushed", document_id=document_id)
        tablet_app.wait_for_selector(".sheet[data-loaded='1']")  # the app opens a pushed document
        control.click(f"#document-list li[data-document-id='{document_id}'] button[data-present]")
        projector.wait_for_selector("#p-page[data-page='1']")
        assert projector.locator("#p-page").evaluate("img => img.naturalWidth") > 0
        control.wait_for_selector("#presented-page:has-text('Page 1 of 3')")
        control.locator("body").press("ArrowRight")
        projector.wait_for_selector("#p-page[data-page='2']")
        tablet.wait_for_event("document.presented", document_id=document_id, page=2)
        control.wait_for_selector("#presented-page:has-text('Page 2 of 3')")
        projector.reload()  # from a snapshot, the same page (the snapshot names the version)
        projector.wait_for_selector("#p-page[data-page='2']")

        # A named vote: create, open, one ballot from the tablet, close, publish.
        control.click(".new-poll summary")
        control.fill("#poll-motion", "Thông qua Nghị quyết về kế hoạch năm 2027")
        control.click("#poll-form button[type=submit]")
        control.click("#poll-list [data-status=draft] [data-poll-action=open]")
        control.wait_for_selector("#poll-list [data-status=open]")
        poll_id = int(control.locator("#poll-list [data-status=open]").get_attribute("data-poll-id"))
        opened = tablet.wait_for_event("poll.opened", id=poll_id)[0]
        projector.wait_for_selector(f"#p-poll[data-poll-id='{poll_id}'][data-status=open]")
        control.wait_for_selector("#poll-list .not-voted:has-text('Not voted yet (5)')")
        ballot = requests.post(f"{server.url}/api/v1/polls/{poll_id}/ballots",
                               json={"ballot_id": str(uuid.uuid4()), "choices": ["yes"]},
                               headers={"Authorization": f"Bearer {seeded.tablet_token}"}, timeout=10)
        assert ballot.status_code == 200, ballot.text
        control.wait_for_selector("#poll-list .poll-progress[data-cast='1']")
        assert tablet_person.full_name not in control.locator("#poll-list .not-voted").inner_text()
        projector.wait_for_selector("#p-vote-count[data-cast='1']")
        assert opened["payload"]["motion"].startswith("Thông qua")
        control.click(f"#poll-list [data-poll-id='{poll_id}'] [data-poll-action=close]")
        control.wait_for_selector(f"#poll-list [data-poll-id='{poll_id}'][data-status=closed] .result-bars")
        tablet.wait_for_event("poll.closed", id=poll_id)
        control.click(f"#poll-list [data-poll-id='{poll_id}'] [data-poll-action=publish]")
        tablet.wait_for_event("poll.published", id=poll_id)
        projector.wait_for_selector(f"#p-poll[data-status=published] .result-bars li[data-option=yes]")
        assert "Adopted" in projector.locator("#p-poll .outcome").inner_text()

        # The floor: two ask, the secretary reorders the queue and gives the floor to one.
        other = seeded.delegates[0]  # logged in with an account, on their own connection
        assert tablet.call("floor.request", {"meeting_id": meeting_id})["ok"]
        assert speaker.connect().call("floor.request", {"meeting_id": meeting_id})["ok"]
        control.wait_for_selector(f"#queue li:nth-child(2):has-text('{other.full_name}')")
        control.click(f"#queue li:nth-child(2) button[aria-label='Move up: {other.full_name}']")
        control.wait_for_selector(f"#queue li:nth-child(1):has-text('{other.full_name}')")
        projector.wait_for_selector(f"#p-queue li:nth-child(1):has-text('{other.full_name}')")
        control.fill("#time-limit", "2")
        control.click(f"#queue li:has-text('{tablet_person.full_name}') button:has-text('Give the floor')")
        control.wait_for_selector(f"#speaker-name:has-text('{tablet_person.full_name}')")
        projector.wait_for_selector(f"#p-speaker-name:has-text('{tablet_person.full_name}')")
        granted = tablet.wait_for(lambda: [e for e in tablet.events("floor.changed")
                                           if (e["payload"]["speaking"] or {}).get("participant_id")
                                           == tablet_person.id], what="floor granted")
        assert granted[-1]["payload"]["speaking"]["time_limit_seconds"] == 120
        countdown = projector.locator("#p-countdown").inner_text()
        assert re.fullmatch(r"0[12]:\d\d", countdown), countdown

        # A message to all tablets.
        control.fill("#announce-text", "Nghỉ giải lao đến 10 giờ 30")
        control.click("#announce-form button[type=submit]")
        tablet.wait_for_event("announcement", text="Nghỉ giải lao đến 10 giờ 30")
        projector.wait_for_selector("#p-announcement:has-text('Nghỉ giải lao')")

        # The tablet shows as online in the control room.
        control.wait_for_selector(f"#device-list li[data-device-id='{seeded.tablet.id}'][data-online=true]")

        # Layout: nothing overflows at the room's screen sizes; screenshots for the docs.
        no_horizontal_overflow(control)
        no_horizontal_overflow(projector)
        tidy_for_screenshot(control)
        control.screenshot(path=str(SCREENSHOTS / "control-room.png"))
        projector.screenshot(path=str(SCREENSHOTS / "projector-light.png"))

        # The projector recovers by itself after a network cut, and catches up.
        projector.context.set_offline(True)
        control.click("#end-speech")
        control.wait_for_selector("#speaker-name:has-text('Nobody has the floor')")
        control.locator("body").press("n")
        control.wait_for_selector(f"#agenda-list li.current[data-item-id='{seeded.items[3].id}']")
        # Really cut off: it says so, and still shows the old item.
        projector.wait_for_selector("#connection:not([data-state=online])")
        projector.wait_for_timeout(1000)
        assert seeded.items[2].title in projector.locator("#p-item").inner_text()
        projector.context.set_offline(False)
        projector.wait_for_selector(f"#p-item:has-text('{seeded.items[3].title}')", timeout=30_000)
        projector.wait_for_selector("#p-speaker-name:has-text('Nobody has the floor')")
        projector.wait_for_selector("#connection[data-state=online]")

        # In Vietnamese, the longer words still fit.
        control.goto(f"/meetings/{meeting_id}/control?lang=vi")
        control.wait_for_selector("#connection[data-state=online]")
        assert control.locator("#session-state").inner_text() == "Đang họp"
        control.wait_for_selector("#quorum:has-text('Đủ túc số')")
        control.wait_for_selector("#device-list li[data-online=true]")
        no_horizontal_overflow(control)
        tidy_for_screenshot(control)
        control.screenshot(path=str(SCREENSHOTS / "control-room-vi.png"))

        csp_clean(control)
        csp_clean(projector, network_cut=True)
        assert not [e for e in tablet_app.console_errors if "Content Security Policy" in e]
    finally:
        tablet.close()
        speaker.close()
        tablet_app.context.close()
        control.context.close()
        projector.context.close()


def test_chair_leads_from_a_tablet_and_the_dark_projector_follows(browser, server):
    seeded = seed_meeting(delegates=3, pair_tablet=False)
    meeting_id = seeded.meeting.id
    chair = open_page(browser, server, TABLET)
    sign_in(chair, seeded.chair_user)
    token = chair.locator('meta[name="csrf-token"]').get_attribute("content")
    made = chair.request.post(f"/api/v1/meetings/{meeting_id}/projectors",
                              headers={"X-CSRFToken": token}, data={"label": "Hall"})
    assert made.status == 201, made.text()
    projector = open_page(browser, server, PROJECTOR)
    projector.goto(f"/display/{made.json()['token']}?theme=dark")
    projector.wait_for_selector("#connection[data-state=online]")
    assert "theme-dark" in projector.locator("body").get_attribute("class")
    background = projector.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(13, 17, 23)", background
    # A delegate who logs in with an account asks for the floor from their own connection.
    delegate = LiveClient(server.url, auth={"meeting_id": meeting_id},
                          cookie=login_cookie(server.url, seeded.delegate_user))

    try:
        chair.goto(f"/meetings/{meeting_id}/chair")
        chair.wait_for_selector("#connection[data-state=online]")
        chair.click("#session-open")
        chair.wait_for_selector("#session-state[data-state=open]")
        chair.click("#item-next")
        projector.wait_for_selector(f"#p-item:has-text('{seeded.items[0].title}')")
        # A button ignores taps while its command is unanswered (no double step); the
        # projector can show the change before the chair's answer is back.
        chair.wait_for_selector("#item-next:not([aria-busy])")
        chair.click("#item-next")
        chair.wait_for_selector(f"#current-item:has-text('{seeded.items[1].title}')")
        projector.wait_for_selector(f"#p-item:has-text('{seeded.items[1].title}')")

        # Give and end the floor.
        delegate.connect()
        assert delegate.call("floor.request", {"meeting_id": meeting_id})["ok"]
        name = seeded.delegates[0].full_name
        chair.wait_for_selector(f"#queue li:has-text('{name}')")
        chair.click("#grant-next")
        projector.wait_for_selector(f"#p-speaker-name:has-text('{name}')")
        projector.wait_for_selector("#p-countdown")

        # A vote prepared for this item: open, close, publish, from the chair's tablet.
        poll = chair.request.post(f"/api/v1/meetings/{meeting_id}/polls",
                                  headers={"X-CSRFToken": token},
                                  data={"motion": "Thông qua chương trình kỳ họp",
                                        "agenda_item_id": seeded.items[1].id,
                                        "quorum_required": False})
        assert poll.status == 201, poll.text()
        poll_id = poll.json()["id"]
        chair.click(f"#poll-list [data-poll-id='{poll_id}'] [data-poll-action=open]")
        projector.wait_for_selector(f"#p-poll[data-poll-id='{poll_id}'][data-status=open]")
        projector.wait_for_selector("#p-vote-count[data-cast='0']")
        chair.wait_for_selector(f"#poll-list [data-poll-id='{poll_id}'] .not-voted")
        # Touch targets: the chair's buttons are at least 48 px high.
        for selector in ("#item-next", "#item-previous", "#grant-next", "#end-speech",
                         "[data-poll-action=close]"):
            height = chair.locator(selector).evaluate("b => b.getBoundingClientRect().height")
            assert height >= 48, (selector, height)
        no_horizontal_overflow(chair)
        chair.screenshot(path=str(SCREENSHOTS / "chair-controls.png"))
        chair.set_viewport_size({"width": 768, "height": 1024})  # the tablet held upright
        no_horizontal_overflow(chair)
        chair.set_viewport_size(TABLET)
        projector.screenshot(path=str(SCREENSHOTS / "projector-dark-vote.png"))

        chair.click(f"#poll-list [data-poll-id='{poll_id}'] [data-poll-action=close]")
        chair.click(f"#poll-list [data-poll-id='{poll_id}'][data-status=closed] [data-poll-action=publish]")
        projector.wait_for_selector(f"#p-poll[data-poll-id='{poll_id}'][data-status=published] .result-bars")
        chair.click("#end-speech")
        projector.wait_for_selector("#p-speaker-name:has-text('Nobody has the floor')")
        no_horizontal_overflow(projector)
        projector.screenshot(path=str(SCREENSHOTS / "projector-dark.png"))
        csp_clean(chair)
        csp_clean(projector)
    finally:
        delegate.close()
        chair.context.close()
        projector.context.close()
