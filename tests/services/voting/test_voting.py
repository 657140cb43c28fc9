"""Poll lifecycle and casting through the services, on a real SQLite database.

``Room`` (also used by the other voting tests) seats a meeting: a secretary
account that manages polls and delegates on paired tablets.
"""
from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import (
    AgendaItem, AttendanceStatus, AuditEntry, Device, MajorityRule, MeetingEvent, MeetingRole,
    MeetingStatus, Poll, PollKind, PollOptionKind, PollStatus, QuorumRule, Role, utcnow,
)
from server.services.voting import ballots, polls as voting, progress, results
from server.services.voting.closing import find_poll
from server.services.actors import Actor
from server.services.tokens import new_token, token_digest
from tests import factories


class Room:
    """A published meeting with ``n`` delegates present, each on a paired tablet."""

    def __init__(self, n: int = 5, *, weights=None, present: int | None = None,
                 quorum_rule=QuorumRule.MAJORITY, proxy_limit: int = 1):
        self.staff = Actor.of_user(factories.make_user(Role.SECRETARY))
        self.meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED,
                                              quorum_rule=quorum_rule, proxy_limit=proxy_limit)
        self.item = factories.make_item(self.meeting)
        present = n if present is None else present
        self.delegates = []
        for i in range(n):
            self.delegates.append(self.seat(
                weight=(weights[i] if weights else 1),
                attendance=AttendanceStatus.PRESENT if i < present else AttendanceStatus.ABSENT))

    def seat(self, role=MeetingRole.DELEGATE, **kw):
        participant = factories.make_participant(self.meeting, role=role, **kw)
        device = Device(meeting_id=self.meeting.id, participant_id=participant.id,
                        token_sha256=token_digest(new_token()))
        db.session.add(device)
        db.session.commit()
        participant.actor = Actor.of_device(device)
        return participant

    def poll(self, open_it=True, **fields):
        candidates = fields.pop("candidates", None)
        poll = voting.create_poll(self.staff, self.meeting.id,
                                  {"motion": "Thông qua Nghị quyết về ngân sách", **fields},
                                  candidates)
        db.session.commit()
        if open_it:
            voting.open_poll(self.staff, poll.id)
            db.session.commit()
        return poll

    def vote(self, who, poll, *choices, ballot_id=None, on_behalf_of=None):
        answer = ballots.cast_ballot(who.actor, poll.id, ballot_id or uuid.uuid4(), list(choices),
                                     on_behalf_of)
        db.session.commit()
        return answer

    def close(self, poll):
        voting.close_poll(self.staff, poll.id)
        db.session.commit()
        return db.session.get(Poll, poll.id).result


def audit_count(action: str, outcome: str = "ok") -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == action, AuditEntry.outcome == outcome))


def refused(call, code: str, error=Conflict):
    with pytest.raises(error) as info:
        call()
    assert info.value.code == code
    db.session.rollback()


def test_open_close_publish_are_idempotent_and_audited_once(app):
    room = Room(3)
    poll = room.poll(agenda_item_id=room.item.id)
    assert voting.open_poll(room.staff, poll.id).status == PollStatus.OPEN
    room.vote(room.delegates[0], poll, "yes")
    for _ in range(2):
        assert voting.close_poll(room.staff, poll.id).status == PollStatus.CLOSED
        db.session.commit()
    for _ in range(2):
        assert voting.publish_poll(room.staff, poll.id).status == PollStatus.PUBLISHED
        db.session.commit()
    assert [audit_count(a) for a in ("poll.open", "poll.close", "poll.publish")] == [1, 1, 1]
    item = db.session.get(AgendaItem, room.item.id)
    assert item.decision.count("— Thông qua (") == 1 and "Tán thành: 1" in item.decision
    events = db.session.scalars(select(MeetingEvent).where(MeetingEvent.type.like("poll.%"))
                                .order_by(MeetingEvent.revision)).all()
    kinds = [(e.type, e.audience) for e in events]
    assert kinds.count(("poll.opened", "all")) == 1 and kinds.count(("poll.closed", "all")) == 1
    assert kinds.count(("poll.published", "all")) == 1
    assert all("result" not in e.payload for e in events if e.type != "poll.published")
    published = next(e for e in events if e.type == "poll.published")
    assert published.payload["result"]["passed"] is True
    assert "ballot_list" not in published.payload["result"]


