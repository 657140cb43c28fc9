"""REST endpoints: a delegate's annotations on document pages, and the annotated copy as PDF."""
from __future__ import annotations

import uuid
from typing import Annotated

from flask import Response, jsonify
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from server.api.blueprint import bp
from server.api.spec import endpoint
from server.auth import current_actor
from server.errors import NotAuthenticated
from server.extensions import db
from server.models import AnnotationKind, Participant
from server.pdf.annotated_copy import Mark, annotated_copy, raster_copy
from server.schemas.types import Id
from server.services.documents import annotations, pages as page_images, storage

OWNERS = "a participant of the meeting who may read the document (paired tablet or logged-in user)"
MAX_POINTS = 5000

Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class AnnotationData(BaseModel):
    """Vectors in page-relative coordinates: x and y in 0..1 of the page's width and height."""

    model_config = ConfigDict(extra="forbid")

    points: list[tuple[Unit, Unit]] = Field(default_factory=list, max_length=MAX_POINTS)
    color: Annotated[str, StringConstraints(max_length=7, pattern=r"^#[0-9a-fA-F]{6}$")] = "#1f4fd1"
    width: Annotated[float, Field(gt=0, le=0.1)] = 0.004  # of the page's width
    text: Annotated[str, StringConstraints(max_length=4000)] = ""


class AnnotationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version_id: Id
    page_number: Annotated[int, Field(ge=1, le=100_000)]
    kind: AnnotationKind
    shared: bool = False
    data: AnnotationData

    @model_validator(mode="after")
    def _shape(self):
        if not self.data.points:
            raise ValueError("an annotation needs at least one point")
        if self.kind == AnnotationKind.NOTE and not self.data.text.strip():
            raise ValueError("a note needs its text")
        return self


class AnnotationOut(BaseModel):
    id: str
    document_id: int | None
    version_id: int
    page_number: int
    participant_id: int
    kind: AnnotationKind
    shared: bool
    data: dict
    created_at: str | None
    updated_at: str | None
    deleted: bool
    carried_from_id: str | None


def _actor():
    actor = current_actor()
    if actor is None:
        raise NotAuthenticated("Log in first, or send the tablet's device token.")
    return actor


def _out(annotation, document_id: int | None = None) -> dict:
    return AnnotationOut.model_validate(annotations.payload(annotation, document_id)).model_dump(mode="json")


@bp.get("/documents/<int:document_id>/versions/<int:number>/annotations")
@endpoint("My annotations on a document version, and those other participants shared",
          tag="annotations", response=list[AnnotationOut], errors=(404,), auth=OWNERS)
def list_annotations(document_id: int, number: int):
    found = annotations.list_annotations(_actor(), document_id, number)
    db.session.rollback()
    return jsonify([_out(a, document_id) for a in found])


@bp.put("/annotations/<uuid:annotation_id>")
@endpoint("Save an annotation under the id the client chose; sending it again changes nothing",
          tag="annotations", body=AnnotationIn, response=AnnotationOut, errors=(404, 409),
          auth=OWNERS + "; only your own annotations")
def save_annotation(annotation_id: uuid.UUID, body: AnnotationIn):
    fields = annotations.AnnotationFields(
        version_id=body.version_id, page_number=body.page_number, kind=body.kind,
        shared=body.shared, data=body.data.model_dump(mode="json"))
    annotation = annotations.save_annotation(_actor(), str(annotation_id), fields)
    db.session.commit()
    return jsonify(_out(annotation))


@bp.delete("/annotations/<uuid:annotation_id>")
@endpoint("Erase one of your annotations (again: no change)", tag="annotations",
          response=AnnotationOut, errors=(404, 409), auth=OWNERS + "; only your own annotations")
def delete_annotation(annotation_id: uuid.UUID):
    annotation = annotations.delete_annotation(_actor(), str(annotation_id))
    db.session.commit()
    return jsonify(_out(annotation))


@bp.get("/documents/<int:document_id>/versions/<int:number>/annotated.pdf")
@endpoint("My annotated copy: the PDF with my annotations as real PDF annotations. For a "
          "confidential document, the PDF is built from my watermarked page images instead",
          tag="annotations", response_content_type="application/pdf", errors=(404,), auth=OWNERS)
def annotated_pdf(document_id: int, number: int):
    actor = _actor()
    version, right, mine = annotations.my_annotations(actor, document_id, number)
    participant = db.session.get(Participant, mine[0].participant_id) if mine else None
    author = participant.full_name if participant else ""
    marks = [Mark(a.kind.value, a.page_number, a.data, author) for a in mine]
    if right.pdf:
        data = annotated_copy(storage.blob_path(version.blob_sha256).read_bytes(), marks)
    else:
        pages = []
        for page in version.pages:
            plan = page_images.plan_page(actor, document_id, number, page.number, "large", "png")
            pages.append((page_images.page_bytes(plan), page.width_pt, page.height_pt))
        data = raster_copy(pages, marks, title=version.document.title)
    stem = version.filename.rsplit(".", 1)[0] or "document"
    db.session.rollback()
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{_ascii(stem)}-annotated.pdf"',
        "Cache-Control": "private, no-store",
    })


def _ascii(name: str) -> str:
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)
    return safe[:80] or "document"
