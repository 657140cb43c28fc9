"""Casting ballots: rights, proxies, idempotency, and secret ballots kept apart from voters.

A ballot is cast for one *represented* participant: the voter themself, or an
absent delegate whose proxy the voter holds (one ballot each). The client
names every ballot with a UUID it chooses; sending the same UUID again answers
the same thing, receipt included, so a tablet may retry after any failure.

Secret polls store what was chosen (``SealedBallot``, encrypted until closing,
then ``Ballot``: random id, receipt, no voter, no time) apart from who voted
(``VoterRecord``). To answer a retry with the
same receipt, the record keeps the receipt sealed with AES-GCM under a key
derived from the client's ballot id, which the database never holds: only
sha256 of it, for lookup. See docs/VOTING.md for what this does and does not
protect against.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.errors import Conflict, Forbidden, HemicycleError, InvalidInput, NotFound
from server.extensions import db
from server.models import (
    AttendanceStatus, Ballot, Meeting, Participant, Poll, PollKind, PollStatus,
    SealedBallot, VoterRecord, utcnow,
)
from server.models.base import new_uuid
from server.services import access, audit
from server.services.access import Permission
from server.services.actors import Actor
from server.services.voting.closing import close_if_due, find_poll
from server.services.voting.lookup import VOTING_ROLES, existing_id, lock_poll
from server.services.voting.progress import ballot_counted
from server.services.voting.sealing import (
    ballot_box_key, ballot_id_digest, choices_digest, new_receipt, seal, seal_ballot, unseal,
)

def normalise_choices(poll: Poll, choices: list[str]) -> list[str]:
    """The chosen option keys in the poll's order; InvalidInput unless the poll allows them."""
    keys = [o.key for o in poll.options]
    chosen = set(choices)
    if len(chosen) != len(choices) or not chosen <= set(keys):
        raise InvalidInput("Choose among the poll's options, each at most once.",
                           code="invalid_choices", fields={"choices": f"options are {keys}"})
    if not poll.min_choices <= len(chosen) <= poll.max_choices:
        raise InvalidInput(f"Choose between {poll.min_choices} and {poll.max_choices} options.",
                           code="invalid_choices",
                           fields={"choices": f"{poll.min_choices} to {poll.max_choices}"})
    return [k for k in keys if k in chosen]


def _answer(poll: Poll, ballot_id: uuid.UUID, voter_id: int, represented_id: int,
            choices: list[str], receipt: str | None, changed: bool = False) -> dict:
    return {"poll_id": poll.id, "ballot_id": str(ballot_id), "voter_id": voter_id,
            "represented_id": represented_id,
            "on_behalf_of": represented_id if represented_id != voter_id else None,
            "choices": choices, "receipt": receipt, "status": "changed" if changed else "accepted"}


def _replay(poll: Poll, record: VoterRecord, ballot_id: uuid.UUID, choices: list[str],
            voter: Participant, on_behalf_of: int | None) -> dict:
    """The answer already given for this ballot id; Conflict if it now says something else."""
    if (record.poll_id, record.voter_id, record.represented_id) != (
            poll.id, voter.id, on_behalf_of or voter.id):
        raise Conflict("This ballot id was used for another ballot.", code="ballot_id_reused")
    if poll.kind == PollKind.SECRET:
        receipt, digest = unseal(ballot_id, poll.id, record.sealed_answer)
        same = digest == choices_digest(choices)
    else:
        receipt = None
        stored = db.session.scalar(select(Ballot.choices).where(
            Ballot.poll_id == poll.id, Ballot.participant_id == record.represented_id))
        same = stored == choices
    if not same:
        raise Conflict("This ballot id was already used with other choices.",
                       code="ballot_id_reused")
    return _answer(poll, ballot_id, record.voter_id, record.represented_id, choices, receipt,
                   changed=bool(record.superseded_sha256))


