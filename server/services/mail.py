"""Email through the deployment's SMTP server (``HEMICYCLE_SMTP_*``); off without a host.

The standard library's ``smtplib`` speaks SMTP (STARTTLS, SMTPS, AUTH) and
``email.message.EmailMessage`` builds the message: headers such as a Vietnamese subject
are RFC 2047-encoded UTF-8, the body quoted-printable, so any relay passes it unchanged.
Nothing here touches the database: callers send after their commit, so a slow or absent
mail server never holds the audit chain's lock nor undoes what was committed.
"""
from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from server.sentences import Sentence

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # starttls, ssl or none
    sender: str
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config) -> "SmtpSettings | None":
        """The settings in ``config`` (the app's), or None when email is off (no host)."""
        if not config.get("SMTP_HOST"):
            return None
        return cls(host=config["SMTP_HOST"], port=int(config.get("SMTP_PORT") or 587),
                   security=config.get("SMTP_SECURITY") or "starttls",
                   sender=config.get("SMTP_FROM") or "", username=config.get("SMTP_USERNAME"),
                   password=config.get("SMTP_PASSWORD"), ca_file=config.get("SMTP_CA_FILE"),
                   timeout=float(config.get("SMTP_TIMEOUT") or 10))


@dataclass(frozen=True)
class Letter:
    """One message to one recipient; ``key`` names the recipient for the caller (an id)."""
    key: int
    to_name: str
    to_address: str
    subject: str
    body: str
    language: str  # Content-Language: "vi", "en" or "vi, en"


@dataclass
class Outcome:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    error: Sentence | None = None  # the first failure, for the office and the log


def _encoded(text: str, name: str) -> str:
    """A header value, RFC 2047 encoded when not ASCII, folded by ``email.header``: the
    modern folder drops the space between two encoded words of a long Vietnamese subject
    ("ý kiến" arrives as "ýkiến"; CPython gh-144156, fixed only in newer releases), so
    such headers are set as written here (``set_raw``), where no refolding happens."""
    text = " ".join(text.split())  # no line breaks: nothing can be added to the headers
    return text if text.isascii() else Header(text, "utf-8", header_name=name).encode()


def _address(name: str, address: str, header: str) -> str:
    Address(addr_spec=address)  # ValueError for an address that cannot be written
    name = " ".join(name.split())
    if not name or name.isascii():
        return formataddr((name, address))
    return f"{_encoded(name, header)}\n <{address}>"


def message(settings: SmtpSettings, letter: Letter) -> EmailMessage:
    """The letter as a MIME message; ValueError for an address that cannot be written."""
    mail = EmailMessage()
    sender_name, sender_address = parseaddr(settings.sender)
    mail.set_raw("From", _address(sender_name, sender_address, "From"))
    mail.set_raw("To", _address(letter.to_name, letter.to_address, "To"))
    mail.set_raw("Subject", _encoded(letter.subject, "Subject"))
    mail["Date"] = formatdate()
    mail["Message-ID"] = make_msgid(domain=sender_address.rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to the office
    mail.set_content(letter.body, cte="quoted-printable")
    mail["Content-Language"] = letter.language  # after set_content, which drops Content-*
    return mail


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()  # the system's CAs, and the deployment's own:
    if settings.ca_file:
        context.load_verify_locations(cafile=settings.ca_file)
    if settings.security == "ssl":
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                  context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.security == "starttls":
            client.starttls(context=context)
        if settings.username:
            client.login(settings.username, settings.password or "")
    except BaseException:
        client.close()
        raise
    return client


def _why(settings: SmtpSettings, error: BaseException) -> Sentence:
    where, detail = f"{settings.host}:{settings.port}", str(error)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return Sentence("the SMTP server %(where)s refused the login of %(user)s",
                        where=where, user=settings.username or "")
    if isinstance(error, UnicodeEncodeError):
        return Sentence("the SMTP username and password for %(where)s must be ASCII",
                        where=where)
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return Sentence("the SMTP server %(where)s does not offer STARTTLS or login: "
                        "%(detail)s", where=where, detail=detail)
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return Sentence("TLS with the SMTP server %(where)s failed: %(detail)s",
                        where=where, detail=detail)
    if isinstance(error, socket.timeout | TimeoutError):
        return Sentence("the SMTP server %(where)s did not answer within %(seconds)s s",
                        where=where, seconds=f"{settings.timeout:g}")
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(
            error.smtp_error, bytes) else str(error.smtp_error)
        return Sentence("the SMTP server %(where)s answered %(code)s: %(detail)s",
                        where=where, code=str(error.smtp_code), detail=text)
    if isinstance(error, OSError | smtplib.SMTPException):
        return Sentence("the SMTP server %(where)s could not be reached: %(detail)s",
                        where=where, detail=detail)
    return Sentence("sending through %(where)s failed: %(detail)s", where=where, detail=detail)


def send(settings: SmtpSettings, letters: list[Letter]) -> Outcome:
    """Send each letter over one connection; never raises for the network or the server.

    A connection, TLS or login failure fails every letter; a recipient the server
    refuses, or an address that cannot be written, fails only its own. Each network
    step waits at most ``settings.timeout`` seconds.
    """
    outcome = Outcome()
    if not letters:
        return outcome
    try:
        client = _connect(settings)
    except Exception as error:  # noqa: BLE001 -- every failure is reported, none raised
        outcome.failed = [letter.key for letter in letters]
        outcome.error = _why(settings, error)
        log.warning("email not sent to %d recipients: %s", len(letters), outcome.error)
        return outcome
    try:
        for index, letter in enumerate(letters):
            try:
                client.send_message(message(settings, letter))
                outcome.sent.append(letter.key)
            except (ValueError, IndexError, smtplib.SMTPNotSupportedError) as error:
                # An address that cannot be written, or one in Unicode (SMTPUTF8) to a
                # server that does not take them.
                outcome.failed.append(letter.key)
                outcome.error = outcome.error or Sentence(
                    "the address %(address)s cannot be used: %(detail)s",
                    address=letter.to_address, detail=str(error))
            except smtplib.SMTPRecipientsRefused as error:
                outcome.failed.append(letter.key)
                code, text = next(iter(error.recipients.values()))
                outcome.error = outcome.error or _why(
                    settings, smtplib.SMTPResponseException(code, text))
            except smtplib.SMTPResponseException as error:  # this message refused
                outcome.failed.append(letter.key)
                outcome.error = outcome.error or _why(settings, error)
            except (smtplib.SMTPException, OSError) as error:
                # The connection itself failed: this letter and the rest.
                outcome.failed += [rest.key for rest in letters[index:]]
                outcome.error = outcome.error or _why(settings, error)
                break
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
    if outcome.failed:
        log.warning("email not sent to %d of %d recipients: %s", len(outcome.failed),
                    len(letters), outcome.error)
    return outcome
