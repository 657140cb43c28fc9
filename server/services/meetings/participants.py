"""Participants of a meeting: add (from the directory or by name), edit, remove.

Proxy rules, checked on every change: the holder is another participant of
the same meeting with a voting right; only a participant with a voting right
can give a proxy; no chains (a holder gives no proxy, a giver holds none);
nobody holds more than ``meeting.proxy_limit`` proxies.
"""
from __future__ import annotations

import unicodedata

from flask_babel import gettext as _
from sqlalchemy import func, select

from server.errors import Conflict, InvalidInput, NotFound
from server.extensions import db
from server.models import Meeting, MeetingStatus, Participant, User
from server.schemas.meetings import ParticipantCreate, ParticipantOut, ParticipantUpdate
from server.services import audit, events
from server.services.access import Permission, get_meeting
from server.services.actors import Actor
from server.services.meetings.meetings import meeting_to_prepare


def normalise(value: str | None) -> str:
    """NFC (macOS and some Windows tools write Vietnamese decomposed), single-spaced."""
    return " ".join(unicodedata.normalize("NFC", value or "").split())


def participant_out(participant: Participant) -> ParticipantOut:
    out = ParticipantOut.model_validate(participant)
    out.username = participant.user.username if participant.user is not None else None
    return out


def participants_of(meeting: Meeting) -> list[Participant]:
    return list(db.session.scalars(
        select(Participant).where(Participant.meeting_id == meeting.id)
        .order_by(Participant.seat == "", Participant.seat, Participant.id)))


def list_participants(meeting_id: int, actor: Actor | None) -> list[Participant]:
    """The participants, in seat order; staff only, since it holds personal data."""
    return participants_of(get_meeting(meeting_id, actor, Permission.STAFF_VIEW))


def _participant(meeting: Meeting, participant_id: int) -> Participant:
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.meeting_id != meeting.id:
        raise NotFound(_("No such participant in this meeting."))
    return participant


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        raise InvalidInput(_("No such user."), fields={"user_id": _("No such active user.")})
    return user


def check_proxy(meeting: Meeting, giver: Participant, holder_id: int | None,
                extra_held: dict[int, int] | None = None) -> str | None:
    """Why ``giver`` cannot give a proxy to ``holder_id``, or None if they can."""
    if holder_id is None:
        return None
    holder = db.session.get(Participant, holder_id)
    if holder is None or holder.meeting_id != meeting.id:
        return _("No such participant in this meeting.")
    if holder.id == giver.id:
        return _("A participant cannot hold their own proxy.")
    if not holder.voting_right:
        return _("The proxy holder must have a voting right.")
    if not giver.voting_right:
        return _("Only a participant with a voting right can give a proxy.")
    if holder.proxy_holder_id is not None:
        return _("The proxy holder has given their own proxy; proxies cannot be chained.")
    if giver.id is not None and db.session.scalar(select(func.count()).where(
            Participant.proxy_holder_id == giver.id)):
        return _("This participant holds proxies for others; proxies cannot be chained.")
    held = db.session.scalar(select(func.count()).where(
        Participant.proxy_holder_id == holder.id,
        Participant.id != (giver.id or 0)))
    held += (extra_held or {}).get(holder.id, 0)
    if held >= meeting.proxy_limit:
        return _("The holder already has %(held)d proxies; the limit is %(limit)d.",
                 held=held, limit=meeting.proxy_limit)
    return None


def _check_unique(meeting: Meeting, participant: Participant) -> None:
    """One participation per account and one person per seat."""
    others = [p for p in participants_of(meeting) if p.id != participant.id]
    if participant.user_id is not None and any(p.user_id == participant.user_id for p in others):
        raise Conflict(_("This user already takes part in the meeting."),
                       fields={"user_id": _("Already a participant.")})
    if participant.seat and any(p.seat == participant.seat for p in others):
        raise Conflict(_("Somebody already sits there."), fields={"seat": _("This seat is taken.")})


