"""Click groups of the ``hemicycle`` command; each group lives in its own module."""
from __future__ import annotations

import functools

import click


def with_app(command):
    """Run the command inside an application context built from the environment."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from server import create_app

        with create_app().app_context():
            return command(*args, **kwargs)

    return wrapper


@click.group()
def cli() -> None:
    """Hemicycle: paperless meeting room server."""


def _register() -> None:
    from server.cli import archive, audit, ca, database, demo, minutes, serve, users

    for module in (archive, audit, ca, database, demo, minutes, serve, users):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()
