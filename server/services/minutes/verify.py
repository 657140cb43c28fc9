"""Checking signed minutes: the PDF alone, then (with the database) against the record.

``verify_pdf`` needs only the file and the roots to trust (see ``trust``). Each
signature must be intact, cryptographically valid, by a certificate that chains
to a trusted root, was valid at the moment it signed and is meant for signing,
with nothing but the next signature appended after it. The file must hold
exactly the two signature fields of the minutes, filled chair first, then
secretary, each in the revision right after the one before (see
``server.pdf.signature_fields.layout_problems``).

``check_record`` adds what only the deployment knows: the file was built on the
finalised PDF, and each signature is by the certificate the server registered
for that meeting's chair, then its secretary, not revoked when it signed.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pymupdf
from cryptography import x509
from sqlalchemy import select

from server.extensions import db
from server.models import MeetingRole, Minutes, Participant, UserCertificate
from server.pdf.signature_fields import SIGNING_ORDER, layout_problems
from server.sentences import Sentence
from server.services.longterm import report as longterm_report
from server.services.minutes import trust

_HEAD_LABEL = "audit chain head"
ACCEPTED_LATER_CHANGES = ("NONE", "LTA_UPDATES", "FORM_FILLING")
CLOCK_SLACK = timedelta(minutes=5)
# The signers' roles as a sentence names them (translated with it).
ROLE_NAMES = {"chair": Sentence("chair"), "secretary": Sentence("secretary")}

_TRUST_PROBLEMS = {
    "NO_CERTIFICATE_CHAIN_FOUND": Sentence("not trusted: its certificate does not lead to a trusted root"),
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": Sentence("not trusted: its certificate chain is broken"),
    "CHAIN_CONSTRAINTS_FAILURE": Sentence("not trusted: its certificate chain breaks a constraint"),
    "EXPIRED": Sentence("its certificate had expired when it signed"),
    "OUT_OF_BOUNDS_NO_POE": Sentence("its certificate was not valid when it signed"),
    "OUT_OF_BOUNDS_NOT_REVOKED": Sentence("its certificate was not valid when it signed"),
    "NOT_YET_VALID": Sentence("its certificate was not yet valid when it signed"),
    "REVOKED": Sentence("its certificate is revoked"),
    "REVOKED_NO_POE": Sentence("its certificate is revoked"),
    "REVOKED_CA_NO_POE": Sentence("the CA of its certificate is revoked"),
    "SIG_CONSTRAINTS_FAILURE": Sentence("its certificate is not meant for signing documents (key usage)"),
}


@dataclass
class SignatureCheck:
    field: str
    signer: str
    intact: bool
    valid: bool
    trusted: bool
    coverage: str  # ENTIRE_FILE for the last signature, ENTIRE_REVISION before it
    modifications: str  # what was changed after it: NONE, FORM_FILLING, ...
    signed_at: str | None  # as the signer states it
    fingerprint: str = ""  # sha256 of the signing certificate
    problems: list[str] = field(default_factory=list)
    issuer: str = ""  # the certificate's issuer, as a name
    timestamped_at: str | None = None  # the signing time the TSA's token states
    level: str = "B-B"  # PAdES level: B-B, B-T, B-LT, B-LTA
    revocation: str = ""  # what the file's OCSP/CRL data say of the certificate

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class PdfCheck:
    signatures: list[SignatureCheck]
    audit_head: str | None
    error: str | None = None  # the file could not be read as a PDF
    problems: list[str] = field(default_factory=list)  # about the file as a whole
    timestamps: list[str] = field(default_factory=list)  # document timestamps' times (B-LTA)
    complete: int = len(SIGNING_ORDER)  # signatures a finished file carries

    @property
    def ok(self) -> bool:
        return (not self.error and not self.problems and len(self.signatures) == self.complete
                and all(s.ok for s in self.signatures))


_WINDOW_INDICATIONS = {"EXPIRED", "NOT_YET_VALID", "OUT_OF_BOUNDS_NO_POE",
                       "OUT_OF_BOUNDS_NOT_REVOKED"}


def _validity_problem(cert, at: datetime) -> str | None:
    if cert is None:
        return None
    validity = cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    if at > not_after:
        return Sentence("its certificate had expired when it signed (valid until %(day)s)",
                        day=f"{not_after:%Y-%m-%d}")
    if at < not_before:
        return Sentence("its certificate was not yet valid when it signed (from %(day)s)",
                        day=f"{not_before:%Y-%m-%d}")
    return None


def _indication(status) -> str:
    return getattr(status.trust_problem_indic, "name", "")


def _problems(status, roots, claimed: datetime | None, now: datetime) -> list[str]:
    problems = []
    if not status.intact:
        problems.append(Sentence("the signed bytes were changed (digest mismatch)"))
    elif not status.valid:
        problems.append(Sentence("the signature value does not verify"))
    usage = trust.usage_problem(status.signing_cert) if status.signing_cert else None
    if usage:
        problems.append(Sentence("its certificate is not meant for signing documents (%(usage)s)",
                                 usage=usage))
    if not status.trusted and not (usage and _indication(status) == "CHAIN_CONSTRAINTS_FAILURE"):
        if not roots:
            problems.append(Sentence("not trusted: no trust roots (the deployment's CA, "
                                     "HEMICYCLE_TRUST_ROOTS or --trust)"))
        else:
            indication = _indication(status)
            window = _validity_problem(status.signing_cert, claimed or now)
            if window and indication in _WINDOW_INDICATIONS:
                problems.append(window)
            elif status.signing_cert is not None and status.signing_cert.self_signed != "no":
                problems.append(Sentence("not trusted: its certificate is self-signed"))
            else:
                problems.append(_TRUST_PROBLEMS.get(indication) or Sentence(
                    "not trusted (%(indication)s)", indication=indication or "unknown"))
    if claimed is None:
        problems.append(Sentence("it states no signing time"))
    elif claimed > now + CLOCK_SLACK:
        problems.append(Sentence("it claims to be signed in the future (%(when)s UTC)",
                                 when=f"{claimed:%Y-%m-%d %H:%M}"))
    level = status.modification_level.name if status.modification_level else "NONE"
    if level not in ACCEPTED_LATER_CHANGES:
        problems.append(Sentence("the file was changed after it (%(level)s)", level=level))
    return problems


def _name(cert, part: str) -> str:
    return getattr(cert, part).native.get("common_name", "") if cert else ""


def _check(embedded, reader, timestamps, roots, asn1_roots, data, now) -> SignatureCheck:
    """One signature, validated offline from what the file carries: at the time its
    timestamp states when it has one (then revocation data in the file is required for a
    certificate that names a revocation service), else at the time the signer claims."""
    from pyhanko.sign.validation import validate_pdf_signature

    claimed = embedded.self_reported_timestamp
    stamped = longterm_report.timestamp_time(embedded)
    level = longterm_report.level(embedded, reader, timestamps)
    later = [t for t in timestamps if t.signed_revision > embedded.signed_revision]
    next_time = longterm_report.timestamp_time_of_document(later[0]) if later else now
    ts_moment = min(stamped or now, now)
    moment = min(stamped or claimed or now, now)
    extra = embedded.other_embedded_certs
    context = longterm_report.offline_context(asn1_roots, data, moment, extra,
                                              hard=level in ("B-LT", "B-LTA"))
    ts_context = longterm_report.offline_context(asn1_roots, data, ts_moment, extra, hard=False)
    status = validate_pdf_signature(embedded, context, ts_context,
                                    key_usage_settings=trust.key_usage_constraints())
    cert = status.signing_cert
    problems = _problems(status, roots, stamped or claimed, now)
    token = status.timestamp_validity
    if stamped is not None and not (token and token.intact and token.valid and token.trusted):
        problems.append(Sentence("its timestamp does not hold or is not from a trusted TSA"))
    elif stamped is not None and token.signing_cert["tbs_certificate"]["validity"][
            "not_after"].native < next_time:
        problems.append(Sentence("its timestamp's certificate expired before a document "
                                 "timestamp renewed it"))
    return SignatureCheck(
        field=embedded.field_name, signer=_name(cert, "subject"),
        intact=bool(status.intact), valid=bool(status.valid), trusted=bool(status.trusted),
        coverage=status.coverage.name if status.coverage else "NONE",
        modifications=status.modification_level.name if status.modification_level else "NONE",
        signed_at=claimed.isoformat() if claimed else None,
        fingerprint=cert.sha256.hex() if cert else "", problems=problems,
        issuer=_name(cert, "issuer"), timestamped_at=stamped.isoformat() if stamped else None,
        level=level, revocation=longterm_report.revocation_status(cert, data))


def _timestamp_problems(timestamps, asn1_roots, data, now) -> list[str]:
    """Each document timestamp must hold, judged at the time of the next one (the last
    at ``now``): the chain of archive timestamps of PAdES B-LTA."""
    from pyhanko.sign.validation import validate_pdf_timestamp

    problems = []
    for number, stamp in enumerate(timestamps):
        following = timestamps[number + 1:]
        renewed = (longterm_report.timestamp_time_of_document(following[0])
                   if following else now)
        # Judged at its own time, with the revocation data stored right after it; its
        # certificate must still be valid when the next timestamp (or this check) comes.
        moment = min(longterm_report.timestamp_time_of_document(stamp), now)
        context = longterm_report.offline_context(asn1_roots, data, moment,
                                                  stamp.other_embedded_certs, hard=False)
        try:
            status = validate_pdf_timestamp(stamp, context)
        except Exception as exc:  # a malformed timestamp token
            problems.append(Sentence("the document timestamp %(field)s cannot be read: %(error)s",
                                     field=stamp.field_name, error=str(exc)))
            continue
        when = f"{status.timestamp:%Y-%m-%d %H:%M} UTC"
        expires = status.signing_cert["tbs_certificate"]["validity"]["not_after"].native
        if not (status.intact and status.valid):
            problems.append(Sentence("the document timestamp of %(when)s does not match the file",
                                     when=when))
        elif not status.trusted:
            problems.append(Sentence("the document timestamp of %(when)s is not from a trusted TSA",
                                     when=when))
        elif expires < renewed:
            problems.append(Sentence(
                "the certificate of the document timestamp of %(when)s expired on %(day)s "
                "(the archive must be re-timestamped before)", when=when,
                day=f"{expires:%Y-%m-%d}"))
    return problems


@trust.outside_event_loop
def verify_pdf(pdf: bytes, roots: list[x509.Certificate], expected: int = len(SIGNING_ORDER),
               at: datetime | None = None,
               roles: tuple[str, ...] = SIGNING_ORDER) -> PdfCheck:
    """Check every signature and the layout of the fields against ``roots``; read the audit
    head the minutes state. ``expected`` signatures must be there (fewer while the minutes
    are being signed). ``at``: the moment of the check (default now; later to see that the
    file alone still proves it then). ``roles``: the signers, in order (the minutes' chair
    and secretary; ``REPORT_SIGNERS`` for a consultation's report). Needs no network: what the file carries (its DSS)
    is all the revocation data used. Never raises on a bad file: ``error`` says why."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded_signatures = reader.embedded_regular_signatures
        timestamps = reader.embedded_timestamp_signatures
        layout = layout_problems(reader, embedded_signatures, timestamps, roles)
        data = longterm_report.carried(reader)
    except Exception as exc:  # pyHanko raises several kinds on a broken file
        return PdfCheck([], None, error=Sentence("not a readable PDF: %(error)s", error=str(exc)))
    asn1_roots = trust.to_asn1(roots)
    now = at or datetime.now(timezone.utc)
    checks = []
    for embedded in embedded_signatures:
        try:
            checks.append(_check(embedded, reader, timestamps, roots, asn1_roots, data, now))
        except Exception as exc:  # a malformed signature dictionary or CMS
            checks.append(SignatureCheck(embedded.field_name or "?", "", False, False, False,
                                         "NONE", "NONE", None, "",
                                         [Sentence("the signature cannot be read: %(error)s",
                                                   error=str(exc))]))
    result = PdfCheck(checks, stated_audit_head(pdf), problems=layout, complete=len(roles))
    result.problems.extend(_timestamp_problems(timestamps, asn1_roots, data, now))
    result.timestamps = [longterm_report.timestamp_time_of_document(t).isoformat()
                         for t in timestamps]
    if len(checks) != expected:
        result.problems.append(Sentence(
            "the minutes carry %(count)s signature(s), not %(expected)s (%(signers)s)",
            count=len(checks), expected=expected, signers=", ".join(roles[:expected])))
    elif checks and checks[-1].coverage != "ENTIRE_FILE" and (
            checks[-1].modifications not in ("NONE", "LTA_UPDATES")):
        result.problems.append(Sentence("the last signature does not cover the whole file"))
    return result


def stated_audit_head(pdf: bytes) -> str | None:
    """The audit chain head printed in the minutes, read back from the page text."""
    # Noto Serif sets "ff" and "fi" as ligatures: read them back as two letters.
    flags = pymupdf.TEXTFLAGS_TEXT & ~pymupdf.TEXT_PRESERVE_LIGATURES
    try:
        with pymupdf.open("pdf", pdf) as doc:
            text = "".join(page.get_text(flags=flags) for page in doc)
    except (pymupdf.FileDataError, RuntimeError, ValueError):
        return None
    at = text.lower().find(_HEAD_LABEL)
    match = re.search(r"\b[0-9a-f]{64}\b", text[at:]) if at >= 0 else None
    return match.group(0) if match else None


def _registered(minutes: Minutes, role: str) -> tuple[set[str], list[UserCertificate]]:
    """The certificates of the meeting's participant(s) in ``role``."""
    users = set(db.session.scalars(select(Participant.user_id).where(
        Participant.meeting_id == minutes.meeting_id, Participant.role == MeetingRole(role),
        Participant.user_id.is_not(None))))
    rows = list(db.session.scalars(select(UserCertificate)
                                   .where(UserCertificate.user_id.in_(users)))) if users else []
    return {r.fingerprint_sha256 for r in rows}, rows


def check_record(result: PdfCheck, pdf: bytes, minutes: Minutes, unsigned_pdf: bytes | None) -> None:
    """Add to ``result`` what the database contradicts: the file must extend the finalised
    PDF, and the n-th signature must be by the certificate registered for the n-th signer
    (chair, then secretary) and recorded for that signature, not revoked when it signed."""
    if result.error:
        return
    if unsigned_pdf is None or not pdf.startswith(unsigned_pdf):
        result.problems.append(Sentence("the file does not extend the minutes as they were "
                                        "finalised"))
    recorded = {s.role.value: s for s in minutes.signatures}
    by_role = {role: _registered(minutes, role) for role in SIGNING_ORDER}
    for role, check in zip(SIGNING_ORDER, result.signatures):
        fingerprints, rows = by_role[role]
        signature = recorded.get(role)
        if check.fingerprint not in fingerprints:
            other = next((r for r in SIGNING_ORDER
                          if r != role and check.fingerprint in by_role[r][0]), None)
            check.problems.append(
                Sentence("signed with the %(other)s's certificate in the %(role)s's place",
                         other=ROLE_NAMES[other], role=ROLE_NAMES[role]) if other else
                Sentence("not signed with a certificate registered for the meeting's %(role)s",
                         role=ROLE_NAMES[role]))
            continue
        if signature is None or signature.certificate_fingerprint != check.fingerprint:
            check.problems.append(Sentence("the server recorded no such signature by the %(role)s",
                                           role=ROLE_NAMES[role]))
            continue
        row = next(r for r in rows if r.fingerprint_sha256 == check.fingerprint)
        if row.revoked_at is not None and row.revoked_at <= signature.signed_at:
            check.problems.append(Sentence("its certificate was revoked on %(day)s, before it signed",
                                           day=f"{row.revoked_at:%Y-%m-%d}"))


def verify_minutes(minutes: Minutes) -> PdfCheck:
    """The minutes as the server holds them, checked as a verifier would: the deployment's
    trust, the layout, and the record (for the minutes page)."""
    from server.services.minutes.minutes import current_pdf, read_blob

    pdf = current_pdf(minutes)
    try:
        roots = trust.deployment_roots()
    except trust.TrustError as error:
        return PdfCheck([], None, error=str(error))
    result = verify_pdf(pdf, roots, expected=len(minutes.signatures))
    check_record(result, pdf, minutes, read_blob(minutes.pdf_sha256))
    return result


def problems_of(result: PdfCheck) -> list[str]:
    """Every problem as one line, for a page or an error message."""
    lines = [result.error] if result.error else []
    return lines + result.problems + [Sentence("%(field)s: %(problem)s", field=s.field, problem=p)
                                      for s in result.signatures for p in s.problems]
