"""``hemicycle audit verify``: check the hash chain of the audit log."""
from __future__ import annotations

import sys

import click
from server.cli.commands import with_app


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("verify")
@with_app
def verify_command() -> None:
    """Recompute the whole chain; exit 1 and list the problems if any entry was altered."""
    from server.services import audit

    result = audit.verify()
    if result.ok:
        click.echo(f"OK: {result.entries} entries, head {result.head}")
        return
    for problem in result.problems:
        click.echo(f"FAIL: {problem}", err=True)
    click.echo(f"{len(result.problems)} problem(s) in {result.entries} entries", err=True)
    sys.exit(1)


COMMANDS = [audit_group]
