"""The baseline: a bare Flask-SocketIO broadcast server, nothing else.

Clients connect and join one room; the ``trigger`` event (or POST /emit)
broadcasts one message to that room, with the payload it is given: the
benchmark gives the payload of a Hemicycle ``item.changed``, so both messages
have the same size. Every Hemicycle figure is also
given as a ratio to this server, measured in the same run on the same machine.
Run: python -m bench.baseline_server PORT [ASYNC_MODE [REDIS_URL CHANNEL]]; with a Redis
URL, several of them share one message queue as Hemicycle's workers do.
"""
from __future__ import annotations

import sys

mode = sys.argv[2] if len(sys.argv) > 2 else "eventlet"
if mode == "eventlet":
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import eventlet
    eventlet.monkey_patch()
elif mode == "gevent":
    from gevent import monkey

    monkey.patch_all()

from flask import Flask, jsonify, request  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

app = Flask(__name__)
queue = {"message_queue": sys.argv[3], "channel": sys.argv[4]} if len(sys.argv) > 4 else {}
socketio = SocketIO(app, async_mode=mode, **queue)
revision = 0


@socketio.on("connect")
def connect(auth=None):
    join_room("meeting")


@socketio.on("trigger")
def trigger(data=None):
    """The same path as a chair's command in Hemicycle: a socket event that broadcasts."""
    global revision
    revision += 1
    socketio.emit("event", {"meeting_id": 1, "revision": revision, "type": "session.item",
                            "payload": data or {}, "at": ""}, to="meeting")
    return {"ok": True, "revision": revision}


@app.post("/emit")
def emit():
    global revision
    revision += 1
    payload = request.get_json(silent=True) or {}
    socketio.emit("event", {"meeting_id": 1, "revision": revision, "type": "session.item",
                            "payload": payload, "at": ""}, to="meeting")
    return jsonify(revision=revision)


PAGE = bytes(range(256)) * 400  # ~100 KB, the size of a tablet's page image


@app.get("/page.jpg")
def page():
    """The baseline for page serving: bytes from memory through bare Flask."""
    return PAGE, 200, {"Content-Type": "image/jpeg", "Cache-Control": "private, max-age=60"}


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")


if __name__ == "__main__":
    from server.cli.serve import raise_file_limit

    raise_file_limit()
    kwargs = {"allow_unsafe_werkzeug": True} if mode == "threading" else {}
    socketio.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_output=False, **kwargs)
