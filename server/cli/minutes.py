"""``hemicycle minutes verify``: check the signatures on a minutes PDF.

Exit codes of the verify commands (here and ``archive verify``): 0 verified,
1 verification failed, 2 usage error or unreadable input (no such file, not a
PDF or package, an unreadable trust root, no such meeting).
"""
from __future__ import annotations

import logging
import sys
from datetime import timezone
from pathlib import Path

import click

EXIT_FAILED = 1
EXIT_UNREADABLE = 2

trust_option = click.option(
    "--trust", "trust_paths", multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="A PEM file (or directory of them) of roots to trust as well as the deployment's "
         "own CA and HEMICYCLE_TRUST_ROOTS; may be repeated.")


def unreadable(message: str):
    click.echo(f"FAIL: {message}", err=True)
    sys.exit(EXIT_UNREADABLE)


def load_roots(trust_paths) -> list:
    """The roots this verification trusts; pyHanko's own log lines are kept off the screen,
    since every problem is reported as one plain line."""
    from server.services.minutes.trust import TrustError, deployment_roots

    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        roots = deployment_roots(trust_paths)
    except TrustError as error:
        unreadable(str(error))
    names = "; ".join(root.subject.rfc4514_string() for root in roots) or "none"
    click.echo(f"Trusted roots: {names}")
    return roots


_CHANGES = {"NONE": "nothing", "LTA_UPDATES": "validation data and timestamps only",
            "FORM_FILLING": "the next signature only"}


def signature_line(sig) -> str:
    """One line per signature: who, issuer, level, the TSA's time, revocation, what came
    after it, then OK or every problem."""
    head = f"{sig.field}: {sig.signer or '?'}, signed {sig.signed_at or '?'}"
    details = (f" [issuer {sig.issuer or '?'}; PAdES {sig.level}; timestamp "
               f"{sig.timestamped_at or 'none (time as the signer states it)'}; revocation "
               f"{sig.revocation or 'unknown'}; changed after it: "
               f"{_CHANGES.get(sig.modifications, sig.modifications.lower())}]")
    if sig.ok:
        return f"OK: {head}{details}, intact, valid and trusted"
    return f"FAIL: {head}{details}: " + "; ".join(sig.problems)


@click.group("minutes")
def minutes_group() -> None:
    """Signed minutes."""


def _check_record(result, pdf: bytes, meeting_id: int) -> None:
    from server import create_app
    from server.extensions import db
    from server.models import Meeting
    from server.services.minutes.minutes import minutes_of, read_blob
    from server.services.minutes.verify import check_record

    from sqlalchemy.exc import SQLAlchemyError

    with create_app().app_context():
        try:
            meeting = db.session.get(Meeting, meeting_id)
        except SQLAlchemyError as error:
            unreadable(f"the database cannot be read: {str(error).splitlines()[0]}")
        minutes = minutes_of(meeting) if meeting is not None else None
        if minutes is None or minutes.pdf_sha256 is None:
            unreadable(f"meeting {meeting_id} has no final minutes in this database")
        check_record(result, pdf, minutes, read_blob(minutes.pdf_sha256))


@minutes_group.command("verify")
@click.argument("pdf_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@trust_option
@click.option("--meeting", "meeting_id", type=int, default=None,
              help="Also check against this meeting's record in the database: the chair's "
                   "and the secretary's registered certificates, in that order.")
@click.option("--at", "at", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]), default=None,
              help="Check as on this date (UTC), e.g. years ahead: does the file alone still "
                   "prove its signatures then?")
def verify_command(pdf_file: Path, trust_paths, meeting_id: int | None, at) -> None:
    """Check both signatures (chair, then secretary) and print the audit head the minutes state.

    Trusts the deployment's own CA (DATA_DIR/ca/ca.pem), HEMICYCLE_TRUST_ROOTS and --trust.
    Needs no database unless --meeting is given. Exit 0 verified, 1 failed, 2 unreadable input.
    """
    from server.services.minutes.verify import verify_pdf

    roots = load_roots(trust_paths)
    try:
        pdf = pdf_file.read_bytes()
    except OSError as error:
        unreadable(f"{pdf_file}: {error.strerror or error}")
    result = verify_pdf(pdf, roots, at=at.replace(tzinfo=timezone.utc) if at else None)
    if result.error:
        unreadable(result.error)
    if meeting_id is not None:
        _check_record(result, pdf, meeting_id)
    for sig in result.signatures:
        click.echo(signature_line(sig))
    for problem in result.problems:
        click.echo(f"FAIL: {problem}")
    for stamp in result.timestamps:
        click.echo(f"Document timestamp: {stamp}")
    click.echo(f"Audit head: {result.audit_head or 'not found'}")
    if not result.ok:
        click.echo("FAIL: these minutes do not pass verification.", err=True)
        sys.exit(EXIT_FAILED)
    click.echo("OK: both signatures are valid, trusted and in order"
               + (", by the registered chair and secretary." if meeting_id else "."))


COMMANDS = [minutes_group]
