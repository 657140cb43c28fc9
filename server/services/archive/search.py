"""Full-text search over the minutes and documents of sealed meetings.

Closed written consultations are searched too (their question, text and the members'
comments), in tables of their own.

Vietnamese is searched without its diacritics ("bien ban" finds "biên bản",
"dong" finds "Đồng"): text is folded (``server.services.folding``) before it is
indexed and queries are folded the same way. Scanned pages are searched by the
text their OCR gave (``documents.ocr``).

SQLite uses an FTS5 table, PostgreSQL a table of pre-folded text with a GIN
index on ``to_tsvector('simple', folded)`` (no ``unaccent`` extension
needed). Both are created on first use by ``ensure_index`` (DDL below, for
the migration that will own them).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timezone

from sqlalchemy import select, text

from server.errors import InvalidInput
from server.extensions import db
from server.models import Consultation, Document, DocumentVersion, Meeting, Role, User
from server.services.access import require_account_role
from server.services.actors import Actor
from server.services.folding import fold, snippet
from server.services.minutes.minutes import minutes_of

SQLITE_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS archive_fts USING fts5("
    "meeting_id UNINDEXED, kind UNINDEXED, ref UNINDEXED, label UNINDEXED, original UNINDEXED, "
    "folded, tokenize = 'unicode61 remove_diacritics 0')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS consultation_fts USING fts5("
    "consultation_id UNINDEXED, ref UNINDEXED, label UNINDEXED, original UNINDEXED, "
    "folded, tokenize = 'unicode61 remove_diacritics 0')",
]
POSTGRES_DDL = [
    "CREATE TABLE IF NOT EXISTS archive_text (id BIGSERIAL PRIMARY KEY, meeting_id INTEGER NOT NULL,"
    " kind VARCHAR(20) NOT NULL, ref VARCHAR(100) NOT NULL, label TEXT NOT NULL,"
    " original TEXT NOT NULL, folded TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_archive_text_meeting ON archive_text (meeting_id)",
    "CREATE INDEX IF NOT EXISTS ix_archive_text_folded ON archive_text "
    "USING gin (to_tsvector('simple', folded))",
    "CREATE TABLE IF NOT EXISTS consultation_text (id BIGSERIAL PRIMARY KEY,"
    " consultation_id INTEGER NOT NULL, ref VARCHAR(100) NOT NULL, label TEXT NOT NULL,"
    " original TEXT NOT NULL, folded TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_consultation_text_consultation ON consultation_text "
    "(consultation_id)",
    "CREATE INDEX IF NOT EXISTS ix_consultation_text_folded ON consultation_text "
    "USING gin (to_tsvector('simple', folded))",
]
ARCHIVIST_ROLES = (Role.ADMIN, Role.SECRETARY)
MAX_HITS = 50


def _dialect() -> str:
    return db.session.bind.dialect.name


def ensure_index() -> None:
    for statement in POSTGRES_DDL if _dialect() == "postgresql" else SQLITE_DDL:
        db.session.execute(text(statement))


def _minutes_texts(meeting: Meeting) -> list[tuple[str, str, str, str]]:
    minutes = minutes_of(meeting)
    rows = [("meeting", str(meeting.id), meeting.title,
             "\n".join([meeting.title, meeting.body, meeting.place, meeting.description]))]
    if minutes is None:
        return rows
    s = minutes.sections or {}
    people = [f"{p['name']}, {p.get('position', '')}" for group in ("present", "absent", "excused")
              for p in (s.get("attendance") or {}).get(group, [])]
    rows.append(("minutes", "attendance", meeting.title,
                 "\n".join([s.get("opening", ""), *people, s.get("adjournment", "")])))
    for item in s.get("items", []):
        parts = [f"{item['number']}. {item['title']}", item.get("presenter", ""),
                 item.get("description", ""), item.get("decision", ""), item.get("notes", "")]
        parts += [sp["name"] for sp in item.get("speakers", [])]
        parts += [d["title"] for d in item.get("documents", [])]
        parts += [f"{p['motion']} {p.get('decision', '')}" for p in item.get("polls", [])]
        rows.append(("minutes", f"item:{item['id']}", f"{item['number']}. {item['title']}",
                     "\n".join(p for p in parts if p)))
    if minutes.free_text.strip():
        rows.append(("minutes", "free_text", meeting.title, minutes.free_text))
    return rows


def _page_texts(meeting: Meeting) -> list[tuple[str, str, str, str]]:
    rows = []
    versions = db.session.scalars(
        select(DocumentVersion).join(Document, Document.id == DocumentVersion.document_id)
        .where(Document.meeting_id == meeting.id).order_by(Document.position, DocumentVersion.id))
    for version in versions:
        for page in version.pages:
            if page.text.strip():
                rows.append(("page", f"{version.id}:{page.number}",
                             f"{version.document.title} (v{version.number}, p. {page.number})",
                             page.text))
    return rows


def index_meeting(meeting: Meeting) -> int:
    """(Re)index one meeting's minutes and document pages; returns the rows written."""
    ensure_index()
    table = "archive_text" if _dialect() == "postgresql" else "archive_fts"
    db.session.execute(text(f"DELETE FROM {table} WHERE meeting_id = :m"), {"m": meeting.id})
    rows = _minutes_texts(meeting) + _page_texts(meeting)
    if rows:
        db.session.execute(
            text(f"INSERT INTO {table} (meeting_id, kind, ref, label, original, folded) "
                 "VALUES (:m, :kind, :ref, :label, :original, :folded)"),
            [{"m": meeting.id, "kind": kind, "ref": ref, "label": label,
              "original": unicodedata.normalize("NFC", body), "folded": fold(body)}
             for kind, ref, label, body in rows])
    return len(rows)


