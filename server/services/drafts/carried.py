"""Comments on an earlier version, on the pages of a later one that kept them.

A comment belongs to the comment period of the version it was made on, and is answered in
that period's report. When a later version keeps a page unchanged (the same content hash:
``documents.same_pages``, the rule annotations follow), the comment stays attached to that
page: reading the later version lists it where the page now is, with where it came from.
A page that changed drops it from the later version (the earlier report still has it).
Who sees which comment is as on the earlier version: the office every one, a participant
their own and the published ones, and only on periods they may see.
"""
from __future__ import annotations

from sqlalchemy import or_, select

from server.errors import NotFound
from server.extensions import db
from server.models import CommentPeriod, DocumentVersion, DraftComment
from server.services.actors import Actor
from server.services.documents.access import readable_document
from server.services.documents.documents import same_pages
from server.services.drafts import comment_periods, comments


def _maps_to(document_id: int, number: int) -> dict[int, dict[int, int]]:
    """For each earlier version (by id), its page numbers -> this version's, through every
    version between (a page must survive each step)."""
    versions = list(db.session.scalars(select(DocumentVersion).where(
        DocumentVersion.document_id == document_id, DocumentVersion.number <= number)
        .order_by(DocumentVersion.number.desc())))
    if not versions or versions[0].number != number:
        return {}
    maps: dict[int, dict[int, int]] = {}
    later, to_target = versions[0], {p.number: p.number for p in versions[0].pages}
    for earlier in versions[1:]:
        step = same_pages(earlier, later)
        to_target = {old: to_target[new] for old, new in step.items() if new in to_target}
        maps[earlier.id] = to_target
        later = earlier
    return maps


def carried_comments(actor: Actor | None, document_id: int, number: int) -> list[dict]:
    """The comments of earlier versions that stay on this version's pages, by page."""
    readable_document(actor, document_id, number)  # NotFound unless the actor may read it
    maps = _maps_to(document_id, number)
    periods = list(db.session.scalars(select(CommentPeriod).where(
        CommentPeriod.version_id.in_(list(maps))).order_by(CommentPeriod.id))) if maps else []
    found = []
    for period in periods:
        try:
            seen = comment_periods.seen_by(actor, period.id)
        except NotFound:  # a period this actor may not see
            continue
        query = select(DraftComment).where(DraftComment.comment_period_id == period.id)
        if not seen.staff:
            query = query.where(or_(DraftComment.participant_id == seen.participant.id,
                                    DraftComment.published.is_(True)))
        from_version = db.session.get(DocumentVersion, period.version_id)
        for comment in db.session.scalars(query.order_by(DraftComment.created_at,
                                                         DraftComment.id)):
            page = maps[period.version_id].get(comment.page_number)
            if page is None:
                continue
            body = comments.payload(comment, author=comments.author_name(comment),
                                    staff=seen.staff)
            body["page_number"] = page
            body["carried_from"] = {"version": from_version.number,
                                    "page_number": comment.page_number,
                                    "comment_period_id": period.id}
            found.append(body)
    return sorted(found, key=lambda c: (c["page_number"], c["created_at"] or "", c["id"]))
