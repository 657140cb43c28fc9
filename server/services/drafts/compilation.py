"""The drafting office compiles the comments: merges duplicates, answers, publishes.

Only the office (``Permission.PREPARE``) does this, and only while the
meeting is not sealed. A duplicate is merged into another comment of the same
draft, which then answers for both; merging into a comment that is itself
merged goes to the one it was merged into, so a chain never forms. Every
step is audited; the answer is announced to the office, and to the author
once the comment is published.
"""
from __future__ import annotations

from sqlalchemy import select

from flask_babel import gettext as _

from server.errors import InvalidInput, NotFound
from server.extensions import db
from server.models import CommentResponse, CommentPeriod, DraftComment, utcnow
from server.services import audit
from server.services.access import Permission, get_meeting
from server.services.actors import Actor
from server.services.drafts import comments


def _office(actor: Actor | None, comment_id: str) -> tuple[DraftComment, CommentPeriod]:
    comment = db.session.get(DraftComment, comment_id)
    if comment is None:
        raise NotFound("No such comment.")
    comment_period = db.session.get(CommentPeriod, comment.comment_period_id)
    get_meeting(comment_period.meeting_id, actor, Permission.PREPARE)
    return comment, comment_period


def _record(action: str, comment: DraftComment, comment_period: CommentPeriod, actor: Actor,
            payload: dict) -> None:
    audit.record(action, "draft_comment", comment.id, actor=actor,
                 meeting_id=comment_period.meeting_id,
                 payload={"comment_period_id": comment_period.id, **payload})


def set_published(actor: Actor | None, comment_id: str, published: bool) -> DraftComment:
    """Publish a comment to the draft's audience, or take it back; the same again: no change."""
    comment, comment_period = _office(actor, comment_id)
    if comment.published == published:
        return comment
    comment.published = published
    db.session.flush()
    _record("draft.publish", comment, comment_period, actor, {"published": published})
    comments.announce(comment, comment_period, was_published=not published)
    return comment


def merge(actor: Actor | None, comment_id: str, into_id: str | None) -> DraftComment:
    """Merge a duplicate into another comment of the same draft (``None``: separate it again)."""
    comment, comment_period = _office(actor, comment_id)
    target = None
    if into_id is not None:
        target = db.session.get(DraftComment, into_id)
        if target is None or target.comment_period_id != comment.comment_period_id:
            raise InvalidInput(_("Merge into a comment of the same draft."),
                               fields={"into": "not a comment of this draft"})
        if target.merged_into_id is not None:
            target = db.session.get(DraftComment, target.merged_into_id)
        if target.id == comment.id:
            raise InvalidInput(_("A comment cannot be merged into itself."),
                               fields={"into": "the same comment"})
    new_parent = target.id if target else None
    if comment.merged_into_id == new_parent:
        return comment
    if target is not None:
        # Its own duplicates follow it, so every duplicate names the one that answers.
        for child in db.session.scalars(select(DraftComment).where(
                DraftComment.merged_into_id == comment.id)):
            child.merged_into_id = target.id
    comment.merged_into_id = new_parent
    db.session.flush()
    _record("draft.merge", comment, comment_period, actor, {"into": new_parent})
    comments.announce(comment, comment_period)
    return comment


def respond(actor: Actor | None, comment_id: str, response: CommentResponse,
            text: str) -> DraftComment:
    """Record the office's answer (accepted / explained / not accepted, with its text)."""
    comment, comment_period = _office(actor, comment_id)
    if comment.merged_into_id is not None:
        raise InvalidInput(_("Answer the comment this one was merged into."),
                           fields={"comment": "merged into another comment"})
    if comment.response == response and comment.response_text == text:
        return comment
    comment.response, comment.response_text, comment.responded_at = response, text, utcnow()
    db.session.flush()
    _record("draft.respond", comment, comment_period, actor, {"response": response.value})
    comments.announce(comment, comment_period)
    return comment
