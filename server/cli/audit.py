"""``hemicycle audit``: check the audit log's hash chain against its signed checkpoints.

Exit codes of ``audit verify``: 0 the chain is intact and matches every checkpoint and every
minutes' stated head; 1 something is broken (or could not be checked: the database or the
key unreadable), each problem on its own ``FAIL:`` line; 2 a usage error (click's).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from server.cli.commands import with_app

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


def _fail(message: str) -> None:
    click.echo(f"FAIL: {message}", err=True)
    sys.exit(1)


@audit_group.command("verify")
@click.option("--checkpoints", "checkpoint_file", type=_FILE,
              help="A copy of the checkpoint file kept off this machine "
                   "(default: the data directory's).")
@click.option("--key", "key_file", type=_FILE,
              help="The audit public key (PEM) to check the checkpoints with "
                   "(default: DATA_DIR/audit/audit-key.pem).")
@click.option("--tsa-trust", "tsa_trust", type=_FILE,
              help="PEM root certificate(s) of the TSA; without it a timestamp's signature is "
                   "checked but not whose it is.")
@with_app
def verify_command(checkpoint_file: Path | None, key_file: Path | None,
                   tsa_trust: Path | None) -> None:
    """Recompute the whole chain and compare it with the signed checkpoints and the heads the
    signed minutes state, and every closed poll's ballots with the digest its closing
    committed to; exit 1 naming each entry, checkpoint or poll that does not fit."""
    from sqlalchemy.exc import SQLAlchemyError

    from server.services.anchoring import chain, keys
    from server.services.voting import commitment

    try:
        report = chain.verify_chain(checkpoint_file, key_file.read_bytes() if key_file else None,
                                    [tsa_trust.read_bytes()] if tsa_trust else None)
    except keys.AuditKeyError as error:
        _fail(str(error))
    except SQLAlchemyError as error:
        _fail(f"cannot read the audit log: {str(error).splitlines()[0]}")
    problems = report.problems + commitment.check_polls()
    summary = (f"{report.entries} entries, head {report.head}; {report.checkpoints} "
               f"checkpoint(s), {report.timestamped} timestamped; {report.minutes} minutes")
    if not problems:
        click.echo(f"OK: {summary}")
    for note in report.notes:
        click.echo(f"Note: {note}")
    if not problems:
        return
    for problem in problems:
        click.echo(f"FAIL: {problem}", err=True)
    click.echo(f"{len(problems)} problem(s): {summary}", err=True)
    sys.exit(1)


@audit_group.command("checkpoint")
@with_app
def checkpoint_command() -> None:
    """Sign (and timestamp, with HEMICYCLE_AUDIT_TSA_URL) the chain's head now, e.g. before a
    backup or from cron."""
    from server.services.anchoring import checkpoints, keys

    try:
        written = checkpoints.checkpoint_now("manual")
    except keys.AuditKeyError as error:
        _fail(str(error))
    if written is None:
        click.echo("The audit log is empty: nothing to checkpoint.")
        return
    stamp = "timestamped" if written.get("tst") else "not timestamped"
    click.echo(f"Checkpoint: entry {written['seq']}, head {written['hash']} ({stamp}) in "
               f"{checkpoints.checkpoint_path()}")


@audit_group.command("key")
@with_app
def key_command() -> None:
    """Print the audit key's id and public key (created on first use): keep a copy elsewhere
    to check checkpoints and archive packages with."""
    from server.services.anchoring import keys

    try:
        signer = keys.signer()
        public = signer.public_pem()
    except keys.AuditKeyError as error:
        _fail(str(error))
    click.echo(f"Audit key {signer.key_id()} ({signer.public_path})")
    click.echo(public.decode().rstrip())


COMMANDS = [audit_group]
