"""What anyone who may see a draft text is told: its numbered lines, its amendments with
their differences and outcome, the adopted text, and the live event that carries them.

An amendment's outcome is read from its poll, following re-votes: ``voting`` while
the poll is a draft or open, ``counted`` once closed, and ``adopted`` or
``rejected`` once the chair publishes the result (the result is public only then,
so the view is the same for everyone). Nothing here changes the database.
"""
from __future__ import annotations

import difflib
import re

from sqlalchemy import select

from server.extensions import db
from server.models import Amendment, AmendmentStatus, DraftText, Participant, Poll, PollStatus
from server.services import events
from server.services.timestamps import iso

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def word_diff(old: str, new: str) -> list[dict]:
    """``old`` → ``new`` as runs of ``equal``, ``del`` and ``ins`` text, word by word."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    ops: list[dict] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if ops and ops[-1]["op"] == op:
            ops[-1]["text"] += text
        else:
            ops.append({"op": op, "text": text})

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            add("equal", "".join(a[i1:i2]))
        else:
            add("del", "".join(a[i1:i2]))
            add("ins", "".join(b[j1:j2]))
    return ops


def current_poll(poll_id: int | None) -> Poll | None:
    """The poll that decides now: the linked one, or the last re-vote of it."""
    poll = db.session.get(Poll, poll_id) if poll_id else None
    while poll is not None:
        again = db.session.scalar(select(Poll).where(Poll.revote_of_id == poll.id)
                                  .order_by(Poll.id.desc()).limit(1))
        if again is None:
            return poll
        poll = again
    return None


def poll_outcome(poll: Poll | None) -> str | None:
    if poll is None or poll.status == PollStatus.CANCELLED:
        return None
    if poll.status in (PollStatus.DRAFT, PollStatus.OPEN):
        return "voting"
    if poll.status == PollStatus.CLOSED:
        return "counted"
    return "adopted" if (poll.result or {}).get("outcome") == "adopted" else "rejected"


def _name(participant_id: int) -> str | None:
    participant = db.session.get(Participant, participant_id)
    return participant.full_name if participant else None


def amendment_payload(amendment: Amendment, lapsed: bool = False) -> dict:
    poll = current_poll(amendment.poll_id)
    outcome = poll_outcome(poll) if amendment.status == AmendmentStatus.ADMITTED else None
    return {
        "id": amendment.id, "draft_id": amendment.draft_id, "meeting_id": amendment.meeting_id,
        "number": amendment.number, "tabled_by_id": amendment.tabled_by_id,
        "tabled_by": _name(amendment.tabled_by_id), "cosigners": amendment.cosigners,
        "cosigner_names": [_name(pid) for pid in amendment.cosigners],
        "line_from": amendment.line_from, "line_to": amendment.line_to,
        "old_text": amendment.old_text, "new_text": amendment.new_text,
        "reasons": amendment.reasons, "status": amendment.status.value,
        "decision_reason": amendment.decision_reason, "position": amendment.position,
        "poll_id": poll.id if poll and outcome else None,
        "outcome": "lapsed" if lapsed and outcome is None else outcome,
        "diff": word_diff(amendment.old_text, amendment.new_text),
        "tabled_at": iso(amendment.tabled_at), "decided_at": iso(amendment.decided_at),
    }


def amendments_of(draft: DraftText) -> list[Amendment]:
    """Admitted ones in queue order first, then the others in the order tabled."""
    found = db.session.scalars(select(Amendment).where(Amendment.draft_id == draft.id))
    return sorted(found, key=lambda a: (a.position is None, a.position or 0, a.number))


def _overlaps(a: Amendment, b: Amendment) -> bool:
    return a.line_from <= b.line_to and b.line_from <= a.line_to


def assemble(draft: DraftText, amendments: list[Amendment]) -> tuple[list[dict], set[int]]:
    """The adopted text as blocks over the original numbering, and the ids of lapsed
    amendments (admitted, not yet decided, on lines an adopted amendment already replaced).

    A block is ``{"kind": "same", "number", "text"}`` for an original line, or
    ``{"kind": "amended", "amendment", "line_from", "line_to", "diff", "text"}``.
    """
    adopted = [a for a in amendments if a.status == AmendmentStatus.ADMITTED
               and poll_outcome(current_poll(a.poll_id)) == "adopted"]
    applied: list[Amendment] = []
    for amendment in adopted:  # queue order: an earlier adoption wins an overlap
        if not any(_overlaps(amendment, other) for other in applied):
            applied.append(amendment)
    lapsed = {a.id for a in amendments if a.status == AmendmentStatus.ADMITTED
              and poll_outcome(current_poll(a.poll_id)) is None
              and any(_overlaps(a, other) for other in applied)}
    starts = {a.line_from: a for a in applied}
    blocks, number = [], 1
    while number <= len(draft.lines):
        amendment = starts.get(number)
        if amendment is None:
            blocks.append({"kind": "same", "number": number, "text": draft.lines[number - 1]})
            number += 1
            continue
        old = "\n".join(draft.lines[amendment.line_from - 1:amendment.line_to])
        blocks.append({"kind": "amended", "amendment": amendment.number,
                       "line_from": amendment.line_from, "line_to": amendment.line_to,
                       "diff": word_diff(old, amendment.new_text), "text": amendment.new_text})
        number = amendment.line_to + 1
    return blocks, lapsed


def adopted_text(blocks: list[dict]) -> str:
    return "\n".join(b["text"] for b in blocks if b["kind"] == "same" or b["text"])


def draft_payload(draft: DraftText) -> dict:
    amendments = amendments_of(draft)
    blocks, lapsed = assemble(draft, amendments)
    final = current_poll(draft.final_poll_id)
    outcome = poll_outcome(final)
    under_vote = next((a for a in amendments if a.status == AmendmentStatus.ADMITTED
                       and poll_outcome(current_poll(a.poll_id)) == "voting"), None)
    return {
        "id": draft.id, "meeting_id": draft.meeting_id, "agenda_item_id": draft.agenda_item_id,
        "title": draft.title, "created_at": iso(draft.created_at),
        "lines": [{"number": n, "text": t} for n, t in enumerate(draft.lines, start=1)],
        "amendments": [amendment_payload(a, a.id in lapsed) for a in amendments],
        "under_vote_id": under_vote.id if under_vote else None,
        "adopted": {"blocks": blocks, "text": adopted_text(blocks)},
        "final_poll_id": final.id if final and outcome else None,
        "outcome": outcome or "amending",
    }


def announce_draft(draft: DraftText, amendment_id: int | None = None) -> None:
    """Publish the whole view as ``draft_text.changed`` to the room (tablets, projector)."""
    events.publish(draft.meeting_id, "draft_text.changed",
                   {**draft_payload(draft), "changed_amendment_id": amendment_id})


def announce(amendment: Amendment) -> None:
    db.session.flush()
    announce_draft(db.session.get(DraftText, amendment.draft_id), amendment.id)
