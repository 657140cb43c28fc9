"""The report of a consultation's result: issued when it closes, sealed by the office.

The PDF (``server.pdf.consultation_report``) gets one signature field, ``sig_office``,
and is signed through the same PAdES path as the minutes (``minutes.signing.sign_with``,
with the level options of ``longterm``: B-LTA where a TSA is configured). The seal is
the server's PKCS#11 token when one is configured (a body's seal in an HSM), else the
office seal the local CA issued (``hemicycle ca issue-seal``). Its certificate must
chain to the deployment's trust roots, unexpired and unrevoked, like a signer's.

The report is issued after the closing has committed (``issue_pending``), by whoever
reads the consultations next or by ``hemicycle consultations close-due``. Closing never
fails for want of a seal: without one, or when the TSA or the CA's
revocation service cannot be reached, the report is kept unsigned with the reason
(``report_problem``, audited), and ``hemicycle consultations sign-report`` signs it
later. The report's text states the audit chain head at closing, so the archive package
binds the answers to the chain.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from flask import current_app
from sqlalchemy import select, update

from server.errors import Conflict, HemicycleError, NotFound
from server.extensions import db
from server.models import AuditEntry, Consultation, User
from server.pdf.consultation_report import ConsultationReport, ReportAnswer, render_report
from server.pdf.signature_fields import REPORT_SIGNERS, add_signature_fields
from server.services import audit, longterm
from server.services.anchoring import checkpoints
from server.services.actors import Actor
from server.services.minutes import ca, signing, trust
from server.services.minutes.minutes import read_blob, store_blob, timezone_name
from server.services.minutes.verify import PdfCheck, verify_pdf
from server.services.signers import backends

log = logging.getLogger(__name__)
# Green (eventlet, gevent) or real, as the server's threading module is at import.
_ISSUING = threading.Lock()
ROLE = REPORT_SIGNERS[0]
RULES = {
    "vi": {"simple": "đa số phiếu", "absolute": "quá nửa", "two_thirds": "hai phần ba",
           "three_quarters": "ba phần tư", "cast": "số phiếu hợp lệ", "present": "số trả lời",
           "members": "tổng số thành viên"},
    "en": {"simple": "simple majority", "absolute": "absolute majority",
           "two_thirds": "two-thirds majority", "three_quarters": "three-quarters majority",
           "cast": "of the votes cast", "present": "of those who answered",
           "members": "of all members"},
}


def body_name() -> str:
    """The body the office speaks for: the organisation of the local CA's certificate."""
    from cryptography.x509.oid import NameOID

    cert = ca.ca_certificate()
    names = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME) if cert else []
    return str(names[0].value) if names else ""


def _language() -> str:
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "vi")


def report_data(consultation: Consultation, audit_head: str) -> ConsultationReport:
    users = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_([m.user_id for m in consultation.members])))}
    answers = {a.user_id: a for a in consultation.answers}
    rows = []
    for member in sorted(consultation.members,
                         key=lambda m: (users[m.user_id].full_name, m.user_id)):
        answer = answers.get(member.user_id)
        rows.append(ReportAnswer(users[member.user_id].full_name,
                                 answer.choice if answer else None,
                                 answer.answered_at if answer else None,
                                 answer.comment if answer else "", str(member.weight)))
    language = _language()
    words = RULES.get(language, RULES["vi"])
    return ConsultationReport(
        number=consultation.id, body=body_name(), title=consultation.title,
        question=consultation.question, text=consultation.body,
        opens_at=consultation.opens_at, closes_at=consultation.closes_at,
        closed_at=consultation.closed_at, rule=f"{words[consultation.majority.value]}, "
        f"{words[consultation.base.value]}", result=consultation.result or {},
        audit_head=audit_head, answers=rows, language=language, zone=timezone_name())


@dataclass
class Seal:
    """Who seals, and how to get a pyHanko signer for it (closed after signing)."""

    name: str
    certificate: x509.Certificate
    chain: list[x509.Certificate]
    kind: str  # "server token" or "office seal"


def _seal() -> tuple[Seal, object, object] | None:
    """(seal, signer, closer) from the server's token, else the office seal; None if none."""
    settings = backends.TokenSettings.from_config(current_app.config)
    if settings is not None:
        session = backends.open_token(settings)
        signer = backends.server_token_signer(session, settings)
        cert = x509.load_der_x509_certificate(signer.signing_cert.dump())
        return Seal(_common_name(cert), cert, [], "server token"), signer, session.close
    data = ca.office_seal()
    if data is None:
        return None
    _key, cert, chain = pkcs12.load_key_and_certificates(data, None)
    from pyhanko.sign import signers

    return (Seal(_common_name(cert), cert, list(chain), "office seal"),
            signers.SimpleSigner.load_pkcs12_data(data, [], None), lambda: None)


