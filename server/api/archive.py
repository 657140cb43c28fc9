"""REST endpoints: archive search and packages of sealed meetings (archivists)."""
from __future__ import annotations

import tempfile
from io import BytesIO
from pathlib import Path

from flask import send_file
from pydantic import BaseModel, ConfigDict, Field, create_model

from server.api.blueprint import bp
from server.api.meetings import respond
from server.api.spec import endpoint
from server.auth import current_actor
from server.schemas.types import Day
from server.services.archive import package as archive, search as archive_search
from server.services.access import require_account_role

ARCHIVISTS = "archivists: admin and secretary accounts"

# "from" is a Python keyword, so the query model is built by name.
ArchiveSearchQuery = create_model(
    "ArchiveSearchQuery", __config__=ConfigDict(extra="forbid"),
    q=(str, Field(min_length=1, max_length=200, description="Words; diacritics optional")),
    body=(str | None, Field(None, max_length=300, description="Exact name of the body")),
    **{"from": (Day | None, Field(None, description="Meetings on or after (YYYY-MM-DD)")),
       "to": (Day | None, Field(None, description="Meetings on or before (YYYY-MM-DD)"))},
)


class SearchHit(BaseModel):
    meeting_id: int | None = Field(None, description="the sealed meeting (none for a consultation)")
    consultation_id: int | None = Field(None, description="the closed written consultation")
    title: str
    body: str
    starts_at: str = Field(description="when the meeting started, or the consultation closed")
    kind: str = Field(description="meeting, minutes, page or consultation")
    ref: str
    label: str
    snippet: str


class SealedMeetingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    body: str
    reference: str
    starts_at: str
    sealed_at: str


@bp.get("/archive/search")
@endpoint("Full-text search over the minutes and document pages of sealed meetings, then "
          "closed written consultations, without regard to Vietnamese diacritics", tag="archive", query=ArchiveSearchQuery,
          response=list[SearchHit], auth=ARCHIVISTS)
def search_archive(query):
    hits = archive_search.search(current_actor(), query.q, body=query.body,
                                 date_from=getattr(query, "from"), date_to=query.to)
    return respond([SearchHit(**hit) for hit in hits])


@bp.get("/archive/meetings")
@endpoint("Sealed meetings, newest first", tag="archive", response=list[SealedMeetingOut],
          auth=ARCHIVISTS)
def list_sealed_meetings():
    require_account_role(current_actor(), *archive_search.ARCHIVIST_ROLES)
    return respond([SealedMeetingOut(id=m.id, title=m.title, body=m.body, reference=m.reference,
                                     starts_at=m.starts_at.isoformat(),
                                     sealed_at=m.sealed_at.isoformat())
                    for m in archive.sealed_meetings()])


@bp.get("/archive/meetings/<int:meeting_id>/package")
@endpoint("Download the archive package (BagIt, zipped) of a sealed meeting", tag="archive",
          response_content_type="application/zip", errors=(404, 409), auth=ARCHIVISTS)
def download_package(meeting_id: int):
    require_account_role(current_actor(), *archive_search.ARCHIVIST_ROLES)
    with tempfile.TemporaryDirectory(prefix="hemicycle-export-") as tmp:
        path = archive.export_package(meeting_id, Path(tmp) / f"hemicycle-meeting-{meeting_id}.zip")
        data = path.read_bytes()
    return send_file(BytesIO(data), mimetype="application/zip", as_attachment=True,
                     download_name=f"hemicycle-meeting-{meeting_id}.zip")
