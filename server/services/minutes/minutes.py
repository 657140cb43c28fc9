"""Minutes: drafted from the record, edited by the secretary, finalised as a PDF.

``draft_minutes`` builds the sections from the meeting's record (see
``minutes_draft``); ``edit_minutes`` changes the secretary's text while the
minutes are a draft; ``finalise_minutes`` freezes the text, renders the PDF
with the audit chain head of that moment and creates the two signature fields.
Signing and sealing follow in ``services.signing``.
"""
from __future__ import annotations

import hashlib
import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from server.errors import Conflict, NotFound
from server.schemas.types import Id
from server.extensions import db
from server.models import Blob, Meeting, MeetingStatus, Minutes, MinutesStatus, utcnow
from server.pdf.minutes import render_minutes
from server.pdf.signature_fields import add_signature_fields
from server.services import audit, events
from server.services.anchoring import checkpoints
from server.services.documents import storage
from server.services.access import Permission, get_meeting
from server.services.actors import Actor
from server.services.minutes.draft import draft_sections

TEXT_MAX = 50_000


class ItemEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notes: str | None = Field(None, max_length=TEXT_MAX)
    decision: str | None = Field(None, max_length=TEXT_MAX)


class MinutesEdit(BaseModel):
    """What the secretary may change in a draft; facts from the record stay as drafted."""

    model_config = ConfigDict(extra="forbid")
    language: Literal["vi", "en"] | None = None
    reference: str | None = Field(None, max_length=100)
    locality: str | None = Field(None, max_length=200)
    opening: str | None = Field(None, max_length=TEXT_MAX)
    adjournment: str | None = Field(None, max_length=TEXT_MAX)
    free_text: str | None = Field(None, max_length=TEXT_MAX)
    items: dict[Id, ItemEdit] = Field(default_factory=dict, max_length=1000)


def timezone_name() -> str:
    return os.environ.get("HEMICYCLE_TIMEZONE") or "Asia/Ho_Chi_Minh"


def store_blob(data: bytes, media_type: str = "application/pdf") -> str:
    """Keep bytes in the content-addressed store (with their Blob row); returns the sha256."""
    sha = hashlib.sha256(data).hexdigest()
    target = storage.blob_path(sha)
    if not target.exists():
        storage.atomic_write(target, data)
    if db.session.get(Blob, sha) is None:
        db.session.add(Blob(sha256=sha, size=len(data), media_type=media_type))
        db.session.flush()
    return sha


def read_blob(sha: str) -> bytes:
    path = storage.blob_path(sha)
    if not path.is_file():
        raise NotFound("A stored file is missing from the data directory.", code="blob_missing")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        raise Conflict(f"Stored file {sha} does not match its hash.", code="blob_corrupt")
    return data


def minutes_of(meeting: Meeting) -> Minutes | None:
    return db.session.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id))


def get_minutes(meeting_id: int, actor: Actor | None) -> Minutes:
    meeting = get_meeting(meeting_id, actor, Permission.STAFF_VIEW)
    minutes = minutes_of(meeting)
    if minutes is None:
        raise NotFound("The minutes of this meeting have not been drafted yet.")
    return minutes


def _require_draft(minutes: Minutes) -> None:
    if minutes.status != MinutesStatus.DRAFT:
        raise Conflict("The minutes are final; their text can no longer change.",
                       code="minutes_final")


def _apply(sections: dict, edit: MinutesEdit, minutes: Minutes) -> None:
    edited = set(sections.get("edited", []))
    for key in ("reference", "locality"):
        if getattr(edit, key) is not None:
            sections["meeting"][key] = getattr(edit, key)
            edited.add(key)
    for key in ("opening", "adjournment"):
        if getattr(edit, key) is not None:
            sections[key] = getattr(edit, key)
            edited.add(key)
    by_id = {item["id"]: item for item in sections["items"]}
    for item_id, change in edit.items.items():
        if item_id not in by_id:
            raise NotFound(f"No agenda item {item_id} in these minutes.",
                           fields={f"items.{item_id}": "unknown item"})
        for key in ("notes", "decision"):
            if getattr(change, key) is not None:
                by_id[item_id][key] = getattr(change, key)
                edited.add(f"item:{item_id}:{key}")
    if edit.free_text is not None:
        minutes.free_text = edit.free_text
    if edit.language is not None:
        minutes.language = edit.language
    sections["edited"] = sorted(edited)


