"""`hemicycle audit verify`, run as the real command: exit 0 on an intact, anchored chain;
exit 1 naming the entry or the checkpoint on a tampered one; exit 2 on a usage error."""
from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import pytest
import sqlalchemy as sa

from server.cli.database import upgrade
from tests.live import ROOT


def run_cli(data, url, *args):
    return subprocess.run([sys.executable, "-m", "server", "audit", *args], cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "HEMICYCLE_DATA_DIR": str(data),
                               "HEMICYCLE_DATABASE_URL": url},
                          capture_output=True, text=True, timeout=120)


def run_verify(data, url, *args):
    return run_cli(data, url, "verify", *args)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """An upgraded, empty database of each backend and its data directory."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'audit.db'}"
        else:
            from tests.pg import scratch_database

            url = stack.enter_context(scratch_database(request.getfixturevalue("postgres_url")))
        upgrade(url)
        yield url, tmp_path / "data"


@contextlib.contextmanager
def app_on(url, data):
    from server import create_app
    from server.extensions import db

    app = create_app({"DATA_DIR": data, "DATABASE_URL": url, "ASYNC_MODE": "threading"})
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def append(url, data, n):
    from server.extensions import db
    from server.services import audit
    from server.services.actors import Actor

    with app_on(url, data):
        for i in range(n):
            audit.record("meeting.updated", "meeting", i, actor=Actor.system(), payload={"n": i})
        db.session.commit()


def rechain(url, data, seq, **change):
    """What an attacker with the database does: edit entry ``seq`` and recompute every hash
    after it, so the chain on its own verifies again."""
    from sqlalchemy import select

    from server.extensions import db
    from server.models import AuditEntry
    from server.services import audit

    with app_on(url, data):
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        previous = audit.GENESIS
        for entry in entries:
            if entry.seq == seq:
                for name, value in change.items():
                    setattr(entry, name, value)
            entry.prev_hash = previous
            entry.hash = audit.entry_hash(entry)
            previous = entry.hash
        db.session.commit()


def checkpoint_lines(data):
    return (data / "audit" / "checkpoints.jsonl").read_text().splitlines()


def test_an_untouched_chain_passes(database):
    url, data = database
    append(url, data, 3)
    written = run_cli(data, url, "checkpoint")
    assert written.returncode == 0, written.stderr
    assert "Checkpoint: entry 3" in written.stdout
    ok = run_verify(data, url)
    assert ok.returncode == 0, ok.stderr
    assert "OK: 3 entries" in ok.stdout and "1 checkpoint(s)" in ok.stdout
    append(url, data, 2)  # entries after the last checkpoint are fine
    assert run_verify(data, url).returncode == 0


def test_a_tail_cut_of_one_entry_fails_naming_the_checkpoint(database):
    url, data = database
    append(url, data, 4)
    assert run_cli(data, url, "checkpoint").returncode == 0
    at = json.loads(checkpoint_lines(data)[0])["at"]
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_entry WHERE seq = 4"))
    engine.dispose()
    broken = run_verify(data, url)
    assert broken.returncode == 1
    assert (f"FAIL: checkpoint 1 (seq 4, {at}, manual): the chain ends at entry 3, before "
            "the checkpointed entry 4: entries were cut from the end") in broken.stderr
    assert "Traceback" not in broken.stderr


def test_a_rechained_history_fails_naming_the_checkpoint(database):
    url, data = database
    append(url, data, 3)
    assert run_cli(data, url, "checkpoint").returncode == 0
    append(url, data, 3)
    assert run_cli(data, url, "checkpoint").returncode == 0
    first, second = (json.loads(line) for line in checkpoint_lines(data))
    rechain(url, data, 5, actor="user:666")
    broken = run_verify(data, url)
    assert broken.returncode == 1, broken.stdout
    # The chain itself recomputes; only the second checkpoint (entry 6) sees the rewrite.
    assert "content does not match" not in broken.stderr
    assert (f"FAIL: checkpoint 2 (seq 6, {second['at']}, manual): entry 6 no longer has the "
            "checkpointed hash (history rewritten up to entry 6)") in broken.stderr
    assert "checkpoint 1 " not in broken.stderr
    assert "Traceback" not in broken.stderr


def test_a_checkpoint_with_a_bad_signature_fails(tmp_path):
    url, data = f"sqlite:///{tmp_path / 'audit.db'}", tmp_path / "data"
    upgrade(url)
    append(url, data, 2)
    assert run_cli(data, url, "checkpoint").returncode == 0
    path = data / "audit" / "checkpoints.jsonl"
    line = json.loads(path.read_text())
    line["reason"] = "minutes.finalised"  # anything the key signed
    path.write_text(json.dumps(line) + "\n")
    broken = run_verify(data, url)
    assert broken.returncode == 1
    assert f"FAIL: checkpoint 1 (seq 2, {line['at']}, minutes.finalised): bad signature" \
        in broken.stderr


def test_an_edited_entry_is_named(tmp_path):
    url, data = f"sqlite:///{tmp_path / 'audit.db'}", tmp_path / "data"
    upgrade(url)
    append(url, data, 3)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_entry SET actor = 'user:666' WHERE seq = 2"))
    engine.dispose()
    broken = run_verify(data, url)
    assert broken.returncode == 1
    assert "entry 2: content does not match its hash" in broken.stderr


def test_a_history_rewritten_before_the_signed_minutes_fails_even_without_checkpoints(tmp_path):
    """The attacker also deleted the checkpoint file: the head the signed minutes state is
    still outside their reach."""
    url, data = f"sqlite:///{tmp_path / 'audit.db'}", tmp_path / "data"
    upgrade(url)
    with app_on(url, data):
        from server.services.archive.demo_record import seed_sealed_meeting

        meeting_id = seed_sealed_meeting().id
    assert run_verify(data, url).returncode == 0
    (data / "audit" / "checkpoints.jsonl").unlink()
    rechain(url, data, 2, actor="user:666")
    broken = run_verify(data, url)
    assert broken.returncode == 1
    assert "Note: no checkpoint file" in broken.stdout
    assert (f"FAIL: minutes of meeting {meeting_id}: the audit head the signed minutes state"
            in broken.stderr)


def test_usage_errors_exit_2(tmp_path):
    url, data = f"sqlite:///{tmp_path / 'audit.db'}", tmp_path / "data"
    result = run_verify(data, url, "--checkpoints", str(tmp_path / "nowhere.jsonl"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_audit_key_prints_the_key_id_the_checkpoints_name(tmp_path):
    url, data = f"sqlite:///{tmp_path / 'audit.db'}", tmp_path / "data"
    upgrade(url)
    append(url, data, 1)
    assert run_cli(data, url, "checkpoint").returncode == 0
    shown = run_cli(data, url, "key")
    assert shown.returncode == 0 and "BEGIN PUBLIC KEY" in shown.stdout
    assert json.loads(checkpoint_lines(data)[0])["key"] in shown.stdout


def test_serve_checkpoints_the_head_at_its_interval(tmp_path):
    """`hemicycle serve` with HEMICYCLE_AUDIT_CHECKPOINT_SECONDS checkpoints a moved head."""
    from tests.live import LiveServer, app_context_on, wait_until

    url, data = f"sqlite:///{tmp_path / 'serve.db'}", tmp_path / "data"

    def interval_seqs():
        path = data / "audit" / "checkpoints.jsonl"
        lines = path.read_text().splitlines() if path.is_file() else []
        return [json.loads(line)["seq"] for line in lines
                if json.loads(line)["reason"] == "interval"]

    with app_context_on(tmp_path, url, migrate=True):
        from server.extensions import db
        from server.services import audit
        from server.services.actors import Actor

        audit.record("meeting.updated", "meeting", 1, actor=Actor.system(), payload={})
        db.session.commit()
        with LiveServer(data, url, env={"HEMICYCLE_AUDIT_CHECKPOINT_SECONDS": "0.5"}):
            wait_until(lambda: 1 in interval_seqs(), what="an interval checkpoint of entry 1")
            audit.record("meeting.updated", "meeting", 1, actor=Actor.system(), payload={})
            db.session.commit()
            wait_until(lambda: 2 in interval_seqs(), what="an interval checkpoint of entry 2")
    assert run_verify(data, url).returncode == 0


def test_an_attacker_with_the_key_is_caught_by_the_copy_kept_elsewhere(tmp_path):
    """Root on the server rewrites the history and the checkpoint file, signing anew with the
    server's key: the local check passes (docs/SECURITY.md says so); the copy does not."""
    url, data = f"sqlite:///{tmp_path / 'audit.db'}", tmp_path / "data"
    upgrade(url)
    append(url, data, 3)
    assert run_cli(data, url, "checkpoint").returncode == 0
    copy = tmp_path / "offsite-checkpoints.jsonl"
    copy.write_text((data / "audit" / "checkpoints.jsonl").read_text())
    key_copy = tmp_path / "offsite-audit-key.pem"
    key_copy.write_bytes((data / "audit" / "audit-key.pem").read_bytes())

    rechain(url, data, 2, actor="user:666")
    (data / "audit" / "checkpoints.jsonl").unlink()
    assert run_cli(data, url, "checkpoint").returncode == 0
    assert run_verify(data, url).returncode == 0

    broken = run_verify(data, url, "--checkpoints", str(copy), "--key", str(key_copy))
    assert broken.returncode == 1
    assert "FAIL: checkpoint 1 (seq 3, " in broken.stderr
    assert "history rewritten up to entry 3" in broken.stderr
