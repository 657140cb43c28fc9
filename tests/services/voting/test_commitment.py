"""The ballot digest committed at closing, and what ``audit verify`` checks against it."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from server.extensions import db
from server.models import Poll, PollKind
from server.services.voting import commitment
from tests.services.voting.test_voting import Room


@pytest.fixture(params=[PollKind.NAMED, PollKind.SECRET])
def closed(app, request):
    room = Room(6)
    poll = room.poll(kind=request.param)
    for n, delegate in enumerate(room.delegates):
        room.vote(delegate, poll, "yes" if n % 2 else "no")
    room.close(poll)
    return db.session.get(Poll, poll.id)


def test_the_digest_is_of_the_sorted_lines_and_verifies(closed):
    lines = commitment.stored_lines(closed)
    assert lines[0] == f"hemicycle-ballots/v1 poll {closed.id} {closed.kind.value}"
    assert lines[1:] == sorted(lines[1:], key=lambda line: (
        int(line.split()[0]) if closed.kind == PollKind.NAMED else line))
    assert closed.result["ballot_digest"] == commitment.digest(lines)
    assert commitment.check_polls() == []


def test_a_changed_ballot_breaks_the_digest(closed):
    db.session.execute(text("UPDATE ballot SET choices = '[\"abstain\"]' WHERE poll_id = :p"),
                       {"p": closed.id})
    db.session.commit()
    problems = commitment.check_polls()
    assert any(p.startswith(f"poll {closed.id} ") and "ballots were changed" in p
               for p in problems)


def test_a_changed_result_fails_the_recount_and_a_changed_list_the_digest(closed):
    result = dict(closed.result)
    result["totals"] = {**result["totals"], "yes": {"count": 6, "weight": "6.0000"}}
    result["ballot_list"] = result["ballot_list"][1:]
    closed.result = result
    db.session.commit()
    problems = " | ".join(commitment.check_polls())
    assert "does not match a recount" in problems and "published ballot list" in problems
