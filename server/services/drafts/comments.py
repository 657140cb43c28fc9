"""A delegate's comments on a draft, anchored to a page, a region of it and the text there.

The client chooses each comment's UUID, so saving is an idempotent upsert: a
tablet replaying its offline queue never makes duplicates. A comment can be
changed until the deadline; after it, saving answers 409 ``comment_period_closed``.
Comments are private to the drafting office: a delegate reads their own and
those the office published, never another's unpublished one. The text under
the region (the quote) is read from the PDF when the comment is saved, so the
comment stays anchored to the words it is about; for a confidential document,
which a delegate reads only as watermarked images, no quote is taken.
"""
from __future__ import annotations

from dataclasses import dataclass

import pymupdf
from sqlalchemy import func, or_, select

from flask_babel import gettext as _

from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import (
    CommentKind, CommentPeriod, Document, DocumentVersion, DraftComment, MeetingStatus,
    Participant, utcnow,
)
from server.services import audit, events
from server.services.actors import Actor
from server.services.documents import storage
from server.services.drafts import comment_periods
from server.services.timestamps import iso

# Enough for a delegate's thorough reading, small enough that one tablet cannot fill the disk.
MAX_PER_PARTICIPANT = 500
MAX_QUOTE = 2000


@dataclass(frozen=True)
class CommentFields:
    comment_period_id: int
    page_number: int
    region: tuple[float, float, float, float] | None
    kind: CommentKind
    text: str


def payload(comment: DraftComment, *, author: str | None = None, staff: bool = False) -> dict:
    """A comment as the API and the socket events show it; the office's notes only to staff
    and once published."""
    body = {
        "id": comment.id, "comment_period_id": comment.comment_period_id,
        "participant_id": comment.participant_id, "author": author,
        "page_number": comment.page_number,
        "region": list(comment.region) if comment.region else None,
        "quote": comment.quote, "kind": comment.kind.value, "text": comment.text,
        "published": comment.published, "merged_into_id": comment.merged_into_id,
        "response": None, "response_text": None,
        "created_at": iso(comment.created_at), "updated_at": iso(comment.updated_at),
    }
    if staff or comment.published:
        body["response"] = comment.response.value if comment.response else None
        body["response_text"] = comment.response_text
    return body


def author_name(comment: DraftComment) -> str:
    participant = db.session.get(Participant, comment.participant_id)
    return participant.full_name if participant else ""


def quote_of(version: DocumentVersion, page_number: int, region) -> str:
    """The words of the page inside the region (the whole page without one), one line each."""
    with pymupdf.open(storage.blob_path(version.blob_sha256)) as doc:
        page = doc[page_number - 1]
        rect = page.rect
        if region is not None:
            x0, y0, x1, y1 = region
            rect = pymupdf.Rect(rect.x0 + x0 * rect.width, rect.y0 + y0 * rect.height,
                                rect.x0 + x1 * rect.width, rect.y0 + y1 * rect.height)
        words = page.get_text("words", clip=rect)
    lines: dict[tuple[int, int], list[str]] = {}
    for word in sorted(words, key=lambda w: (w[5], w[6], w[7])):
        lines.setdefault((word[5], word[6]), []).append(word[4])
    return "\n".join(" ".join(parts) for parts in lines.values())[:MAX_QUOTE]


def _writable(seen: comment_periods.Seen) -> Participant:
    if seen.participant is None:
        raise Forbidden(_("You are not among those asked to comment on this draft."),
                        code="not_in_audience")
    if seen.meeting.status == MeetingStatus.SEALED:
        raise Conflict(_("The meeting is sealed: comments can no longer change."), code="sealed")
    if not comment_periods.is_open(seen.comment_period):
        raise Conflict(_("The deadline for comments has passed."), code="comment_period_closed")
    return seen.participant


