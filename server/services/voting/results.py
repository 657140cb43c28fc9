"""Closing a poll: attendance figures, the exact tally, the stored result and who sees it.

The result is computed once, at closing, from the ballots and the attendance
at that moment, and stored in ``Poll.result`` as plain JSON (weights as
decimal strings). It lists every ballot: by name for a named poll, by receipt
for a secret one, so anyone can recount it and each voter can find their
receipt. Staff see it from closing on, participants once it is published.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from server.errors import Forbidden
from server.extensions import db
from server.models import (
    AttendanceStatus, Ballot, Meeting, Participant, Poll, PollKind, PollOptionKind,
    PollStatus, VoterRecord, utcnow,
)
from server.services import access
from server.services.session import attendance
from server.services.voting import tally
from server.services.access import Permission
from server.services.actors import Actor
from server.services.voting.lookup import VOTING_ROLES
from server.services.voting.tally import Attendance, CountedBallot, Rules

_OUTCOME_VI = {"adopted": "Thông qua", "rejected": "Không thông qua",
               "no_quorum": "Không đủ số đại biểu cần thiết (túc số)", "elected": "Trúng cử",
               "tie": "Có ứng cử viên bằng phiếu", "none_elected": "Không có ai trúng cử"}


def voting_members(meeting_id: int) -> list[Participant]:
    return list(db.session.scalars(
        select(Participant).where(Participant.meeting_id == meeting_id,
                                  Participant.voting_right.is_(True),
                                  Participant.role.in_(VOTING_ROLES)).order_by(Participant.id)))


def represented_ids(meeting: Meeting, members: list[Participant]) -> set[int]:
    """Absent members whose proxy holder is a present voting member, within the proxy limit."""
    by_id = {m.id: m for m in members}
    held: dict[int, int] = {}
    represented: set[int] = set()
    for member in members:
        holder = by_id.get(member.proxy_holder_id)
        if (member.attendance != AttendanceStatus.PRESENT and holder is not None
                and holder.attendance == AttendanceStatus.PRESENT
                and held.get(holder.id, 0) < meeting.proxy_limit):
            held[holder.id] = held.get(holder.id, 0) + 1
            represented.add(member.id)
    return represented


def attendance_figures(meeting: Meeting) -> Attendance:
    members = voting_members(meeting.id)
    present = [m for m in members if m.attendance == AttendanceStatus.PRESENT]
    proxies = represented_ids(meeting, members)
    return Attendance(
        members_count=len(members), members_weight=sum((m.weight for m in members), Decimal(0)),
        present_count=len(present), present_weight=sum((m.weight for m in present), Decimal(0)),
        represented_count=len(proxies),
        represented_weight=sum((m.weight for m in members if m.id in proxies), Decimal(0)))


def attendance_snapshot(meeting: Meeting) -> dict:
    """The figures a poll freezes at opening and closing; quorum as the room shows it."""
    return {"at": utcnow().isoformat(), "quorum": attendance.quorum(meeting),
            "attendance": attendance_figures(meeting).as_dict()}


def ballot_list(poll: Poll) -> list[dict]:
    if poll.kind == PollKind.SECRET:
        rows = db.session.execute(select(Ballot.receipt, Ballot.choices, Ballot.weight)
                                  .where(Ballot.poll_id == poll.id).order_by(Ballot.receipt))
        return [{"receipt": r.receipt, "choices": r.choices, "weight": str(r.weight)} for r in rows]
    rows = db.session.execute(
        select(Ballot.choices, Ballot.weight, Participant.id, Participant.full_name,
               VoterRecord.voter_id)
        .join(Participant, Participant.id == Ballot.participant_id)
        .join(VoterRecord, (VoterRecord.poll_id == Ballot.poll_id)
              & (VoterRecord.represented_id == Ballot.participant_id))
        .where(Ballot.poll_id == poll.id).order_by(Participant.full_name, Participant.id))
    return [{"participant_id": r.id, "name": r.full_name, "choices": r.choices,
             "weight": str(r.weight),
             "by_proxy_holder_id": r.voter_id if r.voter_id != r.id else None}
            for r in rows]


def compute_result(poll: Poll, snapshot: dict) -> dict:
    """The tally of every ballot of the poll under its frozen rules."""
    figures = snapshot["attendance"]
    room = Attendance(figures["members_count"], Decimal(figures["members_weight"]),
                      figures["present_count"], Decimal(figures["present_weight"]),
                      figures["represented_count"], Decimal(figures["represented_weight"]))
    counted = [CountedBallot(tuple(choices), weight) for choices, weight in db.session.execute(
        select(Ballot.choices, Ballot.weight).where(Ballot.poll_id == poll.id))]
    rules = Rules(poll.majority, poll.majority_base, poll.abstentions_count)
    quorum_reached = snapshot["quorum"]["reached"] or not poll.quorum_required
    if poll.option_kind == PollOptionKind.YES_NO_ABSTAIN:
        result = tally.decide_motion(counted, rules, room)
        result["passed"] = result["passed"] and quorum_reached
        outcome = "adopted" if result["passed"] else "rejected"
    else:
        keys = [o.key for o in poll.options]
        result = tally.elect(counted, keys, poll.max_choices, rules, room)
        if not quorum_reached:
            result.update(elected=[], tied=[], unfilled=poll.max_choices)
        outcome = "elected" if result["elected"] else ("tie" if result["tied"] else "none_elected")
    if not quorum_reached:
        outcome = "no_quorum"
    labels = {o.key: o.label for o in poll.options}
    result.update(
        outcome=outcome, quorum_required=poll.quorum_required,
        quorum_reached=snapshot["quorum"]["reached"], quorum=snapshot["quorum"],
        attendance=figures, majority=poll.majority.value, majority_base=poll.majority_base.value,
        abstentions_count=poll.abstentions_count, kind=poll.kind.value,
        options=[{"key": k, "label": labels[k], **v} for k, v in result["totals"].items()],
    )
    return result


def public_summary(poll: Poll) -> dict:
    """The result without the list of ballots (that one is fetched, not broadcast)."""
    return {k: v for k, v in (poll.result or {}).items() if k != "ballot_list"}


def visible_result(actor: Actor | None, poll: Poll, meeting: Meeting) -> dict:
    """The stored result: staff from closing on, participants once published."""
    granted = access.permissions(actor, meeting) if actor is not None else set()
    if poll.status == PollStatus.PUBLISHED:
        return poll.result
    if Permission.STAFF_VIEW not in granted:
        access.require(actor, meeting, Permission.VIEW)
        raise Forbidden("The result is not published yet.", code="result_not_published")
    if poll.status != PollStatus.CLOSED:
        raise Forbidden("The poll has no result yet.", code="no_result")
    return poll.result


def decision_text(poll: Poll) -> str:
    """The decision as the minutes record it, in Vietnamese like the rest of the record."""
    result = poll.result or {}
    outcome = _OUTCOME_VI[result.get("outcome", "rejected")]
    def figure(option: dict) -> str:
        weighted = Decimal(option["weight"]) != option["count"]
        return f"{option['label']}: {option['count']}" + (
            f" (trọng số {option['weight']})" if weighted else "")

    figures = "; ".join(figure(o) for o in result.get("options", []))
    names = {o.key: o.label for o in poll.options}
    if poll.option_kind == PollOptionKind.CANDIDATES and result.get("outcome") != "no_quorum":
        if result.get("elected"):
            outcome += ": " + ", ".join(names[k] for k in result["elected"])
        if result.get("tied"):
            outcome += "; bằng phiếu: " + ", ".join(names[k] for k in result["tied"])
    return f"{poll.motion} — {outcome} ({figures}; {result.get('ballots', 0)} phiếu)."