def _represented(meeting: Meeting, voter: Participant, on_behalf_of: int | None) -> Participant:
    if on_behalf_of is None or on_behalf_of == voter.id:
        return voter
    absent = db.session.get(Participant, on_behalf_of)
    if absent is None or absent.meeting_id != meeting.id or absent.proxy_holder_id != voter.id:
        raise Forbidden("You do not hold this delegate's proxy.", code="no_proxy")
    if not absent.voting_right or absent.role not in VOTING_ROLES:
        raise Forbidden("The delegate you represent has no voting right.", code="no_voting_right")
    if absent.attendance == AttendanceStatus.PRESENT:
        raise Forbidden("The delegate you represent is present and votes in person.",
                        code="represented_present")
    return absent


def _check_proxy_limit(poll: Poll, meeting: Meeting, voter: Participant) -> None:
    held = db.session.scalar(select(func.count()).select_from(VoterRecord).where(
        VoterRecord.poll_id == poll.id, VoterRecord.voter_id == voter.id,
        VoterRecord.represented_id != voter.id))
    if held >= meeting.proxy_limit:
        raise Forbidden(f"You may vote for at most {meeting.proxy_limit} absent delegate(s).",
                        code="proxy_limit")


def _change(poll: Poll, record: VoterRecord, ballot_id: uuid.UUID, choices: list[str]) -> dict:
    """Named polls that allow it: the new ballot replaces the previous one."""
    ballot = db.session.scalar(select(Ballot).where(
        Ballot.poll_id == poll.id, Ballot.participant_id == record.represented_id))
    ballot.choices, ballot.cast_at = choices, utcnow()
    record.superseded_sha256 = [*record.superseded_sha256, record.client_ballot_id_sha256]
    record.client_ballot_id_sha256, record.voted_at = ballot_id_digest(ballot_id), utcnow()
    return _answer(poll, ballot_id, record.voter_id, record.represented_id, choices, None, True)


@dataclass(eq=False)
class Cast:
    """One ballot to cast, and what became of it: ``answer`` or ``error``."""
    actor: Actor | None
    ballot_id: uuid.UUID
    choices: list
    on_behalf_of: int | None = None
    answer: dict | None = None
    error: HemicycleError | None = None
    changed: bool = False
    voter: Participant | None = field(default=None, repr=False)

    @property
    def digest(self) -> str:
        return ballot_id_digest(self.ballot_id)


class _Seen:
    """The poll's voter records a batch has read or written, by ballot id and by who is
    represented, so the checks of every ballot in the batch see the ones before it."""

    def __init__(self, poll: Poll) -> None:
        self.poll = poll
        self.by_digest: dict[str, VoterRecord] = {}
        self.by_represented: dict[int, VoterRecord] = {}
        self._box_key: bytes | None = None

    def box_key(self) -> bytes:
        """The secret poll's ballot key, read once per batch."""
        if self._box_key is None:
            self._box_key = ballot_box_key(self.poll)
        return self._box_key

    def add(self, record: VoterRecord) -> None:
        self.by_digest[record.client_ballot_id_sha256] = record
        if record.poll_id == self.poll.id:
            self.by_represented[record.represented_id] = record

    def load(self, digests: list[str], represented: list[int]) -> None:
        wanted = VoterRecord.client_ballot_id_sha256.in_(digests)
        if represented:
            wanted = wanted | ((VoterRecord.poll_id == self.poll.id)
                               & VoterRecord.represented_id.in_(represented))
        for record in db.session.scalars(select(VoterRecord).where(wanted)):
            self.add(record)


def _check_voter(cast: Cast, poll: Poll, meeting: Meeting) -> None:
    """Checks that need no lock: the right to vote, and choices the poll allows."""
    try:
        access.require(cast.actor, meeting, Permission.VOTE)
    except Forbidden as error:
        if error.code == "forbidden":
            raise Forbidden("You have no voting right in this meeting.",
                            code="no_voting_right") from None
        raise
    cast.voter = access.participant_of(cast.actor, meeting)
    cast.choices = normalise_choices(poll, cast.choices)


