"""PAdES signatures on the minutes: the chair signs first, then the secretary.

Both sign the same PDF as incremental updates (PAdES B-B: the CMS carries the
signing certificate and the signed attributes; no remote timestamp
authority). Each fills a signature field created when the minutes were
finalised, inside its own signature block, with a visible stamp set in Noto
Serif (pyHanko's default stamp font has no Vietnamese glyphs). After the
secretary's signature the meeting is sealed.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import io
import re
from dataclasses import dataclass

import pymupdf
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives.serialization import Encoding

# pyHanko (with fontTools) takes ~2 s to import on a busy machine and is only needed
# when minutes are signed or checked, so it is imported there, not at server start-up
# (a restarted server must answer its tablets quickly).

from server.errors import Conflict, Forbidden, InvalidInput
from server.extensions import db
from server.models import MinutesStatus, Signature, utcnow
from server.pdf.fonts_minutes import stamp_font_path
from server.pdf.minutes_labels import labels
from server.pdf.signature_fields import FIELDS, SIGNING_ORDER
from server.services import audit, events
from server.services.minutes import ca
from server.services.access import Permission, get_meeting, participant_of
from server.services.actors import Actor
from server.services.archive import package
from server.services.minutes.minutes import current_pdf, minutes_of, store_blob

_HEAD_LABEL = "audit chain head"


def stamp_style() -> TextStampStyle:
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    return TextStampStyle(
        stamp_text="%(signer)s\n%(role)s\n%(ts)s",
        timestamp_format="%d/%m/%Y %H:%M:%S %Z",
        border_width=1,
        text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(stamp_font_path(), font_size=9)),
    )


def outside_event_loop(function):
    """Run pyHanko's synchronous API, which calls ``asyncio.run()`` inside, even where the
    calling thread already runs an event loop (an embedding application, Playwright's sync
    API in tests): then it runs in a short-lived thread of its own."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return function(*args, **kwargs)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(function, *args, **kwargs).result()

    return wrapper


@outside_event_loop
def sign_pdf(pdf: bytes, role: str, pkcs12_data: bytes, passphrase: str, *, signer_name: str,
             role_label: str, location: str = "", reason: str = "") -> bytes:
    """Append one PAdES signature in the role's field; the earlier revisions stay untouched."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signers.SimpleSigner.load_pkcs12_data(pkcs12_data, [], passphrase.encode())
    meta = signers.PdfSignatureMetadata(
        field_name=FIELDS[role], md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES, name=signer_name,
        location=location or None, reason=reason or None)
    pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=stamp_style())
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = pdf_signer.sign_pdf(writer, appearance_text_params={"signer": signer_name,
                                                              "role": role_label})
    return out.getvalue()


@dataclass
class SignatureCheck:
    field: str
    signer: str
    intact: bool
    valid: bool
    trusted: bool
    coverage: str  # ENTIRE_FILE for the last signature, ENTIRE_REVISION before it
    modifications: str  # what was changed after it: NONE, FORM_FILLING, ...
    signed_at: str | None

    @property
    def ok(self) -> bool:
        """Unbroken and valid, with nothing changed after it but filling form fields."""
        return (self.intact and self.valid
                and self.modifications in ("NONE", "LTA_UPDATES", "FORM_FILLING"))


@dataclass
class PdfCheck:
    signatures: list[SignatureCheck]
    audit_head: str | None
    error: str | None = None  # the file could not be read as a PDF

    @property
    def ok(self) -> bool:
        if self.error:
            return False
        complete = {s.field for s in self.signatures} == set(FIELDS.values())
        last_covers_file = bool(self.signatures) and self.signatures[-1].coverage == "ENTIRE_FILE"
        return complete and last_covers_file and all(s.ok for s in self.signatures)


def _trust_roots(pems: list[str | bytes] | None) -> list[asn1_x509.Certificate]:
    roots = []
    for pem in pems or []:
        data = pem.encode() if isinstance(pem, str) else pem
        for block in re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----",
                                data, re.S):
            der = pyca_x509.load_pem_x509_certificate(block).public_bytes(Encoding.DER)
            roots.append(asn1_x509.Certificate.load(der))
    return roots


@outside_event_loop
def verify_pdf(pdf: bytes, trust_pems: list[str | bytes] | None = None) -> PdfCheck:
    """Validate every signature (integrity, cryptography, trust against ``trust_pems``,
    coverage, later modifications) and read the audit head the minutes state."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded_signatures = reader.embedded_signatures
    except Exception as exc:  # pyHanko raises several kinds on a broken file
        return PdfCheck([], None, error=f"not a readable PDF: {exc}")
    roots = _trust_roots(trust_pems)
    checks = []
    for embedded in embedded_signatures:
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        status = validate_pdf_signature(embedded, context)
        cert = status.signing_cert
        checks.append(SignatureCheck(
            field=embedded.field_name,
            signer=cert.subject.native.get("common_name", "") if cert else "",
            intact=bool(status.intact), valid=bool(status.valid), trusted=bool(status.trusted),
            coverage=status.coverage.name if status.coverage else "NONE",
            modifications=status.modification_level.name if status.modification_level else "NONE",
            signed_at=status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
        ))
    return PdfCheck(checks, stated_audit_head(pdf))


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


