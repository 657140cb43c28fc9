"""A room for the fault tests: seated delegates with tablets, and checks on what survived."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid

from sqlalchemy import select

from server.extensions import db
from server.models import AttendanceStatus, Device, Meeting, VoterRecord
from server.services.voting import sealing
from server.services.tokens import new_token, token_digest
from tests.live import ROOT, LiveServer
from tests.realtime.clients import login
from tests.realtime.seed import seed_meeting


def seat(count: int):
    """A published meeting with ``count`` present delegates, each with a paired tablet."""
    seeded = seed_meeting(delegates=count, pair_tablet=False)
    tokens = []
    for person in seeded.delegates:
        person.attendance = AttendanceStatus.PRESENT
        token = new_token()
        db.session.add(Device(meeting_id=seeded.meeting.id, participant_id=person.id,
                              token_sha256=token_digest(token), label="tablet"))
        tokens.append(token)
    db.session.commit()
    return seeded, tokens


def db_revision(meeting_id: int) -> int:
    db.session.remove()
    return db.session.scalar(select(Meeting.revision).where(Meeting.id == meeting_id))


def ok(answer: dict) -> dict:
    assert answer.get("ok"), answer
    return answer


def create_poll(url: str, seeded, motion: str) -> int:
    chair_http = login(url, seeded.chair_user)
    answer = chair_http.post(f"{url}/api/v1/meetings/{seeded.meeting.id}/polls", timeout=15,
                             json={"motion": motion, "quorum_required": False})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


class Tender(threading.Thread):
    """Keeps every tablet connected and in sync, as the tablet app's own loop does."""

    def __init__(self, tablets):
        super().__init__(daemon=True)
        self.tablets, self.stop = tablets, threading.Event()

    def run(self):
        while not self.stop.is_set():
            for tablet in self.tablets:
                tablet.tend()
            time.sleep(0.3)


def converge(tablets, meeting_id: int, timeout: float = 40) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        target = db_revision(meeting_id)
        for tablet in tablets:
            tablet.tend(gap_patience=0.5)
        behind = [t for t in tablets if t.revision != target or not t.connected]
        if not behind:
            return target
        time.sleep(0.3)
    raise AssertionError(f"{len(behind)} tablets never reached revision {target}: "
                         f"{[(t.revision, t.connected) for t in behind][:5]}")


def verify_audit_chain(server: LiveServer) -> None:
    """`hemicycle audit verify` on the database the meeting just wrote, as an operator runs it."""
    result = subprocess.run([sys.executable, "-m", "server", "audit", "verify"],
                            env=server.env(), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK:"), result.stdout


def counted(poll_id: int, ballot_ids) -> None:
    db.session.remove()
    records = set(db.session.scalars(select(VoterRecord.client_ballot_id_sha256)
                                      .where(VoterRecord.poll_id == poll_id)))
    missing = [b for b in ballot_ids if sealing.ballot_id_digest(uuid.UUID(b)) not in records]
    assert not missing, f"acknowledged ballots lost: {missing}"