def index_consultation(consultation: Consultation) -> int:
    """(Re)index a closed consultation: its question and text, and each comment."""
    ensure_index()
    table = "consultation_text" if _dialect() == "postgresql" else "consultation_fts"
    db.session.execute(text(f"DELETE FROM {table} WHERE consultation_id = :c"),
                       {"c": consultation.id})
    rows = [("consultation", consultation.title,
             "\n".join([consultation.title, consultation.body, consultation.question]))]
    names = dict(db.session.execute(select(User.id, User.full_name).where(
        User.id.in_([a.user_id for a in consultation.answers]))).all())
    rows += [(f"answer:{a.user_id}", names.get(a.user_id, ""), a.comment)
             for a in consultation.answers if a.comment.strip()]
    db.session.execute(
        text(f"INSERT INTO {table} (consultation_id, ref, label, original, folded) "
             "VALUES (:c, :ref, :label, :original, :folded)"),
        [{"c": consultation.id, "ref": ref, "label": label,
          "original": unicodedata.normalize("NFC", body), "folded": fold(body)}
         for ref, label, body in rows])
    return len(rows)


def closed_consultations() -> list[Consultation]:
    return list(db.session.scalars(select(Consultation).where(
        Consultation.closed_at.is_not(None)).order_by(Consultation.closed_at.desc(),
                                                      Consultation.id.desc())))