def _cast_new(cast: Cast, poll: Poll, meeting: Meeting, seen: _Seen) -> None:
    """A ballot id this poll has not seen, under the poll's lock."""
    voter, choices = cast.voter, cast.choices
    if poll.status != PollStatus.OPEN:
        closed = poll.status in (PollStatus.CLOSED, PollStatus.PUBLISHED)
        raise Conflict("Voting is closed." if closed else f"This poll is {poll.status.value}.",
                       code="poll_closed" if closed else "poll_not_open")
    if voter.attendance != AttendanceStatus.PRESENT:
        raise Forbidden("Check in first: only members present vote.", code="not_present")
    represented = _represented(meeting, voter, cast.on_behalf_of)
    previous = seen.by_represented.get(represented.id)
    if previous is not None:
        if cast.digest in previous.superseded_sha256:
            raise Conflict("This ballot was replaced by a later one.", code="ballot_superseded")
        if not poll.allow_change:
            raise Conflict("This vote has already been cast.", code="already_voted")
        replaced = previous.client_ballot_id_sha256
        cast.answer = _change(poll, previous, cast.ballot_id, choices)
        del seen.by_digest[replaced]  # a retry of it is now "superseded", not a replay
        seen.add(previous)
        audit.record("vote.change", "poll", poll.id, actor=cast.actor, meeting_id=meeting.id,
                     payload={"voter": voter.id, "represented": represented.id,
                              "choices": choices}, flush=False)
        cast.changed = True
        return
    if represented.id != voter.id:
        _check_proxy_limit(poll, meeting, voter)
    secret = poll.kind == PollKind.SECRET
    receipt = new_receipt() if secret else None
    if secret:  # encrypted until closing: nothing readable follows the order of voting
        row_id = new_uuid()
        db.session.add(SealedBallot(id=row_id, poll_id=poll.id, box=seal_ballot(
            seen.box_key(), poll, row_id, receipt, choices, represented.weight)))
    else:
        db.session.add(Ballot(id=new_uuid(), poll_id=poll.id, choices=choices,
                              weight=represented.weight, participant_id=represented.id,
                              cast_at=utcnow()))
    record = VoterRecord(
        poll_id=poll.id, voter_id=voter.id, represented_id=represented.id,
        client_ballot_id_sha256=cast.digest, voted_at=utcnow(), superseded_sha256=[],
        sealed_answer=seal(cast.ballot_id, poll.id, receipt, choices) if secret else None)
    db.session.add(record)
    seen.add(record)
    # A secret vote is audited as "who", never "what" nor its receipt.
    payload = {"voter": voter.id, "represented": represented.id}
    audit.record("vote.cast", "poll", poll.id, actor=cast.actor, meeting_id=meeting.id,
                 payload=payload if secret else {**payload, "choices": choices}, flush=False)
    cast.answer = _answer(poll, cast.ballot_id, voter.id, represented.id, choices, receipt)
    cast.changed = True


def _attempt(cast: Cast, step, *args) -> bool:
    """Run one check or step for one ballot; a refusal is kept on the ballot, not raised."""
    if cast.error is not None or cast.answer is not None:
        return False
    try:
        step(cast, *args)
    except HemicycleError as error:
        cast.error = error
        return False
    return True


