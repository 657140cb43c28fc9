"""Issue 18's "done when", in Chromium against a real server process and a real SMTP server.

A written consultation goes to 15 members. Twelve answer from paired tablets: two in
Chromium (one of them offline, its answer queued and stored on reconnecting), ten over
the tablet's REST API with their own device tokens. The secretary, in Chromium, sees
12 / 15 and reminds the other three: each gets an email and the one with a tablet in
Chromium sees the reminder. The deadline passes; the result is tallied, the report sealed
by the office; pdfsig calls its signature valid; the archive package from the page passes
`hemicycle archive verify`; the archive page finds it without diacritics; a late answer
is refused and changes nothing.
"""
from __future__ import annotations

import subprocess
import time
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import requests

from server.extensions import db
from server.models import MeetingStatus, Role
from server.models.base import utcnow
from tests import factories
from tests.browser.test_tablet import script_errors
from tests.browser.test_tablet_consultations import (
    Office, answer_on, answers_of, open_consultation, paired_tablet,
)
from tests.live import ok_run, wait_until
from tests.mailserver import mail_server
from tests.realtime.conftest import start_live

pytestmark = pytest.mark.browser

TITLE = "Xin ý kiến về Nghị quyết điều chỉnh kế hoạch đầu tư công năm 2027"
BODY = "Hội đồng nhân dân tỉnh Lâm Đồng"
DEADLINE = timedelta(seconds=75)


def seed():
    from server.services.minutes import ca

    ca.init_ca("Hemicycle CA - " + BODY, BODY)
    ca.issue_office_seal("Văn phòng " + BODY)
    meeting = factories.make_meeting(title="Kỳ họp thứ 12", status=MeetingStatus.PUBLISHED)
    users = [factories.make_user(Role.DELEGATE, full_name=f"Đại biểu Nguyễn Văn {n:02d}",
                                 email=f"daibieu{n:02d}@hdnd.test") for n in range(1, 16)]
    seats = [factories.make_participant(meeting, user=u) for u in users]
    secretary = factories.make_user(Role.SECRETARY, full_name="Lê Thu Hà")
    db.session.commit()
    return SimpleNamespace(meeting=meeting, users=users, seats=seats, secretary=secretary)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("consultation-e2e")
    with mail_server(base / "smtp") as smtp:
        env, context = start_live(base, before_start=seed, env={
            "HEMICYCLE_SMTP_HOST": smtp.host, "HEMICYCLE_SMTP_PORT": str(smtp.port),
            "HEMICYCLE_SMTP_SECURITY": "none", "HEMICYCLE_SMTP_TIMEOUT": "5",
            "HEMICYCLE_SMTP_FROM": "Văn phòng HĐND tỉnh <vanphong@hdnd.test>"})
        try:
            yield SimpleNamespace(env=env, smtp=smtp, base=base, **vars(env.seeded))
        finally:
            env.server.stop()
            db.session.remove()
            context.pop()


def api_tablet(url: str, office: Office, meeting, seat) -> requests.Session:
    """A tablet paired over REST the way the tablet app pairs: pairing code, then /pair."""
    code = office.call("POST", f"/meetings/{meeting.id}/participants/{seat.id}/pairing-code",
                       status=201)
    paired = requests.post(f"{url}/api/v1/pair", json={"code": code["code"], "label": "tablet"},
                           timeout=30)
    assert paired.status_code == 201, paired.text
    tablet = requests.Session()
    tablet.headers["Authorization"] = f"Bearer {paired.json()['token']}"
    return tablet


