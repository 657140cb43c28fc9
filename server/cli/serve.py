"""``hemicycle serve``: run the real-time server (eventlet by default)."""
from __future__ import annotations

import gc
import logging
import resource
import sys

import click

# Each tablet holds one socket; a server that runs out of descriptors dies, so
# ask for as many as the system allows and refuse to start below this.
MIN_FILE_DESCRIPTORS = 4096
# Connections the kernel queues before the server accepts them (capped by
# net.core.somaxconn). A room of tablets connects at once, after a restart or a
# Wi-Fi drop, and fetches a pushed page at once: with a short queue the SYNs that
# do not fit are dropped and retried a second later.
LISTEN_BACKLOG = 4096


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
        from server.services.documents import storage

        storage.remove_stale_temporaries()  # leftovers of writes a crash interrupted
    from server.realtime import heartbeat

    from server.services.anchoring import checkpoints

    socketio.start_background_task(heartbeat.run_forever, app)
    socketio.start_background_task(checkpoints.run_forever, app)
    from server.monitoring import workers

    try:
        workers.record(app.config, f"{host}:{port}")
    except Exception as exc:  # Redis not up yet: the background task records it later
        logging.getLogger(__name__).warning("could not record this worker: %s", exc)
    socketio.start_background_task(workers.run_forever, app, f"{host}:{port}")
    mode = app.config["ASYNC_MODE"]
    started = f"Hemicycle on http://{host}:{port}/ ({mode}, {limit} file descriptors)"
    if app.config.get("LOG_FORMAT") == "json":  # every line a collector reads is JSON
        logging.getLogger(__name__).info(started)
    else:
        click.echo(started)
    sys.stdout.flush()
    # The app's import-time objects (~230k: SQLAlchemy, pydantic, pyHanko, ...) live as
    # long as the process. Left in the collected heap, every full collection walks them
    # all (~300 ms on a busy 2-core machine), stalling every tablet's messages at once.
    # Freezing moves them to the permanent generation; only runtime objects are scanned.
    gc.collect()
    gc.freeze()
    if mode == "eventlet":
        _serve_eventlet(app, host, port, limit)
    elif mode == "gevent":
        socketio.run(app, host=host, port=port, log_output=False, use_reloader=False,
                     backlog=LISTEN_BACKLOG)
    else:  # threading: Werkzeug's server, for development (its listen queue is 128)
        socketio.run(app, host=host, port=port, log_output=False, use_reloader=False,
                     allow_unsafe_werkzeug=True)


def _serve_eventlet(app, host: str, port: int, file_limit: int) -> None:
    """What ``socketio.run`` does under eventlet, with a listen queue and a connection limit
    sized for a room of tablets (its defaults are 50 and 1,024)."""
    import eventlet
    import eventlet.green.socket
    import eventlet.wsgi

    family, _type, _proto, _name, address = eventlet.green.socket.getaddrinfo(
        host, port, type=eventlet.green.socket.SOCK_STREAM)[0]
    listener = eventlet.listen(address, family, backlog=LISTEN_BACKLOG)
    eventlet.wsgi.server(listener, app, log_output=False,
                         max_size=max(1024, file_limit - 256))


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Serve Hemicycle; configure it with HEMICYCLE_* environment variables."""
    from server import create_app
    from server.config import Config

    try:
        config = Config.from_env()
    except ValueError as error:  # a setting out of its range: say which, without a traceback
        raise click.ClickException(str(error)) from None
    run_server(create_app(config), host, port)


COMMANDS = [serve_command]
