"""Socket.IO: connection authentication, event handlers and the broadcaster.

See docs/PROTOCOL.md for what travels in each direction.
"""
from __future__ import annotations

from flask import Flask

from server.extensions import socketio


def init_app(app: Flask) -> None:
    # broadcast, cutoff, voting and device_commands register themselves on import
    from server.realtime import broadcast, cutoff, device_commands, handlers, voting  # noqa: F401

    origins = app.config.get("ALLOWED_ORIGINS")
    redis_url = app.config.get("REDIS_URL")
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        # Given every time (None: in-process), as options stay from one init_app to the next.
        # The queue's manager also closes the sockets of ended logins on every worker.
        client_manager=cutoff.queue_manager(
            redis_url, app.config.get("SOCKETIO_CHANNEL") or "hemicycle") if redis_url else None,
        # engine.io refuses a handshake whose Origin is not allowed; None: the request's own
        # host only. (Never []: engine.io reads that as "do not check".)
        cors_allowed_origins=list(origins) if origins else None,
        max_http_buffer_size=1_000_000,
    )
    # The server object is new with every init_app, so handlers are added to it each time.
    handlers.register(socketio)


def server_starting(app: Flask) -> None:
    """Forget connections a previous run of a lone server left counted (a crash records none).

    With a message queue other workers may hold connections, so counts are left alone.
    """
    if app.config.get("REDIS_URL"):
        return
    import logging

    from sqlalchemy import update
    from sqlalchemy.exc import DBAPIError

    from server.extensions import db
    from server.models import Device

    with app.app_context():
        try:
            db.session.execute(update(Device).where(Device.connections != 0).values(connections=0))
            db.session.commit()
        except DBAPIError as exc:  # no schema yet: requests will say so; starting is still fine
            db.session.rollback()
            logging.getLogger(__name__).warning("could not reset tablet presence: %s", exc)
