"""Written consultations on the delegate's tablet, in Chromium against a real server process.

A consultation goes to four members. Two answer from their tablets, one of them with the
browser offline (queued in the tablet's outbox, stored once back online); a reminder reaches
the tablet that has not answered; an extension moves the deadline on screen; a second
consultation closes while a tablet holds an answer queued offline: the result appears live,
and the late answer is refused with the reason in the member's language and dropped.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import ConsultationAnswer, MeetingStatus, Role
from server.models.base import utcnow
from tests import factories
from tests.browser.test_tablet import open_tablet, script_errors, screenshot
from tests.live import wait_until
from tests.realtime.clients import login as api_login

pytestmark = pytest.mark.browser


def answers_of(consultation_id: int) -> list[tuple[int, str, str]]:
    db.session.remove()
    return [(a.user_id, a.choice, a.comment) for a in db.session.scalars(
        select(ConsultationAnswer).where(ConsultationAnswer.consultation_id == consultation_id)
        .order_by(ConsultationAnswer.user_id))]


@pytest.fixture(scope="module")
def people(live_server):
    meeting = factories.make_meeting(title="Kỳ họp thứ 12 HĐND tỉnh", status=MeetingStatus.PUBLISHED)
    names = ["Nguyễn Thị Hường", "Lê Văn Bình", "Phạm Văn Chí", "Đỗ Thị Dung"]
    users = [factories.make_user(Role.DELEGATE, full_name=n) for n in names]
    seats = [factories.make_participant(meeting, user=u) for u in users[:3]]  # Dung has no tablet
    secretary = factories.make_user(Role.SECRETARY, full_name="Lê Thu Hà")
    db.session.commit()
    return SimpleNamespace(meeting=meeting, users=users, seats=seats, secretary=secretary)


class Office:
    """The secretary over the real REST API (session cookie + CSRF token)."""

    def __init__(self, base_url: str, user):
        self.base_url = base_url + "/api/v1"
        self.http = api_login(base_url, user)

    def call(self, method: str, path: str, body: dict | None = None, status: int = 200) -> dict:
        answer = self.http.request(method, self.base_url + path, json=body, timeout=10)
        assert answer.status_code == status, answer.text
        return answer.json()

    def send(self, title: str, members, closes_in: timedelta, **rules) -> dict:
        return self.call("POST", "/consultations", {
            "title": title, "question": "Đồng ý thông qua dự thảo Nghị quyết?",
            "body": "Dự thảo Nghị quyết điều chỉnh kế hoạch đầu tư công năm 2027.",
            "closes_at": (utcnow() + closes_in).isoformat(),
            "members": [{"user_id": u.id} for u in members], **rules}, status=201)


def paired_tablet(browser, live_server, office, meeting, seat, locale="en-GB"):
    context, page = open_tablet(browser, live_server.url, locale=locale)
    code = office.call("POST", f"/meetings/{meeting.id}/participants/{seat.id}/pairing-code",
                       status=201)
    page.goto(code["pair_path"])
    page.wait_for_selector("#connection[data-state=online]")
    return context, page


def open_consultation(page, consultation_id: int) -> None:
    page.click("#tabs a[data-view=consult]")
    page.click(f".consult-item[data-id='{consultation_id}'] .consult-link")
    page.wait_for_selector(f".consult-detail[data-id='{consultation_id}']")


def answer_on(page, choice: str, comment: str = "") -> None:
    page.click(f"#consult-form .option[data-choice={choice}]")
    if comment:
        page.fill("#consult-comment", comment)
    page.click("#consult-send")


def test_members_answer_on_tablets_offline_reminded_extended_and_refused_late(
        browser, live_server, people):
    office = Office(live_server.url, people.secretary)
    alice, bao, chi, dung = people.users
    first = office.send("Xin ý kiến về Nghị quyết điều chỉnh kế hoạch đầu tư công",
                        people.users, timedelta(hours=2))
    contexts = []
    try:
        for seat, locale in zip(people.seats, ("en-GB", "vi-VN", "en-GB")):
            contexts.append(paired_tablet(browser, live_server, office, people.meeting, seat, locale))
        (ctx_a, ta), (ctx_b, tb), (ctx_c, tc) = contexts

        # Alice answers online: "stored" once the server's reply holds her answer.
        open_consultation(ta, first["id"])
        assert "Đồng ý thông qua dự thảo Nghị quyết?" in ta.inner_text(".consult-detail")
        answer_on(ta, "yes", "Cần làm rõ nguồn vốn")
        ta.wait_for_selector(".consult-answer[data-state=stored]")
        assert "Your answer: Yes — Cần làm rõ nguồn vốn" in ta.inner_text(".consult-answer")
        assert answers_of(first["id"]) == [(alice.id, "yes", "Cần làm rõ nguồn vốn")]
        assert ta.inner_text("#consult-send") == "Change my answer"  # allow_change, still open

        # Bảo answers with his tablet offline (in Vietnamese): queued, then stored on reconnect.
        open_consultation(tb, first["id"])
        wait_until(lambda: tb.evaluate("!!navigator.serviceWorker.controller"),
                   what="the service worker to control the page")
        ctx_b.set_offline(True)
        tb.wait_for_selector("#connection:not([data-state=online])")
        answer_on(tb, "no")
        tb.wait_for_selector(".consult-answer[data-state=queued]")
        assert "Đang chờ gửi" in tb.inner_text(".consult-answer")
        assert tb.evaluate("(async () => (await (await import('/tablet/js/db.js')).outboxAll()).length)()") == 1
        screenshot(tb, "consultation-queued-vi")
        tb.reload()  # still offline: the app starts from its own copy, the answer still queued
        tb.wait_for_selector(".consult-answer[data-state=queued]")
        assert tb.get_attribute("#connection", "data-state") != "online"
        assert [a[0] for a in answers_of(first["id"])] == [alice.id]
        ctx_b.set_offline(False)
        tb.wait_for_selector(".consult-answer[data-state=stored]", timeout=30_000)
        assert "Ý kiến của bạn: Không đồng ý" in tb.inner_text(".consult-answer")
        assert "Đã lưu" in tb.inner_text(".consult-answer")
        seen = office.call("GET", f"/consultations/{first['id']}")
        assert seen["answered_by"] == sorted([alice.id, bao.id])
        assert answers_of(first["id"]) == sorted([(alice.id, "yes", "Cần làm rõ nguồn vốn"),
                                                  (bao.id, "no", "")])

        # Where changing is not allowed, an offline answer that meets the one Bảo gave on his
        # computer meanwhile is refused, in Vietnamese; the stored one stands.
        final = office.send("Xin ý kiến về quy chế làm việc", [bao], timedelta(hours=1),
                            allow_change=False)
        tb.click("#tabs a[data-view=consult]")
        open_consultation(tb, final["id"])
        ctx_b.set_offline(True)
        tb.wait_for_selector("#connection:not([data-state=online])")
        answer_on(tb, "yes")
        tb.wait_for_selector(".consult-answer[data-state=queued]")
        said = api_login(live_server.url, bao).put(
            f"{live_server.url}/api/v1/consultations/{final['id']}/answer", json={"choice": "no"})
        assert said.status_code == 200, said.text
        ctx_b.set_offline(False)
        tb.wait_for_selector("#consult-refusal", timeout=30_000)
        assert "bạn đã trả lời và không được thay đổi" in tb.inner_text("#consult-refusal")
        tb.wait_for_selector(".consult-answer[data-state=stored]")
        assert "Không đồng ý" in tb.inner_text(".consult-answer[data-state=stored]")
        assert tb.locator("#consult-form").count() == 0
        assert answers_of(final["id"]) == [(bao.id, "no", "")]

        # A reminder goes to those who have not answered: Chí's tablet shows it, Alice's not.
        tc.click("#tabs a[data-view=consult]")
        tc.wait_for_selector(f".consult-item[data-id='{first['id']}']")
        assert office.call("POST", f"/consultations/{first['id']}/remind")["reminded"] == [chi.id, dung.id]
        tc.wait_for_selector(f".consult-item[data-id='{first['id']}'] .consult-reminded")
        assert "Reminder to answer the written consultation" in tc.inner_text("#toast")
        assert tc.get_attribute("#tabs a[data-view=consult]", "class").split().count("attention") == 1
        screenshot(tc, "consultation-reminded")
        assert ta.locator(".consult-reminded").count() == 0
        assert "Reminder" not in (ta.inner_text("#toast") if ta.is_visible("#toast") else "")

        # The office extends the deadline: Chí's open page shows the new one without reloading.
        open_consultation(tc, first["id"])
        before = tc.inner_text(".consult-deadline")
        later = (utcnow() + timedelta(hours=5)).replace(microsecond=0)
        office.call("POST", f"/consultations/{first['id']}/extend", {"closes_at": later.isoformat()})
        wait_until(lambda: tc.inner_text(".consult-deadline") != before, what="the new deadline on the tablet")
        held = tc.evaluate("async (id) => Date.parse((await import('/tablet/js/consultations.js'))"
                           ".byId(id).closes_at)", first["id"])
        assert held == int(later.timestamp() * 1000)

        # A second one with a short deadline: open ones first, the soonest deadline first.
        second = office.send("Xin ý kiến về việc đổi tên đường", [alice, chi], timedelta(seconds=25),
                             majority="simple", base="cast")
        ta.click("#tabs a[data-view=consult]")
        ta.wait_for_selector(f".consult-item[data-id='{second['id']}']")
        order = ta.eval_on_selector_all(".consult-item", "items => items.map((i) => Number(i.dataset.id))")
        assert order == [second["id"], first["id"]]
        open_consultation(ta, second["id"])
        answer_on(ta, "yes")
        ta.wait_for_selector(".consult-answer[data-state=stored]")

        # Chí answers it offline; the deadline passes before his tablet is back.
        tc.click("#tabs a[data-view=consult]")
        open_consultation(tc, second["id"])
        ctx_c.set_offline(True)
        tc.wait_for_selector("#connection:not([data-state=online])")
        answer_on(tc, "no", "Chưa đủ thông tin")
        tc.wait_for_selector(".consult-answer[data-state=queued]")
        left = datetime.fromisoformat(second["closes_at"]) - utcnow()
        time.sleep(max(0.0, left.total_seconds()) + 1)
        closed = office.call("GET", f"/consultations/{second['id']}")  # closes and tallies it
        assert closed["result"]["passed"] is True and closed["closed_at"]

        # Alice's open page shows the result, live (consultation.closed).
        ta.wait_for_selector("#consult-result")
        assert ta.inner_text("#consult-passed") == "Carried"
        assert ta.inner_text("#consult-result li[data-choice=yes] .count") == "1"
        assert ta.inner_text("#consult-result li[data-choice=none] .count") == "1"
        assert ta.locator("#consult-form").count() == 0
        screenshot(ta, "consultation-result")

        # Chí's tablet comes back: the late answer is refused, said so, and not retried.
        ctx_c.set_offline(False)
        tc.wait_for_selector("#consult-refusal", timeout=30_000)
        assert "the consultation has closed" in tc.inner_text("#consult-refusal")
        tc.wait_for_selector(".consult-answer[data-state=refused]")
        wait_until(lambda: tc.evaluate(
            "(async () => (await (await import('/tablet/js/db.js')).outboxAll()).length === 0)()"),
            what="the refused answer to leave the outbox")
        tc.wait_for_selector("#consult-result")
        screenshot(tc, "consultation-refused")
        assert answers_of(second["id"]) == [(alice.id, "yes", "")]
        tc.reload()  # not sent again after a reload either
        tc.wait_for_selector("#connection[data-state=online]")
        tc.wait_for_timeout(1000)
        assert answers_of(second["id"]) == [(alice.id, "yes", "")]
        for _, page in contexts:
            assert script_errors(page, allow_offline=True) == []
    finally:
        for context, _ in contexts:
            context.close()


def test_the_order_and_the_refusal_reasons_in_the_tablets_own_code(browser, live_server):
    """consultations.js on its own: open ones (and those yet to open) first by deadline, then
    closed ones latest first; open is worked out by the clock; each refusal code has its
    sentence."""
    context, page = open_tablet(browser, live_server.url)
    try:
        page.goto("/tablet/")
        page.wait_for_selector("#pin")
        found = page.evaluate("""async () => {
          const c = await import('/tablet/js/consultations.js');
          const soon = new Date(Date.now() + 3600e3).toISOString();
          const later = new Date(Date.now() + 7200e3).toISOString();
          const past = new Date(Date.now() - 3600e3).toISOString();
          const older = new Date(Date.now() - 7200e3).toISOString();
          const list = [
            { id: 1, open: false, closed_at: older, closes_at: older },
            { id: 2, open: true, closed_at: null, closes_at: later },
            { id: 3, open: true, closed_at: null, closes_at: past },  // past its deadline
            { id: 4, open: true, closed_at: null, closes_at: soon },
            { id: 5, open: false, closed_at: null, opens_at: soon, closes_at: later },  // opens later
          ];
          return { order: c.ordered(list).map((x) => x.id),
                   open: list.map((x) => c.isOpen(x)), notYet: list.map((x) => c.notYet(x)),
                   reasons: ['consultation_closed', 'answer_final', 'not_a_member', 'rate'].map((k) => c.reason(k, 'x')) };
        }""")
        assert found["order"] == [4, 2, 5, 3, 1]
        assert found["open"] == [False, True, False, True, False]
        assert found["notYet"] == [False, False, False, False, True]
        assert found["reasons"] == [
            "Your answer was not accepted: the consultation has closed.",
            "Your answer was not accepted: you have answered already and changing is not allowed.",
            "Your answer was not accepted: you are not named on this consultation.",
            "Your answer was not accepted: x"]
    finally:
        context.close()
