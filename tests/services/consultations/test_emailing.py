"""Reminder and invitation emails through a real SMTP server (aiosmtpd, its own process)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server import create_app
from server.extensions import db
from server.models import AuditEntry, Base
from server.services.actors import Actor
from server.services.consultations import answering, emailing, notices, reminding
from tests import factories
from tests.conftest import test_config as config_for
from tests.mailserver import certificate, free_port, mail_server
from tests.services.consultations.test_consultations import _ask

TITLE = "Xin ý kiến về Nghị quyết điều chỉnh kế hoạch đầu tư công"
HALL = "https://hall.example.org"


@pytest.fixture
def smtp(tmp_path):
    with mail_server(tmp_path / "smtp") as server:
        yield server


@pytest.fixture
def heard():
    told: list = []
    notices.on_committed(told.extend)
    yield told
    notices._listeners.remove(told.extend)


@pytest.fixture
def mail_app(tmp_path):
    """``make(**settings)``: an app (its context pushed) with the test's settings."""
    def make(**settings):
        app = create_app(config_for(tmp_path, **settings))
        context = app.app_context()
        context.push()
        Base.metadata.create_all(db.engine)
        made.append(context)
        return app
    made: list = []
    yield make
    db.session.remove()
    for context in made:
        context.pop()


def _members(*specs):
    """Members from (email, locale) pairs."""
    return [factories.make_user(email=address, locale=locale) for address, locale in specs]


def _audit(action):
    return [e.payload for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))]


def test_only_the_members_who_have_not_answered_get_the_reminder_email(mail_app, smtp, heard):
    mail_app(**smtp.settings(PUBLIC_URL=HALL))
    answered, english, both = _members(("an@hdnd.test", "vi"), ("binh@hdnd.test", "en"),
                                       ("chi@hdnd.test", None))
    office, consultation = _ask([answered, english, both])
    answering.answer(Actor.of_user(answered), consultation.id, "yes")
    db.session.commit()
    heard.clear()

    told = reminding.remind_and_email(office, consultation.id, "http://127.0.0.1:5000/")

    assert told["reminded"] == [english.id, both.id]
    assert told["emailed"] == [english.id, both.id]
    assert told["email_failed"] == [] and told["email_enabled"] is True
    assert [n.type for n in heard] == ["consultation.reminder"]
    received = smtp.received()
    assert sorted(r.envelope_to[0] for r in received) == ["binh@hdnd.test", "chi@hdnd.test"]
    link = f"{HALL}/consultations/{consultation.id}"  # the public address, not the request's
    by_address = {r.envelope_to[0]: r for r in received}
    for mail in received:
        assert TITLE in mail.message["Subject"] and TITLE in mail.text
        assert link in mail.text
        assert mail.message["From"].addresses[0].addr_spec == "vanphong@hdnd.test"
        # On the wire the Vietnamese is encoded (RFC 2047, quoted-printable), 7-bit clean.
        assert all(byte < 128 for byte in mail.raw)
        assert mail.message["Subject"].defects == ()
    english_mail = by_address["binh@hdnd.test"]
    assert english_mail.message["Subject"].startswith("Reminder:")
    assert "Nhắc" not in english_mail.message["Subject"]
    assert english_mail.message["To"].addresses[0].display_name == english.full_name
    bilingual = by_address["chi@hdnd.test"]
    assert bilingual.message["Content-Language"] == "vi, en"
    assert "Nhắc" in bilingual.message["Subject"] and "Reminder:" in bilingual.message["Subject"]
    assert "Kính gửi" in bilingual.text and "Dear" in bilingual.text
    [entry] = _audit("consultation.reminder_emailed")
    assert entry["emailed"] == [english.id, both.id] and entry["failed"] == []


def test_with_the_mail_server_down_the_reminder_still_goes_and_the_answer_says_so(
        mail_app, heard):
    mail_app(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none",
             SMTP_FROM="vanphong@hdnd.test", SMTP_TIMEOUT=3.0)
    members = _members(("an@hdnd.test", None), ("binh@hdnd.test", None))
    office, consultation = _ask(members)
    heard.clear()

    told = reminding.remind_and_email(office, consultation.id, HALL)

    assert told["reminded"] == [m.id for m in members]
    assert told["emailed"] == [] and told["email_failed"] == [m.id for m in members]
    assert "could not be reached" in told["email_error"]
    [notice] = heard  # the socket reminder went
    assert sorted(notice.members) == [m.id for m in members]
    assert _audit("consultation.reminded")[-1]["members"] == 2
    assert _audit("consultation.reminder_emailed")[-1]["failed"] == [m.id for m in members]


