"""Secret ballots: nothing in the database ties a ballot to its voter; receipts prove counting."""
from __future__ import annotations

import json
import uuid

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import exc, select, text

from server.errors import Conflict
from server.extensions import db
from server.models import AuditEntry, MeetingEvent, Poll, PollKind, VoterRecord
from server.services.voting import polls, sealing
from tests.services.voting.test_voting import Room, refused
from tests.services.voting.test_voting_concurrency import postgres_app  # noqa: F401  (fixture)

VOTERS = 40


def dump(table: str, where: str = "") -> list[dict]:
    """Every column of every row, in the order a query without ORDER BY returns them."""
    rows = db.session.execute(text(f"SELECT * FROM {table} {where}")).mappings().all()
    return [dict(row) for row in rows]


def values(rows: list[dict], skip=()) -> set[str]:
    return {str(v) for row in rows for k, v in row.items() if k not in skip and v is not None}


@pytest.fixture
def secret_poll(app):
    room = Room(VOTERS)
    poll = room.poll(kind=PollKind.SECRET)
    # The first half vote yes, the second half no: insertion order would show it.
    answers = [room.vote(d, poll, "yes" if i < VOTERS // 2 else "no")
               for i, d in enumerate(room.delegates)]
    return room, poll, answers


def assert_unlinkable(poll_id: int, answers: list[dict]) -> None:
    ballot_rows = dump("ballot")
    record_rows = dump("voter_record")
    assert len(ballot_rows) == len(record_rows) == VOTERS
    assert all(r["participant_id"] is None and r["cast_at"] is None for r in ballot_rows)
    # No value of a ballot (beyond its poll and the equal weights) appears in a voter record.
    shared = values(ballot_rows, skip=("poll_id", "weight")) & values(record_rows)
    assert shared == set()
    # Neither the plain table order nor the order of the poll_id index follows the voters.
    voter_order = ["yes"] * (VOTERS // 2) + ["no"] * (VOTERS // 2)
    for rows in (ballot_rows, dump("ballot", f"WHERE poll_id = {poll_id}")):
        assert [json.loads(r["choices"])[0] for r in rows] != voter_order
    # There is no hidden rowid to sort ballots by insertion.
    with pytest.raises(exc.OperationalError):
        db.session.execute(text("SELECT rowid FROM ballot"))
    db.session.rollback()
    # Receipts appear neither with the voters, nor in the audit log, nor in any event.
    elsewhere = json.dumps([record_rows, dump("audit_entry"), dump("meeting_event")], default=str)
    assert not any(a["receipt"] in elsewhere for a in answers)


def assert_sealed(answers: list[dict]) -> None:
    """An open poll: no ballot in clear, sealed boxes of one length, receipts nowhere."""
    assert dump("ballot") == []
    boxes = dump("sealed_ballot")
    assert len(boxes) == len(answers) and len({len(b["box"]) for b in boxes}) == 1
    everything = json.dumps([dump(t) for t in ("sealed_ballot", "ballot_key", "voter_record",
                                              "audit_entry", "meeting_event")], default=str)
    assert not any(a["receipt"] in everything for a in answers)


def test_no_query_ties_a_ballot_to_its_voter_while_open_and_after_closing(secret_poll):
    room, poll, answers = secret_poll
    assert_sealed(answers)
    room.close(poll)
    assert_unlinkable(poll.id, answers)
    assert dump("sealed_ballot") == [] and dump("ballot_key") == []


def test_cancelling_erases_a_secret_polls_ballots(secret_poll):
    room, poll, answers = secret_poll
    polls.cancel_poll(room.staff, poll.id)
    db.session.commit()
    assert dump("ballot") == [] and dump("sealed_ballot") == [] and dump("ballot_key") == []
    assert len(dump("voter_record")) == VOTERS  # who voted stays (the audit log says it too)


def test_a_sealed_ballot_altered_in_the_database_is_not_counted(secret_poll):
    room, poll, _answers = secret_poll
    box = db.session.scalars(text("SELECT box FROM sealed_ballot LIMIT 1")).one()
    db.session.execute(text("UPDATE sealed_ballot SET box = :box"), {"box": box})  # copies
    db.session.commit()
    room.close(poll)
    result = db.session.get(Poll, poll.id).result
    assert result["ballots"] == 1 and result["sealed_rejected"] == VOTERS - 1


def test_audit_names_the_voter_but_never_the_choice(secret_poll):
    _room, poll, _answers = secret_poll
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "vote.cast")).all()
    assert len(entries) == VOTERS
    assert all(set(e.payload) == {"voter", "represented"} for e in entries)


def test_every_receipt_is_in_the_published_tally_with_its_choice(secret_poll):
    room, poll, answers = secret_poll
    room.close(poll)
    polls.publish_poll(room.staff, poll.id)
    db.session.commit()
    ballot_list = db.session.get(Poll, poll.id).result["ballot_list"]
    published = {b["receipt"]: b["choices"] for b in ballot_list}
    assert len(published) == VOTERS
    for answer in answers:
        assert published[answer["receipt"]] == answer["choices"]
    # anyone can recount from the list alone
    result = db.session.get(Poll, poll.id).result
    recount = sum(1 for choices in published.values() if choices == ["yes"])
    assert recount == result["totals"]["yes"]["count"] == VOTERS // 2