def test_fifteen_members_twelve_answer_three_reminded_the_report_sealed_and_archived(
        browser, world, tmp_path):
    url = world.env.url
    office = Office(url, world.secretary)
    users, seats = world.users, world.seats
    contexts = []
    try:
        # Tablets first (pairing belongs to the meeting); then the question goes out.
        for n, locale in ((0, "en-GB"), (1, "vi-VN"), (14, "en-GB")):
            contexts.append(paired_tablet(browser, SimpleNamespace(url=url), office,
                                          world.meeting, seats[n], locale))
        (ctx_a, ta), (ctx_b, tb), (_ctx_o, to) = contexts
        rest = [api_tablet(url, office, world.meeting, seats[n]) for n in range(2, 12)]
        sent_at = utcnow()
        sent = office.send(TITLE, users, DEADLINE, allow_change=False)
        cid = sent["id"]
        invited = wait_until(lambda: len(world.smtp.received()) == 15 and world.smtp.received(),
                             what="the 15 invitation emails")

        # On a Chromium tablet, online.
        open_consultation(ta, cid)
        answer_on(ta, "yes", "Thống nhất với tờ trình")
        ta.wait_for_selector(".consult-answer[data-state=stored]")
        # On a Chromium tablet, offline: queued, stored once back online.
        open_consultation(tb, cid)
        wait_until(lambda: tb.evaluate("!!navigator.serviceWorker.controller"),
                   what="the service worker to control the page")
        ctx_b.set_offline(True)
        tb.wait_for_selector("#connection:not([data-state=online])")
        answer_on(tb, "no", "Đề nghị bổ sung nguồn vốn đối ứng của huyện Đức Trọng")
        tb.wait_for_selector(".consult-answer[data-state=queued]")
        assert len(answers_of(cid)) == 1
        # Ten more tablets over REST: 7 yes, 2 no, 1 abstain.
        for n, tablet in enumerate(rest):
            choice = "yes" if n < 7 else ("no" if n < 9 else "abstain")
            said = tablet.put(f"{url}/api/v1/consultations/{cid}/answer",
                              json={"choice": choice}, timeout=30)
            assert said.status_code == 200, said.text
        ctx_b.set_offline(False)
        tb.wait_for_selector(".consult-answer[data-state=stored]", timeout=30_000)
        assert len(answers_of(cid)) == 12

        # The secretary sees 12 / 15 and reminds the other three.
        sec_ctx = browser.new_context(base_url=url, locale="en-GB",
                                      timezone_id="Asia/Ho_Chi_Minh", accept_downloads=True)
        contexts.append((sec_ctx, None))
        sec = sec_ctx.new_page()
        sec.goto("/login")
        sec.fill("#username", world.secretary.username)
        sec.fill("#password", factories.PASSWORD)
        sec.click("button[type=submit]")
        sec.wait_for_url(lambda u: "/login" not in u)
        sec.goto(f"/consultations/{cid}")
        assert sec.inner_text("#progress") == "12 / 15"
        to.click("#tabs a[data-view=consult]")
        to.wait_for_selector(f".consult-item[data-id='{cid}']")
        sec.click("text=Remind those who have not answered")
        sec.wait_for_load_state()
        to.wait_for_selector(f".consult-item[data-id='{cid}'] .consult-reminded")
        reminders = wait_until(lambda: world.smtp.received()[len(invited):]
                               if len(world.smtp.received()) == 18 else None,
                               what="the 3 reminder emails")
        assert sorted(r.envelope_to[0] for r in reminders) == [
            f"daibieu{n:02d}@hdnd.test" for n in (13, 14, 15)]

        # The deadline passes: the page (read after it) shows the tally and the sealed report.
        left = (datetime.fromisoformat(sent["closes_at"]) - utcnow()).total_seconds()
        assert utcnow() - sent_at < DEADLINE, "the answers took longer than the deadline"
        time.sleep(max(0.0, left) + 1)
        sec.goto(f"/consultations/{cid}")
        sec.wait_for_selector("#result")
        assert sec.inner_text("#passed") == "Carried"  # 8 yes of 15 members: more than half
        # The report is sealed after the closing's commit (by this request or a tablet's).
        wait_until(lambda: sec.reload() and sec.locator("#report").count() == 1,
                   what="the sealed report on the page")
        assert "sealed by Văn phòng " + BODY in sec.inner_text("#report")
        with sec.expect_download() as got:
            sec.click("#package")
        package = tmp_path / "consultation.zip"
        got.value.save_as(package)
        report = sec_ctx.request.get(f"{url}/consultations/{cid}/report.pdf")
        assert report.status == 200 and report.headers["content-type"] == "application/pdf"
        pdf = tmp_path / "report.pdf"
        pdf.write_bytes(report.body())
        checked = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True)
        assert "Signature is Valid" in checked.stdout, checked.stdout + checked.stderr
        assert "Total document signed" in checked.stdout
        verified = ok_run(world.env.server.env(), "archive", "verify", package)
        assert "OK: the package is complete, signed and consistent." in verified

        # Archive search, without diacritics, in the browser.
        sec.goto("/archive?q=dieu+chinh+ke+hoach+dau+tu+cong")
        hit = sec.locator("ol.hits li", has_text="Written consultation")
        assert hit.count() == 1 and TITLE in hit.inner_text()
        comment = sec.goto("/archive?q=nguon+von+doi+ung+Duc+Trong")
        assert comment.status == 200
        assert "Đại biểu Nguyễn Văn 02" in sec.inner_text("ol.hits")

        # Too late: refused with a clear code, nothing changed.
        late_tablet = api_tablet(url, office, world.meeting, seats[12])
        refused = late_tablet.put(f"{url}/api/v1/consultations/{cid}/answer",
                                  json={"choice": "yes"}, timeout=30)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "consultation_closed"
        assert len(answers_of(cid)) == 12
        for _, page in contexts[:3]:
            assert script_errors(page, allow_offline=True) == []
    finally:
        for context, _ in contexts:
            context.close()
