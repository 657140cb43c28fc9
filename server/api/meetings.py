"""REST endpoints: meetings — list, create, read, edit, delete drafts, publish."""
from __future__ import annotations

from flask import jsonify
from pydantic import BaseModel

from server.api.blueprint import bp
from server.api.spec import endpoint
from server.auth import current_actor
from server.extensions import db
from server.schemas.meetings import (
    MeetingCreate, MeetingListQuery, MeetingOut, MeetingUpdate, PublishProblemsOut,
)
from server.services.meetings import meetings
from server.services.access import Permission, get_meeting

PREPARERS = "admins and secretaries (by account or as the meeting's secretary)"


def respond(model: BaseModel | list, status: int = 200):
    """A pydantic model (or a list of them) as the JSON answer."""
    if isinstance(model, list):
        return jsonify([m.model_dump(mode="json") for m in model]), status
    return jsonify(model.model_dump(mode="json")), status


@bp.get("/meetings")
@endpoint("List the meetings you can see", tag="meetings", query=MeetingListQuery,
          response=list[MeetingOut],
          auth="any logged-in user; staff see every meeting, others the published meetings "
               "they take part in")
def list_meetings(query: MeetingListQuery):
    found = meetings.list_meetings(current_actor(), query.status)
    return respond([MeetingOut.model_validate(m) for m in found])


@bp.post("/meetings")
@endpoint("Create a draft meeting", tag="meetings", body=MeetingCreate, response=MeetingOut,
          status=201, auth="admin and secretary accounts")
def create_meeting(body: MeetingCreate):
    meeting = meetings.create_meeting(current_actor(), body)
    db.session.commit()
    return respond(MeetingOut.model_validate(meeting), 201)


@bp.get("/meetings/<int:meeting_id>")
@endpoint("Read a meeting", tag="meetings", response=MeetingOut, errors=(404,),
          auth="anyone who can see the meeting: its preparers, and its participants once published")
def get_meeting_view(meeting_id: int):
    meeting = get_meeting(meeting_id, current_actor(), Permission.VIEW)
    return respond(MeetingOut.model_validate(meeting))


@bp.patch("/meetings/<int:meeting_id>")
@endpoint("Edit a meeting; fields left out are unchanged", tag="meetings", body=MeetingUpdate,
          response=MeetingOut, errors=(404,), auth=PREPARERS + ", until the meeting is sealed")
def update_meeting(meeting_id: int, body: MeetingUpdate):
    meeting = meetings.update_meeting(meeting_id, current_actor(), body)
    db.session.commit()
    return respond(MeetingOut.model_validate(meeting))


@bp.delete("/meetings/<int:meeting_id>")
@endpoint("Delete a draft meeting with its agenda and participants", tag="meetings", status=204,
          errors=(404, 409), auth=PREPARERS + "; published meetings cannot be deleted")
def delete_meeting(meeting_id: int):
    meetings.delete_meeting(meeting_id, current_actor())
    db.session.commit()
    return "", 204


@bp.get("/meetings/<int:meeting_id>/publish")
@endpoint("Check whether a meeting is ready to publish, listing every problem", tag="meetings",
          response=PublishProblemsOut, errors=(404,), auth=PREPARERS)
def publish_check(meeting_id: int):
    meeting = get_meeting(meeting_id, current_actor(), Permission.PREPARE)
    problems = meetings.publish_problems(meeting)
    return respond(PublishProblemsOut(ready=not problems, problems=problems))


@bp.post("/meetings/<int:meeting_id>/publish")
@endpoint("Publish a draft meeting (422 lists every missing piece in `fields`)", tag="meetings",
          response=MeetingOut, errors=(404, 409), auth=PREPARERS)
def publish_meeting(meeting_id: int):
    meeting = meetings.publish_meeting(meeting_id, current_actor())
    db.session.commit()
    return respond(MeetingOut.model_validate(meeting))
