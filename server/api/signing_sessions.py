"""REST endpoints: signing the minutes on the signer's own token (hemicycle-sign).

The signer opens a session (logged in, on their turn); the agent on their computer holds
only the one-time code, which is the session's capability: it presents the token's
certificate, gets the attributes to sign, and returns the signature value.
"""
from __future__ import annotations

import base64
import binascii
from datetime import datetime

from flask import url_for
from pydantic import BaseModel, ConfigDict, Field

from server.api.blueprint import bp
from server.api.meetings import respond
from server.api.minutes import CertificateOut
from server.api.spec import endpoint
from server.auth import current_actor
from server.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated
from server.extensions import csrf, db
from server.services import audit
from server.services.minutes import ca, trust
from server.services.signers import sessions

CODE_HOLDER = "whoever holds the session's one-time code (the signer's agent)"


class SessionOut(BaseModel):
    meeting_id: int
    meeting_title: str
    role: str
    signer: str
    state: str
    expires_at: datetime
    digest_algorithm: str
    signed_attributes: str | None = Field(
        None, description="base64 DER of the CMS signed attributes the token signs")
    certificate_chain: str | None = None


class OpenedSessionOut(SessionOut):
    code: str = Field(description="The one-time code, shown once")
    link: str
    command: str = Field(description="The command line the signer runs")


class CertificateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    certificate_chain: str = Field(min_length=1, max_length=64 * 1024,
                                   description="PEM: the signing certificate, then its chain")


class SignatureValueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signature_value: str = Field(min_length=1, max_length=4096,
                                 description="base64 of the raw signature over the attributes")


class TokenCertificateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    certificate_chain: str = Field(min_length=1, max_length=64 * 1024)


@bp.post("/meetings/<int:meeting_id>/minutes/signing-sessions")
@endpoint("Open a session to sign the minutes on your own token with hemicycle-sign: "
          "a one-time code, bound to you, this revision and a short expiry", tag="minutes",
          response=OpenedSessionOut, status=201, errors=(404, 409),
          auth="the meeting's chair, then its secretary")
def open_signing_session(meeting_id: int):
    actor = current_actor()
    try:
        row, code = sessions.open_session(meeting_id, actor)
    except (Forbidden, Conflict) as error:
        if actor is not None:
            audit.record_refusal("minutes.signing_session", "meeting", meeting_id, actor=actor,
                                 meeting_id=meeting_id, reason=error.code)
        raise
    db.session.commit()
    link = url_for("api.get_signing_session", code=code, _external=True)
    out = OpenedSessionOut(**sessions.describe(row), code=code, link=link,
                           command=f"hemicycle-sign --module /path/to/pkcs11.so {link}")
    return respond(out, 201)


@bp.get("/signing-sessions/<code>")
@endpoint("A signing session: which minutes, whose turn, what to sign once prepared",
          tag="minutes", response=SessionOut, errors=(404,), auth=CODE_HOLDER)
def get_signing_session(code: str):
    return respond(SessionOut(**sessions.describe(sessions.session_for(code))))


@bp.post("/signing-sessions/<code>/certificate")
@csrf.exempt
@endpoint("Present the token's certificate chain; answers the attributes to sign",
          tag="minutes", body=CertificateIn, response=SessionOut, errors=(404, 409),
          auth=CODE_HOLDER)
def present_session_certificate(code: str, body: CertificateIn):
    described = sessions.present_certificate(code, body.certificate_chain)
    db.session.commit()
    return respond(SessionOut(**described))


@bp.post("/signing-sessions/<code>/signature")
@csrf.exempt
@endpoint("Return the token's signature value: checked, embedded and verified before the "
          "signature is recorded (the secretary's seals the meeting)", tag="minutes",
          body=SignatureValueIn, response=SessionOut, status=201, errors=(404, 409),
          auth=CODE_HOLDER)
def finish_signing_session(code: str, body: SignatureValueIn):
    try:
        value = base64.b64decode(body.signature_value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("The signature value must be base64.",
                           fields={"signature_value": "not base64"}) from None
    sessions.finish_session(code, value)
    db.session.commit()
    return respond(SessionOut(**sessions.describe(sessions.session_for(code))), 201)


@bp.post("/users/me/token-certificates")
@endpoint("Register the certificate of your own token (its key never leaves it)",
          tag="minutes", body=TokenCertificateIn, response=CertificateOut, status=201,
          errors=(409,),
          auth="any logged-in user")
def register_token_certificate(body: TokenCertificateIn):
    actor = current_actor()
    if actor is None or actor.user is None:
        raise NotAuthenticated("Log in first.")
    try:
        cert, *chain = trust.pem_certificates(body.certificate_chain.encode())
    except (trust.TrustError, ValueError):
        raise InvalidInput("Send the certificate (then its chain) as PEM.",
                           code="invalid_certificate") from None
    row = ca.register_token_certificate(actor.user, cert, chain, actor=actor)
    db.session.commit()
    return respond(CertificateOut.model_validate(row), 201)
