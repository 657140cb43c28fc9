"""The files of an archive package: the signed minutes, documents and the record.

Layout inside the bag's ``data/`` directory::

    minutes/minutes-signed.pdf   the PDF signed by the chair and the secretary
    minutes/minutes.json         sections, free text, audit head, signatures
    minutes/ca.pem               the local CA certificate (when one signed)
    documents/index.json         every document version: title, number, sha256, file
    documents/<doc>-v<n>-<name>  the version's bytes
    record/meeting.json, agenda.json, polls.json
    record/attendance.csv, speeches.csv, ballots.csv
    record/audit.jsonl           the meeting's stretch of the audit chain
    drafts/index.json            each draft opened for comments, with every comment and answer
    drafts/<id>-report.pdf|xlsx  its compiled comment report (bảng tổng hợp ý kiến)
    amendments/index.json        each draft entered as text: numbered lines, every amendment
                                 (mover, lines, old and new text, reasons, admission, poll,
                                 outcome, diff) and the adopted text as blocks
    amendments/<id>-adopted.txt  the text as adopted (when the whole was adopted)
    record/checkpoints.jsonl     its signed checkpoints, and record/audit-key.pem
                                 (written by ``anchoring.packages``)
"""
from __future__ import annotations

import io
import json
from pathlib import Path

from sqlalchemy import select

from server.extensions import db
from server.models import (
    AgendaItem, Ballot, CommentPeriod, Document, Meeting, Minutes, Poll, PollKind, SpeakerRequest,
    UserCertificate,
)
from server.services import spreadsheet
from server.services.documents import storage
from server.services.amendments import record as amendment_record
from server.services.drafts import comments as draft_comments, report, report_pdf, report_sheet
from server.services.audit import canonical_json
from server.services.minutes.ca import ca_certificate
from server.services.minutes.minutes import read_blob
from server.services.minutes.draft import poll_summary


def _json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(json.loads(canonical_json(value)), ensure_ascii=False, indent=2)
                    + "\n", encoding="utf-8")


def _csv(path: Path, header: list[str], rows: list[list]) -> None:
    buffer = io.StringIO()
    writer = spreadsheet.writer(buffer, lineterminator="\n")  # no cell runs as a formula
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _iso(value):
    return value.isoformat() if value else None


def _minutes(minutes: Minutes, pdf: bytes, base: Path) -> None:
    (base / "minutes").mkdir(parents=True)
    (base / "minutes" / "minutes-signed.pdf").write_bytes(pdf)
    certificates = {c.id: c for c in db.session.scalars(select(UserCertificate).where(
        UserCertificate.id.in_([s.certificate_id for s in minutes.signatures])))}
    _json(base / "minutes" / "minutes.json", {
        "language": minutes.language, "status": minutes.status.value,
        "sections": minutes.sections, "free_text": minutes.free_text,
        "audit_head": minutes.audit_head, "finalised_at": _iso(minutes.finalised_at),
        "unsigned_pdf_sha256": minutes.pdf_sha256,
        "signatures": [{"role": s.role.value, "signer": s.signer_name,
                        "signed_at": _iso(s.signed_at), "pdf_sha256": s.pdf_sha256,
                        "certificate_sha256": s.certificate_fingerprint,
                        "certificate_pem": certificates[s.certificate_id].certificate_pem
                        if s.certificate_id in certificates else None}
                       for s in minutes.signatures]})
    ca_cert = ca_certificate()
    if ca_cert is not None:
        from cryptography.hazmat.primitives.serialization import Encoding

        (base / "minutes" / "ca.pem").write_bytes(ca_cert.public_bytes(Encoding.PEM))


def _documents(meeting: Meeting, base: Path) -> None:
    index = []
    folder = base / "documents"
    folder.mkdir(parents=True)
    for document in db.session.scalars(select(Document).where(Document.meeting_id == meeting.id)
                                       .order_by(Document.position, Document.id)):
        for version in document.versions:
            name = f"{document.id}-v{version.number}-{storage.safe_filename(version.filename)}"
            (folder / name).write_bytes(read_blob(version.blob_sha256))
            index.append({"document_id": document.id, "title": document.title,
                          "agenda_item_id": document.agenda_item_id,
                          "access": document.access.value, "confidential": document.confidential,
                          "version": version.number, "filename": version.filename,
                          "sha256": version.blob_sha256, "pages": version.page_count,
                          "uploaded_at": _iso(version.uploaded_at), "file": name})
    _json(folder / "index.json", index)


