"""Login sessions: one row per browser login, ended by logout, a new password or disabling.

The cookie carries a random token; only its sha256 is stored, so a copy of the cookie
taken before the end no longer authenticates. Sockets opened with a login remember its id
and every command checks it is still live. Logins ended in a transaction are announced to
``on_ended`` listeners once it commits (server/realtime/cutoff.py closes their sockets on
every worker), never before: a rolled-back logout ends nothing.
"""
from __future__ import annotations

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from server.extensions import db
from server.models import LoginSession, User, utcnow
from server.services.tokens import token_digest

MAX_TOKEN = 200
_ENDED_KEY = "hemicycle.ended_logins"
_listeners: list = []


def on_ended(listener) -> None:
    """Register ``listener(list[int])``, called with the ids of logins ended by each commit."""
    _listeners.append(listener)


def start(user: User, token: str, user_agent: str, remote_addr: str | None) -> LoginSession:
    login = LoginSession(user_id=user.id, token_sha256=token_digest(token),
                         user_agent=user_agent[:300], remote_addr=(remote_addr or "unknown")[:64])
    db.session.add(login)
    return login


def live(token, user_id: int) -> LoginSession | None:
    """The live login of ``user_id`` that this cookie token opened, if any."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        return None
    return db.session.scalar(select(LoginSession).where(
        LoginSession.token_sha256 == token_digest(token), LoginSession.user_id == user_id,
        LoginSession.ended_at.is_(None)))


def live_user(login_id: int | None, user_id: int | None) -> User | None:
    """The user of a login that is still live (one statement), or None once it has ended."""
    if login_id is None or user_id is None:
        return None
    return db.session.scalar(
        select(User).join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == user_id, LoginSession.id == login_id, LoginSession.ended_at.is_(None)))


def end(token) -> None:
    """End the login this cookie token opened (logout)."""
    if isinstance(token, str) and len(token) <= MAX_TOKEN:
        _end(LoginSession.token_sha256 == token_digest(token))


def end_all(user_id: int) -> None:
    """End every login of a person (a new password, a disabled account)."""
    _end(LoginSession.user_id == user_id)


def _end(condition) -> None:
    ended = db.session.scalars(
        update(LoginSession).where(condition, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow()).returning(LoginSession.id)).all()
    if ended:
        db.session.info.setdefault(_ENDED_KEY, []).extend(ended)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    ended = session.info.pop(_ENDED_KEY, None)
    if ended:
        for listener in _listeners:
            listener(ended)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_ENDED_KEY, None)
