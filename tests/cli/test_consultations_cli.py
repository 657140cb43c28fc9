"""``hemicycle consultations close-due`` closes and tallies what is past its deadline."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from server.extensions import db
from server.models import Consultation, ConsultationMember, utcnow
from tests import factories
from tests.live import ROOT


def test_close_due_closes_only_what_is_past_its_deadline(app, tmp_path):
    member = factories.make_user()
    for title, hours in (("Đã hết hạn", -1), ("Còn hạn", 5)):
        db.session.add(Consultation(title=title, question="Đồng ý?", opens_at=utcnow() - timedelta(
            hours=2), closes_at=utcnow() + timedelta(hours=hours),
            members=[ConsultationMember(user_id=member.id)]))
    db.session.commit()
    url = db.engine.url.render_as_string(hide_password=False)
    db.session.remove()
    done = subprocess.run(
        [sys.executable, "-m", "server", "consultations", "close-due"], cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HEMICYCLE_DATA_DIR": str(tmp_path / "data"),
             "HEMICYCLE_DATABASE_URL": url},
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Đã hết hạn (not adopted)" in done.stdout and "Còn hạn" not in done.stdout
    closed = {c.title: c.closed_at is not None for c in db.session.query(Consultation)}
    assert closed == {"Đã hết hạn": True, "Còn hạn": False}
