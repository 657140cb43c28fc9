"""``hemicycle watermark identify IMAGE``: name the reader of a leaked page image.

Exit codes: 0 a reader is named; 1 no mark was found (not one of this server's confidential
copies, too damaged, or another deployment's secret key); 2 a usage error or an image that
cannot be read.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from server.cli.commands import with_app


@click.group("watermark")
def watermark_group() -> None:
    """Per-reader watermarks of confidential documents."""


@watermark_group.command("identify")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_app
def identify_command(image: Path) -> None:
    """Name the reader whose copy IMAGE (a photo, scan or screenshot of a page) is."""
    from PIL import Image, UnidentifiedImageError

    from server.services.documents import leaks

    try:
        with Image.open(image) as opened:
            picture = opened.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        click.echo(f"Cannot read {image}: {exc}", err=True)
        sys.exit(2)
    found, best = leaks.identify(picture)
    if found is None:
        click.echo("No reader's mark found in this image.")
        for copy in best:
            click.echo(f"  closest: {copy.reader_name}, score {copy.score:.2f} "
                       f"(needs {leaks.MIN_SCORE} and a lead of {leaks.MIN_MARGIN})")
        sys.exit(1)
    click.echo(f"Reader: {found.reader_name}")
    click.echo(f"Meeting: {found.meeting_title} (#{found.meeting_id})")
    click.echo(f"Document: {found.document_title} (#{found.document_id}), version "
               f"{found.version}, page {found.page}")
    click.echo(f"Served: after {found.version_uploaded_at:%Y-%m-%d %H:%M} UTC (the version's "
               "upload); the visible mark gives the minute")
    click.echo(f"Score: {found.score:.2f} (runner-up "
               f"{best[1].score if len(best) > 1 else 0.0:.2f})")


COMMANDS = [watermark_group]
