"""The commitment to a poll's ballots at closing, and the checks that they still match it.

At closing every ballot of the poll becomes one line of text, sorted: for a
secret poll ``RECEIPT CHOICES WEIGHT`` by receipt, for a named poll
``PARTICIPANT_ID CHOICES WEIGHT`` by participant (choices comma-separated,
``-`` for a blank ballot, the weight with four decimals), after a first line
``hemicycle-ballots/v1 poll <id> <kind>``. The sha256 of those lines (each
ending in a newline) is the poll's **ballot digest**: it is stored in the
result, in the ``poll.close`` audit entry (so in the hash chain whose head the
signed minutes state) and in the drafted minutes. The published ballot list
gives the same lines, so anyone can recompute it and each voter can find
their receipt in it.

``check_polls`` (``hemicycle audit verify``) recomputes the digest from the
stored ballots of every closed poll and recounts them; ``check_package``
(``hemicycle archive verify``) does the same from an archive package.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry, Ballot, Poll, PollKind
from server.services.voting.results import compute_result

FORMAT = "hemicycle-ballots/v1"


def ballot_lines(poll_id: int, kind: str, ballots: Iterable[tuple]) -> list[str]:
    """The committed lines of ``(receipt or participant id, choices, weight)`` ballots."""
    def line(key, choices, weight) -> tuple:
        sort_key = (0, int(key), "") if kind != "secret" else (0, 0, str(key))
        return sort_key, f"{key} {','.join(choices) or '-'} {Decimal(weight):.4f}"

    body = [text for _key, text in sorted(line(*ballot) for ballot in ballots)]
    return [f"{FORMAT} poll {poll_id} {kind}", *body]


def digest(lines: list[str]) -> str:
    return hashlib.sha256("".join(f"{line}\n" for line in lines).encode()).hexdigest()


def stored_lines(poll: Poll) -> list[str]:
    """The lines of the ballots as the database holds them now."""
    key = Ballot.receipt if poll.kind == PollKind.SECRET else Ballot.participant_id
    rows = db.session.execute(select(key, Ballot.choices, Ballot.weight)
                              .where(Ballot.poll_id == poll.id))
    return ballot_lines(poll.id, poll.kind.value, [tuple(r) for r in rows])


def list_lines(poll_id: int, kind: str, ballot_list: list[dict]) -> list[str]:
    """The lines of a published ballot list (``Poll.result["ballot_list"]``)."""
    key = "receipt" if kind == "secret" else "participant_id"
    return ballot_lines(poll_id, kind, [(b[key], b["choices"], b["weight"]) for b in ballot_list])


def check_polls() -> list[str]:
    """Every closed poll whose ballots, stored result or published list no longer match the
    digest its ``poll.close`` audit entry committed to, named with the reason."""
    problems = []
    for entry in db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "poll.close", AuditEntry.outcome == "ok")):
        committed = (entry.payload or {}).get("ballot_digest")
        poll = db.session.get(Poll, int(entry.object_id)) if entry.object_id.isdigit() else None
        if committed is None or poll is None:
            continue
        result = poll.result or {}
        if digest(stored_lines(poll)) != committed:
            problems.append(f"poll {poll.id} ({poll.motion}): its ballots were changed after "
                            f"closing (they no longer match the digest {committed[:16]}…)")
        if result.get("ballot_digest") != committed or digest(list_lines(
                poll.id, poll.kind.value, result.get("ballot_list", []))) != committed:
            problems.append(f"poll {poll.id} ({poll.motion}): its published ballot list "
                            "does not match the digest committed at closing")
        frozen = (poll.snapshot or {}).get("close")  # absent in records made without voting
        recount = compute_result(poll, frozen) if frozen else result
        if any(recount.get(k) != result.get(k) for k in ("totals", "outcome", "ballots")):
            problems.append(f"poll {poll.id} ({poll.motion}): its stored result does not match "
                            "a recount of its ballots")
    return problems


def check_package(polls_json: str, ballots_csv: str, audit_lines: list[str]) -> list[str]:
    """The same checks on an archive package's ``polls.json``, ``ballots.csv`` and audit."""
    committed = {}
    for line in audit_lines:
        entry = json.loads(line)
        if entry["action"] == "poll.close" and entry["outcome"] == "ok" and entry.get("payload"):
            if "ballot_digest" in entry["payload"]:
                committed[int(entry["object_id"])] = entry["payload"]["ballot_digest"]
    stored: dict[int, list[tuple]] = {}
    for row in csv.DictReader(io.StringIO(ballots_csv)):
        key = row["receipt"] if row["kind"] == "secret" else row.get("participant_id", "")
        stored.setdefault(int(row["poll_id"]), []).append(
            (key, row["choices"].split(), row["weight"]))
    problems = []
    for poll in json.loads(polls_json):
        if poll["id"] not in committed:
            continue
        expected, result = committed[poll["id"]], poll.get("result") or {}
        lines = ballot_lines(poll["id"], poll["kind"], stored.get(poll["id"], []))
        if digest(lines) != expected:
            problems.append(f"poll {poll['id']} ({poll['motion']}): ballots.csv does not match "
                            f"the digest committed at closing ({expected[:16]}…)")
        if digest(list_lines(poll["id"], poll["kind"], result.get("ballot_list", []))) != expected:
            problems.append(f"poll {poll['id']} ({poll['motion']}): the published ballot list "
                            "does not match the digest committed at closing")
    return problems
