"""The secretary's consultation page says how many members were emailed (real SMTP server)."""
from __future__ import annotations

import re

from server.models import Role
from tests import factories
from tests.api.test_consultations_api import _login
from tests.mailserver import free_port
from tests.services.consultations.test_emailing import mail_app, smtp  # noqa: F401 (fixtures)
from tests.web.test_consultations_pages import GOOD
from tests.web.test_drafts_pages import csrf


def _flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+" role="status">(.*?)</p>', html, re.S)


def test_sending_and_reminding_say_how_many_were_emailed(mail_app, smtp):  # noqa: F811
    client = mail_app(**smtp.settings()).test_client()
    office = factories.make_user(Role.SECRETARY)
    answers, waits = (factories.make_user(email=f"{n}@hdnd.test") for n in ("an", "binh"))
    no_address = factories.make_user()
    _login(client, office)
    token = csrf(client.get("/consultations/new").get_data(as_text=True))
    members = [answers, waits, no_address]
    sent = client.post("/consultations/new", follow_redirects=True, data={
        **GOOD, "title": "Xin ý kiến về dự thảo Nghị quyết", "csrf_token": token,
        "members": [str(m.id) for m in members], **{f"weight_{m.id}": "1" for m in members}})
    page = sent.get_data(as_text=True)
    assert "Đã gửi thư điện tử: 2." in _flashes(page)
    assert "Người chưa có địa chỉ thư điện tử: 1." in _flashes(page)
    assert re.search(r"Thư điện tử xin ý kiến \([^)]*\): đã gửi 2 · chưa có địa chỉ 1", page)
    assert "(chưa có địa chỉ thư điện tử)" in page  # next to that member's name
    assert len(smtp.received()) == 2
    cid = int(re.search(r'data-consultation="(\d+)"', page).group(1))

    _login(client, answers)
    token = csrf(client.get(f"/consultations/{cid}").get_data(as_text=True))
    client.post(f"/consultations/{cid}/answer", data={"csrf_token": token, "choice": "yes"})

    _login(client, office)
    token = csrf(client.get(f"/consultations/{cid}?lang=en").get_data(as_text=True))
    reminded = client.post(f"/consultations/{cid}/remind", data={"csrf_token": token},
                           follow_redirects=True).get_data(as_text=True)
    assert _flashes(reminded) == ["Members who have not answered reminded: 2.", "Emailed: 1.",
                                  "Members without an email address: 1."]
    assert re.search(r"Last reminder emails \([^)]*\): emailed 1 · no address 1", reminded)
    assert [r.envelope_to for r in smtp.received()[2:]] == [["binh@hdnd.test"]]


def test_the_page_says_when_the_email_did_not_go(mail_app):  # noqa: F811
    app = mail_app(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none",
                   SMTP_FROM="vanphong@hdnd.test", SMTP_TIMEOUT=3.0)
    client = app.test_client()
    office = factories.make_user(Role.SECRETARY, locale="en")
    member = factories.make_user(email="an@hdnd.test")
    _login(client, office)
    token = csrf(client.get("/consultations/new").get_data(as_text=True))
    sent = client.post("/consultations/new", follow_redirects=True, data={
        **GOOD, "csrf_token": token, "members": [str(member.id)], f"weight_{member.id}": "1"})
    page = sent.get_data(as_text=True)
    assert "The consultation is sent to the members." in _flashes(page)
    assert any(f.startswith("Emails not sent: 1 (the SMTP server 127.0.0.1:") for f in _flashes(page))
    assert re.search(r"Invitation emails \([^)]*\): emailed 0 · <strong>not sent 1</strong>", page)
    # The reason, kept in the audit log, is said again in the reader's language.
    cid = re.search(r'data-consultation="(\d+)"', page).group(1)
    vietnamese = client.get(f"/consultations/{cid}?lang=vi").get_data(as_text=True)
    assert re.search(r'class="muted email-error">không kết nối được máy chủ SMTP 127\.0\.0\.1:',
                     vietnamese)


def test_without_smtp_the_page_says_email_is_off(mail_app):  # noqa: F811
    client = mail_app().test_client()
    office = factories.make_user(Role.SECRETARY, locale="en")
    member = factories.make_user(email="an@hdnd.test")
    _login(client, office)
    token = csrf(client.get("/consultations/new").get_data(as_text=True))
    page = client.post("/consultations/new", follow_redirects=True, data={
        **GOOD, "csrf_token": token, "members": [str(member.id)],
        f"weight_{member.id}": "1"}).get_data(as_text=True)
    assert "Email is off (no SMTP server is configured)" in page
    assert not any("Emailed" in f for f in _flashes(page))
