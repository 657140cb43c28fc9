"""Signing sessions: a signature on the minutes made where the key is (interrupted signing).

1. ``open_session``: the signer whose turn it is (chair, then secretary) gets a one-time
   code, bound to them, to the revision of the minutes it opens on, and to a short expiry.
2. ``present_certificate``: the signer's agent sends the certificate chain of its token;
   the certificate must be registered for that user (``own token``) and pass the trust
   checks. The server prepares the next revision with the signature placeholder reserved
   (pyHanko ``async_digest_doc_for_signing``) and answers the CMS signed attributes to sign.
3. ``finish_session``: the agent sends the signature value; it must verify against the
   certificate over exactly those attributes. The server builds the CMS, embeds it
   (``PdfTBSDocument.async_finish_signing``), verifies the whole file, and records the
   signature as any other. Every refusal (replay, late answer, other bytes, another
   certificate) leaves the minutes as they were.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import secrets
import string
from datetime import timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from flask import current_app
from sqlalchemy import select

from server.errors import Conflict, InvalidInput, NotFound
from server.extensions import db
from server.models import Meeting, SigningSession, UserCertificate, utcnow
from server.services import audit, longterm
from server.services.actors import Actor
from server.services.minutes import signing, trust
from server.services.minutes.minutes import current_pdf, read_blob, store_blob
from server.services.minutes.verify import problems_of, verify_pdf
from server.services.signers import backends

DIGEST = "sha256"


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


CODE_ALPHABET = string.ascii_letters + string.digits


def new_code() -> str:
    """A one-time code of 32 letters and digits (190 bits): it survives a command line
    (no leading "-" for the agent's argument parser to take as an option), a URL and a
    double-click selection."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(32))


def open_session(meeting_id: int, actor: Actor) -> tuple[SigningSession, str]:
    """A session for the actor's signature, if it is their turn; returns it and the
    one-time code (shown once, kept only as a hash)."""
    meeting, minutes, participant, role = signing.signing_turn(meeting_id, actor)
    code = new_code()
    minutes_ttl = float(current_app.config.get("SIGNING_SESSION_MINUTES", 10))
    row = SigningSession(code_sha256=_hash(code), minutes_id=minutes.id,
                         user_id=actor.user.id, role=participant.role,
                         base_pdf_sha256=hashlib.sha256(current_pdf(minutes)).hexdigest(),
                         expires_at=utcnow() + timedelta(minutes=minutes_ttl), state="open")
    db.session.add(row)
    db.session.flush()
    audit.record("signing_session.opened", "minutes", minutes.id, actor=actor,
                 meeting_id=meeting.id, payload={"role": role, "session": row.id})
    return row, code


def session_for(code: str) -> SigningSession:
    """The session a one-time code opens; NotFound for an unknown code."""
    row = db.session.scalar(select(SigningSession)
                            .where(SigningSession.code_sha256 == _hash(code or "")))
    if row is None:
        raise NotFound("No signing session has this code.", code="signing_session_unknown")
    return row


def _usable(row: SigningSession, state: str) -> None:
    if row.state == "open" and state == "prepared":
        raise Conflict("Present the token's certificate first.",
                       code="signing_session_not_prepared")
    if row.state != state:
        raise Conflict("This signing session was already used; open a new one.",
                       code="signing_session_used")
    if utcnow() >= row.expires_at:
        raise Conflict("This signing session has expired; open a new one.",
                       code="signing_session_expired")


def _turn(row: SigningSession):
    """The signer's turn as it is now, on the revision the session was opened on."""
    actor = Actor.of_user(row.user)
    meeting, minutes, participant, role = signing.signing_turn(row.minutes.meeting_id, actor)
    pdf = current_pdf(minutes)
    if hashlib.sha256(pdf).hexdigest() != row.base_pdf_sha256 or role != row.role.value:
        raise Conflict("The minutes changed since this session was opened; open a new one.",
                       code="minutes_changed")
    return actor, meeting, minutes, participant, role, pdf


def _chain(pem: str) -> list[x509.Certificate]:
    try:
        chain = trust.pem_certificates((pem or "").encode())
    except trust.TrustError:
        chain = []
    if not chain:
        raise InvalidInput("Send the signing certificate (then its chain) as PEM.",
                           code="invalid_certificate", fields={"certificate_chain": "not PEM"})
    return chain


def _audited(step):
    """A refused answer is audited (as the session's signer, in the session's meeting) in a
    transaction of its own; what the step did is rolled back."""
    def wrapper(code: str, *args):
        row = session_for(code)
        try:
            return step(row, *args)
        except (Conflict, InvalidInput) as error:
            user, minutes = row.user, row.minutes
            audit.record_refusal("minutes.signing_session", "signing_session", row.id,
                                 actor=Actor.of_user(user), meeting_id=minutes.meeting_id,
                                 reason=error.code)
            raise

    wrapper.__doc__, wrapper.__name__ = step.__doc__, step.__name__
    return wrapper


@_audited
def present_certificate(row: SigningSession, chain_pem: str) -> dict:
    """Prepare the revision for the token's certificate; what the agent must sign."""
    _usable(row, "open")
    actor, meeting, minutes, participant, role, pdf = _turn(row)
    cert, *intermediates = _chain(chain_pem)
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    registered = db.session.scalar(select(UserCertificate).where(
        UserCertificate.user_id == row.user_id, UserCertificate.fingerprint_sha256 == fingerprint,
        UserCertificate.keystore_path == backends.OWN_TOKEN,
        UserCertificate.revoked_at.is_(None)))
    if registered is None:
        raise Conflict("This certificate is not registered as yours for signing on a token.",
                       code="certificate_not_yours")
    roots = trust.deployment_roots()
    problem = trust.certificate_problem(cert, intermediates, roots)
    if problem is not None:
        raise Conflict(problem.message, code=problem.code)
    signing.refuse_altered(minutes, pdf, roots)
    with longterm.service_errors():
        prepared, start, end, attributes = _prepare(
            pdf, role, cert, intermediates,
            signing.stamp_texts(meeting, minutes, participant, role))
    row.certificate_id = registered.id
    row.chain_pem = "".join(c.public_bytes(Encoding.PEM).decode() for c in [cert, *intermediates])
    row.prepared_pdf_sha256 = store_blob(prepared)
    row.reserved_start, row.reserved_end = start, end
    row.signed_attributes = base64.b64encode(attributes).decode()
    row.state = "prepared"
    return describe(row)


@trust.outside_event_loop
def _prepare(pdf: bytes, role: str, cert, chain, texts: dict):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    signer = backends.external_signer(cert, chain)
    # With a TSA the placeholder must hold the signature's timestamp token too: the signer
    # is told about the timestamper, so pyHanko sizes the reservation for it.
    stamper = longterm.timestamper()
    pdf_signer, params = signing.pdf_signer(
        role, signer, options=longterm.SignatureOptions(timestamper=stamper), **texts)

    async def run():
        prep, _tbs, output = await pdf_signer.async_digest_doc_for_signing(
            IncrementalPdfFileWriter(io.BytesIO(pdf)), appearance_text_params=params)
        attributes = await signer.signed_attrs(prep.document_digest, DIGEST, use_pades=True)
        return output.getvalue(), prep.reserved_region_start, prep.reserved_region_end, \
            attributes.dump()

    return asyncio.run(run())


def _check_value(cert: x509.Certificate, value: bytes, data: bytes) -> None:
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(value, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(value, data, ec.ECDSA(hashes.SHA256()))
        else:
            raise InvalidSignature
    except InvalidSignature:
        raise Conflict("The signature value does not verify with the certificate over the "
                       "attributes this session handed out.", code="signature_mismatch") from None


@_audited
def finish_session(row: SigningSession, signature_value: bytes):
    """Embed the token's signature value; the recorded Signature, or a refusal that
    changes nothing."""
    _usable(row, "prepared")
    actor, meeting, minutes, participant, role, _pdf = _turn(row)
    cert, *chain = _chain(row.chain_pem)
    attributes = base64.b64decode(row.signed_attributes)
    _check_value(cert, signature_value, attributes)
    with longterm.service_errors():
        signed = _embed(read_blob(row.prepared_pdf_sha256), row, cert, chain, attributes,
                        signature_value)
        signed = _long_term(signed, cert, chain, last=role == signing.SIGNING_ORDER[-1])
    check = verify_pdf(signed, trust.deployment_roots(), expected=len(minutes.signatures) + 1)
    if problems_of(check):
        raise Conflict("The signed minutes do not verify: " + "; ".join(problems_of(check)),
                       code="signature_invalid")
    row.state, row.finished_at = "signed", utcnow()
    return signing.record_signature(meeting, minutes, actor, participant, role,
                                    row.certificate, signed)


@trust.outside_event_loop
def _embed(prepared: bytes, row, cert, chain, attributes: bytes, value: bytes) -> bytes:
    from asn1crypto import cms
    from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
    from pyhanko.sign.signers.pdf_signer import PdfTBSDocument

    signer = backends.external_signer(cert, chain, signature_value=value)
    output = io.BytesIO(prepared)

    async def run():
        # With a TSA, the signature's timestamp (PAdES B-T) over the token's value.
        cms_object = await signer.async_sign_prescribed_attributes(
            DIGEST, signed_attrs=cms.CMSAttributes.load(attributes),
            timestamper=longterm.timestamper())
        digest = PreparedByteRangeDigest(b"", row.reserved_start, row.reserved_end)
        await PdfTBSDocument.async_finish_signing(output, digest, cms_object)

    asyncio.run(run())
    return output.getvalue()


@trust.outside_event_loop
def _long_term(signed: bytes, cert, chain, *, last: bool) -> bytes:
    """With a TSA, what ``signing.pdf_signer``'s options give the other backends: the new
    signature's chains and revocation data in the DSS (B-LT) and, after the last signature,
    a document timestamp (B-LTA). Without one, the file as it is (B-B)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers import PdfTimeStamper
    from pyhanko.sign.validation import async_add_validation_info

    stamper = longterm.timestamper()
    if stamper is None:
        return signed
    context = longterm.signing_context(trust.deployment_roots(), [cert, *chain])

    async def run():
        embedded = PdfFileReader(io.BytesIO(signed), strict=False).embedded_signatures[-1]
        with_dss = await async_add_validation_info(embedded, context, in_place=False)
        if not last:
            return with_dss.getvalue()
        stamped = await PdfTimeStamper(stamper).async_timestamp_pdf(
            IncrementalPdfFileWriter(with_dss), DIGEST, context)
        return stamped.getvalue()

    return asyncio.run(run())


def describe(row: SigningSession) -> dict:
    """What the agent (and the minutes page) is told about a session."""
    minutes = row.minutes
    meeting = db.session.get(Meeting, minutes.meeting_id)
    return {"meeting_id": minutes.meeting_id, "meeting_title": meeting.title,
            "role": row.role.value, "signer": row.user.full_name, "state": row.state,
            "expires_at": row.expires_at, "digest_algorithm": DIGEST,
            "signed_attributes": row.signed_attributes or None,
            "certificate_chain": row.chain_pem or None}
