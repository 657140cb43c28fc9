"""``hemicycle backup create|verify|restore|prune``: whole-deployment backups.

Exit codes (docs/OPERATIONS.md): 0 done; 1 an error to fix (a tool missing, a database
out of reach, a file that cannot be written); 2 a mistake on the command line; 3 the
restore target is not empty, nothing was touched; 4 the backup is damaged, incomplete, or
the passphrase is wrong.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

PASSPHRASE_HELP = "A file whose first line is the passphrase (encrypts; needed to read back)."


def _fail(error) -> None:
    click.echo(f"Error: {error}", err=True)
    sys.exit(error.exit_code)


def _data_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("HEMICYCLE_DATA_DIR") or "data").resolve()


def _database_url(value: str | None, data_dir: Path) -> str:
    return (value or os.environ.get("HEMICYCLE_DATABASE_URL")
            or f"sqlite:///{data_dir / 'hemicycle.db'}")


def _passphrase(path: Path | None) -> str | None:
    from server.services.backup.container import read_passphrase

    return read_passphrase(path)


target_options = [
    click.option("--data-dir", default=None,
                 help="The data directory (default: HEMICYCLE_DATA_DIR, else ./data)."),
    click.option("--database-url", default=None,
                 help="The database (default: HEMICYCLE_DATABASE_URL, else SQLite in the "
                      "data directory)."),
]


def with_targets(command):
    for option in reversed(target_options):
        command = option(command)
    return command


@click.group("backup")
def backup_group() -> None:
    """Backups of the database, stored files, keys and settings."""


@backup_group.command("create")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The backup file to write (replaced only once the new one is whole).")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=PASSPHRASE_HELP)
@with_targets
def create_command(out: Path, passphrase_file: Path | None, data_dir: str | None,
                   database_url: str | None) -> None:
    """Back up the running deployment: a consistent database snapshot, then the files."""
    from server.services.backup.create import create_backup
    from server.services.backup.database import BackupError

    directory = _data_dir(data_dir)
    try:
        manifest = create_backup(directory, _database_url(database_url, directory), out,
                                 _passphrase(passphrase_file))
    except BackupError as error:
        _fail(error)
    size = out.stat().st_size
    click.echo(f"Wrote {out} ({size:,} bytes, {len(manifest['files'])} files, "
               f"{manifest['database']['kind']} at {manifest['database']['schema_revision']}"
               f"{', encrypted' if manifest['encrypted'] else ''})")


@backup_group.command("verify")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=PASSPHRASE_HELP)
def verify_command(backup_file: Path, passphrase_file: Path | None) -> None:
    """Check every checksum of a backup and that its database snapshot reads back."""
    from server.services.backup.database import BackupError
    from server.services.backup.restore import verify

    try:
        checked = verify(backup_file, _passphrase(passphrase_file))
    except BackupError as error:
        _fail(error)
    manifest = checked.manifest
    if not checked.ok:
        for problem in checked.problems:
            click.echo(f"FAIL: {problem}", err=True)
        sys.exit(4)
    click.echo(f"OK: {len(manifest['files'])} files, {manifest['database']['kind']} at "
               f"{manifest['database']['schema_revision']}, taken {manifest['created_at']} "
               f"by Hemicycle {manifest['hemicycle_version']}")


@backup_group.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=PASSPHRASE_HELP)
@with_targets
def restore_command(backup_file: Path, passphrase_file: Path | None, data_dir: str | None,
                    database_url: str | None) -> None:
    """Restore a backup into an empty data directory and an empty database."""
    from server.services.backup.database import BackupError
    from server.services.backup.restore import restore

    directory = _data_dir(data_dir)
    url = _database_url(database_url, directory)
    try:
        manifest = restore(backup_file, directory, url, _passphrase(passphrase_file))
    except BackupError as error:
        _fail(error)
    click.echo(f"Restored {len(manifest['files'])} files into {directory} and the "
               f"{manifest['database']['kind']} database (schema "
               f"{manifest['database']['schema_revision']}, taken {manifest['created_at']}).")
    click.echo("Next: hemicycle db upgrade, then start the server.")


@backup_group.command("prune")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--keep", type=click.IntRange(1, 10000), default=14, show_default=True,
              help="How many of the newest backups to keep.")
@click.option("--pattern", default="hemicycle-*.backup", show_default=True,
              help="Which files of DIRECTORY are backups.")
def prune_command(directory: Path, keep: int, pattern: str) -> None:
    """Remove all but the newest KEEP backups of DIRECTORY."""
    from server.services.backup.prune import prune

    removed = prune(directory, pattern, keep)
    for path in removed:
        click.echo(f"Removed {path}")
    click.echo(f"Kept the newest {keep}; removed {len(removed)}.")


COMMANDS = [backup_group]