def cast_many(poll_id: int, casts: list[Cast]) -> None:
    """Cast (or replay) ballots of one poll in the caller's transaction; the caller commits.

    Each ``Cast`` ends with its ``answer`` or its ``error``, exactly as if it had
    been cast alone, in order. Guarantees: at most one counted ballot per (poll,
    represented participant); the same ``ballot_id`` always gets the same answer;
    a refusal changes nothing but the audit log (it is audited here, in the same
    transaction) and says why in its code (``poll_closed``, ``no_voting_right``,
    ``proxy_limit``, ``already_voted``, ...). The poll is locked once for the
    whole batch and its voter records read in one query, so a batch costs a few
    statements more than one ballot does.
    """

    poll = db.session.get(Poll, existing_id(poll_id))
    if poll is None:
        for cast in casts:
            cast.error = NotFound("No such poll.")
        return
    meeting = db.session.get(Meeting, poll.meeting_id)
    ready = [cast for cast in casts if _attempt(cast, _check_voter, poll, meeting)]
    seen = _Seen(poll)
    if ready:
        seen.load([cast.digest for cast in ready], [])
    for cast in ready:  # a retry needs no lock, even after closing
        if cast.digest in seen.by_digest:
            _attempt(cast, _replay_cast, poll, seen)
    fresh = [cast for cast in ready if cast.answer is None and cast.error is None]
    if fresh:
        poll = lock_poll(poll.id)
        # The same ballots may have arrived meanwhile (another worker); and who voted already.
        seen.load([cast.digest for cast in fresh],
                  sorted({cast.on_behalf_of or cast.voter.id for cast in fresh}))
        close_if_due(poll)
        for cast in fresh:
            if cast.digest in seen.by_digest:
                _attempt(cast, _replay_cast, poll, seen)
            else:
                _attempt(cast, _cast_new, poll, meeting, seen)
    for cast in casts:
        if cast.error is not None and cast.actor is not None and cast.error.status in (403, 409, 422):
            audit.record("vote.cast", "poll", poll_id, actor=cast.actor, meeting_id=meeting.id,
                         payload={"reason": cast.error.code}, outcome="refused", flush=False)
    db.session.flush()
    if any(cast.changed for cast in casts):
        ballot_counted(poll)


def _replay_cast(cast: Cast, poll: Poll, seen: _Seen) -> None:
    cast.answer = _replay(poll, seen.by_digest[cast.digest], cast.ballot_id, cast.choices,
                          cast.voter, cast.on_behalf_of)


def cast_ballot(actor: Actor | None, poll_id: int, ballot_id: uuid.UUID, choices: list[str],
                on_behalf_of: int | None = None) -> dict:
    """Cast (or replay) one ballot in the caller's transaction; the caller commits.

    A refusal is committed with its audit entry (and a poll closed by its time
    meanwhile) before it is raised, so the caller's rollback keeps both.
    Tablets' ballots go through ``ballot_queue.submit``, which casts many at once.
    """
    cast = Cast(actor, ballot_id, list(choices), on_behalf_of)
    try:
        cast_many(poll_id, [cast])
    except IntegrityError:  # another worker won a race the locks did not cover
        db.session.rollback()
        error = Conflict("This vote has already been cast.", code="already_voted")
        if actor is not None:
            audit.record_refusal("vote.cast", "poll", poll_id, actor=actor, reason=error.code)
        raise error from None
    if cast.error is not None:
        db.session.commit()
        raise cast.error
    return cast.answer


def voting_status(actor: Actor | None, poll_id: int) -> dict:
    """What the asking participant may still cast: for themself and each proxy they hold."""

    poll, meeting = find_poll(poll_id, actor, Permission.VIEW)
    voter = access.participant_of(actor, meeting)
    can_vote = Permission.VOTE in access.permissions(actor, meeting)
    if voter is None or not can_vote:
        return {"poll_id": poll.id, "status": poll.status.value, "can_vote": False, "ballots": []}
    done = {r.represented_id for r in db.session.scalars(
        select(VoterRecord).where(VoterRecord.poll_id == poll.id,
                                  VoterRecord.voter_id == voter.id))}
    proxies = db.session.scalars(select(Participant).where(
        Participant.meeting_id == meeting.id, Participant.proxy_holder_id == voter.id,
        Participant.voting_right.is_(True), Participant.role.in_(VOTING_ROLES),
    ).order_by(Participant.id))
    present = voter.attendance == AttendanceStatus.PRESENT
    room_for_proxies = len(done - {voter.id}) < meeting.proxy_limit
    entries = [{"represented_id": voter.id, "name": voter.full_name, "voted": voter.id in done,
                "allowed": present}]
    entries += [{"represented_id": p.id, "name": p.full_name, "voted": p.id in done,
                 "allowed": present and p.attendance != AttendanceStatus.PRESENT
                 and (p.id in done or room_for_proxies)} for p in proxies]
    return {"poll_id": poll.id, "status": poll.status.value, "can_vote": True,
            "proxy_limit": meeting.proxy_limit, "ballots": entries}