def test_rules_are_frozen_once_open(app):
    room = Room(3)
    poll = room.poll()
    refused(lambda: voting.update_poll(room.staff, poll.id, {"majority": MajorityRule.TWO_THIRDS}),
            "poll_not_draft")
    draft = room.poll(open_it=False)
    voting.update_poll(room.staff, draft.id, {"majority": MajorityRule.TWO_THIRDS})
    assert draft.majority == MajorityRule.TWO_THIRDS


def test_a_delegate_cannot_manage_polls(app):
    room = Room(3)
    poll = room.poll(open_it=False)
    delegate = room.delegates[0].actor
    refused(lambda: voting.open_poll(delegate, poll.id), "forbidden", Forbidden)
    refused(lambda: find_poll(poll.id, delegate, voting.Permission.VIEW), "not_found",
            NotFound)  # drafts are hidden from delegates
    refused(lambda: voting.create_poll(delegate, room.meeting.id, {"motion": "x"}), "forbidden",
            Forbidden)
    voting.open_poll(room.staff, poll.id)
    db.session.commit()
    refused(lambda: voting.close_poll(delegate, poll.id), "forbidden", Forbidden)
    refused(lambda: voting.staff_progress(delegate, poll.id), "forbidden", Forbidden)


def test_same_ballot_id_gets_the_same_answer_and_a_second_vote_is_refused(app):
    room = Room(3)
    poll = room.poll()
    alice = room.delegates[0]
    ballot_id = uuid.uuid4()
    first = room.vote(alice, poll, "yes", ballot_id=ballot_id)
    assert room.vote(alice, poll, "yes", ballot_id=ballot_id) == first
    refused(lambda: room.vote(alice, poll, "no", ballot_id=ballot_id), "ballot_id_reused")
    refused(lambda: room.vote(alice, poll, "no"), "already_voted")
    assert audit_count("vote.cast") == 1 and audit_count("vote.cast", "refused") == 2
    result = room.close(poll)
    assert result["totals"]["yes"]["count"] == 1 and result["ballots"] == 1
    # the tablet that lost the acknowledgement retries after closing: same answer
    assert room.vote(alice, poll, "yes", ballot_id=ballot_id) == first


def test_ballots_after_closing_are_refused(app):
    room = Room(3)
    poll = room.poll()
    room.close(poll)
    refused(lambda: room.vote(room.delegates[0], poll, "yes"), "poll_closed")
    draft = room.poll(open_it=False)
    refused(lambda: room.vote(room.delegates[0], draft, "yes"), "poll_not_open")
    cancelled = room.poll()
    voting.cancel_poll(room.staff, cancelled.id)
    db.session.commit()
    refused(lambda: room.vote(room.delegates[0], cancelled, "yes"), "poll_not_open")


@pytest.mark.parametrize("kw", [{"voting_right": False}, {"role": MeetingRole.OBSERVER}])
def test_someone_without_a_voting_right_cannot_vote(app, kw):
    room = Room(3)
    poll = room.poll()
    outsider = room.seat(attendance=AttendanceStatus.PRESENT, **kw)
    refused(lambda: room.vote(outsider, poll, "yes"), "no_voting_right", Forbidden)
    assert audit_count("vote.cast", "refused") == 1


def test_an_absent_member_cannot_vote_in_person(app):
    room = Room(4, present=3)
    poll = room.poll()
    refused(lambda: room.vote(room.delegates[3], poll, "yes"), "not_present", Forbidden)


def test_proxies_one_ballot_each_within_the_limit(app):
    room = Room(5, present=3, weights=[1, 1, 1, "2.5", "1.5"], quorum_rule=QuorumRule.NONE)
    holder, other, _, absent1, absent2 = room.delegates
    absent1.proxy_holder_id = holder.id
    absent2.proxy_holder_id = holder.id
    db.session.commit()
    poll = room.poll()
    refused(lambda: room.vote(other, poll, "yes", on_behalf_of=absent1.id), "no_proxy", Forbidden)
    room.vote(holder, poll, "yes")
    answer = room.vote(holder, poll, "no", on_behalf_of=absent1.id)
    assert answer["on_behalf_of"] == absent1.id and answer["voter_id"] == holder.id
    refused(lambda: room.vote(holder, poll, "no", on_behalf_of=absent1.id), "already_voted")
    refused(lambda: room.vote(holder, poll, "no", on_behalf_of=absent2.id), "proxy_limit",
            Forbidden)
    status = ballots.voting_status(holder.actor, poll.id)
    assert [(b["represented_id"], b["voted"], b["allowed"]) for b in status["ballots"]] == [
        (holder.id, True, True), (absent1.id, True, True), (absent2.id, False, False)]
    result = room.close(poll)
    assert result["totals"]["no"] == {"count": 1, "weight": "2.5000"}
    named = {b["participant_id"]: b for b in result["ballot_list"]}
    assert named[absent1.id]["by_proxy_holder_id"] == holder.id
    assert named[holder.id]["by_proxy_holder_id"] is None


