"""Meeting documents: what the API and the pages accept and answer."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from server.models import DocumentAccess
from server.schemas.types import Id, text


def _id_list(value):
    """Readers arrive as a JSON list, repeated form fields, or "1,2,3"."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return value  # not a list: the list type refuses it (a TypeError here would be a 500)
    items = []
    for item in value:
        if isinstance(item, str):
            items.extend(part for part in item.replace(" ", "").split(",") if part)
        else:
            items.append(item)
    return items


def _form_bool(value):
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "on", "yes"):
            return True
        if lowered in ("0", "false", "off", "no", ""):
            return False
    return value


Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
ParticipantIds = Annotated[list[Id], BeforeValidator(_id_list),
                           Field(max_length=1000)]
FormBool = Annotated[bool, BeforeValidator(_form_bool)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DocumentUpload(Input):
    """The form fields of an upload (multipart/form-data, with the file in ``file``)."""

    title: Title | None = None  # default: the file name without its extension
    agenda_item_id: Id | None = None
    access: DocumentAccess = DocumentAccess.ALL
    confidential: FormBool = False
    readers: ParticipantIds = []


class DocumentUploadForm(DocumentUpload):
    """For the OpenAPI document: the multipart body of an upload."""

    file: bytes = Field(json_schema_extra={"format": "binary"})


class VersionUploadForm(BaseModel):
    file: bytes = Field(json_schema_extra={"format": "binary"})


class DocumentUpdate(Input):
    """Changes to a document; fields left out stay as they are."""

    title: Title | None = None
    agenda_item_id: Id | None = None
    access: DocumentAccess | None = None
    confidential: bool | None = None
    readers: ParticipantIds | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")  # tablets may add cache-busting parameters

    size: Literal["large", "thumb"] = "large"


class DocumentSearchQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: text(200, min_length=1) = Field(description="Words; diacritics optional")
    document_id: Id | None = Field(None, description="Only this document (the tablet's find)")


class DocumentHit(BaseModel):
    document_id: int
    title: str
    version: int
    page: int
    ocr: bool = Field(description="the page is a scan and its text came from OCR")
    snippet: str


class DocumentSearchOut(BaseModel):
    hits: list[DocumentHit]
    pages_pending_ocr: int = Field(description="scanned pages whose text is still being read")


class PresentIn(Input):
    version_id: Id
    page: Id = 1  # pages are numbered from 1, and no document has more than an id can count


class PushIn(Input):
    document_id: Id


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: int
    filename: str
    page_count: int
    pages_rendered: int
    sha256: str
    size: int
    converted_from: str | None = None  # sha256 of the uploaded office file
    uploaded_at: datetime
    ocr_pages_to_read: int = 0  # scanned pages without a text layer (docs/DOCUMENTS.md)
    ocr_pages_read: int = 0
    ocr_failed: list[int] = []  # pages whose OCR failed


class DocumentOut(BaseModel):
    id: int
    meeting_id: int
    agenda_item_id: int | None
    title: str
    access: DocumentAccess
    confidential: bool
    position: int
    readers: list[int] | None = None  # staff only
    can_download: bool  # the PDF, the text and clean page images
    watermarked: bool  # page images carry the reader's watermark
    current_version: VersionOut | None
    versions: list[VersionOut]


class UploadNotices(BaseModel):
    repaired: bool = False  # the file was damaged and rewritten: check its pages
    javascript_removed: int = 0  # active content (scripts, launch actions) taken out
    annotations_carried: int = 0  # on a new version: annotations kept on unchanged pages


class UploadOut(BaseModel):
    document: DocumentOut
    notices: UploadNotices


class PageTextOut(BaseModel):
    document_id: int
    version: int
    page: int
    text: str


class PresentedOut(BaseModel):
    meeting_id: int
    document_id: int
    version_id: int
    page: int


class PushedOut(BaseModel):
    meeting_id: int
    document_id: int
    version_id: int
