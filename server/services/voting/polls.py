"""Polls: draft, open, close, publish, cancel and re-vote.

Rules (majority, base, abstentions, quorum, options) are edited only while a
poll is a draft and are frozen from opening on. Opening, closing and
publishing are idempotent: asking again answers the same state and records
nothing twice. Every function checks the actor through ``access``, audits and
publishes in the caller's transaction; the caller commits. Casting is in
``ballots``; counting in ``tally`` and ``results``; closing in ``closing``.
"""
from __future__ import annotations

import functools
from datetime import timedelta

from sqlalchemy import select

from server.errors import Conflict, Forbidden, InvalidInput
from server.extensions import db
from server.models import (
    AgendaItem, MajorityBase, MajorityRule, Meeting, MeetingStatus, Poll, PollKind, PollOptionKind,
    PollStatus, utcnow,
)
from server.services import access, audit, events
from server.services.access import Permission
from server.services.actors import Actor
from server.services.timestamps import iso
from server.services.voting import progress
from server.services.voting.closing import close_if_due, close_now, find_poll, schedule_closing
from server.services.voting.lookup import existing_id, lock_poll, poll_view
from server.services.voting.results import attendance_snapshot, decision_text, public_summary
from server.services.voting.rules import RULE_FIELDS, apply_rules
from server.services.voting.sealing import erase_secret_ballots

def _managed(actor: Actor | None, poll_id: int) -> tuple[Poll, Meeting]:
    return find_poll(poll_id, actor, Permission.CHAIR)


def audits_refusal(action: str, obj_type: str = "poll"):
    """Audit a refused management action (forbidden, or not possible in this state)."""
    def decorate(function):
        @functools.wraps(function)
        def wrapper(actor, object_id, *args, **kwargs):
            try:
                return function(actor, object_id, *args, **kwargs)
            except (Forbidden, Conflict, InvalidInput) as refused:
                if actor is not None:
                    audit.record_refusal(action, obj_type, object_id, actor=actor,
                                         reason=refused.code)
                raise
        return wrapper
    return decorate


@audits_refusal("poll.create", "meeting")
def create_poll(actor: Actor | None, meeting_id: int, fields: dict,
                candidates: list[str] | None = None) -> Poll:
    """A draft poll; ``fields`` holds any of the rule fields, the others take their defaults."""
    meeting = access.get_meeting(existing_id(meeting_id, "meeting"), actor, Permission.CHAIR)
    defaults = {"agenda_item_id": None, "kind": PollKind.NAMED,
                "option_kind": PollOptionKind.YES_NO_ABSTAIN, "min_choices": 1, "max_choices": 1,
                "majority": MajorityRule.SIMPLE, "majority_base": MajorityBase.CAST,
                "abstentions_count": False,
                "quorum_required": True, "allow_change": False, "duration_seconds": None}
    values = {**defaults, **{k: v for k, v in fields.items() if k in RULE_FIELDS}}
    poll = Poll(meeting_id=meeting.id, status=PollStatus.DRAFT, created_at=utcnow())
    apply_rules(poll, meeting, values, candidates)
    db.session.add(poll)
    db.session.flush()
    audit.record("poll.create", "poll", poll.id, actor=actor, meeting_id=meeting.id,
                 payload={"motion": poll.motion, "kind": poll.kind.value})
    events.publish(meeting.id, "poll.updated", poll_view(poll), audience="staff")
    return poll


@audits_refusal("poll.update")
def update_poll(actor: Actor | None, poll_id: int, fields: dict,
                candidates: list[str] | None = None) -> Poll:
    """Edit a draft; rules of an opened poll are frozen."""
    poll, meeting = _managed(actor, poll_id)
    if poll.status != PollStatus.DRAFT:
        raise Conflict("Only a draft poll can be edited; its rules are frozen once open.",
                       code="poll_not_draft")
    values = {name: getattr(poll, name) for name in RULE_FIELDS}
    values.update({k: v for k, v in fields.items() if k in RULE_FIELDS})
    if candidates is None and values["option_kind"] == PollOptionKind.CANDIDATES:
        candidates = [o.label for o in poll.options if o.key.startswith("c")]
    apply_rules(poll, meeting, values, candidates)
    audit.record("poll.update", "poll", poll.id, actor=actor, meeting_id=meeting.id,
                 payload={"fields": sorted(fields)})
    events.publish(meeting.id, "poll.updated", poll_view(poll), audience="staff")
    return poll


def list_polls(actor: Actor | None, meeting_id: int) -> list[Poll]:
    """The meeting's polls, oldest first; drafts only for those who manage polls."""
    meeting = access.get_meeting(existing_id(meeting_id, "meeting"), actor, Permission.VIEW)
    query = select(Poll).where(Poll.meeting_id == meeting.id).order_by(Poll.id)
    if Permission.CHAIR not in access.permissions(actor, meeting):
        query = query.where(Poll.status != PollStatus.DRAFT)
    polls = list(db.session.scalars(query))
    for poll in polls:
        close_if_due(poll)
    return polls


