"""Database snapshots: SQLite's online backup API and PostgreSQL's ``pg_dump``.

Both read one consistent state while the server keeps writing: SQLite copies every
page in a single step under a read transaction (WAL lets writers go on meanwhile);
``pg_dump`` runs in one repeatable-read transaction. A ballot committed before the
snapshot began is in it; one committed later is not, whole.
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url


class BackupError(Exception):
    """Something an operator must fix; the message says what."""

    exit_code = 1


class TargetNotEmpty(BackupError):
    exit_code = 3


class BadBackup(BackupError):
    exit_code = 4


def kind_of(database_url: str) -> str:
    backend = make_url(database_url).get_backend_name()
    if backend == "sqlite":
        return "sqlite"
    if backend == "postgresql":
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL, not {backend}")


def sqlite_path(database_url: str) -> Path:
    name = make_url(database_url).database
    if not name or name == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(name).resolve()


def libpq_url(database_url: str) -> str:
    """The URL as libpq tools (pg_dump, pg_restore) take it: no SQLAlchemy driver name."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is missing: install postgresql-client (scripts/setup does)")
    return path


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        # libpq prints the URL it was given on some errors: never echo a password.
        raise BackupError(f"{what} failed: {result.stderr.strip()[-2000:]}")


def snapshot(database_url: str, target: Path) -> str:
    """Write a consistent copy of the database to ``target``; returns the database kind."""
    kind = kind_of(database_url)
    if kind == "sqlite":
        source_path = sqlite_path(database_url)
        if not source_path.is_file():
            raise BackupError(f"no SQLite database at {source_path}")
        # Not mode=ro: a read-only connection cannot open a WAL database whose -shm is absent.
        source = sqlite3.connect(source_path, timeout=30)
        destination = sqlite3.connect(target)
        try:
            source.execute("PRAGMA busy_timeout=30000")
            source.backup(destination)  # pages=-1: every page in one step, one snapshot
            destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            destination.close()
            source.close()
    else:
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={target}", f"--dbname={libpq_url(database_url)}"], "pg_dump")
    return kind


def check_snapshot(kind: str, path: Path) -> None:
    """A snapshot that its own tool can read: SQLite's integrity check, pg_restore's list."""
    if kind == "sqlite":
        try:
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                answer = connection.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                connection.close()
        except sqlite3.DatabaseError as error:
            raise BadBackup(f"the SQLite snapshot cannot be read: {error}") from error
        if answer != "ok":
            raise BadBackup(f"the SQLite snapshot fails its integrity check: {answer}")
    else:
        result = subprocess.run([_tool("pg_restore"), "--list", str(path)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise BadBackup(f"the PostgreSQL dump cannot be read: {result.stderr.strip()}")


def schema_revision(database_url: str) -> str | None:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            return connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()


def ensure_empty(database_url: str) -> None:
    """Refuse a target that holds anything: a restore never merges into live data."""
    kind = kind_of(database_url)
    if kind == "sqlite":
        path = sqlite_path(database_url)
        if path.exists() and path.stat().st_size > 0:
            raise TargetNotEmpty(f"the SQLite database {path} already exists: restore into a "
                                 "new path, or move it away first")
        return
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = sa.inspect(connection).get_table_names()
    except sa.exc.OperationalError as error:
        raise BackupError(f"cannot reach the target database: {error.orig}") from error
    finally:
        engine.dispose()
    if tables:
        raise TargetNotEmpty(f"the target PostgreSQL database holds {len(tables)} table(s) "
                             f"({', '.join(sorted(tables)[:5])}…): restore into an empty "
                             "database (createdb NAME)")


def load(kind: str, dump: Path, database_url: str) -> None:
    """Put a snapshot into the (empty) target database."""
    target_kind = kind_of(database_url)
    if target_kind != kind:
        raise BackupError(f"this backup holds a {kind} database; HEMICYCLE_DATABASE_URL names "
                          f"a {target_kind} one")
    if kind == "sqlite":
        path = sqlite_path(database_url)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dump, path)
        path.chmod(0o600)
        return
    _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
          "--single-transaction", f"--dbname={libpq_url(database_url)}", str(dump)],
         "pg_restore")