def participants_changed(meeting: Meeting) -> None:
    """Tablets show who takes part and who may vote: publish the list once published."""
    if meeting.status == MeetingStatus.DRAFT:
        return
    db.session.flush()
    events.publish(meeting.id, "participants.changed", {"participants": [
        {"id": p.id, "full_name": p.full_name, "role": p.role.value, "seat": p.seat,
         "voting_right": p.voting_right, "proxy_holder_id": p.proxy_holder_id}
        for p in participants_of(meeting)]})
    db.session.refresh(meeting)


def add_participant(meeting_id: int, actor: Actor | None, data: ParticipantCreate) -> Participant:
    """Add a participant; from an account, name and email default to the account's."""
    meeting = meeting_to_prepare(meeting_id, actor, "participant.add")
    user = _user(data.user_id) if data.user_id is not None else None
    participant = Participant(
        meeting_id=meeting.id, user_id=user.id if user else None,
        full_name=normalise(data.full_name or (user.full_name if user else "")),
        email=(data.email or (user.email if user else None)) or None,
        position=normalise(data.position), role=data.role,
        voting_right=data.voting_right if data.voting_right is not None
        else data.role.value in ("chair", "delegate"),
        weight=data.weight or 1, seat=data.seat or "")
    _check_unique(meeting, participant)
    problem = check_proxy(meeting, participant, data.proxy_holder_id)
    if problem:
        raise InvalidInput(problem, fields={"proxy_holder_id": problem})
    participant.proxy_holder_id = data.proxy_holder_id
    db.session.add(participant)
    db.session.flush()
    audit.record("participant.added", "participant", participant.id, actor=actor,
                 meeting_id=meeting.id, payload=participant_out(participant).model_dump(mode="json"))
    participants_changed(meeting)
    return participant


def update_participant(meeting_id: int, participant_id: int, actor: Actor | None,
                       data: ParticipantUpdate) -> Participant:
    """Change the fields the client sent; proxies are re-checked against the new values."""
    meeting = meeting_to_prepare(meeting_id, actor, "participant.update")
    participant = _participant(meeting, participant_id)
    changes = {name: getattr(data, name) for name in data.model_fields_set}
    for name in ("full_name", "role", "voting_right", "weight"):
        if name in changes and changes[name] is None:
            raise InvalidInput(_("This field cannot be empty."),
                               fields={name: _("This field is required.")})
    for name in ("position", "seat"):
        if name in changes:
            changes[name] = normalise(changes[name])
    if "full_name" in changes:
        changes["full_name"] = normalise(changes["full_name"])
    if "email" in changes:
        changes["email"] = changes["email"] or None
    before = participant_out(participant).model_dump(mode="json")
    with db.session.no_autoflush:
        for name, value in changes.items():
            setattr(participant, name, value)
        if participant.voting_right is False and db.session.scalar(select(func.count()).where(
                Participant.proxy_holder_id == participant.id)):
            raise InvalidInput(_("This participant holds proxies."), fields={
                "voting_right": _("This participant holds proxies; reassign them first.")})
        _check_unique(meeting, participant)
        if participant.proxy_holder_id is not None:
            problem = check_proxy(meeting, participant, participant.proxy_holder_id)
            if problem:
                raise InvalidInput(problem, fields={"proxy_holder_id": problem})
    after = participant_out(participant).model_dump(mode="json")
    changed = {k: v for k, v in after.items() if before[k] != v}
    if changed:
        db.session.flush()
        audit.record("participant.updated", "participant", participant.id, actor=actor,
                     meeting_id=meeting.id, payload={"changed": changed})
        participants_changed(meeting)
    return participant


def remove_participant(meeting_id: int, participant_id: int, actor: Actor | None) -> None:
    """Remove a participant; proxies they held go back to their givers."""
    meeting = meeting_to_prepare(meeting_id, actor, "participant.remove")
    participant = _participant(meeting, participant_id)
    for giver in db.session.scalars(select(Participant).where(
            Participant.proxy_holder_id == participant.id)):
        giver.proxy_holder_id = None
    audit.record("participant.removed", "participant", participant.id, actor=actor,
                 meeting_id=meeting.id, payload={"full_name": participant.full_name})
    db.session.delete(participant)
    db.session.flush()
    participants_changed(meeting)
