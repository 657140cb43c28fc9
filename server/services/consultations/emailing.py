"""Email to the members of a written consultation: when they are asked, and reminders.

The letters are written inside the transaction (plain data: names, addresses, text) and
sent after it commits (``server.services.mail``), so the socket reminder stands whatever
the mail server does; the outcome per member is then audited in a transaction of its own.
Each member reads the letter in the account's language, or in both when none is chosen.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry, Consultation, User
from server.services import audit, mail
from server.sentences import Sentence
from server.services.actors import Actor

KINDS = ("asked", "reminder")
SEPARATOR = "\n\n" + "-" * 40 + "\n\n"


@dataclass
class Batch:
    """Letters ready to go, and the members skipped for want of an address."""
    consultation_id: int
    kind: str
    letters: list[mail.Letter] = field(default_factory=list)
    without_address: list[int] = field(default_factory=list)
    enabled: bool = True


@dataclass(frozen=True)
class Emailed:
    """What became of a batch, per member (account ids)."""
    enabled: bool
    sent: list[int]
    failed: list[int]
    without_address: list[int]
    error: Sentence | None = None  # English as a str; translated where a page shows it

    def as_dict(self) -> dict:
        return {"email_enabled": self.enabled, "emailed": self.sent,
                "email_failed": self.failed, "without_email": self.without_address,
                "email_error": self.error}


def link(consultation_id: int, base_url: str | None) -> str:
    """The member's page of the consultation, under ``HEMICYCLE_PUBLIC_URL`` if set."""
    base = (current_app.config.get("PUBLIC_URL") or base_url or "").rstrip("/")
    return f"{base}/consultations/{consultation_id}"


def deadline(consultation: Consultation) -> str:
    """The deadline in the meeting room's time zone, with its offset (``GMT+7``)."""
    zone = ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Ho_Chi_Minh"))
    local = consultation.closes_at.astimezone(zone)
    hours = (local.utcoffset() or timedelta()).total_seconds() / 3600
    return f"{local:%d/%m/%Y %H:%M} (GMT{hours:+g})"


def _text(kind: str, consultation: Consultation, name: str, url: str) -> tuple[str, str]:
    """Subject and body in the current locale."""
    values = {"title": consultation.title, "deadline": deadline(consultation)}
    if kind == "reminder":
        subject = _("Reminder: answer the written consultation “%(title)s” by %(deadline)s",
                    **values)
        opening = _("You have not yet answered the written consultation “%(title)s”.",
                    **values)
    else:
        subject = _("Written consultation: “%(title)s”, to answer by %(deadline)s", **values)
        opening = _("The office asks for your answer to the written consultation “%(title)s”.",
                    **values)
    body = "\n\n".join([
        _("Dear %(name)s,", name=name), opening,
        _("Question: %(question)s", question=consultation.question),
        _("Answer (yes, no or abstain) by %(deadline)s on your consultation page:", **values)
        + "\n" + url,
        _("This message was sent automatically by Hemicycle; please answer on the page, "
          "not by replying."),
    ])
    return subject, body


def _letter(kind: str, consultation: Consultation, user: User, url: str) -> mail.Letter:
    languages = [user.locale] if user.locale in current_app.config["LANGUAGES"] else ["vi", "en"]
    texts = []
    for language in languages:
        with force_locale(language):
            texts.append(_text(kind, consultation, user.full_name, url))
    return mail.Letter(key=user.id, to_name=user.full_name, to_address=user.email.strip(),
                       subject=" / ".join(subject for subject, _body in texts),
                       body=SEPARATOR.join(body for _subject, body in texts) + "\n",
                       language=", ".join(languages))


def test_letter(address: str) -> mail.Letter:
    """A letter in both languages that only says the mail server works (the operator's check)."""
    texts = []
    for language in ("vi", "en"):
        with force_locale(language):
            texts.append((_("Hemicycle test email"),
                          _("The mail server settings work: members will receive the written "
                            "consultations' invitations and reminders.")))
    return mail.Letter(key=0, to_name="", to_address=address,
                       subject=" / ".join(subject for subject, _body in texts),
                       body=SEPARATOR.join(body for _subject, body in texts) + "\n",
                       language="vi, en")


def prepare(kind: str, consultation: Consultation, user_ids: list[int],
            base_url: str | None) -> Batch:
    """The letters of ``kind`` (asked, reminder) to ``user_ids``; none when email is off."""
    assert kind in KINDS
    batch = Batch(consultation.id, kind)
    if not enabled():
        batch.enabled = False
        return batch
    url = link(consultation.id, base_url)
    users = db.session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.id))
    for user in users:
        if user.email and user.email.strip():
            batch.letters.append(_letter(kind, consultation, user, url))
        else:
            batch.without_address.append(user.id)
    return batch


def deliver(actor: Actor, batch: Batch) -> Emailed:
    """Send the batch (after the caller's commit) and audit the outcome (committed).

    Never raises for the mail server: a member whose letter did not go is in ``failed``.
    """
    settings = mail.SmtpSettings.from_config(current_app.config)
    if not batch.enabled or settings is None:
        return Emailed(False, [], [], [])
    outcome = mail.send(settings, batch.letters)
    emailed = Emailed(True, outcome.sent, outcome.failed, batch.without_address, outcome.error)
    audit.record(f"consultation.{batch.kind}_emailed", "consultation", batch.consultation_id,
                 actor=actor, outcome="ok" if not outcome.failed else "partial",
                 payload={"emailed": outcome.sent, "failed": outcome.failed,
                          "without_email": batch.without_address, "error": outcome.error,
                          "error_sentence": {"msgid": outcome.error.msgid,
                                             "params": outcome.error.params}
                          if outcome.error else None})
    db.session.commit()
    return emailed


def announce(actor: Actor, consultation_id: int, base_url: str | None) -> Emailed:
    """After the commit that sent a consultation: email every member asked who has an
    address that they are asked (audited; never raises for the mail server)."""
    consultation = db.session.get(Consultation, consultation_id)
    batch = prepare("asked", consultation, [m.user_id for m in consultation.members], base_url)
    db.session.rollback()  # only read: end the transaction before the mail server answers
    return deliver(actor, batch)


def enabled() -> bool:
    return mail.SmtpSettings.from_config(current_app.config) is not None


def last_sent(consultation_id: int) -> dict[str, dict]:
    """The latest email outcome of each kind (``asked``, ``reminder``), from the audit log:
    when, and how many were emailed, not emailed, and without an address."""
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == "consultation", AuditEntry.object_id == str(consultation_id),
        AuditEntry.action.in_([f"consultation.{kind}_emailed" for kind in KINDS]))
        .order_by(AuditEntry.seq))
    return {entry.action.split(".")[1].removesuffix("_emailed"): {
        "at": entry.at, "emailed": len(entry.payload.get("emailed", [])),
        "failed": len(entry.payload.get("failed", [])),
        "without_email": len(entry.payload.get("without_email", [])),
        "error": _sentence(entry.payload)} for entry in entries}


def _sentence(payload: dict) -> Sentence | str | None:
    """The audited reason, as a Sentence again so that the page translates it."""
    said = payload.get("error_sentence")
    return Sentence(said["msgid"], **said["params"]) if said else payload.get("error")
