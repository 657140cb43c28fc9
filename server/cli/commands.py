"""Click groups of the ``hemicycle`` command; each group lives in its own module."""
from __future__ import annotations

import functools
import importlib

import click

COMMAND_MODULES = ("archive", "audit", "backup", "ca", "consultations", "database", "demo",
                   "minutes", "serve", "users", "watermark")


def with_app(command):
    """Run the command inside an application context built from the environment."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from server import create_app

        with create_app().app_context():
            return command(*args, **kwargs)

    return wrapper


class HemicycleGroup(click.Group):
    """Collects the commands of every module on first use, so that modules can import
    ``with_app`` from here without a circular import."""

    _loaded = False

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for name in COMMAND_MODULES:
                module = importlib.import_module(f"server.cli.{name}")
                for command in module.COMMANDS:
                    self.add_command(command)

    def list_commands(self, ctx):
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx, name):
        self._load()
        return super().get_command(ctx, name)


@click.group(cls=HemicycleGroup)
def cli() -> None:
    """Hemicycle: paperless meeting room server."""