def test_a_member_without_an_address_is_reminded_but_not_emailed(mail_app, smtp):
    mail_app(**smtp.settings())
    with_address, without, blank = _members(("an@hdnd.test", None), (None, None), ("  ", "vi"))
    office, consultation = _ask([with_address, without, blank])

    told = reminding.remind_and_email(office, consultation.id, HALL)

    assert told["reminded"] == sorted([with_address.id, without.id, blank.id])
    assert told["emailed"] == [with_address.id]
    assert told["without_email"] == sorted([without.id, blank.id])
    assert [r.envelope_to for r in smtp.received()] == [["an@hdnd.test"]]


def test_without_an_smtp_host_no_email_is_attempted(mail_app):
    mail_app()
    office, consultation = _ask(_members(("an@hdnd.test", None)))
    told = reminding.remind_and_email(office, consultation.id, HALL)
    assert told["email_enabled"] is False and told["emailed"] == told["email_failed"] == []
    assert _audit("consultation.reminder_emailed") == []


def test_a_refused_recipient_fails_only_its_own_letter(mail_app, tmp_path):
    with mail_server(tmp_path / "refusing", refuse="gone.test") as server:
        mail_app(**server.settings())
        kept, gone, unicode, broken = _members(
            ("an@hdnd.test", None), ("binh@gone.test", None), ("nguyễn@hdnd.test", None),
            ("chi at hdnd", None))
        office, consultation = _ask([gone, unicode, broken, kept])
        told = reminding.remind_and_email(office, consultation.id, HALL)
        assert told["emailed"] == [kept.id]
        assert told["email_failed"] == [gone.id, unicode.id, broken.id]
        assert "550" in told["email_error"]
        assert [r.envelope_to for r in server.received()] == [["an@hdnd.test"]]


def test_the_server_login_is_used_and_a_wrong_password_is_reported(mail_app, tmp_path):
    with mail_server(tmp_path / "auth", login="hemicycle:m4t-kh4u!") as server:
        mail_app(**server.settings(SMTP_USERNAME="hemicycle", SMTP_PASSWORD="m4t-kh4u!"))
        office, consultation = _ask(_members(("an@hdnd.test", None)))
        told = reminding.remind_and_email(office, consultation.id, HALL)
        assert told["emailed"] == [told["reminded"][0]]
        assert server.received()[0].login == "hemicycle"

        from flask import current_app
        current_app.config["SMTP_PASSWORD"] = "sai"
        told = reminding.remind_and_email(office, consultation.id, HALL)
        assert told["email_failed"] == told["reminded"] and told["emailed"] == []
        assert "refused the login of hemicycle" in told["email_error"]
        assert len(server.received()) == 1


def test_the_members_asked_are_emailed_once_the_consultation_is_sent(mail_app, smtp):
    mail_app(**smtp.settings())
    members = _members(("an@hdnd.test", "vi"), ("binh@hdnd.test", "en"), (None, None))
    office, consultation = _ask(members)  # committed, as the view does before announcing

    emailed = emailing.announce(office, consultation.id, "http://127.0.0.1:5000/")

    assert emailed.sent == [members[0].id, members[1].id]
    assert emailed.without_address == [members[2].id]
    vietnamese = next(r for r in smtp.received() if r.envelope_to == ["an@hdnd.test"])
    assert vietnamese.message["Subject"].startswith("Xin ý kiến bằng văn bản")
    assert f"http://127.0.0.1:5000/consultations/{consultation.id}" in vietnamese.text
    assert _audit("consultation.asked_emailed")[-1]["emailed"] == emailed.sent


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_to_the_mail_server_with_its_ca_and_login(mail_app, tmp_path, security):
    cert, key, ca = certificate(tmp_path / "tls")
    with mail_server(tmp_path / security, login="hemicycle:s3cret", tls=(cert, key),
                     smtps=security == "ssl") as server:
        mail_app(**server.settings(SMTP_SECURITY=security, SMTP_CA_FILE=str(ca),
                                   SMTP_USERNAME="hemicycle", SMTP_PASSWORD="s3cret"))
        office, consultation = _ask(_members(("an@hdnd.test", None)))
        told = reminding.remind_and_email(office, consultation.id, HALL)
        assert told["emailed"] == told["reminded"], told["email_error"]
        assert server.received()[0].login == "hemicycle"


def test_a_certificate_the_deployment_does_not_trust_is_refused(mail_app, tmp_path):
    cert, key, _ca = certificate(tmp_path / "tls")
    with mail_server(tmp_path / "untrusted", tls=(cert, key)) as server:
        mail_app(**server.settings(SMTP_SECURITY="starttls"))  # no SMTP_CA_FILE
        office, consultation = _ask(_members(("an@hdnd.test", None)))
        told = reminding.remind_and_email(office, consultation.id, HALL)
        assert told["emailed"] == [] and told["email_failed"] == told["reminded"]
        assert "TLS with the SMTP server" in told["email_error"]
        assert server.received() == []
