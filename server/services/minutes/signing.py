"""PAdES signatures on the minutes: the chair signs first, then the secretary.

Both sign the same PDF as incremental updates (PAdES B-B: the CMS carries the
signing certificate and the signed attributes; with a timestamp authority
configured, B-LT and, after the last signature, B-LTA: see ``longterm``).
Each fills a signature field created when the minutes were finalised, inside its own signature block, with a visible stamp set in Noto
Serif (pyHanko's default stamp font has no Vietnamese glyphs). After the
secretary's signature the meeting is sealed.
"""
from __future__ import annotations

import io

from cryptography import x509
from flask import current_app

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
from server.services import longterm
from server.services.minutes import ca, trust
from server.services.signers import backends, remote
from server.services.minutes.verify import check_record, problems_of, verify_pdf
from server.services.access import Permission, get_meeting, participant_of
from server.services.actors import Actor
from server.services.archive import package
from server.services.minutes.minutes import current_pdf, minutes_of, read_blob, store_blob

outside_event_loop = trust.outside_event_loop


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


def pdf_signer(role: str, signer, *, signer_name: str, role_label: str, location: str = "",
               reason: str = "", options: longterm.SignatureOptions | None = None):
    """The one place a PAdES signature on the minutes is described: the role's field,
    SHA-256, the stamp, and the level ``options`` (``longterm.signature_options``: timestamp,
    DSS, document timestamp). Every backend's ``Signer`` goes through here. Returns the
    pyHanko ``PdfSigner`` and the stamp's text parameters."""
    from pyhanko.sign import fields, signers

    meta = signers.PdfSignatureMetadata(
        field_name=FIELDS[role], md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES, name=signer_name,
        location=location or None, reason=reason or None, **(options.metadata if options else {}))
    return (signers.PdfSigner(meta, signer=signer, stamp_style=stamp_style(),
                              timestamper=options.timestamper if options else None),
            {"signer": signer_name, "role": role_label})


@outside_event_loop
def sign_with(pdf: bytes, role: str, signer, **texts) -> bytes:
    """Append one PAdES signature in the role's field; the earlier revisions stay untouched.
    ``signer`` is a pyHanko ``Signer`` from ``server.services.signers.backends``."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    pdf_signer_, params = pdf_signer(role, signer, **texts)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return pdf_signer_.sign_pdf(writer, appearance_text_params=params).getvalue()


@outside_event_loop
def sign_remotely(pdf: bytes, role: str, settings, credential_id: str, pin: str,
                  **texts) -> bytes:
    """``sign_with`` a key a CSC remote-signing service holds (``signers.remote``)."""
    import asyncio

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    async def run():
        async with remote.csc_signer(settings, credential_id, pin) as signer:
            pdf_signer_, params = pdf_signer(role, signer, **texts)
            out = await pdf_signer_.async_sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)),
                                                   appearance_text_params=params)
            return out.getvalue()

    return asyncio.run(run())


def sign_pdf(pdf: bytes, role: str, pkcs12_data: bytes, passphrase: str, **texts) -> bytes:
    """``sign_with`` a key kept in a PKCS#12."""
    return sign_with(pdf, role, backends.pkcs12_signer(pkcs12_data, passphrase), **texts)


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


def signing_turn(meeting_id: int, actor: Actor | None):
    """The meeting, its minutes, the actor's participant and role if it is the actor's turn
    to sign (chair, then secretary); Forbidden or Conflict otherwise."""
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
    return meeting, minutes, participant, role


def stamp_texts(meeting, minutes, participant, role: str) -> dict:
    words = labels(minutes.language)
    return {"signer_name": participant.full_name, "role_label": words[role],
            "location": meeting.place, "reason": f"{words['title']} - {meeting.title}"}


def _sign(meeting_id: int, actor: Actor, passphrase: str, certificate_id: int | None) -> Signature:
    meeting, minutes, participant, role = signing_turn(meeting_id, actor)
    certificate = ca.usable_certificate(actor.user, certificate_id, kind=_kind(certificate_id))
    roots = trust.deployment_roots()
    pdf = current_pdf(minutes)
    # The level: B-B, or B-LT with a TSA and, after the last signature, B-LTA (longterm).
    options = longterm.signature_options(roots, last=role == SIGNING_ORDER[-1])
    credential = remote.credential_of(certificate)
    if credential is not None:
        settings = remote.CSCSettings.from_config(current_app.config)
        if settings is None:
            raise Conflict("This certificate's key is with a remote signing service, and none "
                           "is configured (HEMICYCLE_CSC_URL).",
                           code="remote_signing_unavailable")
        problem = trust.certificate_problem(ca.certificate_of(certificate), [], roots)
        if problem is not None:
            raise Conflict(problem.message, code=problem.code)
        refuse_altered(minutes, pdf, roots)
        with longterm.service_errors():
            signed = sign_remotely(pdf, role, settings, credential, passphrase, options=options,
                                   **stamp_texts(meeting, minutes, participant, role))
    elif backends.on_server_token(certificate):
        settings = backends.TokenSettings.from_config(current_app.config)
        if settings is None:
            raise Conflict("This certificate's key is on the server's token, and no token "
                           "is configured (HEMICYCLE_PKCS11_MODULE).", code="token_unavailable")
        problem = trust.certificate_problem(ca.certificate_of(certificate), [], roots)
        if problem is not None:
            raise Conflict(problem.message, code=problem.code)
        refuse_altered(minutes, pdf, roots)
        session = backends.open_token(settings)
        try:
            with longterm.service_errors():
                signed = sign_with(pdf, role, backends.server_token_signer(session, settings),
                                   options=options,
                                   **stamp_texts(meeting, minutes, participant, role))
        finally:
            session.close()
    else:
        pkcs12_data = ca.load_pkcs12(certificate, passphrase)
        problem = ca.signing_problem(pkcs12_data, passphrase, roots)
        if problem is not None:
            raise Conflict(problem.message, code=problem.code)
        refuse_altered(minutes, pdf, roots)
        with longterm.service_errors():
            signed = sign_pdf(pdf, role, pkcs12_data, passphrase, options=options,
                              **stamp_texts(meeting, minutes, participant, role))
    return record_signature(meeting, minutes, actor, participant, role, certificate, signed)


def _kind(certificate_id: int | None) -> str | None:
    # Without a certificate named, the server signs with a key it can use itself.
    return None if certificate_id is not None else "server"


def record_signature(meeting, minutes, actor: Actor, participant, role: str, certificate,
                     signed: bytes) -> Signature:
    """Store the signed revision and its Signature; audit; seal after the last signature."""
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


def refuse_altered(minutes, pdf: bytes, roots: list[x509.Certificate]) -> None:
    """Sign only the minutes as finalised and signed so far: nothing added, every earlier
    signature trusted and by the registered signer."""
    check = verify_pdf(pdf, roots, expected=len(minutes.signatures))
    check_record(check, pdf, minutes, read_blob(minutes.pdf_sha256))
    problems = problems_of(check)
    if problems:
        raise Conflict("The minutes were altered since they were finalised; they cannot be "
                       "signed: " + "; ".join(problems) + ".", code="minutes_altered")
