"""Live notices of written consultations, handed to the broadcaster after the commit.

A consultation belongs to no meeting, so its notices are not meeting revisions: they are
gathered in the session (like ``server.services.events``) and, once the transaction that
made the change commits, handed to the listeners (``server.realtime.broadcast``). Each
notice is computed before the commit, as plain data: the office's view (answer progress)
and each member's own view (their own answer, never another's).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session

from server.extensions import db
from server.models import Consultation

_PENDING_KEY = "hemicycle.consultation_notices"
_listeners: list = []


@dataclass(frozen=True)
class Notice:
    type: str  # consultation.opened / changed / answered / closed
    office: dict  # to the office (secretaries, admins)
    members: dict[int, dict] = field(default_factory=dict)  # user id -> that member's view


def on_committed(listener) -> None:
    """Register ``listener(list[Notice])`` to run after each commit that queued notices."""
    _listeners.append(listener)


def _common(consultation: Consultation) -> dict:
    return {"id": consultation.id, "title": consultation.title,
            "closes_at": consultation.closes_at.isoformat(),
            "closed_at": consultation.closed_at.isoformat() if consultation.closed_at else None,
            "allow_change": consultation.allow_change,
            "open": consultation.closed_at is None}


def queue(type: str, consultation: Consultation, *, members: list[int] | None = None) -> Notice:
    """Queue a notice about ``consultation`` for the office and ``members`` (default: all)."""
    common = _common(consultation)
    if consultation.result is not None:
        common["result"] = consultation.result
    office = {**common, "members_count": len(consultation.members),
              "answers_count": len(consultation.answers),
              "answered_by": sorted(a.user_id for a in consultation.answers)}
    answers = {a.user_id: a for a in consultation.answers}
    targets = [m.user_id for m in consultation.members] if members is None else members
    views = {}
    for user_id in targets:
        mine = answers.get(user_id)
        views[user_id] = {**common, "my_answer": (
            {"choice": mine.choice, "comment": mine.comment,
             "answered_at": mine.answered_at.isoformat()} if mine else None)}
    notice = Notice(type, office, views)
    db.session.info.setdefault(_PENDING_KEY, []).append(notice)
    return notice


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING_KEY, None)
    if pending:
        for listener in _listeners:
            listener(pending)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING_KEY, None)
