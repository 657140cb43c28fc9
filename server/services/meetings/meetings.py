"""Meetings: create, edit, list, delete drafts, and publish after checking they are ready.

Every function takes the actor, checks their permission through
``services.access`` and records an audit entry; the caller commits. Changes
to a published meeting's header are also published as ``meeting.updated``
events, which reach the tablets after the commit.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import (
    AgendaItem, Meeting, MeetingRole, MeetingStatus, Participant, Role, utcnow,
)
from server.schemas.meetings import MeetingCreate, MeetingOut, MeetingUpdate
from server.services import audit, events
from server.services.access import Permission, get_meeting, permissions, require_account_role
from server.services.actors import Actor


def header_payload(meeting: Meeting) -> dict:
    """What tablets show in the meeting header, as sent in ``meeting.updated`` events."""
    return MeetingOut.model_validate(meeting).model_dump(mode="json")


def meeting_to_prepare(meeting_id: int, actor: Actor | None, action: str) -> Meeting:
    """The meeting, if the actor may prepare it; otherwise the refusal is audited and raised."""
    try:
        return get_meeting(meeting_id, actor, Permission.PREPARE)
    except (Forbidden, NotFound) as refused:
        if actor is not None and db.session.get(Meeting, meeting_id) is not None:
            audit.record_refusal(action, "meeting", meeting_id, actor=actor,
                                 meeting_id=meeting_id, reason=refused.code)
        raise


def create_meeting(actor: Actor | None, data: MeetingCreate) -> Meeting:
    """Create a draft meeting. Only admin and secretary accounts may create meetings."""
    try:
        require_account_role(actor, Role.ADMIN, Role.SECRETARY)
    except Forbidden:
        audit.record_refusal("meeting.create", "meeting", actor=actor, reason="forbidden")
        raise
    values = data.model_dump(exclude_none=True)
    meeting = Meeting(created_by_id=actor.user.id, status=MeetingStatus.DRAFT, **values)
    db.session.add(meeting)
    db.session.flush()
    audit.record("meeting.created", "meeting", meeting.id, actor=actor, meeting_id=meeting.id,
                 payload=data.model_dump(mode="json", exclude_none=True))
    return meeting


def list_meetings(actor: Actor | None, status: MeetingStatus | None = None) -> list[Meeting]:
    """The meetings the actor may see, latest start first.

    Admins and secretaries see every meeting; other accounts the meetings they
    take part in, once published (or drafts they prepare as its secretary); a
    paired tablet its own meeting.
    """
    query = select(Meeting).order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    if status is not None:
        query = query.where(Meeting.status == status)
    if actor is not None and actor.device is not None:
        query = query.where(Meeting.id == actor.device.meeting_id)
    else:
        require_account_role(actor, *Role)
        if actor.user.role in (Role.ADMIN, Role.SECRETARY):
            return list(db.session.scalars(query))
        mine = select(Participant.meeting_id).where(Participant.user_id == actor.user.id)
        query = query.where(Meeting.id.in_(mine))
    return [m for m in db.session.scalars(query) if Permission.VIEW in permissions(actor, m)]


def update_meeting(meeting_id: int, actor: Actor | None, data: MeetingUpdate) -> Meeting:
    """Apply the fields the client sent; ``ends_at`` must stay after ``starts_at``."""
    meeting = meeting_to_prepare(meeting_id, actor, "meeting.update")
    changes = {name: getattr(data, name) for name in data.model_fields_set}
    required = {"title", "body", "starts_at"} & {k for k, v in changes.items() if v is None}
    if required:
        raise InvalidInput(_("These fields cannot be empty."),
                           fields={name: _("This field is required.") for name in sorted(required)})
    starts_at = changes.get("starts_at", meeting.starts_at)
    ends_at = changes.get("ends_at", meeting.ends_at)
    if ends_at is not None and ends_at <= starts_at:
        raise InvalidInput(_("The meeting must end after it starts."),
                           fields={"ends_at": "ends_at must be after starts_at"})
    for name in ("place", "description", "reference"):
        if name in changes and changes[name] is None:
            changes[name] = ""
    if "quorum_rule" in changes and changes["quorum_rule"] is None:
        del changes["quorum_rule"]
    if "proxy_limit" in changes and changes["proxy_limit"] is None:
        del changes["proxy_limit"]
    if "proxy_limit" in changes:
        _check_proxy_limit(meeting, changes["proxy_limit"])
    changed = {k: v for k, v in changes.items() if getattr(meeting, k) != v}
    for name, value in changed.items():
        setattr(meeting, name, value)
    if changed:
        meeting.updated_at = utcnow()
        db.session.flush()
        audit.record("meeting.updated", "meeting", meeting.id, actor=actor, meeting_id=meeting.id,
                     payload={"changed": MeetingUpdate.model_validate(changed)
                              .model_dump(mode="json", exclude_unset=True)})
        if meeting.status != MeetingStatus.DRAFT:
            events.publish(meeting.id, "meeting.updated", header_payload(meeting))
            db.session.refresh(meeting)
    return meeting


def _check_proxy_limit(meeting: Meeting, limit: int) -> None:
    held = db.session.execute(
        select(Participant.proxy_holder_id, func.count())
        .where(Participant.meeting_id == meeting.id, Participant.proxy_holder_id.is_not(None))
        .group_by(Participant.proxy_holder_id)
    ).all()
    most = max((count for _holder, count in held), default=0)
    if most > limit:
        raise InvalidInput(_("Some participants already hold more proxies than that."),
                           fields={"proxy_limit": _(
                               _("A participant holds %(n)d proxies; reassign them first."), n=most)})


def delete_meeting(meeting_id: int, actor: Actor | None) -> None:
    """Delete a draft with its agenda and participants; published meetings are kept."""
    meeting = meeting_to_prepare(meeting_id, actor, "meeting.delete")
    if meeting.status != MeetingStatus.DRAFT:
        raise Conflict(_("Only a draft meeting can be deleted."), code="not_draft")
    audit.record("meeting.deleted", "meeting", meeting.id, actor=actor, meeting_id=meeting.id,
                 payload={"title": meeting.title})
    db.session.delete(meeting)
    db.session.flush()


def publish_problems(meeting: Meeting) -> dict[str, str]:
    """Everything that keeps the meeting from being published, by field; empty when ready."""
    problems: dict[str, str] = {}
    if not (meeting.title or "").strip():
        problems["title"] = _("The meeting needs a title.")
    if not (meeting.body or "").strip():
        problems["body"] = _("Say which council, committee or board meets.")
    if meeting.starts_at is None:
        problems["starts_at"] = _("The meeting needs a start time.")
    elif meeting.ends_at is not None and meeting.ends_at <= meeting.starts_at:
        problems["ends_at"] = _("The meeting must end after it starts.")
    items = db.session.scalar(
        select(func.count()).select_from(AgendaItem).where(AgendaItem.meeting_id == meeting.id))
    if not items:
        problems["agenda"] = _("Add at least one agenda item.")
    people = db.session.scalars(select(Participant).where(Participant.meeting_id == meeting.id)).all()
    if not any(p.role == MeetingRole.CHAIR for p in people):
        problems["participants.chair"] = _("Name at least one chair.")
    if not any(p.role == MeetingRole.DELEGATE and p.voting_right for p in people):
        problems["participants.delegates"] = _("Add at least one delegate with a voting right.")
    held: dict[int, int] = {}
    for p in people:
        if p.proxy_holder_id is not None:
            held[p.proxy_holder_id] = held.get(p.proxy_holder_id, 0) + 1
    if held and max(held.values()) > meeting.proxy_limit:
        problems["participants.proxies"] = (
            _("A participant holds more than %(n)d proxies.", n=meeting.proxy_limit))
    return problems


def publish_meeting(meeting_id: int, actor: Actor | None) -> Meeting:
    """Publish a ready draft, or raise InvalidInput listing every problem at once."""
    meeting = meeting_to_prepare(meeting_id, actor, "meeting.publish")
    if meeting.status != MeetingStatus.DRAFT:
        raise Conflict(_("The meeting is already published."), code="already_published")
    problems = publish_problems(meeting)
    if problems:
        raise InvalidInput(_("The meeting is not ready to publish."), code="not_ready",
                           fields=problems)
    meeting.status = MeetingStatus.PUBLISHED
    meeting.published_at = meeting.updated_at = utcnow()
    db.session.flush()
    audit.record("meeting.published", "meeting", meeting.id, actor=actor, meeting_id=meeting.id,
                 payload={"title": meeting.title})
    events.publish(meeting.id, "meeting.updated", header_payload(meeting))
    db.session.refresh(meeting)
    return meeting