def _carry_edits(old: dict, new: dict) -> None:
    """Keep what the secretary wrote when the facts are drafted again."""
    old_items = {item["id"]: item for item in old.get("items", [])}
    for key in old.get("edited", []):
        if key in ("reference", "locality"):
            new["meeting"][key] = old["meeting"].get(key, "")
        elif key in ("opening", "adjournment"):
            new[key] = old.get(key, "")
        elif key.startswith("item:"):
            _, item_id, field = key.split(":")
            target = next((i for i in new["items"] if i["id"] == int(item_id)), None)
            if target is not None and int(item_id) in old_items:
                target[field] = old_items[int(item_id)].get(field, "")
    new["edited"] = [k for k in old.get("edited", [])
                     if not k.startswith("item:") or any(
                         f"item:{i['id']}:" in k for i in new["items"])]


def draft_minutes(meeting_id: int, actor: Actor | None, language: str | None = None) -> Minutes:
    """Draft (or draft again) the minutes from the record; the secretary's edits are kept."""
    meeting = get_meeting(meeting_id, actor, Permission.PREPARE)
    if meeting.status == MeetingStatus.DRAFT:
        raise Conflict("The meeting has not been published yet.", code="meeting_not_held")
    sections = draft_sections(meeting, timezone_name())
    minutes = minutes_of(meeting)
    if minutes is None:
        minutes = Minutes(meeting_id=meeting.id, language=language or "vi", sections=sections,
                          free_text="", drafted_at=utcnow())
        db.session.add(minutes)
    else:
        _require_draft(minutes)
        _carry_edits(minutes.sections or {}, sections)
        minutes.sections = sections
        minutes.language = language or minutes.language
    db.session.flush()
    audit.record("minutes.drafted", "minutes", minutes.id, actor=actor, meeting_id=meeting.id,
                 payload={"language": minutes.language})
    return minutes


def edit_minutes(meeting_id: int, actor: Actor | None, edit: MinutesEdit) -> Minutes:
    """Apply the secretary's changes to a draft."""
    meeting = get_meeting(meeting_id, actor, Permission.PREPARE)
    minutes = minutes_of(meeting)
    if minutes is None:
        raise NotFound("The minutes of this meeting have not been drafted yet.")
    _require_draft(minutes)
    sections = dict(minutes.sections)  # a new object, so the JSON column sees the change
    sections["meeting"] = dict(sections["meeting"])
    sections["items"] = [dict(item) for item in sections["items"]]
    _apply(sections, edit, minutes)
    minutes.sections = sections
    minutes.updated_at = utcnow()
    audit.record("minutes.edited", "minutes", minutes.id, actor=actor, meeting_id=meeting.id,
                 payload=edit.model_dump(mode="json", exclude_none=True))
    return minutes


def preview_pdf(meeting_id: int, actor: Actor | None) -> bytes:
    """The draft as a PDF marked DRAFT on every page (the final one once finalised)."""
    minutes = get_minutes(meeting_id, actor)
    if minutes.status != MinutesStatus.DRAFT:
        return current_pdf(minutes)
    return render_minutes(minutes.sections, minutes.free_text, minutes.language,
                          audit.head(), draft=True).pdf


def finalise_minutes(meeting_id: int, actor: Actor | None) -> Minutes:
    """Freeze the text and render the PDF to be signed.

    The PDF states the audit chain head of this moment, so the signatures
    commit to the whole record as it stood; the ``minutes.finalised`` entry
    records that head in its payload.
    """
    meeting = get_meeting(meeting_id, actor, Permission.PREPARE)
    minutes = minutes_of(meeting)
    if minutes is None:
        raise NotFound("The minutes of this meeting have not been drafted yet.")
    _require_draft(minutes)
    if meeting.session_closed_at is None and meeting.status != MeetingStatus.CLOSED:
        raise Conflict("Close the session before finalising its minutes.", code="session_open")
    head = audit.head()
    rendered = render_minutes(minutes.sections, minutes.free_text, minutes.language, head)
    pdf = add_signature_fields(rendered.pdf, rendered.signature_boxes)
    minutes.pdf_sha256 = store_blob(pdf)
    minutes.audit_head = head
    minutes.status = MinutesStatus.FINAL
    minutes.finalised_at = utcnow()
    audit.record("minutes.finalised", "minutes", minutes.id, actor=actor, meeting_id=meeting.id,
                 payload={"audit_head": head, "pdf_sha256": minutes.pdf_sha256})
    checkpoints.checkpoint_at_commit("minutes.finalised")
    events.publish(meeting.id, "minutes.finalised", {"minutes_id": minutes.id}, audience="staff")
    return minutes


def current_pdf(minutes: Minutes) -> bytes:
    """The latest PDF: with every signature so far, or the unsigned final one."""
    if minutes.signatures:
        return read_blob(minutes.signatures[-1].pdf_sha256)
    if minutes.pdf_sha256 is None:
        raise NotFound("The minutes have not been finalised yet.", code="minutes_not_final")
    return read_blob(minutes.pdf_sha256)
