"""``hemicycle minutes verify``: check the signatures on a minutes PDF."""
from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group("minutes")
def minutes_group() -> None:
    """Signed minutes."""


@minutes_group.command("verify")
@click.argument("pdf_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", "trust_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM certificate(s) to trust as roots, e.g. DATA_DIR/ca/ca.pem.")
def verify_command(pdf_file: Path, trust_file: Path | None) -> None:
    """Check both signatures (chair, then secretary) and print the audit head the minutes state.

    Needs no database: anyone holding the PDF can run it. Exit 1 unless both
    signatures are intact and valid and the last one covers the whole file.
    """
    from server.services.minutes.signing import verify_pdf

    trust = [trust_file.read_bytes()] if trust_file else None
    result = verify_pdf(pdf_file.read_bytes(), trust)
    if result.error:
        click.echo(f"FAIL: {result.error}", err=True)
        sys.exit(1)
    for sig in result.signatures:
        state = "OK" if sig.ok else "FAIL"
        trusted = "trusted" if sig.trusted else "not trusted" + ("" if trust else " (no --trust)")
        click.echo(f"{state}: {sig.field}: {sig.signer}, signed {sig.signed_at}, "
                   f"intact={sig.intact}, valid={sig.valid}, {trusted}, "
                   f"coverage={sig.coverage}, changed after={sig.modifications}")
    click.echo(f"Audit head: {result.audit_head or 'not found'}")
    if not result.ok:
        click.echo("FAIL: the minutes do not carry both valid signatures over the whole file.",
                   err=True)
        sys.exit(1)
    click.echo("OK: both signatures are valid.")


COMMANDS = [minutes_group]