@audits_refusal("poll.open")
def open_poll(actor: Actor | None, poll_id: int) -> Poll:
    """Open a draft for ballots, freezing its rules; quorum is checked when the poll needs it."""

    poll, meeting = _managed(actor, poll_id)
    poll = lock_poll(poll.id)
    if poll.status == PollStatus.OPEN:
        return poll
    if poll.status != PollStatus.DRAFT:
        raise Conflict(f"This poll is {poll.status.value}; it cannot be opened.",
                       code=f"poll_{poll.status.value}")
    if meeting.status not in (MeetingStatus.PUBLISHED, MeetingStatus.IN_SESSION):
        raise Conflict("Polls open only in a published meeting that is not closed.",
                       code="meeting_not_running")
    snapshot = attendance_snapshot(meeting)
    if poll.quorum_required and not snapshot["quorum"]["reached"]:
        raise Conflict("There is no quorum: the poll cannot be opened.", code="no_quorum",
                       fields={"quorum": f"{snapshot['quorum']['present']} present, "
                                         f"{snapshot['quorum']['required']} required"})
    now = utcnow()
    poll.status, poll.opened_at, poll.snapshot = PollStatus.OPEN, now, {"open": snapshot}
    duration = poll.duration_seconds
    poll.closes_at = now + timedelta(seconds=duration) if duration else None
    audit.record("poll.open", "poll", poll.id, actor=actor, meeting_id=meeting.id,
                 payload={"quorum": snapshot["quorum"], "closes_at": iso(poll.closes_at)})
    events.publish(meeting.id, "poll.opened", poll_view(poll))
    schedule_closing(poll)
    return poll


@audits_refusal("poll.close")
def close_poll(actor: Actor | None, poll_id: int) -> Poll:
    """Close an open poll and fix its result; closing a closed poll changes nothing."""

    poll, _meeting = _managed(actor, poll_id)
    poll = lock_poll(poll.id)
    if poll.status in (PollStatus.CLOSED, PollStatus.PUBLISHED):
        return poll
    if poll.status != PollStatus.OPEN:
        raise Conflict(f"This poll is {poll.status.value}; only an open poll can be closed.",
                       code=f"poll_{poll.status.value}")
    return close_now(actor, poll)


@audits_refusal("poll.publish")
def publish_poll(actor: Actor | None, poll_id: int, decision: str | None = None) -> Poll:
    """Show the result to everyone and record the decision on the agenda item."""

    poll, meeting = _managed(actor, poll_id)
    poll = lock_poll(poll.id)
    if poll.status == PollStatus.PUBLISHED:
        return poll
    if poll.status != PollStatus.CLOSED:
        raise Conflict("Only a closed poll can be published.", code=f"poll_{poll.status.value}")
    poll.status, poll.published_at = PollStatus.PUBLISHED, utcnow()
    poll.decision = (decision or "").strip() or decision_text(poll)
    if poll.agenda_item_id is not None:
        item = db.session.get(AgendaItem, poll.agenda_item_id)
        if item is not None:
            item.decision = f"{item.decision}\n{poll.decision}" if item.decision else poll.decision
    audit.record("poll.publish", "poll", poll.id, actor=actor, meeting_id=meeting.id,
                 payload={"decision": poll.decision})
    events.publish(meeting.id, "poll.published",
                   {**poll_view(poll), "result": public_summary(poll)})
    return poll


@audits_refusal("poll.cancel")
def cancel_poll(actor: Actor | None, poll_id: int) -> Poll:
    """Cancel a draft or open poll; its ballots are never counted (a secret poll's are erased)."""
    poll, meeting = _managed(actor, poll_id)
    poll = lock_poll(poll.id)
    if poll.status == PollStatus.CANCELLED:
        return poll
    if poll.status not in (PollStatus.DRAFT, PollStatus.OPEN):
        raise Conflict("A closed poll cannot be cancelled; hold a re-vote instead.",
                       code=f"poll_{poll.status.value}")
    was_open = poll.status == PollStatus.OPEN
    if poll.kind == PollKind.SECRET:
        erase_secret_ballots(poll)  # never counted: nothing is kept to link to the voters
    poll.status, poll.closed_at = PollStatus.CANCELLED, utcnow()
    audit.record("poll.cancel", "poll", poll.id, actor=actor, meeting_id=meeting.id)
    events.publish(meeting.id, "poll.cancelled", poll_view(poll),
                   audience="all" if was_open else "staff")
    return poll


@audits_refusal("poll.revote")
def revote(actor: Actor | None, poll_id: int) -> Poll:
    """A new draft with the same motion and rules, pointing back at the poll it repeats."""
    poll, meeting = _managed(actor, poll_id)
    if poll.status not in (PollStatus.CLOSED, PollStatus.PUBLISHED, PollStatus.CANCELLED):
        raise Conflict("Only a finished poll can be voted again.", code=f"poll_{poll.status.value}")
    fields = {name: getattr(poll, name) for name in RULE_FIELDS}
    candidates = ([o.label for o in poll.options]
                  if poll.option_kind == PollOptionKind.CANDIDATES else None)
    new = create_poll(actor, meeting.id, fields, candidates)
    new.revote_of_id = poll.id
    audit.record("poll.revote", "poll", new.id, actor=actor, meeting_id=meeting.id,
                 payload={"revote_of": poll.id})
    return new


def staff_progress(actor: Actor | None, poll_id: int) -> dict:
    poll, meeting = find_poll(poll_id, actor, Permission.VIEW)
    access.require(actor, meeting, Permission.STAFF_VIEW)
    return progress.progress(poll)
