"""Start the servers under test and seed a meeting with N paired tablets."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import requests

from tests.live import ROOT, LiveServer, free_port


@dataclass
class SeededMeeting:
    meeting_id: int
    item_ids: list[int]
    tablet_tokens: list[str]
    chair_token: str
    projector_token: str
    database_url: str
    poll_id: int | None = None
    secretary: tuple[str, str] = ("bench-secretary", "bench-secretary-password")


def seed_meeting(data_dir: Path, tablets: int, poll_kind: str | None = None,
                 database_url: str | None = None, secretary: bool = True) -> SeededMeeting:
    """A published, open meeting with ``tablets`` present delegates, each with a paired
    tablet, and optionally a draft yes/no/abstain poll of ``poll_kind``; on ``database_url``
    (default: SQLite in ``data_dir``), with the bench secretary's account unless told not."""
    from server import create_app
    from server.extensions import db
    from server.models import (
        AgendaItem, AttendanceStatus, Base, Device, DeviceKind, Meeting, MeetingRole,
        MeetingStatus, Participant, PollKind, SessionState, utcnow,
    )
    from server.services.voting import polls
    from server.services.actors import Actor
    from server.services.tokens import new_token, token_digest

    database_url = database_url or f"sqlite:///{data_dir / 'bench.db'}"
    app = create_app({"DATA_DIR": data_dir, "DATABASE_URL": database_url,
                      "ASYNC_MODE": "threading", "SECRET_KEY": "bench"})
    with app.app_context():
        Base.metadata.create_all(db.engine)
        meeting = Meeting(title="Benchmark", body="Bench", starts_at=utcnow(),
                          status=MeetingStatus.IN_SESSION, session_state=SessionState.OPEN)
        db.session.add(meeting)
        db.session.flush()
        items = [AgendaItem(meeting_id=meeting.id, position=i, title=f"Mục {i + 1}")
                 for i in range(3)]
        db.session.add_all(items)
        present = {"attendance": AttendanceStatus.PRESENT, "checked_in_at": utcnow()}
        chair = Participant(meeting_id=meeting.id, full_name="Chủ tọa", role=MeetingRole.CHAIR,
                            **present)
        db.session.add(chair)
        participants = [Participant(meeting_id=meeting.id, full_name=f"Đại biểu {n}",
                                    role=MeetingRole.DELEGATE, weight=Decimal(1), **present)
                        for n in range(tablets)]
        db.session.add_all(participants)
        db.session.flush()

        def device(participant_id, kind=DeviceKind.TABLET):
            token = new_token()
            db.session.add(Device(meeting_id=meeting.id, participant_id=participant_id, kind=kind,
                                  token_sha256=token_digest(token)))
            return token

        tokens = [device(p.id) for p in participants]
        chair_token = device(chair.id)
        projector_token = device(None, DeviceKind.PROJECTOR)
        from server.models import Role, User
        from server.services.accounts.accounts import hash_password

        if secretary:
            db.session.add(User(username="bench-secretary", full_name="Thư ký",
                                role=Role.SECRETARY,
                                password_hash=hash_password("bench-secretary-password")))
        poll_id = None
        if poll_kind:
            poll = polls.create_poll(Actor.system(), meeting.id, {
                "motion": "Thông qua Nghị quyết về dự toán ngân sách năm 2027",
                "kind": PollKind(poll_kind), "agenda_item_id": items[0].id})
            poll_id = poll.id
        db.session.commit()
        result = SeededMeeting(meeting.id, [i.id for i in items], tokens, chair_token,
                               projector_token, database_url, poll_id)
        db.session.remove()
        db.engine.dispose()
    return result


def start_hemicycle(data_dir: Path, database_url: str, async_mode: str) -> LiveServer:
    return LiveServer(data_dir, database_url, async_mode=async_mode).start(timeout=60)


class BaselineServer:
    """``python -m bench.baseline_server``; with ``redis_url`` and ``channel``, on that queue."""

    def __init__(self, async_mode: str, redis_url: str | None = None, channel: str | None = None):
        self.port = free_port()
        self.async_mode = async_mode
        self.queue = [redis_url, channel] if redis_url else []
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="baseline-", suffix=".log", delete=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "BaselineServer":
        self.process = subprocess.Popen(
            [sys.executable, "-W", "ignore", "-m", "bench.baseline_server", str(self.port),
             self.async_mode, *self.queue], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("baseline server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")
