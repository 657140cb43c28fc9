"""Finding 2 of issue 23: a socket does not outlive the login that opened it.

Logging out, a new password and an account disabled by the admin each end the person's
login sessions; their sockets are then told ``session.ended`` and closed on every worker
(two workers on PostgreSQL passing messages through Redis), and a command on a socket
whose login has ended is refused, whether or not the socket was reached.
"""
from __future__ import annotations

import pytest
from sqlalchemy import update

from server.extensions import db
from server.models import AttendanceStatus, LoginSession, Participant, Role, utcnow
from tests import factories
from tests.realtime.clients import LiveClient, login
from tests.realtime.conftest import live, seeded  # noqa: F401 (fixtures)
from tests.realtime.seed import seed_meeting

pytestmark = pytest.mark.live

NEW_PASSWORD = "a brand new passphrase"


def _cookie(http) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def _sockets_on(workers, http, meeting_id: int) -> list[LiveClient]:
    """One socket per worker with this browser's login, each seeing the staff snapshot."""
    sockets = [LiveClient(w.url, cookie=_cookie(http), auth={"meeting_id": meeting_id}).connect()
               for w in workers]
    for socket in sockets:
        answer = socket.call("sync", {"meeting_id": meeting_id})
        assert answer["ok"] is True and "online" in answer  # the staff view
    return sockets


def _all_cut_off(sockets: list[LiveClient]) -> None:
    for socket in sockets:
        socket.wait_for(socket.disconnected.is_set, what="the socket being closed")
        assert any(name == "session.ended" for name, _ in socket.received)


@pytest.mark.services
def test_logout_new_password_and_disabling_close_sockets_on_every_worker(two_workers):
    first, second = two_workers
    seeded = seed_meeting()
    mid, secretary = seeded.meeting.id, seeded.secretary_user
    admin = factories.make_user(Role.ADMIN)

    # Logging out on the first worker closes the login's sockets on both.
    http = login(first.url, secretary)
    bystander = login(second.url, secretary)  # another browser of hers: not logged out
    sockets = _sockets_on(two_workers, http, mid)
    others = _sockets_on(two_workers, bystander, mid)
    assert http.post(first.url + "/api/v1/auth/logout", timeout=10).status_code == 204
    _all_cut_off(sockets)
    assert http.get(second.url + "/api/v1/auth/me", timeout=10).status_code == 401
    for socket in others:
        assert socket.call("sync", {"meeting_id": mid})["ok"] is True

    # A new password, set by herself on the second worker, ends every login of hers.
    changed = bystander.patch(f"{second.url}/api/v1/users/{secretary.id}", timeout=10, json={
        "password": NEW_PASSWORD, "current_password": factories.PASSWORD})
    assert changed.status_code == 200, changed.text
    _all_cut_off(others)

    # Disabling the account, on the other worker from her sockets, closes them too.
    http = login(second.url, secretary, NEW_PASSWORD)
    sockets = _sockets_on(two_workers, http, mid)
    disabled = login(first.url, admin).patch(f"{first.url}/api/v1/users/{secretary.id}",
                                             json={"active": False}, timeout=10)
    assert disabled.status_code == 200, disabled.text
    _all_cut_off(sockets)
    refused = LiveClient(second.url, cookie=_cookie(http), auth={"meeting_id": mid})
    with pytest.raises(Exception):
        refused.connect()


def test_a_command_on_a_socket_whose_login_ended_is_refused(live, seeded):
    """The login ended where no socket server could hear of it (another process, as the CLI
    would): the socket is still open, and its next command is refused and closes it."""
    mid, target = seeded.meeting.id, seeded.delegates[2]
    http = login(live.url, seeded.secretary_user)
    with LiveClient(live.url, cookie=_cookie(http), auth={"meeting_id": mid}) as socket:
        assert socket.call("sync", {"meeting_id": mid})["ok"] is True
        db.session.execute(update(LoginSession)
                           .where(LoginSession.user_id == seeded.secretary_user.id)
                           .values(ended_at=utcnow()))
        db.session.commit()
        for event, payload in (("attendance.mark", {"participant_id": target.id,
                                                    "status": "present"}), ("sync", {})):
            answer = socket.call(event, {"meeting_id": mid, **payload})
            assert answer["ok"] is False and answer["error"]["code"] == "not_authenticated", \
                (event, answer)
        socket.wait_for(socket.disconnected.is_set, what="the stale socket being closed")
    db.session.remove()
    assert db.session.get(Participant, target.id).attendance != AttendanceStatus.PRESENT
