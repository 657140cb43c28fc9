"""``hemicycle db upgrade|downgrade|current``: Alembic migrations, on SQLite and PostgreSQL.

``db upgrade`` takes a backup first (``hemicycle backup``) when the database already holds a
schema that the upgrade would change; ``--no-backup`` skips it.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from server.cli.commands import with_app

from server.paths import ROOT


def alembic_config(database_url: str):
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


@click.group("db")
def db_group() -> None:
    """Database schema migrations."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@click.option("--no-backup", is_flag=True, help="Do not take a backup before migrating.")
@click.option("--backup-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where the backup goes (default: DATA_DIR/backups/pre-upgrade-….backup).")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Encrypt the backup with the passphrase on this file's first line.")
@with_app
def upgrade_command(revision: str, no_backup: bool, backup_out: Path | None,
                    passphrase_file: Path | None) -> None:
    """Bring the database schema up to REVISION (default: the latest), after a backup."""
    url = current_app.config["DATABASE_URL"]
    current, target = revisions(url, revision)
    if current is not None and current == target:
        click.echo(f"Database already at {revision} ({current}).")
        return
    if current is not None and not no_backup:
        _backup_first(url, backup_out, passphrase_file)
    upgrade(url, revision)
    click.echo(f"Database at {revision}.")


def revisions(database_url: str, revision: str) -> tuple[str | None, str | None]:
    """(the revision the database is at, None for an empty one; the one asked for)."""
    from alembic.script import ScriptDirectory

    from server.services.backup.database import schema_revision

    script = ScriptDirectory.from_config(alembic_config(database_url))
    try:
        target = script.get_revision(revision)
    except Exception:  # a branch label or relative revision: let Alembic decide
        target = None
    return schema_revision(database_url), target.revision if target else None


def _backup_first(url: str, out: Path | None, passphrase_file: Path | None) -> None:
    from datetime import datetime, timezone

    from server.services.backup.container import read_passphrase
    from server.services.backup.create import create_backup
    from server.services.backup.database import BackupError

    data_dir = Path(current_app.config["DATA_DIR"])
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = out or data_dir / "backups" / f"pre-upgrade-{stamp}.backup"
    try:
        create_backup(data_dir, url, out, read_passphrase(passphrase_file))
    except BackupError as error:
        click.echo(f"Error: the backup before the upgrade failed, nothing migrated: {error}",
                   err=True)
        sys.exit(error.exit_code)
    click.echo(f"Backed up to {out} (restore it with `hemicycle backup restore`).")


@db_group.command("downgrade")
@click.argument("revision")
@with_app
def downgrade_command(revision: str) -> None:
    """Take the schema back to REVISION ("base" empties the database)."""
    from alembic import command

    command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"Database at {revision}.")


@db_group.command("current")
@with_app
def current_command() -> None:
    """Show the schema revision the database is at."""
    from alembic import command

    command.current(alembic_config(current_app.config["DATABASE_URL"]))


COMMANDS = [db_group]
