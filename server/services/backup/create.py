"""What a backup holds, in the order it is taken.

1. The database, as one consistent snapshot (database.snapshot).
2. The data directory: stored documents (``blobs/``, content-addressed and never changed
   once written), the CA and users' signing keys (``ca/``, ``keystore/``), the secret key
   and anything else kept there, except what is rebuilt on demand (``cache/``, ``tmp/``),
   the live SQLite files (the snapshot stands for them) and backups themselves.
3. ``settings.json``: the ``HEMICYCLE_*`` settings in force, secrets left out.
4. ``manifest.json``: the version, the database kind and schema revision, the time the
   snapshot began and a sha256 and size for every member.

The database goes first on purpose: a document is stored before the row that names it is
committed, so every file the snapshot refers to is already on disk when the files are read.
The one exception is the audit checkpoint file (``audit/checkpoints.jsonl``), read *before*
the snapshot: a checkpoint names an entry already committed, so an earlier copy never
names an entry the snapshot lacks (a later one could, and the restored chain would then
fail `audit verify` as cut short).
"""
from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from server.services.backup import container, database

FORMAT = 1
SKIPPED_DIRS = {"cache", "tmp", "backups"}
CHECKPOINTS = "data/audit/checkpoints.jsonl"
STATE_FILE = "last_backup.json"
SECRET_SETTINGS = ("SECRET", "PASSWORD", "PASSPHRASE", "TOKEN")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version as package_version

    try:
        return package_version("hemicycle")
    except PackageNotFoundError:
        return "unknown"


def data_files(data_dir: Path, skip: set[Path]):
    """(name in the backup, path) of every file of the data directory to keep, sorted."""
    data_dir = Path(data_dir).resolve()
    for root, dirs, files in os.walk(data_dir):
        here = Path(root)
        if here == data_dir:
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        dirs[:] = sorted(d for d in dirs if not (here / d).is_symlink())
        for name in sorted(files):
            path = here / name
            if (name.startswith(".tmp-") or path.is_symlink() or path.resolve() in skip
                    or (here == data_dir and (name == STATE_FILE or name.endswith(".log")))):
                continue
            yield "data/" + path.relative_to(data_dir).as_posix(), path


def settings(environ=os.environ) -> dict:
    """The deployment's HEMICYCLE_* settings, for the operator who rebuilds the machine."""
    found = {}
    for name, value in sorted(environ.items()):
        if not name.startswith("HEMICYCLE_"):
            continue
        short = name.removeprefix("HEMICYCLE_")
        if any(word in short for word in SECRET_SETTINGS):
            value = "(set; not kept in the backup)"
        elif short in ("DATABASE_URL", "REDIS_URL"):
            from sqlalchemy.engine import make_url

            try:
                value = make_url(value).render_as_string(hide_password=True)
            except Exception:  # not a URL SQLAlchemy reads: keep nothing of it
                value = "(set)"
        found[name] = value
    return found


def _skipped(data_dir: Path, database_url: str, out: Path) -> set[Path]:
    skip = {Path(out).resolve()}
    if database.kind_of(database_url) == "sqlite":
        live = database.sqlite_path(database_url)
        skip |= {Path(f"{live}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")}
    return skip


def create_backup(data_dir: Path, database_url: str, out: Path,
                  passphrase: str | None = None) -> dict:
    """Write a backup of the running deployment to ``out``; returns its manifest."""
    data_dir, out = Path(data_dir).resolve(), Path(out).resolve()
    kind = database.kind_of(database_url)
    writer = container.Writer(out, passphrase)
    try:
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".backup-") as work:
            started = _now()
            checkpoints = data_dir / CHECKPOINTS.removeprefix("data/")
            early = checkpoints.read_bytes() if checkpoints.is_file() else None
            dump = Path(work) / "snapshot"
            database.snapshot(database_url, dump)
            revision = (database.schema_revision(f"sqlite:///{dump}") if kind == "sqlite"
                        else database.schema_revision(database_url))
            member = "database/sqlite.db" if kind == "sqlite" else "database/postgresql.dump"
            writer.add_file(member, dump)
        skip = _skipped(data_dir, database_url, out) | {writer.tmp.resolve()}
        for name, path in data_files(data_dir, skip):
            try:
                if name == CHECKPOINTS and early is not None:
                    writer.add_bytes(name, early)
                    continue
                writer.add_file(name, path)
            except FileNotFoundError:
                continue  # a temporary file that went away: nothing to keep
        secret_in_env = bool(os.environ.get("HEMICYCLE_SECRET_KEY"))
        writer.add_bytes("settings.json", json.dumps({
            "settings": settings(),
            "secret_key": ("HEMICYCLE_SECRET_KEY (not in this backup: keep it with the "
                           "settings)") if secret_in_env else "data/secret_key",
        }, ensure_ascii=False, indent=1).encode())
        manifest = writer.finish({
            "format": FORMAT, "hemicycle_version": version(), "created_at": _now(),
            "snapshot_started_at": started, "encrypted": bool(passphrase),
            "database": {"kind": kind, "member": member, "schema_revision": revision},
        })
    except BaseException:
        writer.abort()
        raise
    record_last_backup(data_dir, out, manifest)
    return manifest


def record_last_backup(data_dir: Path, out: Path, manifest: dict) -> None:
    """DATA_DIR/last_backup.json: what the admin system page and monitoring show."""
    from server.files import atomic_write

    state = {"path": str(out), "created_at": manifest["created_at"],
             "size": out.stat().st_size, "encrypted": manifest["encrypted"],
             "files": len(manifest["files"])}
    atomic_write(Path(data_dir) / STATE_FILE, json.dumps(state, indent=1).encode())


def last_backup(data_dir: Path) -> dict | None:
    try:
        return json.loads((Path(data_dir) / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
