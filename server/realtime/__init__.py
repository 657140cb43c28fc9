"""Socket.IO: connection authentication, event handlers and the broadcaster.

See docs/PROTOCOL.md for what travels in each direction.
"""
from __future__ import annotations

from flask import Flask

from server.extensions import socketio


def init_app(app: Flask) -> None:
    from server.realtime import broadcast, handlers  # noqa: F401  (broadcast registers itself)

    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        message_queue=app.config.get("REDIS_URL"),
        channel=app.config.get("SOCKETIO_CHANNEL") or "hemicycle",
        cors_allowed_origins=[],  # same origin only
        max_http_buffer_size=1_000_000,
    )
    # The server object is new with every init_app, so handlers are added to it each time.
    handlers.register(socketio)
