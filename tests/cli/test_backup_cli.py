"""`hemicycle backup create|verify|restore|prune` through click, on the test database.

The live drill (a meeting running while the backup is taken) is tests/faults/test_restore_drill.py.
"""
from __future__ import annotations

import io
import json
import os
import sqlite3
import tarfile

import pytest
from click.testing import CliRunner

from server.cli.commands import cli
from server.models import Role
from tests import factories


@pytest.fixture
def run(app, monkeypatch):
    monkeypatch.setenv("HEMICYCLE_DATA_DIR", str(app.config["DATA_DIR"]))
    monkeypatch.setenv("HEMICYCLE_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("HEMICYCLE_SECRET_KEY", "test-secret")
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def stored(app):
    """A user in the database and a document and a key in the data directory."""
    factories.make_user(Role.SECRETARY, username="thuky", full_name="Lê Thị Thư Ký")
    data = app.config["DATA_DIR"]
    blob = data / "blobs" / "ab" / ("c" * 62)
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"%PDF-1.7 nghi quyet")
    (data / "ca").mkdir()
    (data / "ca" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    (data / "cache" / "pages").mkdir(parents=True)
    (data / "cache" / "pages" / "x.png").write_bytes(b"rebuilt on demand")
    return blob


def _restored_usernames(url_path) -> list[str]:
    connection = sqlite3.connect(url_path)
    try:
        return [row[0] for row in connection.execute("SELECT username FROM user")]
    finally:
        connection.close()


def test_encrypted_backup_round_trip(run, stored, tmp_path):
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("mật khẩu sao lưu dài\n")
    out = tmp_path / "hemicycle-1.backup"
    result = run("backup", "create", "--out", out, "--passphrase-file", passphrase)
    assert result.exit_code == 0, result.output
    assert "encrypted" in result.output
    assert b"thuky" not in out.read_bytes() and b"nghi quyet" not in out.read_bytes()

    assert run("backup", "verify", out).exit_code == 4  # encrypted: no passphrase given
    wrong = tmp_path / "wrong"
    wrong.write_text("not it")
    result = run("backup", "verify", out, "--passphrase-file", wrong)
    assert result.exit_code == 4 and "wrong passphrase" in result.output
    result = run("backup", "verify", out, "--passphrase-file", passphrase)
    assert result.exit_code == 0 and result.output.startswith("OK:"), result.output

    target = tmp_path / "restored"
    database = tmp_path / "restored.db"
    result = run("backup", "restore", out, "--passphrase-file", passphrase, "--data-dir", target,
                 "--database-url", f"sqlite:///{database}")
    assert result.exit_code == 0, result.output
    assert "thuky" in _restored_usernames(database)
    assert (target / stored.relative_to(stored.parents[2])).read_bytes() == stored.read_bytes()
    assert (target / "ca" / "ca.pem").is_file()
    assert not (target / "cache").exists()  # page images are rebuilt, not backed up


def test_restore_refuses_a_target_that_is_not_empty(run, stored, tmp_path):
    out = tmp_path / "b.backup"
    assert run("backup", "create", "--out", out).exit_code == 0
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep-me").write_text("operator's file")
    result = run("backup", "restore", out, "--data-dir", busy,
                 "--database-url", f"sqlite:///{tmp_path / 'new.db'}")
    assert result.exit_code == 3 and "not empty" in result.output
    assert sorted(p.name for p in busy.iterdir()) == ["keep-me"]
    assert not (tmp_path / "new.db").exists()

    existing = tmp_path / "existing.db"
    existing.write_bytes(b"SQLite format 3\x00 something")
    result = run("backup", "restore", out, "--data-dir", tmp_path / "fresh",
                 "--database-url", f"sqlite:///{existing}")
    assert result.exit_code == 3 and "already exists" in result.output
    assert not (tmp_path / "fresh").exists()


def test_verify_finds_a_changed_member_and_restore_touches_nothing(run, stored, tmp_path):
    out = tmp_path / "b.backup"
    assert run("backup", "create", "--out", out).exit_code == 0
    assert run("backup", "verify", out).exit_code == 0
    tampered = tmp_path / "tampered.backup"
    with tarfile.open(out, "r:gz") as source, tarfile.open(tampered, "w:gz") as target:
        for member in source:
            data = source.extractfile(member).read()
            if member.name.startswith("data/blobs/"):
                data = data.replace(b"nghi quyet", b"nghi quyec")
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    result = run("backup", "verify", tampered)
    assert result.exit_code == 4 and "checksum does not match" in result.output
    result = run("backup", "restore", tampered, "--data-dir", tmp_path / "r",
                 "--database-url", f"sqlite:///{tmp_path / 'r.db'}")
    assert result.exit_code == 4
    assert not (tmp_path / "r").exists() and not (tmp_path / "r.db").exists()

    cut = tmp_path / "cut.backup"
    cut.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    assert run("backup", "verify", cut).exit_code == 4
    not_a_backup = tmp_path / "x.backup"
    not_a_backup.write_bytes(b"hello")
    assert run("backup", "verify", not_a_backup).exit_code == 4


def test_manifest_lists_every_member_and_keeps_secrets_out(run, stored, tmp_path, monkeypatch):
    monkeypatch.setenv("HEMICYCLE_REDIS_URL", "redis://:s3cret-pw@127.0.0.1:6379/0")
    out = tmp_path / "b.backup"
    assert run("backup", "create", "--out", out).exit_code == 0
    with tarfile.open(out, "r:gz") as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
        settings = json.loads(tar.extractfile("settings.json").read())
    assert names[0] == "database/sqlite.db" and names[-1] == "manifest.json"
    assert {f["path"] for f in manifest["files"]} == set(names) - {"manifest.json"}
    assert manifest["database"]["kind"] == "sqlite"
    assert "s3cret-pw" not in json.dumps(settings)
    assert settings["settings"]["HEMICYCLE_SECRET_KEY"].startswith("(set;")
    assert not any(n.startswith("data/cache/") or n.endswith(".db") and n.startswith("data/")
                   for n in names)


def test_prune_keeps_the_newest(run, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    for day in range(1, 6):
        path = folder / f"hemicycle-2026-12-0{day}.backup"
        path.write_bytes(b"x")
        os.utime(path, (1_800_000_000 + day * 86400,) * 2)
    (folder / "notes.txt").write_text("not a backup")
    result = run("backup", "prune", folder, "--keep", 2)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == [
        "hemicycle-2026-12-04.backup", "hemicycle-2026-12-05.backup", "notes.txt"]
    assert run("backup", "prune", folder, "--keep", 0).exit_code == 2


def test_a_backup_written_into_the_data_directory_leaves_itself_out(run, app, stored):
    data = app.config["DATA_DIR"]
    out = data / "hemicycle-inside.backup"
    assert run("backup", "create", "--out", out).exit_code == 0
    assert run("backup", "create", "--out", out).exit_code == 0  # replaces the first, whole
    with tarfile.open(out, "r:gz") as tar:
        names = tar.getnames()
    assert not [n for n in names if "inside" in n or n.endswith(".tmp")], names
    assert not [p for p in data.iterdir() if p.name.startswith(".")]
    assert json.loads((data / "last_backup.json").read_text())["path"] == str(out)


def test_checkpoints_are_read_before_the_database_snapshot(run, stored, tmp_path, monkeypatch):
    # A checkpoint appended while the snapshot is taken names an entry the snapshot may lack:
    # the backup keeps the file as it was before, so the restored chain is never "cut short".
    from server.services.backup import database

    checkpoints = stored.parents[2] / "audit" / "checkpoints.jsonl"
    checkpoints.parent.mkdir()
    checkpoints.write_text('{"seq": 1}\n')
    snapshot = database.snapshot

    def snapshot_while_a_checkpoint_lands(url, dump):
        snapshot(url, dump)
        with checkpoints.open("a") as handle:
            handle.write('{"seq": 2}\n')

    monkeypatch.setattr(database, "snapshot", snapshot_while_a_checkpoint_lands)
    out = tmp_path / "b.backup"
    assert run("backup", "create", "--out", out).exit_code == 0
    target = tmp_path / "restored"
    result = run("backup", "restore", out, "--data-dir", target,
                 "--database-url", f"sqlite:///{tmp_path / 'restored.db'}")
    assert result.exit_code == 0, result.output
    assert (target / "audit" / "checkpoints.jsonl").read_text() == '{"seq": 1}\n'
