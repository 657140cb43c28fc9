"""REST endpoints: the live state of a meeting and its event log, for clients without a socket."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field

from server.api.blueprint import bp
from server.api.spec import endpoint
from server.auth import current_actor
from server.realtime.context import ConnectionContext
from server.realtime.sync import catch_up
from server.schemas.realtime import MAX_REVISION
from server.services import access
from server.services.access import Permission


class SyncQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since_revision: Annotated[int, Field(ge=0, le=MAX_REVISION)] | None = None


class SyncOut(BaseModel):
    mode: Literal["events", "snapshot"]
    revision: int
    events: list[dict[str, Any]] | None = None
    snapshot: dict[str, Any] | None = None


@bp.get("/meetings/<int:meeting_id>/live")
@endpoint("The meeting's live state: events after since_revision, or a full snapshot",
          tag="session", query=SyncQuery, response=SyncOut, errors=(404,),
          auth="anyone who can see the meeting (staff, participants, its devices)")
def live_state(meeting_id: int, query: SyncQuery):
    actor = current_actor()
    meeting = access.get_meeting(meeting_id, actor, Permission.WATCH)
    participant = access.participant_of(actor, meeting)
    viewer = ConnectionContext(
        sid="", kind=actor.kind, meeting_id=meeting.id,
        participant_id=participant.id if participant else None,
        staff=Permission.STAFF_VIEW in access.permissions(actor, meeting),
    )
    result = catch_up(viewer, query.since_revision)
    return jsonify(SyncOut.model_validate(result).model_dump(mode="json", exclude_none=True))

