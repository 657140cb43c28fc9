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
    """Recompute the whole chain, and every closed poll's ballots against the digest its
    closing committed to; exit 1 and list the problems if anything was altered."""
    from server.services import audit
    from server.services.voting import commitment

    result = audit.verify()
    problems = result.problems + commitment.check_polls()
    if not problems:
        click.echo(f"OK: {result.entries} entries, head {result.head}")
        return
    for problem in problems:
        click.echo(f"FAIL: {problem}", err=True)
    click.echo(f"{len(problems)} problem(s) in {result.entries} entries", err=True)
    sys.exit(1)


COMMANDS = [audit_group]
