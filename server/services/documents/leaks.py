"""Naming the reader of a leaked page image from its invisible mark.

``identify`` reads a photo, scan or screenshot, folds it (``server.pdf.fingerprint``) and
tries the mark of every copy this server can have served: each reader (participant or
projector) of each confidential document version's meeting, for each page. The best must
clear ``MIN_SCORE`` and beat the runner-up by ``MIN_MARGIN``; otherwise nobody is named
(chance correlations stay below about 0.35; see bench/watermark.py for measured rates).
The time a copy was served is not in the mark: the visible mark shows it, to the minute.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from server.extensions import db
from server.models import Device, DeviceKind, Document, DocumentVersion, Meeting, Participant
from server.pdf import fingerprint
from server.services.documents.pages import mark_key

MIN_SCORE = 0.5
MIN_MARGIN = 0.15


@dataclass(frozen=True)
class Copy:
    """One copy the server may have served: whose, of what, and how well it matched."""

    reader: str  # "participant:<id>" or "projector:<device id>"
    reader_name: str
    meeting_id: int
    meeting_title: str
    document_id: int
    document_title: str
    version: int
    page: int
    version_uploaded_at: datetime
    score: float


def candidates(secret: str):
    """(seed, Copy without a score) for every confidential page copy a reader could get."""
    rows = db.session.execute(
        select(DocumentVersion, Document, Meeting)
        .join(Document, DocumentVersion.document_id == Document.id)
        .join(Meeting, Document.meeting_id == Meeting.id)
        .where(Document.confidential.is_(True))
    ).all()
    for version, document, meeting in rows:
        readers = [(f"participant:{p.id}", f"{p.full_name} (participant #{p.id})")
                   for p in db.session.scalars(
                       select(Participant).where(Participant.meeting_id == meeting.id))]
        readers += [(f"projector:{d.id}", f"Projector #{d.id} {d.label}".strip())
                    for d in db.session.scalars(
                        select(Device).where(Device.meeting_id == meeting.id,
                                             Device.kind == DeviceKind.PROJECTOR))]
        for reader, name in readers:
            for page in range(1, version.page_count + 1):
                seed = fingerprint.key_for(secret, mark_key(reader, version.id, page))
                yield seed, Copy(reader, name, meeting.id, meeting.title, document.id,
                                 document.title, version.number, page, version.uploaded_at, 0.0)


def identify(image) -> tuple[Copy | None, list[Copy]]:
    """The copy a Pillow image was made from, or None when no mark clears the thresholds;
    with the best few matches (for the officer's report), best first."""
    tiles = fingerprint.folded_tiles(fingerprint.grey_for_decoding(image))
    scored = []
    for seed, copy in candidates(current_app.config["SECRET_KEY"]):
        scored.append(Copy(**{**copy.__dict__, "score": fingerprint.score(tiles, seed)}))
    scored.sort(key=lambda c: c.score, reverse=True)
    best = scored[0] if scored else None
    runner_up = scored[1].score if len(scored) > 1 else 0.0
    if best is None or best.score < MIN_SCORE or best.score - runner_up < MIN_MARGIN:
        return None, scored[:3]
    return best, scored[:3]
