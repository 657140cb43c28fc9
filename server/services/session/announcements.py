"""Messages from the secretary to every tablet and the projector ("Break until 10:30").

An announcement is a live event like any other (``announcement``, audience
"all"), so a tablet that reconnects replays it from the meeting's event log.
Sending an empty message clears the one shown.
"""
from __future__ import annotations

from sqlalchemy import select

from server.errors import InvalidInput
from server.extensions import db
from server.models import Meeting, MeetingEvent, utcnow
from server.services import access, audit, events
from server.services.access import Permission
from server.services.actors import Actor
from server.services.timestamps import iso

MAX_LENGTH = 500


def announce(actor: Actor | None, meeting_id: int, text: str) -> dict:
    """Publish ``text`` to everyone in the meeting (staff who run it only); returns the payload."""
    meeting: Meeting = access.get_meeting(meeting_id, actor, Permission.RUN)
    if not isinstance(text, str):
        raise InvalidInput("The message must be text.", fields={"text": "text"})
    text = " ".join(text.split())  # one line: it is shown as a banner
    if len(text) > MAX_LENGTH:
        raise InvalidInput(f"The message is longer than {MAX_LENGTH} characters.",
                           fields={"text": f"at most {MAX_LENGTH} characters"})
    payload = {"text": text, "at": iso(utcnow()), "cleared": not text}
    audit.record("announcement", "meeting", meeting.id, actor=actor, meeting_id=meeting.id,
                 payload={"text": text})
    events.publish(meeting.id, "announcement", payload)
    db.session.flush()
    return payload


def current(meeting_id: int) -> dict | None:
    """The message on screens now (the last one sent, unless it was cleared), for pages that
    start after it was sent: a snapshot does not carry it."""
    payload = db.session.scalar(
        select(MeetingEvent.payload).where(MeetingEvent.meeting_id == meeting_id,
                                           MeetingEvent.type == "announcement")
        .order_by(MeetingEvent.revision.desc()).limit(1))
    return payload if payload and not payload.get("cleared") else None
