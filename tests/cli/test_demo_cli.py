"""`hemicycle demo` sets up a fresh data directory, seeds it once, and the record verifies."""
from __future__ import annotations

import subprocess
import sys

from tests.live import ROOT


def hemicycle(*args, env_dir):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(env_dir), "HEMICYCLE_DATA_DIR": str(env_dir / "data")}
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_demo_seeds_once_and_prints_logins(tmp_path):
    data = tmp_path / "data"
    first = hemicycle("demo", "--no-serve", "--data-dir", str(data), "--port", "5123", env_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Seeded the demo" in first.stdout
    assert "http://127.0.0.1:5123/login" in first.stdout
    assert "thuky" in first.stdout and "hemicycle-demo" in first.stdout
    for link in ("/tablet/#pair=", "/display/", "/meetings/1/control", "/archive"):
        assert link in first.stdout
    again = hemicycle("demo", "--no-serve", "--data-dir", str(data), env_dir=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "Using the demo already" in again.stdout

    env_db = f"sqlite:///{data / 'hemicycle.db'}"
    verify = subprocess.run([sys.executable, "-m", "server", "audit", "verify"], cwd=ROOT,
                            env={"PATH": "/usr/bin:/bin", "HEMICYCLE_DATA_DIR": str(data),
                                 "HEMICYCLE_DATABASE_URL": env_db},
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith("OK:")

    # The closed written consultation: its report sealed B-LTA, its package verified offline.
    assert "/consultations/1/report.pdf" in first.stdout
    env = {"PATH": "/usr/bin:/bin", "HEMICYCLE_DATA_DIR": str(data),
           "HEMICYCLE_DATABASE_URL": env_db}
    exported = subprocess.run([sys.executable, "-m", "server", "consultations", "export", "1",
                               "--out", str(tmp_path / "c.zip")], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    checked = subprocess.run([sys.executable, "-m", "server", "archive", "verify",
                              str(tmp_path / "c.zip")], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "PAdES B-LTA" in checked.stdout and "sig_office" in checked.stdout


def test_demo_data_is_a_full_council_session(app):
    from sqlalchemy import func, select

    from server.extensions import db
    from server.models import AgendaItem, MeetingRole, MeetingStatus, Participant
    from server.services import demo

    meeting = demo.seed()
    assert meeting.status == MeetingStatus.PUBLISHED
    roles = dict(db.session.execute(
        select(Participant.role, func.count()).where(Participant.meeting_id == meeting.id)
        .group_by(Participant.role)).all())
    assert roles[MeetingRole.DELEGATE] == 30
    assert roles[MeetingRole.CHAIR] == 1 and roles[MeetingRole.SECRETARY] == 1
    top_level = db.session.scalars(select(AgendaItem).where(
        AgendaItem.meeting_id == meeting.id, AgendaItem.parent_id.is_(None))).all()
    assert len(top_level) >= 5
    from server.models import Document, MeetingStatus as Status

    titles = db.session.scalars(select(Document.title).where(Document.meeting_id == meeting.id)).all()
    assert len(titles) == 3 and any("kinh tế" in t for t in titles)
    assert db.session.scalar(select(func.count()).select_from(Document).where(
        Document.meeting_id == meeting.id, Document.confidential.is_(True))) == 1
    from server.models import Meeting

    assert db.session.scalar(select(func.count()).select_from(Meeting)
                             .where(Meeting.status == Status.SEALED)) == 1
    names = db.session.scalars(select(Participant.full_name)).all()
    assert "Nguyễn Thị Hồng Nhung" in names
    assert demo.is_seeded()
    # The sealed meeting is signed PAdES B-LTA with the demo PKI (its CA, its own TSA).
    from server.services.minutes import minutes as minutes_service, trust
    from server.services.minutes.verify import verify_pdf

    sealed = db.session.scalars(select(Meeting).where(Meeting.status == Status.SEALED)).one()
    pdf = minutes_service.current_pdf(minutes_service.minutes_of(sealed))
    check = verify_pdf(pdf, trust.deployment_roots())
    assert check.ok, check.problems + [p for s in check.signatures for p in s.problems]
    assert [s.level for s in check.signatures] == ["B-LTA", "B-LTA"]
    assert all(s.timestamped_at for s in check.signatures) and len(check.timestamps) == 1
