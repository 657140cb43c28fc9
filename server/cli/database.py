"""``hemicycle db upgrade|downgrade|current``: Alembic migrations, on SQLite and PostgreSQL."""
from __future__ import annotations

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
@with_app
def upgrade_command(revision: str) -> None:
    """Bring the database schema up to REVISION (default: the latest)."""
    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database at {revision}.")


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
