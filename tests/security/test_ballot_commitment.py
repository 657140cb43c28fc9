"""Finding 6 of the security review: a tally changed in the database after closing.

Closing commits to the ballots: the sorted ballot list and its sha256 in the
result, in the ``poll.close`` audit entry and in the minutes. Changing four
"no" ballots to "yes" afterwards turned a 20–20 rejection into 24–16 unnoticed
before; now ``hemicycle audit verify`` and ``hemicycle archive verify`` fail
and name the poll, and each voter finds their receipt in the published list.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import uuid
from decimal import Decimal

import pymupdf
import requests
from sqlalchemy import text

from server.extensions import db
from server.models import Poll, PollKind
from server.services.archive.demo_record import seed_sealed_meeting
from server.services.archive.package import export_package
from server.services.archive.verify import verify_package
from server.services.minutes import trust
from server.services.minutes import minutes as minutes_service
from tests.live import ROOT
from tests.security.test_ballot_forensics import ORDER, VOTERS, hall  # noqa: F401  (fixture)

FOUR_NO_TO_YES = ("UPDATE ballot SET choices = '[\"yes\"]' WHERE receipt IN (SELECT receipt "
                  "FROM ballot WHERE poll_id = ? AND choices = '[\"no\"]' LIMIT 4)")


def published_digest(poll_id: int, kind: str, ballot_list: list[dict]) -> str:
    """The digest as docs/VOTING.md defines it, recomputed from the published list alone."""
    key = "receipt" if kind == "secret" else "participant_id"
    lines = sorted(f"{b[key]} {','.join(b['choices']) or '-'} {Decimal(b['weight']):.4f}"
                   for b in ballot_list)
    text = "".join(f"{line}\n" for line in [f"hemicycle-ballots/v1 poll {poll_id} {kind}", *lines])
    return hashlib.sha256(text.encode()).hexdigest()


def audit_verify(server) -> subprocess.CompletedProcess:
    env = {**server.env(), "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "server", "audit", "verify"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_changing_four_ballots_after_closing_fails_audit_verify_naming_the_poll(hall):
    server, http, database, tokens, (poll_id, _other) = hall
    receipts = {}
    for token, choice in zip(tokens, ORDER):
        answer = requests.post(f"{server.url}/api/v1/polls/{poll_id}/ballots",
                               json={"ballot_id": str(uuid.uuid4()), "choices": [choice]},
                               headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert answer.status_code == 200, answer.text
        receipts[answer.json()["receipt"]] = choice
    assert http.post(f"{server.url}/api/v1/polls/{poll_id}/close").status_code == 200
    result = http.get(f"{server.url}/api/v1/polls/{poll_id}/result").json()
    assert result["outcome"] == "rejected"
    # Every voter finds their receipt, with their choice, in the sorted published list ...
    listed = [b["receipt"] for b in result["ballot_list"]]
    assert listed == sorted(listed) and len(listed) == VOTERS
    assert {b["receipt"]: b["choices"][0] for b in result["ballot_list"]} == receipts
    # ... whose digest anyone recomputes, and which the audit chain holds.
    assert result["ballot_digest"] == published_digest(poll_id, "secret", result["ballot_list"])
    with sqlite3.connect(database) as reader:
        payload = json.loads(reader.execute(
            "SELECT payload FROM audit_entry WHERE action = 'poll.close' AND object_id = ?",
            (str(poll_id),)).fetchone()[0])
    assert payload["ballot_digest"] == result["ballot_digest"]
    verified = audit_verify(server)
    assert verified.returncode == 0, verified.stderr

    with sqlite3.connect(database) as insider:
        assert insider.execute(FOUR_NO_TO_YES, (poll_id,)).rowcount == 4
    verified = audit_verify(server)
    assert verified.returncode == 1
    assert f"poll {poll_id} " in verified.stderr and "ballots were changed" in verified.stderr


def test_changing_ballots_before_archiving_fails_archive_verify_naming_the_poll(app, tmp_path):
    meeting = seed_sealed_meeting()
    polls = {p.kind: p for p in db.session.query(Poll).filter_by(meeting_id=meeting.id)}
    secret = polls[PollKind.SECRET]
    digest = secret.result["ballot_digest"]
    # The drafted and signed minutes carry the digest.
    sections = json.dumps(minutes_service.minutes_of(meeting).sections)
    assert digest in sections
    signed = minutes_service.current_pdf(minutes_service.minutes_of(meeting))
    pdf_text = "".join(page.get_text() for page in pymupdf.open(stream=signed)).replace("\n", "")
    assert digest in pdf_text
    assert verify_package(export_package(meeting.id, tmp_path / "before.zip"), trust.deployment_roots()).ok

    db.session.execute(text("UPDATE ballot SET choices = '[\"c2\"]' WHERE poll_id = :poll"),
                       {"poll": secret.id})
    db.session.commit()
    check = verify_package(export_package(meeting.id, tmp_path / "after.zip"),
                           trust.deployment_roots())
    assert not check.ok
    assert any(p.startswith(f"poll {secret.id} ") and "ballots.csv" in p for p in check.problems)