def test_a_retry_gets_the_same_receipt_from_the_sealed_record_only(app):
    room = Room(3)
    poll = room.poll(kind=PollKind.SECRET)
    ballot_id = uuid.uuid4()
    first = room.vote(room.delegates[0], poll, "abstain", ballot_id=ballot_id)
    assert len(first["receipt"]) == sealing.RECEIPT_LENGTH
    again = room.vote(room.delegates[0], poll, "abstain", ballot_id=ballot_id)
    assert again == first
    refused(lambda: room.vote(room.delegates[0], poll, "yes", ballot_id=ballot_id),
            "ballot_id_reused", Conflict)
    record = db.session.scalar(select(VoterRecord))
    assert str(ballot_id) not in json.dumps(dump("voter_record"), default=str)
    assert sealing.unseal(ballot_id, poll.id, record.sealed_answer)[0] == first["receipt"]
    with pytest.raises(InvalidTag):  # another ballot id cannot open it
        sealing.unseal(uuid.uuid4(), poll.id, record.sealed_answer)


def test_sealed_answers_have_one_length_whatever_was_chosen(app):
    room = Room(4)
    from server.models import PollOptionKind

    poll = room.poll(kind=PollKind.SECRET, option_kind=PollOptionKind.CANDIDATES, min_choices=0,
                     max_choices=3, candidates=["An", "Bình", "Cường"])
    keys = [o.key for o in poll.options]
    for delegate, picks in zip(room.delegates, [[], keys[:1], keys[:2], keys]):
        room.vote(delegate, poll, *picks)
    lengths = {len(r.sealed_answer) for r in db.session.scalars(select(VoterRecord))}
    assert len(lengths) == 1


def test_secret_progress_events_carry_counts_only(secret_poll):
    _room, poll, _answers = secret_poll
    events = db.session.scalars(select(MeetingEvent).where(MeetingEvent.type == "poll.progress"))
    for event in events:
        assert set(event.payload) == {"poll_id", "status", "cast", "cast_weight", "members",
                                      "members_weight", "present"}


def test_on_postgresql_closing_rewrites_ballots_out_of_insertion_order(postgres_app):
    """PostgreSQL keeps rows in insertion order and stamps them with their transaction (xmin).

    While the poll is open the rows follow the voters but are sealed; closing
    opens them and writes the ballots in random order, in one transaction,
    before anyone can see the result, and VACUUM FULL drops the sealed rows.
    """
    room = Room(VOTERS)
    poll = room.poll(kind=PollKind.SECRET)
    answers = [room.vote(d, poll, "yes" if i < VOTERS // 2 else "no")
               for i, d in enumerate(room.delegates)]
    assert_sealed(answers)  # rows in order of voting, as the voter records: encrypted
    filenode = "SELECT pg_relation_filenode('sealed_ballot')"
    before = db.session.scalar(text(filenode))
    room.close(poll)
    db.session.rollback()
    assert db.session.scalar(text(filenode)) != before  # rewritten: no dead sealed rows left
    assert dump("sealed_ballot") == [] and dump("ballot_key") == []
    ballot_rows = dump("ballot")
    voter_order = ["yes"] * (VOTERS // 2) + ["no"] * (VOTERS // 2)
    assert [r["choices"][0] for r in ballot_rows] != voter_order
    assert values(ballot_rows, skip=("poll_id", "weight")) & values(dump("voter_record")) == set()
    ballot_xmins = set(db.session.scalars(text("SELECT xmin::text FROM ballot")))
    voter_xmins = set(db.session.scalars(text("SELECT xmin::text FROM voter_record")))
    assert len(ballot_xmins) == 1 and not ballot_xmins & voter_xmins
    published = {b["receipt"] for b in db.session.get(Poll, poll.id).result["ballot_list"]}
    assert published == {a["receipt"] for a in answers}


def test_someone_else_sending_my_ballot_id_gets_no_receipt(app):
    room = Room(3)
    poll = room.poll(kind=PollKind.SECRET)
    ballot_id = uuid.uuid4()
    room.vote(room.delegates[0], poll, "yes", ballot_id=ballot_id)
    refused(lambda: room.vote(room.delegates[1], poll, "yes", ballot_id=ballot_id),
            "ballot_id_reused", Conflict)


def test_a_sealed_ballot_deleted_in_the_database_is_reported_missing(secret_poll):
    room, poll, _answers = secret_poll
    db.session.execute(text("DELETE FROM sealed_ballot WHERE id IN "
                            "(SELECT id FROM sealed_ballot LIMIT 3)"))
    db.session.commit()
    room.close(poll)
    result = db.session.get(Poll, poll.id).result
    assert result["ballots"] == VOTERS - 3 and result["ballots_missing"] == 3
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "poll.close"))
    assert entry.payload["ballots_missing"] == 3