def _consultation_hits(terms: list[str], params: dict, limit: int) -> list[dict]:
    """Hits in closed consultations, filtered by the same dates (of closing); a body filter
    names meetings' bodies, so it leaves consultations out."""
    if params.get("body") or limit <= 0:
        return []
    filters = ["c.closed_at IS NOT NULL"]
    if params.get("start") is not None:
        filters.append("c.closed_at >= :start")
    if params.get("end") is not None:
        filters.append("c.closed_at <= :end")
    where = " AND ".join(filters)
    values = {**params, "limit": limit}
    if _dialect() == "postgresql":
        sql = ("SELECT t.consultation_id, t.ref, t.label, t.original, t.folded, "
               "ts_rank(to_tsvector('simple', t.folded), plainto_tsquery('simple', :q)) AS score "
               "FROM consultation_text t JOIN consultation c ON c.id = t.consultation_id "
               "WHERE to_tsvector('simple', t.folded) @@ plainto_tsquery('simple', :q) AND "
               f"{where} ORDER BY score DESC, c.closed_at DESC LIMIT :limit")
    else:
        sql = ("SELECT f.consultation_id, f.ref, f.label, f.original, f.folded, "
               "bm25(consultation_fts) AS score FROM consultation_fts f "
               "JOIN consultation c ON c.id = CAST(f.consultation_id AS INTEGER) "
               f"WHERE consultation_fts MATCH :q AND {where} ORDER BY score, c.closed_at DESC "
               "LIMIT :limit")
    hits = []
    for row in db.session.execute(text(sql), values):
        consultation = db.session.get(Consultation, int(row.consultation_id))
        hits.append({"meeting_id": None, "consultation_id": consultation.id,
                     "title": consultation.title, "body": "",
                     "starts_at": consultation.closed_at.isoformat(), "kind": "consultation",
                     "ref": row.ref, "label": row.label,
                     "snippet": _snippet(row.original, row.folded, terms)})
    return hits


_snippet = snippet  # tests and callers know it by this name


def _day(value: date | None, end: bool) -> datetime | None:
    if value is None:
        return None
    return datetime.combine(value, time.max if end else time.min, tzinfo=timezone.utc)


def search(actor: Actor | None, q: str, *, body: str | None = None,
           date_from: date | None = None, date_to: date | None = None) -> list[dict]:
    """Hits in sealed meetings, best first: meeting, where (minutes or page) and a snippet;
    then hits in closed written consultations (``consultation_id``, kind ``consultation``)."""
    if actor is None or actor.kind != "system":  # the CLI searches as the system
        require_account_role(actor, *ARCHIVIST_ROLES)
    terms = re.findall(r"\w+", fold(q))
    if not terms:
        raise InvalidInput("Type at least one word to search for.", fields={"q": "empty"})
    ensure_index()
    params = {"body": body, "start": _day(date_from, False), "end": _day(date_to, True),
              "sealed": "sealed", "limit": MAX_HITS}
    filters = ["m.status = :sealed"]
    if body:
        filters.append("m.body = :body")
    if date_from:
        filters.append("m.starts_at >= :start")
    if date_to:
        filters.append("m.starts_at <= :end")
    for key in ("start", "end"):  # SQLite stores naive UTC (see UTCDateTime)
        if params[key] is not None and _dialect() == "sqlite":
            params[key] = params[key].replace(tzinfo=None).isoformat(sep=" ")
    where = " AND ".join(filters)
    if _dialect() == "postgresql":
        params["q"] = " ".join(terms)
        sql = ("SELECT t.meeting_id, t.kind, t.ref, t.label, t.original, t.folded, "
               "ts_rank(to_tsvector('simple', t.folded), plainto_tsquery('simple', :q)) AS score "
               "FROM archive_text t JOIN meeting m ON m.id = t.meeting_id "
               "WHERE to_tsvector('simple', t.folded) @@ plainto_tsquery('simple', :q) AND "
               f"{where} ORDER BY score DESC, m.starts_at DESC LIMIT :limit")
    else:
        params["q"] = " ".join(f'"{t}"' for t in terms)
        sql = ("SELECT f.meeting_id, f.kind, f.ref, f.label, f.original, f.folded, "
               "bm25(archive_fts) AS score FROM archive_fts f "
               "JOIN meeting m ON m.id = CAST(f.meeting_id AS INTEGER) "
               f"WHERE archive_fts MATCH :q AND {where} ORDER BY score, m.starts_at DESC "
               "LIMIT :limit")
    hits = []
    for row in db.session.execute(text(sql), params):
        meeting = db.session.get(Meeting, int(row.meeting_id))
        hits.append({"meeting_id": meeting.id, "title": meeting.title, "body": meeting.body,
                     "starts_at": meeting.starts_at.isoformat(), "kind": row.kind,
                     "ref": row.ref, "label": row.label,
                     "snippet": _snippet(row.original, row.folded, terms)})
    return hits + _consultation_hits(terms, params, MAX_HITS - len(hits))
