"""REST endpoints: participants of a meeting, and their CSV import."""
from __future__ import annotations

from flask import request

from server.api.blueprint import bp
from server.api.meetings import PREPARERS, respond
from server.api.spec import endpoint
from server.auth import current_actor
from server.errors import HemicycleError, InvalidInput
from server.extensions import db
from server.schemas.meetings import (
    ImportResult, ParticipantCreate, ParticipantOut, ParticipantUpdate,
)
from server.services.meetings import participant_import, participants
from server.services.access import Permission, get_meeting

CHANGES = PREPARERS + ", until the meeting is sealed"
CSV_REQUEST_BODY = {
    "required": True,
    "description": (
        "A UTF-8 CSV file (BOM optional), comma- or semicolon-separated, at most "
        f"{participant_import.MAX_BYTES // 1024} KB and {participant_import.MAX_ROWS} rows. "
        "Columns: full_name (required), email, position, role "
        "(chair|secretary|delegate|observer), voting_right (yes|no), weight, seat, username "
        "(links an existing account). Either upload it as the multipart field `file`, or send "
        "it as the whole body with Content-Type text/csv. Every row is checked first; if any "
        "is wrong nothing is imported and the 422 answer lists the problems in "
        "`error.problems` as {line, column, message} (line 1 is the header)."
    ),
    "content": {
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}}}},
        "text/csv": {"schema": {"type": "string"}},
    },
}


def _out(participant) -> ParticipantOut:
    return participants.participant_out(participant)


@bp.get("/meetings/<int:meeting_id>/participants")
@endpoint("List a meeting's participants in seat order", tag="participants",
          response=list[ParticipantOut], errors=(404,),
          auth="the meeting's staff: admins, secretaries and its chair")
def list_participants(meeting_id: int):
    found = participants.list_participants(meeting_id, current_actor())
    return respond([_out(p) for p in found])


@bp.post("/meetings/<int:meeting_id>/participants")
@endpoint("Add a participant from the directory (`user_id`) or by name (`full_name`)",
          tag="participants", body=ParticipantCreate, response=ParticipantOut, status=201,
          errors=(404, 409), auth=CHANGES)
def add_participant(meeting_id: int, body: ParticipantCreate):
    participant = participants.add_participant(meeting_id, current_actor(), body)
    db.session.commit()
    return respond(_out(participant), 201)


@bp.patch("/meetings/<int:meeting_id>/participants/<int:participant_id>")
@endpoint("Edit a participant: role, voting right, weight, seat, proxy holder…",
          tag="participants", body=ParticipantUpdate, response=ParticipantOut,
          errors=(404, 409), auth=CHANGES)
def update_participant(meeting_id: int, participant_id: int, body: ParticipantUpdate):
    participant = participants.update_participant(meeting_id, participant_id, current_actor(), body)
    db.session.commit()
    return respond(_out(participant))


@bp.delete("/meetings/<int:meeting_id>/participants/<int:participant_id>")
@endpoint("Remove a participant; proxies they held return to their givers", tag="participants",
          status=204, errors=(404,), auth=CHANGES)
def remove_participant(meeting_id: int, participant_id: int):
    participants.remove_participant(meeting_id, participant_id, current_actor())
    db.session.commit()
    return "", 204


def uploaded_csv() -> bytes:
    """The CSV bytes of this request: the multipart field ``file`` or a text/csv body."""
    limit = participant_import.MAX_BYTES + 64 * 1024  # room for multipart framing
    if request.content_length is not None and request.content_length > limit:
        raise HemicycleError("The file is too large.", code="payload_too_large", status=413)
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput("Upload the CSV file in the field `file`.",
                               fields={"file": "Field required"})
        return upload.read(participant_import.MAX_BYTES + 1)
    if request.mimetype in ("text/csv", "text/plain", "application/csv"):
        return request.get_data(cache=False)[:participant_import.MAX_BYTES + 1]
    raise HemicycleError("Send the CSV as multipart/form-data (field `file`) or as text/csv.",
                         code="unsupported_media_type", status=415)


@bp.post("/meetings/<int:meeting_id>/participants/import")
@endpoint("Import participants from a CSV file, all or nothing", tag="participants",
          response=ImportResult, status=201, errors=(404, 413, 415, 422), auth=CHANGES,
          content_type="multipart/form-data", request_body=CSV_REQUEST_BODY)
def import_participants(meeting_id: int):
    actor = current_actor()
    get_meeting(meeting_id, actor, Permission.PREPARE)  # before reading any upload
    created = participant_import.import_csv(meeting_id, actor, uploaded_csv())
    db.session.commit()
    return respond(ImportResult(imported=len(created), participants=[_out(p) for p in created]), 201)
