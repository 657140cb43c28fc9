"""Who may do what in a meeting: one place for every authorisation decision.

Permissions come from the actor's account role (admins and secretaries run
every meeting) and from their participation in the meeting (a chair leads it,
a delegate reads, speaks and votes, an observer reads). A paired tablet acts
as its participant, in its own meeting only; a projector can only watch.
"""
from __future__ import annotations

import enum

from sqlalchemy import select

from server.errors import Forbidden, NotAuthenticated, NotFound
from server.extensions import db
from server.models import Meeting, MeetingRole, MeetingStatus, Participant, Role
from server.services.actors import Actor


class Permission(str, enum.Enum):
    VIEW = "view"  # see the meeting, its agenda and the documents addressed to you
    WATCH = "watch"  # projector: the public room view
    PREPARE = "prepare"  # edit meeting, agenda, participants, documents; publish
    RUN = "run"  # secretary's session control: push documents, attendance, pairing
    CHAIR = "chair"  # lead: items, floor, polls
    VOTE = "vote"
    SPEAK = "speak"  # request the floor
    STAFF_VIEW = "staff_view"  # see everything, incl. who has not voted, staff-only documents


_BY_MEETING_ROLE = {
    MeetingRole.CHAIR: {Permission.VIEW, Permission.WATCH, Permission.RUN, Permission.CHAIR,
                        Permission.SPEAK, Permission.STAFF_VIEW},
    MeetingRole.SECRETARY: {Permission.VIEW, Permission.WATCH, Permission.PREPARE, Permission.RUN,
                            Permission.STAFF_VIEW},
    MeetingRole.DELEGATE: {Permission.VIEW, Permission.WATCH, Permission.SPEAK},
    MeetingRole.OBSERVER: {Permission.VIEW, Permission.WATCH},
}
_STAFF_ACCOUNT = {Permission.VIEW, Permission.WATCH, Permission.PREPARE, Permission.RUN,
                  Permission.CHAIR, Permission.STAFF_VIEW}


def participant_of(actor: Actor, meeting: Meeting) -> Participant | None:
    if actor.device is not None:
        participant = actor.participant
        return participant if participant and participant.meeting_id == meeting.id else None
    if actor.user is None:
        return None
    return db.session.scalar(
        select(Participant).where(Participant.meeting_id == meeting.id,
                                  Participant.user_id == actor.user.id)
    )


def permissions(actor: Actor, meeting: Meeting) -> set[Permission]:
    if actor.kind == "system":
        return set(Permission)
    if actor.kind == "projector":
        ok = actor.device.meeting_id == meeting.id and actor.device.revoked_at is None
        return {Permission.WATCH} if ok else set()
    granted: set[Permission] = set()
    if actor.user is not None and actor.user.role in (Role.ADMIN, Role.SECRETARY):
        granted |= _STAFF_ACCOUNT
    participant = participant_of(actor, meeting)
    if participant is not None:
        granted |= _BY_MEETING_ROLE[participant.role]
        if participant.voting_right and participant.role in (MeetingRole.CHAIR, MeetingRole.DELEGATE):
            granted.add(Permission.VOTE)
    if meeting.status == MeetingStatus.DRAFT and Permission.PREPARE not in granted:
        return set()  # an unpublished meeting is visible to its preparers only
    if meeting.status == MeetingStatus.SEALED:
        granted &= {Permission.VIEW, Permission.WATCH, Permission.STAFF_VIEW}
    return granted


def require(actor: Actor | None, meeting: Meeting, permission: Permission) -> None:
    """Raise unless the actor holds the permission in this meeting.

    A meeting the actor may not even see answers 404, so its existence does
    not leak.
    """
    if actor is None:
        raise NotAuthenticated("Log in first.")
    granted = permissions(actor, meeting)
    if permission in granted:
        return
    if not granted:
        raise NotFound("No such meeting.")
    if meeting.status == MeetingStatus.SEALED:
        raise Forbidden("The meeting is sealed; its record can no longer change.", code="sealed")
    raise Forbidden("You are not allowed to do this in this meeting.")


def get_meeting(meeting_id: int, actor: Actor | None, permission: Permission) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        if actor is None:
            raise NotAuthenticated("Log in first.")
        raise NotFound("No such meeting.")
    require(actor, meeting, permission)
    return meeting


def require_account_role(actor: Actor | None, *roles: Role) -> None:
    if actor is None or actor.user is None:
        raise NotAuthenticated("Log in first.")
    if actor.user.role not in roles:
        raise Forbidden("Your account's role does not allow this.")