def _polls(meeting: Meeting, base: Path) -> None:
    polls = list(db.session.scalars(select(Poll).where(Poll.meeting_id == meeting.id)
                                    .order_by(Poll.id)))
    _json(base / "record" / "polls.json", [
        {**poll_summary(p), "agenda_item_id": p.agenda_item_id, "opened_at": _iso(p.opened_at),
         "published_at": _iso(p.published_at), "snapshot": p.snapshot, "result": p.result}
        for p in polls])
    rows = []
    names = {p.id: p.full_name for p in meeting.participants}
    for poll in polls:
        secret = poll.kind == PollKind.SECRET
        # Secret ballots: no voter, no time, and sorted by their random id.
        for ballot in db.session.scalars(select(Ballot).where(Ballot.poll_id == poll.id)
                                         .order_by(Ballot.id)):
            rows.append([poll.id, poll.kind.value,
                         "" if secret else names.get(ballot.participant_id, ""),
                         " ".join(ballot.choices or []), str(ballot.weight),
                         ballot.receipt if secret else "",
                         "" if secret else _iso(ballot.cast_at),
                         "" if secret else ballot.participant_id])
    _csv(base / "record" / "ballots.csv",
         ["poll_id", "kind", "voter", "choices", "weight", "receipt", "cast_at",
          "participant_id"], rows)


def _drafts(meeting: Meeting, base: Path) -> None:
    """Each draft's comments and answers, and its compiled report as PDF and spreadsheet."""
    found = list(db.session.scalars(select(CommentPeriod).where(
        CommentPeriod.meeting_id == meeting.id).order_by(CommentPeriod.id)))
    if not found:
        return
    (base / "drafts").mkdir(parents=True)
    index = []
    for comment_period in found:
        compiled = report.build(comment_period, meeting)
        stem = f"{comment_period.id}-report"
        # Dated at the sealing, so the same meeting always gives the same report.
        (base / "drafts" / f"{stem}.pdf").write_bytes(
            report_pdf.render_report(compiled, now=meeting.sealed_at))
        (base / "drafts" / f"{stem}.xlsx").write_bytes(report_sheet.render_sheet(compiled))
        index.append({
            "id": comment_period.id, "title": comment_period.title,
            "document_id": comment_period.document_id, "version_id": comment_period.version_id,
            "audience": comment_period.audience.value, "deadline": _iso(comment_period.deadline),
            "report_pdf": f"{stem}.pdf", "report_xlsx": f"{stem}.xlsx",
            "comments": [draft_comments.payload(c, author=draft_comments.author_name(c), staff=True)
                         for c in draft_comments.office_comments(comment_period)]})
    _json(base / "drafts" / "index.json", index)


def _amendments(meeting: Meeting, base: Path) -> None:
    drafts = amendment_record.meeting_record(meeting.id)
    if not drafts:
        return
    (base / "amendments").mkdir(parents=True)
    for draft in drafts:
        if draft["outcome"] == "adopted":
            (base / "amendments" / f"{draft['id']}-adopted.txt").write_text(
                draft["adopted"]["text"] + "\n", encoding="utf-8")
    _json(base / "amendments" / "index.json", drafts)


def write_record(meeting: Meeting, minutes: Minutes, signed_pdf: bytes, segment: list[dict],
                 bag_dir: Path) -> None:
    """Write every payload file of the package under ``bag_dir`` (before it becomes a bag)."""
    _minutes(minutes, signed_pdf, bag_dir)
    _documents(meeting, bag_dir)
    record = bag_dir / "record"
    _json(record / "meeting.json", {
        "id": meeting.id, "title": meeting.title, "body": meeting.body, "place": meeting.place,
        "reference": meeting.reference, "starts_at": _iso(meeting.starts_at),
        "ends_at": _iso(meeting.ends_at), "session_opened_at": _iso(meeting.session_opened_at),
        "session_closed_at": _iso(meeting.session_closed_at), "sealed_at": _iso(meeting.sealed_at),
        "quorum_rule": meeting.quorum_rule.value, "description": meeting.description})
    items = db.session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)
                               .order_by(AgendaItem.parent_id, AgendaItem.position))
    _json(record / "agenda.json", [
        {"id": i.id, "parent_id": i.parent_id, "position": i.position, "title": i.title,
         "description": i.description, "presenter": i.presenter, "decision": i.decision,
         "started_at": _iso(i.started_at), "done_at": _iso(i.done_at)} for i in items])
    _csv(record / "attendance.csv",
         ["participant_id", "name", "position", "role", "voting_right", "weight", "attendance",
          "method", "checked_in_at", "excuse", "proxy_holder_id"],
         [[p.id, p.full_name, p.position, p.role.value, int(p.voting_right), str(p.weight),
           p.attendance.value, p.attendance_method, _iso(p.checked_in_at), p.excuse,
           p.proxy_holder_id] for p in meeting.participants])
    speeches = db.session.scalars(select(SpeakerRequest).where(
        SpeakerRequest.meeting_id == meeting.id).order_by(SpeakerRequest.requested_at))
    _csv(record / "speeches.csv",
         ["agenda_item_id", "participant_id", "name", "status", "requested_at", "started_at",
          "ended_at", "time_limit_seconds"],
         [[s.agenda_item_id, s.participant_id, s.participant.full_name, s.status.value,
           _iso(s.requested_at), _iso(s.started_at), _iso(s.ended_at), s.time_limit_seconds]
          for s in speeches])
    _polls(meeting, bag_dir)
    _drafts(meeting, bag_dir)
    _amendments(meeting, bag_dir)
    (record / "audit.jsonl").write_text(
        "".join(canonical_json(entry) + "\n" for entry in segment), encoding="utf-8")
