"""Reminder emails from the real server process (eventlet) through a real SMTP server: the
link in the email opens the member's page; with the mail server gone the socket reminder
still arrives and the answer says the email failed."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from server.models import Role, utcnow
from tests import factories
from tests.mailserver import mail_server
from tests.realtime.clients import LiveClient, login, login_cookie
from tests.realtime.conftest import start_live

TITLE = "Xin ý kiến về việc điều chỉnh dự toán ngân sách năm 2027"


def seed():
    return SimpleNamespace(secretary=factories.make_user(Role.SECRETARY),
                           an=factories.make_user(email="an@hdnd.test", locale="vi"),
                           binh=factories.make_user(email="binh@hdnd.test"),
                           chi=factories.make_user())


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from server.extensions import db

    base = tmp_path_factory.mktemp("consultation-emails")
    with mail_server(base / "smtp") as smtp:
        env, context = start_live(base, before_start=seed, env={
            "HEMICYCLE_SMTP_HOST": smtp.host, "HEMICYCLE_SMTP_PORT": str(smtp.port),
            "HEMICYCLE_SMTP_SECURITY": "none", "HEMICYCLE_SMTP_TIMEOUT": "5",
            "HEMICYCLE_SMTP_FROM": "Văn phòng HĐND tỉnh <vanphong@hdnd.test>"})
        try:
            yield SimpleNamespace(env=env, smtp=smtp, **vars(env.seeded))
        finally:
            env.server.stop()
            db.session.remove()
            context.pop()


def test_reminder_emails_from_the_server_reach_only_those_who_have_not_answered(world):
    url = world.env.url
    office = login(url, world.secretary)
    sent = office.post(f"{url}/api/v1/consultations", timeout=30, json={
        "title": TITLE, "question": "Đồng ý điều chỉnh?",
        "closes_at": (utcnow() + timedelta(days=3)).isoformat(),
        "members": [{"user_id": m.id} for m in (world.an, world.binh, world.chi)]})
    assert sent.status_code == 201, sent.text
    cid = sent.json()["id"]
    asked = world.smtp.received()
    assert sorted(r.envelope_to[0] for r in asked) == ["an@hdnd.test", "binh@hdnd.test"]

    answered = login(url, world.an).put(f"{url}/api/v1/consultations/{cid}/answer",
                                        json={"choice": "yes"}, timeout=30)
    assert answered.status_code == 200, answered.text
    binh = LiveClient(url, auth={"consultations": True},
                      cookie=login_cookie(url, world.binh)).connect()
    try:
        told = office.post(f"{url}/api/v1/consultations/{cid}/remind", timeout=30)
        assert told.status_code == 200, told.text
        assert told.json() == {"reminded": [world.binh.id, world.chi.id], "email_enabled": True,
                               "emailed": [world.binh.id], "email_failed": [],
                               "without_email": [world.chi.id], "email_error": None}
        binh.wait_for_consultation("consultation.reminder", id=cid)
    finally:
        binh.close()
    [reminder] = world.smtp.received()[len(asked):]
    assert reminder.envelope_to == ["binh@hdnd.test"]
    assert TITLE in reminder.message["Subject"] and TITLE in reminder.text
    link = f"{url}/consultations/{cid}"
    assert link in reminder.text
    # The link opens Bình's own page of the consultation, with the answer form.
    page = login(url, world.binh).get(link, timeout=30)
    assert page.status_code == 200 and TITLE in page.text and 'id="answer-form"' in page.text


def test_with_the_mail_server_gone_the_reminder_still_goes(world):
    url = world.env.url
    office = login(url, world.secretary)
    sent = office.post(f"{url}/api/v1/consultations", timeout=30, json={
        "title": TITLE, "question": "Đồng ý?", "closes_at": (utcnow() + timedelta(days=3)).isoformat(),
        "members": [{"user_id": world.binh.id}]})
    cid = sent.json()["id"]
    world.smtp.process.terminate()
    world.smtp.process.wait(10)
    binh = LiveClient(url, auth={"consultations": True},
                      cookie=login_cookie(url, world.binh)).connect()
    try:
        told = office.post(f"{url}/api/v1/consultations/{cid}/remind", timeout=30)
        assert told.status_code == 200, told.text
        assert told.json()["reminded"] == [world.binh.id]
        assert told.json()["email_failed"] == [world.binh.id] and told.json()["emailed"] == []
        assert "could not be reached" in told.json()["email_error"]
        binh.wait_for_consultation("consultation.reminder", id=cid)
    finally:
        binh.close()
