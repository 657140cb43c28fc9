"""Putting amendments, then the whole draft, to the vote through ordinary polls.

The chair (``Permission.CHAIR``, as for any poll) puts the next admitted amendment
of the queue to the vote: a yes/no/abstain poll with any kind and majority rule
(``voting.polls``, so ballots, tallies, receipts and results are the ones every
poll has), linked to the amendment and, unless asked not to, opened at once. The
chair closes and publishes it with the poll controls; the published result adopts
or rejects the amendment. An admitted amendment on lines an adopted one already
replaced lapses. Once every admitted amendment is decided or lapsed, the draft as
a whole, with the adopted amendments in it, is put to the vote the same way.
"""
from __future__ import annotations

from server.errors import Conflict, InvalidInput
from server.extensions import db
from server.models import AmendmentStatus, PollOptionKind
from server.schemas.amendments import VoteIn
from server.services import audit
from server.services.access import Permission
from server.services.actors import Actor
from server.services.amendments import texts, views
from server.services.amendments.tabling import get_amendment
from server.services.voting import polls
from server.services.voting.polls import audits_refusal

_DECIDED = {"adopted", "rejected"}


def _rules(rules: VoteIn) -> dict:
    fields = rules.service_fields()
    if fields.get("option_kind", PollOptionKind.YES_NO_ABSTAIN) != PollOptionKind.YES_NO_ABSTAIN:
        raise InvalidInput("An amendment is adopted or rejected: a yes/no/abstain poll.",
                           fields={"option_kind": "must be yes_no_abstain"})
    fields.pop("agenda_item_id", None)
    return fields


def _create(actor: Actor, meeting_id: int, motion: str, agenda_item_id: int | None,
            rules: VoteIn, open_now: bool):
    fields = {**_rules(rules), "motion": motion, "agenda_item_id": agenda_item_id,
              "option_kind": PollOptionKind.YES_NO_ABSTAIN}
    poll = polls.create_poll(actor, meeting_id, fields)
    if open_now:
        polls.open_poll(actor, poll.id)
    return poll


@audits_refusal("amendment.vote", "amendment")
def put_to_vote(actor: Actor | None, amendment_id: int, rules: VoteIn,
                open_now: bool = True):
    """Put an admitted amendment to the vote, in queue order; answers the poll."""
    amendment = get_amendment(amendment_id)
    draft, meeting = texts.seen_by(actor, amendment.draft_id, Permission.CHAIR)
    if amendment.status != AmendmentStatus.ADMITTED:
        raise Conflict("Only an admitted amendment is put to the vote.",
                       code="amendment_not_admitted")
    if views.poll_outcome(views.current_poll(draft.final_poll_id)) is not None:
        raise Conflict("The draft as a whole is already put to the vote.", code="draft_voted")
    if views.poll_outcome(views.current_poll(amendment.poll_id)) is not None:
        raise Conflict("The amendment is already put to the vote.", code="amendment_voted")
    queue = views.amendments_of(draft)
    _blocks, lapsed = views.assemble(draft, queue)
    if amendment.id in lapsed:
        raise Conflict("An adopted amendment already replaced these lines; this one lapsed.",
                       code="amendment_lapsed")
    for earlier in queue:
        if earlier.id == amendment.id:
            break
        outcome = views.poll_outcome(views.current_poll(earlier.poll_id))
        if (earlier.status == AmendmentStatus.ADMITTED and outcome not in _DECIDED
                and earlier.id not in lapsed):
            raise Conflict(f"Amendment {earlier.number} comes first in the queue.",
                           code="earlier_amendment_pending")
    motion = (f"Sửa đổi số {amendment.number} dự thảo «{draft.title}», "
              f"dòng {amendment.line_from}–{amendment.line_to}")
    poll = _create(actor, meeting.id, motion, draft.agenda_item_id, rules, open_now)
    amendment.poll_id = poll.id
    audit.record("amendment.vote", "amendment", amendment.id, actor=actor,
                 meeting_id=meeting.id, payload={"poll_id": poll.id})
    views.announce(amendment)
    return poll


@audits_refusal("draft_text.vote", "draft_text")
def put_draft_to_vote(actor: Actor | None, draft_id: int, rules: VoteIn,
                      open_now: bool = True):
    """Put the whole draft, as amended, to the vote once no admitted amendment is pending."""
    draft, meeting = texts.seen_by(actor, draft_id, Permission.CHAIR)
    if views.poll_outcome(views.current_poll(draft.final_poll_id)) is not None:
        raise Conflict("The draft as a whole is already put to the vote.", code="draft_voted")
    queue = views.amendments_of(draft)
    _blocks, lapsed = views.assemble(draft, queue)
    pending = [a.number for a in queue if a.status == AmendmentStatus.ADMITTED
               and a.id not in lapsed
               and views.poll_outcome(views.current_poll(a.poll_id)) not in _DECIDED]
    if pending:
        raise Conflict(f"Amendments still to decide: {pending}.", code="amendments_pending")
    waiting = [a.number for a in queue if a.status == AmendmentStatus.TABLED]
    if waiting:
        raise Conflict(f"Amendments still waiting for the chair: {waiting}.",
                       code="amendments_not_admitted")
    poll = _create(actor, meeting.id, f"Thông qua toàn văn dự thảo «{draft.title}»",
                   draft.agenda_item_id, rules, open_now)
    draft.final_poll_id = poll.id
    audit.record("draft_text.vote", "draft_text", draft.id, actor=actor, meeting_id=meeting.id,
                 payload={"poll_id": poll.id})
    db.session.flush()
    views.announce_draft(draft)
    return poll
