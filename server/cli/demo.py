"""``hemicycle demo``: set up an embedded demo (SQLite) and serve it."""
from __future__ import annotations

import os
from pathlib import Path

import click


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--data-dir", default="data/demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--no-serve", is_flag=True, help="Set up and seed, then exit.")
def demo_command(host: str, port: int, data_dir: Path, no_serve: bool) -> None:
    """Create (once) a demo council session in DATA_DIR and serve it on plain HTTP."""
    data_dir = data_dir.resolve()
    os.environ["HEMICYCLE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("HEMICYCLE_DATABASE_URL", f"sqlite:///{data_dir / 'hemicycle.db'}")
    # The demo runs on http://; Secure cookies would never be sent back.
    os.environ["HEMICYCLE_INSECURE_COOKIES"] = "1"

    from server import create_app
    from server.cli.database import upgrade
    from server.services import demo

    app = create_app()
    upgrade(app.config["DATABASE_URL"])
    with app.app_context():
        meeting_id = None
        if not demo.is_seeded():
            meeting_id = demo.seed().id
            click.echo(f"Seeded the demo in {data_dir}")
        else:
            click.echo(f"Using the demo already in {data_dir}")
        lines = demo.describe(f"http://{host}:{port}", meeting_id)
    click.echo("\n".join(lines))
    if not no_serve:
        from server.cli.serve import run_server

        run_server(app, host, port)


COMMANDS = [demo_command]
