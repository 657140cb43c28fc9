"""Sealing a signed meeting, and its archive package (BagIt) export and verification.

The package is a BagIt bag (RFC 8493, sha256 manifests) zipped with one
top-level directory. It holds the signed minutes, every document version,
the record as JSON and CSV (attendance, agenda, speeches, polls, ballots with
no voter on secret ones) and the meeting's stretch of the audit chain, from
its first entry to its last. Entries of other meetings inside that stretch
keep their hashes but not their payloads, so the chain can be recomputed up to
the head the signed minutes state, without disclosing other meetings. The
signed checkpoints of that stretch (``services.anchoring``) and the audit public
key go with it.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile
from pathlib import Path

import bagit
from sqlalchemy import and_, func, select

from server.errors import Conflict, NotFound
from server.extensions import db
from server.models import AuditEntry, Meeting, MeetingStatus, MinutesStatus, utcnow
from server.services import audit, events
from server.services.actors import Actor
from server.services.anchoring import checkpoints, packages
from server.services.archive import search
from server.services.archive.record import write_record
from server.services.minutes.minutes import current_pdf, minutes_of

BAG_NAME = "hemicycle-meeting-{id}"
# bagit logs a line per file at INFO; the commands print their own summary.
logging.getLogger("bagit").setLevel(logging.WARNING)


def seal_meeting(meeting: Meeting, actor: Actor) -> None:
    """Make the meeting read-only for good and tell tablets to wipe confidential copies."""
    meeting.status = MeetingStatus.SEALED
    meeting.sealed_at = utcnow()
    audit.record("meeting.sealed", "meeting", meeting.id, actor=actor, meeting_id=meeting.id,
                 payload={"sealed_at": meeting.sealed_at.isoformat()})
    checkpoints.checkpoint_at_commit("meeting.sealed")
    events.publish(meeting.id, "meeting.sealed", {"wipe_confidential": True})
    search.index_meeting(meeting)


def sealed_meetings() -> list[Meeting]:
    return list(db.session.scalars(select(Meeting).where(Meeting.status == MeetingStatus.SEALED)
                                   .order_by(Meeting.starts_at.desc(), Meeting.id.desc())))


def _sealed(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(f"No meeting {meeting_id}.")
    if meeting.status != MeetingStatus.SEALED:
        raise Conflict("Only sealed meetings are archived.", code="not_sealed")
    return meeting


def audit_segment(meeting_id: int) -> list[dict]:
    """The chain from the meeting's first entry to its last; other meetings' payloads withheld."""
    return _segment(AuditEntry.meeting_id == meeting_id, lambda e: e.meeting_id == meeting_id)


def consultation_segment(consultation_id: int) -> list[dict]:
    """The chain from a consultation's first entry to its last; every other entry withheld."""
    ref = str(consultation_id)
    return _segment(and_(AuditEntry.object_type == "consultation", AuditEntry.object_id == ref),
                    lambda e: e.object_type == "consultation" and e.object_id == ref)


def _segment(own_filter, is_own) -> list[dict]:
    bounds = db.session.execute(select(func.min(AuditEntry.seq), func.max(AuditEntry.seq))
                                .where(own_filter)).one()
    if bounds[0] is None:
        return []
    rows = db.session.scalars(select(AuditEntry)
                              .where(AuditEntry.seq.between(bounds[0], bounds[-1]))
                              .order_by(AuditEntry.seq))
    segment = []
    for e in rows:
        own = is_own(e)
        segment.append({
            "seq": e.seq, "at": e.at.isoformat(), "actor": e.actor if own else "",
            "action": e.action, "object_type": e.object_type, "object_id": e.object_id,
            "meeting_id": e.meeting_id, "outcome": e.outcome,
            "payload": e.payload if own else None, "payload_sha256": e.payload_sha256,
            "prev_hash": e.prev_hash, "hash": e.hash, "withheld": not own})
    return segment


def zip_bag(bag_dir: Path, out: Path) -> Path:
    """The bag as ``out``: a .zip with one top-level directory, or a copied directory."""
    if out.suffix.lower() != ".zip":
        if out.exists():
            raise Conflict(f"{out} already exists.", code="exists")
        shutil.copytree(bag_dir, out)
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(bag_dir.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(bag_dir.parent).as_posix())
    return out


def export_package(meeting_id: int, out: Path) -> Path:
    """Write the meeting's archive package to ``out`` (a .zip file, or a directory when
    ``out`` has no .zip suffix). Returns the path written."""
    meeting = _sealed(meeting_id)
    minutes = minutes_of(meeting)
    if minutes is None or minutes.status != MinutesStatus.SIGNED:
        raise Conflict("The meeting has no signed minutes.", code="not_signed")
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="hemicycle-bag-") as tmp:
        bag_dir = Path(tmp) / BAG_NAME.format(id=meeting.id)
        bag_dir.mkdir()
        segment = audit_segment(meeting.id)
        write_record(meeting, minutes, current_pdf(minutes), segment, bag_dir)
        if segment:
            packages.write_into_package(bag_dir / "record", segment[0]["seq"], segment[-1]["seq"])
        bagit.make_bag(str(bag_dir), {
            "Source-Organization": meeting.body,
            "External-Identifier": f"hemicycle:meeting:{meeting.id}"
                                   + (f" {meeting.reference}" if meeting.reference else ""),
            "External-Description": meeting.title,
            "Hemicycle-Audit-Head": minutes.audit_head or "",
            "Hemicycle-Sealed-At": meeting.sealed_at.isoformat() if meeting.sealed_at else "",
        }, checksums=["sha256"])
        return zip_bag(bag_dir, out)
