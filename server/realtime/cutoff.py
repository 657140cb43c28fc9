"""Closing, on every worker, the sockets of logins that have ended.

A socket opened with a login session's cookie joins the room ``login:<id>``. When logins
end (logout, a new password, an account disabled: ``logins.on_ended``), each of their
sockets is told ``session.ended`` and disconnected, wherever it is held: the Socket.IO
message queue carries a ``close_room`` of that room to every worker, and the queue's
client manager here disconnects the room's members before it empties the room. (A
socket missed by all of this is still refused at its next command: every command checks
its login is live.)
"""
from __future__ import annotations

import logging

import socketio as python_socketio

from server.errors import NotAuthenticated
from server.extensions import socketio
from server.realtime import context as contexts
from server.services.accounts import logins

log = logging.getLogger(__name__)
NAMESPACE = "/"
REASON = "Your session has ended; log in again."


def _is_cut_off_room(room) -> bool:
    return isinstance(room, str) and room.startswith(contexts.login_room(""))


def disconnect_members(server, room: str, namespace: str = NAMESPACE) -> None:
    """Disconnect this worker's sockets in ``room``; their next event is refused meanwhile."""
    members = [sid for sid, _eio in server.manager.get_participants(namespace, room)]
    for sid in members:
        context = contexts.get(sid)
        if context is not None:
            context.closing = NotAuthenticated(REASON)
    for sid in members:
        server.disconnect(sid, namespace=namespace, ignore_queue=True)


class _CutOff:
    """Mixed into the message queue's manager: a ``close_room`` of a login room, received
    from another worker or made here, first disconnects the room's members."""

    def _handle_close_room(self, message):
        room = message.get("room")
        if _is_cut_off_room(room):
            disconnect_members(self.server, room, message.get("namespace") or NAMESPACE)
        super()._handle_close_room(message)


def queue_manager(url: str, channel: str):
    """The client manager for ``HEMICYCLE_REDIS_URL`` (as Flask-SocketIO would pick it)."""
    if url.startswith(("redis://", "rediss://")):
        base = python_socketio.RedisManager
    else:
        base = python_socketio.KombuManager
    manager = type(f"CutOff{base.__name__}", (_CutOff, base), {})
    return manager(url, channel=channel)


def cut_off_logins(login_ids: list[int]) -> None:
    """After the commit that ended these logins: close their sockets on every worker.

    From a background task, not inside the after-commit hook: disconnecting runs the
    disconnect handler, which needs a request context of its own.
    """
    socketio.start_background_task(_cut_off, list(login_ids))


def _cut_off(login_ids: list[int]) -> None:
    for login_id in login_ids:
        room = contexts.login_room(login_id)
        try:
            socketio.emit("session.ended", {"reason": "logged_out"}, to=room)
            disconnect_members(socketio.server, room)  # this worker, with or without a queue
            socketio.close_room(room)  # every other worker, through the queue
        except Exception:  # the sockets are still refused at their next command
            log.exception("could not close the sockets of login %s", login_id)


# Registered once per process, at import (as broadcast.py is).
logins.on_ended(cut_off_logins)
