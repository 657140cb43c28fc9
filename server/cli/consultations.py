"""``hemicycle consultations close-due``: close and tally written consultations past their deadline.

Reading a consultation over the API closes it too; this command (run from cron, say every
minute) closes those nobody reads. ``hemicycle consultations test-email ADDRESS`` checks
the ``HEMICYCLE_SMTP_*`` settings by sending one email. ``sign-report ID`` seals a report
kept unsigned at closing; ``export ID --out F.zip`` writes the archive package.
"""
from __future__ import annotations

import sys
from pathlib import Path

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
    from server.services.consultations import closing, reporting

    closed = closing.close_due()
    db.session.commit()
    reports = reporting.issue_pending()
    for consultation in closed:
        outcome = "adopted" if consultation.result["passed"] else "not adopted"
        click.echo(f"closed {consultation.id}: {consultation.title} ({outcome})")
    if reports:
        click.echo(f"reports issued: {reports}")


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


@consultations_group.command("sign-report")
@click.argument("consultation_id", type=int)
@with_app
def sign_report_command(consultation_id: int) -> None:
    """Seal a report kept unsigned at closing (no seal then, or a TSA that was down)."""
    from server.errors import HemicycleError
    from server.extensions import db
    from server.services.consultations import reporting

    try:
        consultation = reporting.sign_later(consultation_id)
    except HemicycleError as error:
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Report of consultation {consultation_id} sealed by "
               f"{consultation.report_signed_by}.")


@consultations_group.command("export")
@click.argument("consultation_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="A .zip file, or a directory for an unzipped bag.")
@with_app
def export_command(consultation_id: int, out: Path) -> None:
    """Write the archive package of a closed consultation (check it: `archive verify`)."""
    from server.errors import HemicycleError
    from server.services.archive.consultation_package import export_package

    try:
        written = export_package(consultation_id, out)
    except HemicycleError as error:
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    click.echo(f"Wrote {written}")


COMMANDS = [consultations_group]
