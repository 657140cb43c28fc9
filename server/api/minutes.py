"""REST endpoints: the minutes of a meeting, their signatures, and signing certificates."""
from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import Literal

from flask import request, send_file
from pydantic import BaseModel, ConfigDict, Field

from server.api.blueprint import bp
from server.api.meetings import PREPARERS, respond
from server.api.spec import endpoint
from server.auth import current_actor
from server.errors import InvalidInput, NotAuthenticated
from server.extensions import db
from server.models import Minutes, MinutesStatus
from server.schemas.types import Id
from server.services.minutes import ca, minutes as minutes_service, signing
from server.services.minutes.minutes import MinutesEdit

STAFF = "the meeting's staff: admins, secretaries and its chair"
MAX_PKCS12_BYTES = 64 * 1024


class SignatureOut(BaseModel):
    role: str
    signer_name: str
    signed_at: datetime
    certificate_fingerprint: str


class MinutesOut(BaseModel):
    meeting_id: int
    status: str
    language: str
    sections: dict
    free_text: str
    audit_head: str | None
    pdf_sha256: str | None
    finalised_at: datetime | None
    signatures: list[SignatureOut]
    next_signer: Literal["chair", "secretary"] | None

    @classmethod
    def of(cls, minutes: Minutes) -> "MinutesOut":
        signed = len(minutes.signatures)
        next_signer = (signing.SIGNING_ORDER[signed]
                       if minutes.status == MinutesStatus.FINAL and signed < 2 else None)
        return cls(meeting_id=minutes.meeting_id, status=minutes.status.value,
                   language=minutes.language, sections=minutes.sections,
                   free_text=minutes.free_text, audit_head=minutes.audit_head,
                   pdf_sha256=minutes.pdf_sha256, finalised_at=minutes.finalised_at,
                   signatures=[SignatureOut(role=s.role.value, signer_name=s.signer_name,
                                            signed_at=s.signed_at,
                                            certificate_fingerprint=s.certificate_fingerprint)
                               for s in minutes.signatures],
                   next_signer=next_signer)


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: Literal["vi", "en"] | None = None


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    passphrase: str = Field(min_length=1, max_length=200)
    certificate_id: Id | None = None


class CertificateUploadForm(BaseModel):
    file: bytes = Field(description="A PKCS#12 (.p12/.pfx) file with the key and certificate")
    passphrase: str = Field(max_length=200)


class CertificateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    subject: str
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime
    issued_by_local_ca: bool


@bp.get("/meetings/<int:meeting_id>/minutes")
@endpoint("The minutes: sections drafted from the record, status and signatures",
          tag="minutes", response=MinutesOut, errors=(404,), auth=STAFF)
def get_minutes(meeting_id: int):
    return respond(MinutesOut.of(minutes_service.get_minutes(meeting_id, current_actor())))


@bp.post("/meetings/<int:meeting_id>/minutes")
@endpoint("Draft the minutes from the record (again): facts are refreshed, the "
          "secretary's text is kept", tag="minutes", body=DraftIn, response=MinutesOut,
          errors=(404, 409), auth=PREPARERS)
def draft_minutes(meeting_id: int, body: DraftIn):
    minutes = minutes_service.draft_minutes(meeting_id, current_actor(), body.language)
    db.session.commit()
    return respond(MinutesOut.of(minutes))


@bp.patch("/meetings/<int:meeting_id>/minutes")
@endpoint("Edit the draft: opening, closing, per-item notes and decisions, free text, "
          "language, number and locality", tag="minutes", body=MinutesEdit,
          response=MinutesOut, errors=(404, 409), auth=PREPARERS)
def edit_minutes(meeting_id: int, body: MinutesEdit):
    minutes = minutes_service.edit_minutes(meeting_id, current_actor(), body)
    db.session.commit()
    return respond(MinutesOut.of(minutes))


@bp.post("/meetings/<int:meeting_id>/minutes/finalise")
@endpoint("Freeze the text and render the PDF to sign; it states the audit chain head",
          tag="minutes", response=MinutesOut, errors=(404, 409), auth=PREPARERS)
def finalise_minutes(meeting_id: int):
    minutes = minutes_service.finalise_minutes(meeting_id, current_actor())
    db.session.commit()
    return respond(MinutesOut.of(minutes))


@bp.get("/meetings/<int:meeting_id>/minutes.pdf")
@endpoint("The minutes as a PDF: a preview marked DRAFT, or the final PDF with the "
          "signatures so far", tag="minutes", response_content_type="application/pdf",
          errors=(404,), auth=STAFF)
def minutes_pdf(meeting_id: int):
    pdf = minutes_service.preview_pdf(meeting_id, current_actor())
    return send_file(BytesIO(pdf), mimetype="application/pdf",
                     download_name=f"bien-ban-{meeting_id}.pdf")


@bp.post("/meetings/<int:meeting_id>/minutes/signatures")
@endpoint("Sign the final minutes with your certificate: the chair first, then the "
          "secretary, whose signature seals the meeting", tag="minutes", body=SignIn,
          response=MinutesOut, status=201, errors=(404, 409),
          auth="the meeting's chair, then its secretary")
def sign_minutes(meeting_id: int, body: SignIn):
    signing.sign_minutes(meeting_id, current_actor(), body.passphrase, body.certificate_id)
    db.session.commit()
    minutes = minutes_service.get_minutes(meeting_id, current_actor())
    return respond(MinutesOut.of(minutes), 201)


def _me():
    actor = current_actor()
    if actor is None or actor.user is None:
        raise NotAuthenticated("Log in first.")
    return actor


@bp.get("/users/me/certificates")
@endpoint("Your signing certificates", tag="minutes", response=list[CertificateOut],
          auth="any logged-in user")
def my_certificates():
    return respond([CertificateOut.model_validate(c) for c in _me().user.certificates])


@bp.post("/users/me/certificates")
@endpoint("Register your own signing certificate (PKCS#12), e.g. from a national CA",
          tag="minutes", body=CertificateUploadForm, content_type="multipart/form-data",
          response=CertificateOut, status=201, errors=(409,), auth="any logged-in user")
def upload_certificate():
    actor = _me()
    upload = request.files.get("file")
    passphrase = request.form.get("passphrase", "")
    if upload is None:
        raise InvalidInput("Attach the PKCS#12 file as `file`.", fields={"file": "required"})
    if len(passphrase) > 200:
        raise InvalidInput("The passphrase is at most 200 characters.",
                           fields={"passphrase": "too long"})
    data = upload.read(MAX_PKCS12_BYTES + 1)
    if len(data) > MAX_PKCS12_BYTES:
        raise InvalidInput("A PKCS#12 file is at most 64 KB.", fields={"file": "too large"})
    row = ca.import_pkcs12(actor.user, data, passphrase, actor=actor)
    db.session.commit()
    return respond(CertificateOut.model_validate(row), 201)