def test_a_proxy_vote_is_refused_while_the_represented_member_is_present(app):
    room = Room(3)
    holder, present = room.delegates[:2]
    present.proxy_holder_id = holder.id
    db.session.commit()
    poll = room.poll()
    refused(lambda: room.vote(holder, poll, "yes", on_behalf_of=present.id),
            "represented_present", Forbidden)


def test_a_named_vote_may_change_when_the_poll_allows_it(app):
    room = Room(3)
    poll = room.poll(allow_change=True)
    alice = room.delegates[0]
    first_id = uuid.uuid4()
    room.vote(alice, poll, "yes", ballot_id=first_id)
    changed = room.vote(alice, poll, "no")
    assert changed["status"] == "changed"
    # a late retry of the first ballot must not undo the change
    refused(lambda: room.vote(alice, poll, "yes", ballot_id=first_id), "ballot_superseded")
    result = room.close(poll)
    assert result["totals"]["no"]["count"] == 1 and result["totals"]["yes"]["count"] == 0


def test_a_secret_poll_cannot_allow_changes(app):
    room = Room(3)
    refused(lambda: room.poll(kind=PollKind.SECRET, allow_change=True), "invalid_input",
            InvalidInput)


@pytest.mark.parametrize("choices", [[], ["yes", "no"], ["maybe"], ["yes", "yes"]])
def test_invalid_choices_are_refused(app, choices):
    room = Room(3)
    poll = room.poll()
    refused(lambda: room.vote(room.delegates[0], poll, *choices), "invalid_choices", InvalidInput)


def test_a_poll_past_its_time_refuses_ballots_and_closes(app):
    room = Room(3)
    poll = room.poll(duration_seconds=60)
    room.vote(room.delegates[0], poll, "yes")
    poll.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    refused(lambda: room.vote(room.delegates[1], poll, "no"), "poll_closed")
    stored = db.session.get(Poll, poll.id)
    assert stored.status == PollStatus.CLOSED and stored.result["ballots"] == 1
    assert audit_count("poll.close") == 1


def test_a_poll_past_its_time_is_closed_when_read(app):
    room = Room(3)
    poll = room.poll(duration_seconds=60)
    poll.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    found, _ = find_poll(poll.id, room.delegates[0].actor, voting.Permission.VIEW)
    assert found.status == PollStatus.CLOSED


def test_quorum_at_opening_and_at_closing(app):
    room = Room(5, present=2)  # 2 of 5 present: no majority quorum
    poll = room.poll(open_it=False)
    refused(lambda: voting.open_poll(room.staff, poll.id), "no_quorum")
    free = room.poll(quorum_required=False)
    assert free.status == PollStatus.OPEN
    quorate = Room(3)
    poll = quorate.poll()
    quorate.vote(quorate.delegates[0], poll, "yes")
    for delegate in quorate.delegates[1:]:
        delegate.attendance = AttendanceStatus.ABSENT  # they leave before the end
    db.session.commit()
    result = quorate.close(poll)
    assert result["outcome"] == "no_quorum" and result["passed"] is False
    assert result["quorum"]["present"] == 1


def test_candidates_election(app):
    room = Room(4)
    poll = room.poll(option_kind=PollOptionKind.CANDIDATES, min_choices=1, max_choices=2,
                     candidates=["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"])
    keys = [o.key for o in poll.options]
    for delegate, picks in zip(room.delegates, [keys[:2], keys[:2], keys[1:], [keys[0]]]):
        room.vote(delegate, poll, *picks)
    refused(lambda: room.vote(room.seat(attendance=AttendanceStatus.PRESENT), poll, *keys),
            "invalid_choices", InvalidInput)
    result = room.close(poll)
    assert result["elected"] == [keys[1], keys[0]] or result["elected"] == [keys[0], keys[1]]
    assert result["totals"][keys[2]]["count"] == 1
    voting.publish_poll(room.staff, poll.id)
    db.session.commit()
    assert "Trúng cử" in poll.decision and "Nguyễn Văn An" in poll.decision