def _common_name(cert: x509.Certificate) -> str:
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def _sign(pdf: bytes) -> tuple[bytes, str]:
    """The PDF sealed by the office, and who sealed it; Conflict with the reason if not."""
    found = _seal()
    if found is None:
        raise Conflict("No office seal: issue one (`hemicycle ca issue-seal`) or configure "
                       "the server's token (HEMICYCLE_PKCS11_MODULE).", code="no_seal")
    seal, signer, close = found
    try:
        roots = trust.deployment_roots()
        problem = trust.certificate_problem(seal.certificate, seal.chain, roots)
        if problem is not None:
            raise Conflict(problem.message, code=problem.code)
        options = longterm.signature_options(roots, seal.chain, last=True)
        label = "Văn phòng" if _language() == "vi" else "Office"
        with longterm.service_errors():
            signed = signing.sign_with(pdf, ROLE, signer, signer_name=seal.name,
                                       role_label=label, options=options)
    finally:
        close()
    return signed, f"{seal.name} ({seal.kind})"


def _closing_head(consultation_id: int) -> str:
    """The audit chain's head as the consultation closed: its ``consultation.closed`` entry."""
    return db.session.scalar(select(AuditEntry.hash).where(
        AuditEntry.action == "consultation.closed", AuditEntry.object_type == "consultation",
        AuditEntry.object_id == str(consultation_id)).order_by(AuditEntry.seq.desc()).limit(1)) \
        or ""


def _render_and_seal(consultation: Consultation) -> tuple[bytes, str | None, str | None]:
    """The report's PDF, who sealed it and, if it is unsigned, why."""
    rendered = render_report(report_data(consultation, _closing_head(consultation.id)))
    unsigned = add_signature_fields(rendered.pdf, rendered.signature_boxes, REPORT_SIGNERS)
    try:
        pdf, sealed_by = _sign(unsigned)
        return pdf, sealed_by, None
    except (HemicycleError, trust.TrustError) as error:
        return unsigned, None, getattr(error, "message", str(error))
    except Exception as exc:  # a token or library failure: the report is kept, unsigned
        log.exception("sealing the report of consultation %s", consultation.id)
        return unsigned, None, f"the seal could not sign ({type(exc).__name__}: {exc})"


def issue_pending() -> int:
    """Issue the report of every closed consultation that has none yet; returns how many.

    Called after the closing has committed, never inside it: rendering and signing (and a
    TSA's round trip) take a while, and no writers' lock may be held meanwhile (on
    PostgreSQL it is the one lock every change takes; under eventlet on SQLite, a writer
    that yields lets another block the process). The result is stored by a conditional
    update, so two workers that both issue keep one report. Within a process one request
    issues at a time (pyHanko runs an asyncio loop, which eventlet's green threads of one
    OS thread would share); the others go on without waiting."""
    if not _ISSUING.acquire(blocking=False):
        return 0
    try:
        return _issue_pending()
    finally:
        _ISSUING.release()


def _issue_pending() -> int:
    ids = list(db.session.scalars(select(Consultation.id).where(
        Consultation.closed_at.is_not(None), Consultation.report_sha256.is_(None))
        .order_by(Consultation.id)))
    issued = 0
    for consultation_id in ids:
        consultation = db.session.get(Consultation, consultation_id)
        pdf, sealed_by, problem = _render_and_seal(consultation)
        db.session.rollback()  # end the read before writing: signing may have taken a while
        sha = store_blob(pdf)
        stored = db.session.execute(
            update(Consultation).where(Consultation.id == consultation_id,
                                       Consultation.report_sha256.is_(None))
            .values(report_sha256=sha, report_signed_by=sealed_by, report_problem=problem))
        if stored.rowcount != 1:
            db.session.rollback()  # another worker issued it first
            continue
        audit.record("consultation.report_issued", "consultation", consultation_id,
                     actor=Actor.system(), payload={"pdf_sha256": sha, "sealed_by": sealed_by,
                                                    "problem": problem})
        checkpoints.checkpoint_at_commit("consultation.closed")  # the archive's anchor
        db.session.commit()
        issued += 1
    return issued


def sign_later(consultation_id: int) -> Consultation:
    """Seal a report kept unsigned (no seal then, a TSA that was down); the text is kept."""
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None or consultation.report_sha256 is None:
        raise NotFound("No report of that consultation.", code="report_missing")
    if consultation.report_signed_by:
        raise Conflict("The report is already sealed.", code="report_sealed")
    pdf, sealed_by = _sign(read_blob(consultation.report_sha256))
    consultation.report_sha256 = store_blob(pdf)
    consultation.report_signed_by, consultation.report_problem = sealed_by, None
    db.session.flush()
    audit.record("consultation.report_sealed", "consultation", consultation.id,
                 actor=Actor.system(), payload={"pdf_sha256": consultation.report_sha256,
                                                "sealed_by": sealed_by})
    return consultation


def report_pdf(consultation: Consultation) -> bytes:
    if consultation.closed_at is None:
        raise Conflict("The consultation is still open; its report comes at closing.",
                       code="consultation_open")
    if consultation.report_sha256 is None:
        raise NotFound("No report of that consultation.", code="report_missing")
    return read_blob(consultation.report_sha256)


def verify(pdf: bytes, roots: list[x509.Certificate] | None = None) -> PdfCheck:
    """The report checked as a verifier would: one office signature, nothing added after
    it but validation data and document timestamps, by the deployment's (or ``roots``)."""
    return verify_pdf(pdf, trust.deployment_roots() if roots is None else roots,
                      expected=1, roles=REPORT_SIGNERS)
