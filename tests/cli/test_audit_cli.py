"""`hemicycle audit verify` exits 0 on an intact chain and 1, naming the entry, on a tampered one."""
from __future__ import annotations

import subprocess
import sys

import sqlalchemy as sa

from server.cli.database import upgrade
from tests.live import ROOT


def run_verify(data, url):
    return subprocess.run([sys.executable, "-m", "server", "audit", "verify"], cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "HEMICYCLE_DATA_DIR": str(data),
                               "HEMICYCLE_DATABASE_URL": url},
                          capture_output=True, text=True, timeout=60)


def test_verify_catches_an_edited_entry(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    upgrade(url)
    from server import create_app
    from server.extensions import db
    from server.services import audit
    from server.services.actors import Actor

    app = create_app({"DATA_DIR": tmp_path, "DATABASE_URL": url, "ASYNC_MODE": "threading"})
    with app.app_context():
        for n in range(3):
            audit.record("meeting.updated", "meeting", n, actor=Actor.system(), payload={"n": n})
        db.session.commit()
        db.session.remove()
    ok = run_verify(tmp_path, url)
    assert ok.returncode == 0 and "OK: 3 entries" in ok.stdout

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_entry SET actor = 'user:666' WHERE seq = 2"))
    engine.dispose()
    broken = run_verify(tmp_path, url)
    assert broken.returncode == 1
    assert "entry 2: content does not match its hash" in broken.stderr
