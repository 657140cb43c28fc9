"""Upgrading a deployment of the first release (tests/fixtures/release_0_1/) to head.

The fixture's schema was made by the earliest Alembic revision and its data by the real
services (tests/fixtures/make_release_fixture.py). On SQLite the fixture file itself is
upgraded; on PostgreSQL the earliest revision builds the schema and the fixture's rows are
copied in, as a 0.1 deployment on PostgreSQL would hold them. Then `hemicycle db upgrade`
runs (with its backup first) and everything must still be there: every row, the audit
chain, and the sealed meeting, whose archive package and signed minutes still verify.
"""
from __future__ import annotations

import json
import shutil

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from server.cli.commands import cli
from server.cli.database import alembic_config
from tests.pg import scratch_database

FIXTURE = __import__("pathlib").Path(__file__).parent / "fixtures" / "release_0_1"
INFO = json.loads((FIXTURE / "fixture.json").read_text())


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def fixture_rows() -> dict[str, list[dict]]:
    engine = sa.create_engine(f"sqlite:///{FIXTURE / 'hemicycle.db'}")
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {table.name: [dict(row._mapping) for row in connection.execute(
                sa.select(table).order_by(*table.primary_key.columns))]
                for table in metadata.sorted_tables}
    finally:
        engine.dispose()


def copy_into_postgresql(url: str, rows: dict[str, list[dict]]) -> None:
    """The fixture's rows into a PostgreSQL schema at the fixture's revision."""
    from alembic import command

    command.upgrade(alembic_config(url), INFO["revision"])
    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.begin() as connection:
            connection.execute(sa.text("SET session_replication_role = replica"))  # FK cycles
            for name, table_rows in rows.items():
                # SQLite's full-text tables (archive_fts*) have no PostgreSQL counterpart.
                if table_rows and name != "alembic_version" and name in metadata.tables:
                    connection.execute(metadata.tables[name].insert(), table_rows)
            for table in metadata.sorted_tables:
                if "id" in table.c and isinstance(table.c.id.type, sa.Integer):
                    connection.execute(sa.text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f"GREATEST((SELECT MAX(id) FROM \"{table.name}\"), 1))"))
    finally:
        engine.dispose()


def upgrade_and_check(url: str, data_dir, tmp_path, monkeypatch, before) -> None:
    monkeypatch.setenv("HEMICYCLE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HEMICYCLE_DATABASE_URL", url)
    monkeypatch.setenv("HEMICYCLE_SECRET_KEY", "fixture")
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    backup = tmp_path / "pre-upgrade.backup"
    output = run("db", "upgrade", "--backup-out", backup)
    if INFO["revision"] == head_revision():
        # While 0.1's schema is still the head there is nothing to migrate, nor to back up.
        assert "already at head" in output and not backup.exists()
    else:
        assert f"Backed up to {backup}" in output and "Database at head." in output
        assert run("backup", "verify", backup).startswith("OK:")
    assert "already at head" in run("db", "upgrade")

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            for name, rows in before.items():
                if name == "alembic_version" or name not in tables:
                    continue
                count = connection.scalar(sa.select(sa.func.count()).select_from(sa.table(name)))
                assert count == len(rows), f"{name}: {len(rows)} rows before, {count} after"
            names = set(connection.scalars(sa.text("SELECT full_name FROM \"user\"")))
    finally:
        engine.dispose()
    assert {row["full_name"] for row in before["user"]} <= names
    assert run("audit", "verify").startswith(f"OK: {len(before['audit_entry'])} entries")

    package = tmp_path / "package"
    run("archive", "export", INFO["sealed_meeting_id"], "--out", package)
    assert "OK: the package is complete" in run("archive", "verify", package)
    [pdf] = package.rglob("minutes-signed.pdf")
    assert "OK: both signatures are valid, trusted and in order" in run("minutes", "verify", pdf, "--trust",
                                                   data_dir / "ca" / "ca.pem")


def test_fixture_is_at_the_earliest_revision_with_real_data():
    from tests.fixtures.make_release_fixture import earliest_revision

    rows = fixture_rows()
    assert INFO["revision"] == earliest_revision()
    assert [row["version_num"] for row in rows["alembic_version"]] == [INFO["revision"]]
    for table in ("user", "meeting", "poll", "ballot", "audit_entry", "minutes", "device"):
        assert rows[table], f"the fixture has no {table} rows"


def test_upgrade_from_release_on_sqlite(tmp_path, monkeypatch):
    before = fixture_rows()
    shutil.copyfile(FIXTURE / "hemicycle.db", tmp_path / "hemicycle.db")
    shutil.copytree(FIXTURE / "data", tmp_path / "data")
    upgrade_and_check(f"sqlite:///{tmp_path / 'hemicycle.db'}", tmp_path / "data", tmp_path,
                      monkeypatch, before)


def test_upgrade_from_release_on_postgresql(tmp_path, monkeypatch, postgres_url):
    before = fixture_rows()
    shutil.copytree(FIXTURE / "data", tmp_path / "data")
    with scratch_database(postgres_url) as url:
        copy_into_postgresql(url, before)
        upgrade_and_check(url, tmp_path / "data", tmp_path, monkeypatch, before)
