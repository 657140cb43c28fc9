"""``hemicycle consultations close-due``: close and tally written consultations past their deadline.

Reading a consultation over the API closes it too; this command (run from cron, say every
minute) closes those nobody reads. ``hemicycle consultations test-email ADDRESS`` checks
the ``HEMICYCLE_SMTP_*`` settings by sending one email.
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


@consultations_group.command("test-email")
@click.argument("address")
def test_email_command(address: str) -> None:
    """Send one email to ADDRESS through the HEMICYCLE_SMTP_* server; exit 1 saying why
    when it does not go (settings, connection, TLS, login, refused address)."""
    from server import create_app
    from server.config import Config
    from server.services import mail
    from server.services.consultations import emailing

    try:
        config = Config.from_env()
    except ValueError as error:  # a setting out of its range: say which, without a traceback
        raise click.ClickException(str(error)) from None
    app = create_app(config)
    with app.app_context():
        settings = mail.SmtpSettings.from_config(app.config)
        if settings is None:
            raise click.ClickException("HEMICYCLE_SMTP_HOST is not set: email is off")
        outcome = mail.send(settings, [emailing.test_letter(address)])
    if outcome.failed:
        raise click.ClickException(f"not sent: {outcome.error}")
    click.echo(f"sent to {address} through {settings.host}:{settings.port} "
               f"({settings.security})")


COMMANDS = [consultations_group]
