"""Draft texts and their amendments as the minutes and the archive record them."""
from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models import DraftText
from server.services.amendments import views


def meeting_record(meeting_id: int) -> list[dict]:
    """Every draft text of the meeting: original and adopted lines, each amendment with
    its mover, lines, old and new text, reasons, admission, poll and outcome."""
    drafts = db.session.scalars(select(DraftText).where(DraftText.meeting_id == meeting_id)
                                .order_by(DraftText.id))
    return [views.draft_payload(draft) for draft in drafts]


def minutes_summary(meeting_id: int) -> dict[int | None, list[dict]]:
    """Per agenda item, what the minutes say of each draft text and its amendments."""
    found: dict[int | None, list[dict]] = {}
    for draft in meeting_record(meeting_id):
        found.setdefault(draft["agenda_item_id"], []).append({
            "title": draft["title"], "outcome": draft["outcome"],
            "lines": len(draft["lines"]),
            "amendments": [{k: a[k] for k in ("number", "tabled_by", "cosigner_names",
                                              "line_from", "line_to", "old_text", "new_text",
                                              "reasons", "status", "decision_reason", "outcome")}
                           for a in sorted(draft["amendments"], key=lambda a: a["number"])],
            "adopted_text": draft["adopted"]["text"]})
    return found
