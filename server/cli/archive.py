"""``hemicycle archive``: export, verify, list and search sealed meetings."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from server.cli.commands import with_app
from server.cli.minutes import EXIT_FAILED, load_roots, signature_line, trust_option, unreadable


@click.group("archive")
def archive_group() -> None:
    """Archive packages (BagIt) of sealed meetings."""


@archive_group.command("export")
@click.argument("meeting_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="A .zip file, or a directory for an unzipped bag.")
@with_app
def export_command(meeting_id: int, out: Path) -> None:
    """Write the archive package of a sealed meeting."""
    from server.errors import HemicycleError
    from server.services.archive.package import export_package

    try:
        written = export_package(meeting_id, out)
    except HemicycleError as error:
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    click.echo(f"Wrote {written}")


@archive_group.command("verify")
@click.argument("package", type=click.Path(exists=True, path_type=Path))
@trust_option
@click.option("--audit-key", "audit_key", type=click.Path(exists=True, dir_okay=False,
                                                           path_type=Path),
              help="The deployment's audit public key (`hemicycle audit key`) instead of the "
                   "one inside the package.")
def verify_command(package: Path, trust_paths, audit_key: Path | None) -> None:
    """Check a package: BagIt checksums, both signatures, and the audit chain up to the
    head the minutes state, and the chain's signed checkpoints. Needs no database.

    Trusts the deployment's own CA, HEMICYCLE_TRUST_ROOTS and --trust, never the CA
    certificate inside the package. Exit 0 verified, 1 failed, 2 unreadable input.
    """
    from server.services.archive.verify import verify_package

    roots = load_roots(trust_paths)
    result = verify_package(package, roots, audit_key.read_bytes() if audit_key else None)
    if result.unreadable:
        unreadable("; ".join(result.problems))
    for note in result.notes:
        click.echo(f"Note: {note}")
    if result.pdf is not None:
        for sig in result.pdf.signatures:
            click.echo(signature_line(sig))
        for stamp in result.pdf.timestamps:
            click.echo(f"Document timestamp: {stamp}")
        click.echo(f"Audit head: {result.pdf.audit_head or 'not found'}")
    if not result.ok:
        for problem in result.problems:
            click.echo(f"FAIL: {problem}", err=True)
        sys.exit(EXIT_FAILED)
    click.echo("OK: the package is complete, signed and consistent.")


@archive_group.command("retimestamp")
@click.argument("packages", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@trust_option
def retimestamp_command(packages, trust_paths) -> None:
    """Renew the archive timestamp of each package's signed minutes (PAdES B-LTA): the
    last timestamp's validation data and a new document timestamp from HEMICYCLE_TSA_URL,
    then the bag's manifests. Run it before the last timestamp's certificate expires.
    Prints every file touched. Exit 0 done, 1 a package could not be re-timestamped."""
    from server.errors import HemicycleError
    from server.services.longterm.retimestamp import last_timestamp_expiry, retimestamp_package

    roots = load_roots(trust_paths)
    failed = False
    for package in packages:
        try:
            touched = retimestamp_package(package, roots)
        except (HemicycleError, OSError, ValueError) as error:
            click.echo(f"FAIL: {package}: {getattr(error, 'message', error)}", err=True)
            failed = True
            continue
        for name in touched:
            click.echo(f"Touched: {name}")
        pdf = _signed_pdf(package)
        expiry = last_timestamp_expiry(pdf) if pdf else None
        click.echo(f"OK: {package} re-timestamped"
                   + (f"; renew before {expiry:%Y-%m-%d}" if expiry else ""))
    if failed:
        sys.exit(EXIT_FAILED)


def _signed_pdf(package: Path) -> bytes | None:
    import zipfile

    if package.is_dir():
        path = package / "data" / "minutes" / "minutes-signed.pdf"
        return path.read_bytes() if path.is_file() else None
    with zipfile.ZipFile(package) as archive:
        name = next((n for n in archive.namelist()
                     if n.endswith("/data/minutes/minutes-signed.pdf")), None)
        return archive.read(name) if name else None


@archive_group.command("list")
@with_app
def list_command() -> None:
    """List the sealed meetings."""
    from server.services.archive.package import sealed_meetings

    meetings = sealed_meetings()
    for meeting in meetings:
        click.echo(f"{meeting.id}\t{meeting.starts_at:%Y-%m-%d}\t{meeting.sealed_at:%Y-%m-%d}\t"
                   f"{meeting.body}\t{meeting.title}")
    if not meetings:
        click.echo("No sealed meeting yet.")


@archive_group.command("search")
@click.argument("query")
@click.option("--body", default=None)
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), default=None)
@with_app
def search_command(query: str, body: str | None, date_from, date_to) -> None:
    """Search the minutes and documents of sealed meetings, and closed written
    consultations (diacritics optional)."""
    from server.errors import HemicycleError
    from server.services.actors import Actor
    from server.services.archive.search import search

    try:
        hits = search(Actor.system(), query, body=body,
                      date_from=date_from.date() if date_from else None,
                      date_to=date_to.date() if date_to else None)
    except HemicycleError as error:
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    for hit in hits:
        where = (f"consultation {hit['consultation_id']}" if hit.get("consultation_id")
                 else str(hit["meeting_id"]))
        click.echo(f"{where}\t{hit['starts_at'][:10]}\t{hit['label']}\t{hit['snippet']}")
    if not hits:
        click.echo("Nothing found.")


@archive_group.command("reindex")
@with_app
def reindex_command() -> None:
    """Rebuild the search index of every sealed meeting and closed consultation."""
    from server.extensions import db
    from server.services.archive.package import sealed_meetings
    from server.services.archive.search import (
        closed_consultations, index_consultation, index_meeting)

    rows = sum(index_meeting(meeting) for meeting in sealed_meetings())
    rows += sum(index_consultation(c) for c in closed_consultations())
    db.session.commit()
    click.echo(f"Indexed {rows} passages.")


COMMANDS = [archive_group]
