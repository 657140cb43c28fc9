"""Click groups of the ``hemicycle`` command; each group lives in its own module."""
from __future__ import annotations

import click
from flask.cli import FlaskGroup


def _create_app():
    from server import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def cli() -> None:
    """Hemicycle: paperless meeting room server."""


def _register() -> None:
    from server.cli import audit, database, demo, serve, users

    for module in (audit, database, demo, serve, users):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()