def save_comment(actor: Actor | None, comment_id: str, fields: CommentFields) -> DraftComment:
    """Create or replace the actor's comment ``comment_id``; the same call again changes nothing.

    Refuses a comment period the actor may not see (404), another's comment (404), a
    page outside the version (422), and any change after the deadline (409).
    """
    seen = comment_periods.seen_by(actor, fields.comment_period_id)
    existing = db.session.get(DraftComment, comment_id)
    if existing is not None and (seen.participant is None
                                 or existing.participant_id != seen.participant.id):
        raise NotFound("No such comment.")  # somebody else's id: do not confirm it exists
    participant = _writable(seen)
    version = seen.version
    if not 1 <= fields.page_number <= version.page_count:
        raise InvalidInput(f"The document has {version.page_count} pages.",
                           fields={"page_number": f"1 to {version.page_count}"})
    if existing is not None and existing.comment_period_id != fields.comment_period_id:
        raise Conflict("This comment belongs to another draft.", code="comment_period_mismatch")
    region = list(fields.region) if fields.region else None
    if existing is not None and (existing.page_number, existing.region, existing.kind,
                                 existing.text) == (fields.page_number, region, fields.kind,
                                                    fields.text):
        return existing
    document = db.session.get(Document, seen.comment_period.document_id)
    quote = "" if document.confidential else quote_of(version, fields.page_number, region)
    if existing is None:
        count = db.session.scalar(select(func.count()).select_from(DraftComment).where(
            DraftComment.comment_period_id == fields.comment_period_id,
            DraftComment.participant_id == participant.id))
        if count >= MAX_PER_PARTICIPANT:
            raise Conflict(_("Too many comments on this draft."), code="too_many_comments")
        existing = DraftComment(id=comment_id, comment_period_id=fields.comment_period_id,
                                participant_id=participant.id, created_at=utcnow())
        db.session.add(existing)
    existing.page_number, existing.region, existing.quote = fields.page_number, region, quote
    existing.kind, existing.text, existing.updated_at = fields.kind, fields.text, utcnow()
    db.session.flush()
    # The text is the delegate's and private to the office: the audit chain (public in the
    # archive) records that a comment was made, on which page, of which kind.
    audit.record("draft.comment", "draft_comment", comment_id, actor=actor,
                 meeting_id=seen.meeting.id,
                 payload={"comment_period_id": fields.comment_period_id, "page": fields.page_number,
                          "kind": fields.kind.value})
    announce(existing, seen.comment_period)
    return existing


def announce(comment: DraftComment, comment_period: CommentPeriod, *,
             was_published: bool = False) -> None:
    """Tell the office and the author; everyone in the audience when it is published."""
    author = author_name(comment)
    owner = f"participant:{comment.participant_id}"
    staff_body = payload(comment, author=author, staff=True)
    events.publish(comment_period.meeting_id, "draft.comment.saved", staff_body, "staff")
    public = payload(comment, author=author)
    if comment.published:
        for audience in comment_periods.audiences(comment_period):
            if audience != "staff":
                events.publish(comment_period.meeting_id, "draft.comment.saved", public, audience)
        return
    events.publish(comment_period.meeting_id, "draft.comment.saved", public, owner)
    if was_published:
        gone = {"id": comment.id, "comment_period_id": comment.comment_period_id}
        for audience in comment_periods.audiences(comment_period):
            if audience not in ("staff", owner):
                events.publish(comment_period.meeting_id, "draft.comment.withdrawn", gone, audience)


def list_comments(actor: Actor | None,
                  comment_period_id: int) -> tuple[comment_periods.Seen, list[DraftComment]]:
    """Staff: every comment. A participant: their own and the published ones. By page."""
    seen = comment_periods.seen_by(actor, comment_period_id)
    if seen.staff:
        return seen, office_comments(seen.comment_period)
    found = db.session.scalars(
        select(DraftComment).where(DraftComment.comment_period_id == comment_period_id,
                                   or_(DraftComment.participant_id == seen.participant.id,
                                       DraftComment.published.is_(True)))
        .order_by(DraftComment.page_number, DraftComment.created_at, DraftComment.id))
    return seen, list(found)


def office_comments(comment_period: CommentPeriod) -> list[DraftComment]:
    """Every comment of the comment_period, by page (for the office; the caller checked)."""
    return list(db.session.scalars(
        select(DraftComment).where(DraftComment.comment_period_id == comment_period.id)
        .order_by(DraftComment.page_number, DraftComment.created_at, DraftComment.id)))
