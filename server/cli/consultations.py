"""``hemicycle consultations close-due``: close and tally written consultations past their deadline.

Reading a consultation over the API closes it too; this command (run from cron, say every
minute) closes those nobody reads.
"""
from __future__ import annotations

import click

from server.cli.commands import with_app


@click.group("consultations")
def consultations_group() -> None:
    """Written consultations between sessions."""


@consultations_group.command("close-due")
@with_app
def close_due_command() -> None:
    """Close and tally every consultation whose deadline has passed."""
    from server.extensions import db
    from server.services.consultations import closing

    closed = closing.close_due()
    db.session.commit()
    for consultation in closed:
        outcome = "adopted" if consultation.result["passed"] else "not adopted"
        click.echo(f"closed {consultation.id}: {consultation.title} ({outcome})")


COMMANDS = [consultations_group]