def sign_minutes(meeting_id: int, actor: Actor | None, passphrase: str,
                 certificate_id: int | None = None) -> Signature:
    """Add the actor's signature to the final minutes, in order: chair, then secretary.

    The signer must be the meeting's participant in that role, signing with
    their own certificate (its passphrase unlocks their key). The secretary's
    signature, the last one, seals the meeting. A refused attempt (out of
    order, not a signer, wrong passphrase) is audited.
    """
    try:
        return _sign(meeting_id, actor, passphrase, certificate_id)
    except (Forbidden, Conflict, InvalidInput) as error:
        if actor is not None:
            audit.record_refusal("minutes.sign", "meeting", meeting_id, actor=actor,
                                 meeting_id=meeting_id, reason=error.code)
        raise


def _sign(meeting_id: int, actor: Actor, passphrase: str, certificate_id: int | None) -> Signature:
    meeting = get_meeting(meeting_id, actor, Permission.VIEW)
    # Who may sign is checked first: others learn nothing about the minutes' state.
    participant = participant_of(actor, meeting) if actor.user is not None else None
    if participant is None or participant.role.value not in SIGNING_ORDER:
        raise Forbidden("Only the chair and the secretary of the meeting sign its minutes.")
    minutes = minutes_of(meeting)
    if minutes is None or minutes.status == MinutesStatus.DRAFT:
        raise Conflict("The minutes must be finalised before they are signed.",
                       code="minutes_not_final")
    if minutes.status == MinutesStatus.SIGNED:
        raise Conflict("The minutes are already signed by the chair and the secretary.",
                       code="already_signed")
    signed_roles = [s.role.value for s in minutes.signatures]
    role = SIGNING_ORDER[len(signed_roles)]
    if participant.role.value in signed_roles:
        raise Conflict("You have already signed these minutes.", code="already_signed")
    if participant.role.value != role:
        raise Conflict("The chair signs the minutes first, then the secretary.",
                       code="signing_order")
    certificate = ca.usable_certificate(actor.user, certificate_id)
    pkcs12_data = ca.load_pkcs12(certificate, passphrase)
    words = labels(minutes.language)
    signed = sign_pdf(current_pdf(minutes), role, pkcs12_data, passphrase,
                      signer_name=participant.full_name, role_label=words[role],
                      location=meeting.place, reason=f"{words['title']} - {meeting.title}")
    signature = Signature(
        minutes_id=minutes.id, user_id=actor.user.id, role=participant.role,
        certificate_id=certificate.id, signer_name=participant.full_name,
        certificate_fingerprint=certificate.fingerprint_sha256,
        pdf_sha256=store_blob(signed), signed_at=utcnow())
    db.session.add(signature)
    db.session.flush()
    db.session.refresh(minutes)
    audit.record("minutes.signed", "minutes", minutes.id, actor=actor, meeting_id=meeting.id,
                 payload={"role": role, "certificate": certificate.fingerprint_sha256,
                          "pdf_sha256": signature.pdf_sha256})
    if role == SIGNING_ORDER[-1]:
        minutes.status = MinutesStatus.SIGNED
        package.seal_meeting(meeting, actor)
    else:
        events.publish(meeting.id, "minutes.signed", {"role": role}, audience="staff")
    return signature
