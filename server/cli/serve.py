"""``hemicycle serve``: run the real-time server (eventlet by default)."""
from __future__ import annotations

import gc
import resource
import sys

import click

# Each tablet holds one socket; a server that runs out of descriptors dies, so
# ask for as many as the system allows and refuse to start below this.
MIN_FILE_DESCRIPTORS = 4096


def raise_file_limit(minimum: int = MIN_FILE_DESCRIPTORS) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft < minimum:
        raise click.ClickException(
            f"Only {soft} file descriptors are allowed (hard limit {hard}); Hemicycle needs at "
            f"least {minimum} to serve tablets. Raise it with `ulimit -n {minimum}` or in the "
            f"service unit (LimitNOFILE=)."
        )
    return soft


def run_server(app, host: str, port: int) -> None:
    from server.extensions import socketio
    from server.realtime import server_starting

    limit = raise_file_limit()
    server_starting(app)
    with app.app_context():
        from server.services import storage

        storage.remove_stale_temporaries()  # leftovers of writes a crash interrupted
    from server.realtime import heartbeat

    socketio.start_background_task(heartbeat.run_forever, app)
    mode = app.config["ASYNC_MODE"]
    click.echo(f"Hemicycle on http://{host}:{port}/ ({mode}, {limit} file descriptors)")
    sys.stdout.flush()
    kwargs = {"allow_unsafe_werkzeug": True} if mode == "threading" else {}
    # The app's import-time objects (~230k: SQLAlchemy, pydantic, pyHanko, ...) live as
    # long as the process. Left in the collected heap, every full collection walks them
    # all (~300 ms on a busy 2-core machine), stalling every tablet's messages at once.
    # Freezing moves them to the permanent generation; only runtime objects are scanned.
    gc.collect()
    gc.freeze()
    socketio.run(app, host=host, port=port, log_output=False, use_reloader=False, **kwargs)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Serve Hemicycle; configure it with HEMICYCLE_* environment variables."""
    from server import create_app

    run_server(create_app(), host, port)


COMMANDS = [serve_command]