def test_progress_for_staff_names_who_has_not_voted_only_in_named_polls(app):
    room = Room(3)
    named = room.poll()
    room.vote(room.delegates[0], named, "yes")
    figures = voting.staff_progress(room.staff, named.id)
    assert (figures["cast"], figures["cast_weight"]) == (1, "1.0000")
    assert [p["participant_id"] for p in figures["not_voted"]] == [d.id for d in room.delegates[1:]]
    secret = room.poll(kind=PollKind.SECRET)
    room.vote(room.delegates[1], secret, "no")
    figures = voting.staff_progress(room.staff, secret.id)
    assert figures["cast"] == 1 and "not_voted" not in figures
    progress_events = db.session.scalars(
        select(MeetingEvent).where(MeetingEvent.type == "poll.progress")).all()
    assert progress_events and {e.audience for e in progress_events} == {"staff"}


def test_result_is_for_staff_until_published(app):
    room = Room(3)
    poll = room.poll()
    delegate = room.delegates[0].actor
    meeting = room.meeting
    refused(lambda: results.visible_result(room.staff, poll, meeting), "no_result", Forbidden)
    room.close(poll)
    assert results.visible_result(room.staff, poll, meeting)["ballots"] == 0
    refused(lambda: results.visible_result(delegate, poll, meeting), "result_not_published",
            Forbidden)
    voting.publish_poll(room.staff, poll.id)
    db.session.commit()
    assert results.visible_result(delegate, poll, meeting)["outcome"] == "rejected"


def test_cancel_and_revote(app):
    room = Room(3)
    draft = room.poll(open_it=False)
    assert voting.cancel_poll(room.staff, draft.id).status == PollStatus.CANCELLED
    assert voting.cancel_poll(room.staff, draft.id).status == PollStatus.CANCELLED
    poll = room.poll(majority=MajorityRule.TWO_THIRDS)
    room.close(poll)
    refused(lambda: voting.cancel_poll(room.staff, poll.id), "poll_closed")
    again = voting.revote(room.staff, poll.id)
    db.session.commit()
    assert (again.status, again.revote_of_id, again.majority) == (
        PollStatus.DRAFT, poll.id, MajorityRule.TWO_THIRDS)
    refused(lambda: voting.revote(room.staff, again.id), "poll_draft")


def test_weighted_result_is_exact(app):
    room = Room(3, weights=["0.3333", "0.3333", "0.3334"])
    poll = room.poll(majority=MajorityRule.TWO_THIRDS)
    room.vote(room.delegates[0], poll, "yes")
    room.vote(room.delegates[1], poll, "yes")
    room.vote(room.delegates[2], poll, "no")
    result = room.close(poll)
    # 0.6666 of 1.0000 is short of two thirds by 1/15000: rejected, exactly
    assert result["totals"]["yes"]["weight"] == "0.6666" and result["base"] == "1.0000"
    assert result["threshold"] == "2/3" and result["passed"] is False


def test_progress_throttle_coalesces_a_burst():
    now = [100.0]
    throttle = progress.Throttle(clock=lambda: now[0])
    assert throttle.decide(1, 0.5) == 0.0  # first ballot: at once
    now[0] += 0.1
    assert throttle.decide(1, 0.5) == pytest.approx(0.4)  # then one trailing event…
    assert throttle.decide(1, 0.5) is None  # …and nothing more while it is due
    assert throttle.decide(2, 0.5) == 0.0  # other polls are independent
    now[0] += 0.4
    throttle.flushed(1)
    now[0] += 0.6
    assert throttle.decide(1, 0.5) == 0.0


def test_trailing_progress_event_carries_the_final_count(app):
    room = Room(3)
    poll = room.poll()
    room.vote(room.delegates[0], poll, "yes")
    before = db.session.scalar(select(func.count()).select_from(MeetingEvent))
    progress.flush_progress(poll.id)
    last = db.session.scalars(select(MeetingEvent).order_by(MeetingEvent.id.desc())).first()
    assert db.session.scalar(select(func.count()).select_from(MeetingEvent)) == before + 1
    assert (last.type, last.audience, last.payload["cast"]) == ("poll.progress", "staff", 1)
    assert Decimal(last.payload["cast_weight"]) == 1
