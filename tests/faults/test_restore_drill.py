"""The restore drill, on SQLite and PostgreSQL, with real processes throughout.

A server runs a live meeting with a poll open; tablets vote over Socket.IO and keep voting
while the operator runs `hemicycle backup create` (encrypted). The backup is restored into
a new data directory and an empty database, and the restored system must: upgrade, pass
`audit verify`, export a sealed meeting whose package passes `archive verify` and whose
minutes pass `minutes verify`, hold every ballot acknowledged before the backup began, and
serve again: an old tablet's token still works and a new tablet pairs.
"""
from __future__ import annotations

import contextlib
import threading
import time
import uuid

import pytest
import requests
import sqlalchemy as sa

from server.models import VoterRecord
from server.services.archive.demo_record import seed_sealed_meeting
from server.services.voting import sealing
from tests.faults.room import create_poll, seat
from tests.faults.tablets import Tablet, cast_until_acknowledged
from tests.live import LiveServer, app_context_on, hemicycle, ok_run
from tests.realtime.clients import login
from tests.pg import scratch_database

pytestmark = [pytest.mark.live]


@contextlib.contextmanager
def databases(kind: str, tmp_path, request):
    """(live database, empty database to restore into)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.db'}", f"sqlite:///{tmp_path / 'restored.db'}"
        return
    postgres_url = request.getfixturevalue("postgres_url")
    with scratch_database(postgres_url) as live, scratch_database(postgres_url) as empty:
        yield live, empty


def recorded_ballots(database_url: str, poll_id: int) -> set[str]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return set(connection.scalars(sa.select(VoterRecord.client_ballot_id_sha256)
                                          .where(VoterRecord.poll_id == poll_id)))
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_restore_drill(kind, tmp_path, request):
    with databases(kind, tmp_path, request) as (live_url, restored_url), \
            app_context_on(tmp_path, live_url, migrate=True):
        sealed = seed_sealed_meeting()  # signed minutes, CA and keys in tmp_path/data
        seeded, tokens = seat(10)
        server = LiveServer(tmp_path / "data", live_url).start()
        restored = None
        tablets = [Tablet(server.url, token, seeded.meeting.id) for token in tokens]
        try:
            poll_id = create_poll(server.url, seeded, "Thông qua nghị quyết về ngân sách")
            chair = login(server.url, seeded.chair_user)
            assert chair.post(f"{server.url}/api/v1/polls/{poll_id}/open", timeout=15).ok
            for tablet in tablets:
                tablet.connect()
            plan = {t: str(uuid.uuid4()) for t in tablets}
            deadline = time.monotonic() + 120
            before = [plan[t] for t in tablets[:5]
                      if cast_until_acknowledged(t, poll_id, plan[t], "yes", deadline)]

            # The rest of the room votes while the backup runs.
            during: list[str] = []
            voting = threading.Thread(target=lambda: during.extend(
                plan[t] for t in tablets[5:]
                if cast_until_acknowledged(t, poll_id, plan[t], "no", deadline)), daemon=True)
            passphrase = tmp_path / "passphrase"
            passphrase.write_text("một câu mật khẩu dài cho bản sao lưu\n")
            backup = tmp_path / "offsite" / "hemicycle-drill.backup"
            voting.start()
            made = ok_run(server.env(), "backup", "create", "--out", backup,
                          "--passphrase-file", passphrase)
            voting.join(120)
            assert len(before) == 5 and len(during) == 5, (before, during)
            assert f"{kind} at" in made and "encrypted" in made
            ok_run(server.env(), "backup", "verify", backup, "--passphrase-file", passphrase)

            # Elsewhere: a new data directory and an empty database.
            restored = LiveServer(tmp_path / "restored", restored_url)
            env = restored.env()
            ok_run(env, "backup", "restore", backup, "--passphrase-file", passphrase)
            refused = hemicycle(env, "backup", "restore", backup, "--passphrase-file", passphrase)
            assert refused.returncode == 3, refused.stdout + refused.stderr
            ok_run(env, "db", "upgrade", "--no-backup")
            assert ok_run(env, "audit", "verify").startswith("OK:")

            package = tmp_path / "archive-package"
            ok_run(env, "archive", "export", sealed.id, "--out", package)
            assert "OK: the package is complete" in ok_run(env, "archive", "verify", package)
            [pdf] = package.rglob("minutes-signed.pdf")
            checked = ok_run(env, "minutes", "verify", pdf, "--trust",
                             tmp_path / "restored" / "ca" / "ca.pem")
            assert "OK: both signatures are valid, trusted and in order" in checked and "not trusted" not in checked

            kept = recorded_ballots(restored_url, poll_id)
            lost = [b for b in before if sealing.ballot_id_digest(uuid.UUID(b)) not in kept]
            assert not lost, f"ballots acknowledged before the backup were lost: {lost}"
            assert len(kept) <= len(tablets)

            # The restored system serves: an old tablet's token works, a new tablet pairs.
            server.stop()
            for tablet in tablets:
                tablet.close()
            restored.start()
            old = Tablet(restored.url, tokens[0], seeded.meeting.id)
            old.connect()
            assert old.revision is not None
            old.close()
            secretary = login(restored.url, seeded.secretary_user)
            code = secretary.post(f"{restored.url}/api/v1/meetings/{seeded.meeting.id}/"
                                  f"participants/{seeded.delegates[-1].id}/pairing-code",
                                  timeout=15)
            assert code.status_code == 201, code.text
            paired = requests.post(f"{restored.url}/api/v1/pair", timeout=15,
                                   json={"code": code.json()["code"], "label": "máy mới"})
            assert paired.status_code == 201, paired.text
            fresh = Tablet(restored.url, paired.json()["token"], seeded.meeting.id)
            fresh.connect()
            assert fresh.revision is not None
            fresh.close()
        finally:
            for tablet in tablets:
                tablet.close()
            server.stop()
            if restored is not None:
                restored.stop()
