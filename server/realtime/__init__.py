"""Socket.IO: connection authentication, event handlers and the broadcaster."""
from __future__ import annotations

from flask import Flask

from server.extensions import socketio


def init_app(app: Flask) -> None:
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        message_queue=app.config.get("REDIS_URL"),
        cors_allowed_origins=[],  # same origin only
        max_http_buffer_size=1_000_000,
    )
