"""The archive package of a closed written consultation (BagIt, like a sealed meeting's).

Layout inside the bag's ``data/`` directory::

    report/report-signed.pdf    the report of the result, sealed by the office
    report/ca.pem               the local CA certificate (when it issued the seal)
    record/consultation.json    question, rule, members and weights, every answer with its
                                comment and time, the tally, the audit head the report states
    record/answers.csv          one row per member (no cell runs as a formula)
    record/audit.jsonl          the consultation's stretch of the audit chain (other entries
                                keep their hashes, not their payloads)
    record/checkpoints.jsonl    its signed checkpoints, and record/audit-key.pem

``archive verify`` recognises it by ``report/`` and checks it offline: the bag, the
office's signature against the roots the verifier trusts, the answers against the tally,
and the chain up to the head the signed report states.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import bagit
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from server.errors import Conflict, NotFound
from server.extensions import db
from server.models import Consultation, User
from server.services.anchoring import packages
from server.services.archive.package import consultation_segment, zip_bag
from server.services.archive.record import _csv, _json
from server.services.minutes.ca import ca_certificate
from server.services.minutes.minutes import read_blob
from server.services.minutes.verify import stated_audit_head

BAG_NAME = "hemicycle-consultation-{id}"
REPORT = "report/report-signed.pdf"


def closed(consultation_id: int) -> Consultation:
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise NotFound("No such consultation.", code="consultation_not_found")
    if consultation.closed_at is None:
        raise Conflict("Only closed consultations are archived.", code="consultation_open")
    if consultation.report_sha256 is None:
        raise NotFound("No report of that consultation.", code="report_missing")
    return consultation


def record_of(consultation: Consultation, pdf: bytes) -> dict:
    names = dict(db.session.execute(select(User.id, User.full_name).where(
        User.id.in_([m.user_id for m in consultation.members]))).all())
    answers = {a.user_id: a for a in consultation.answers}
    return {
        "id": consultation.id, "title": consultation.title, "body": consultation.body,
        "question": consultation.question, "majority": consultation.majority.value,
        "base": consultation.base.value, "abstentions_count": consultation.abstentions_count,
        "allow_change": consultation.allow_change,
        "opens_at": consultation.opens_at.isoformat(),
        "closes_at": consultation.closes_at.isoformat(),
        "closed_at": consultation.closed_at.isoformat(), "result": consultation.result,
        "members": [{"user_id": m.user_id, "name": names.get(m.user_id, ""),
                     "weight": str(m.weight)} for m in consultation.members],
        "answers": [{"user_id": a.user_id, "name": names.get(a.user_id, ""), "choice": a.choice,
                     "comment": a.comment, "answered_at": a.answered_at.isoformat()}
                    for a in sorted(answers.values(), key=lambda a: a.user_id)],
        "report_sha256": consultation.report_sha256,
        "sealed_by": consultation.report_signed_by, "audit_head": stated_audit_head(pdf),
    }


def export_package(consultation_id: int, out: Path) -> Path:
    """Write the consultation's archive package to ``out`` (.zip, or a directory)."""
    consultation = closed(consultation_id)
    if not consultation.report_signed_by:
        raise Conflict("The report is not sealed yet (`hemicycle consultations sign-report`).",
                       code="report_unsigned")
    pdf = read_blob(consultation.report_sha256)
    with tempfile.TemporaryDirectory(prefix="hemicycle-bag-") as tmp:
        bag_dir = Path(tmp) / BAG_NAME.format(id=consultation.id)
        data = bag_dir / "report"
        data.mkdir(parents=True)
        (data / "report-signed.pdf").write_bytes(pdf)
        ca = ca_certificate()
        if ca is not None:
            (data / "ca.pem").write_bytes(ca.public_bytes(Encoding.PEM))
        record = record_of(consultation, pdf)
        _json(bag_dir / "record" / "consultation.json", record)
        answers = {a["user_id"]: a for a in record["answers"]}
        _csv(bag_dir / "record" / "answers.csv",
             ["user_id", "name", "weight", "choice", "comment", "answered_at"],
             [[m["user_id"], m["name"], m["weight"], answers.get(m["user_id"], {}).get("choice"),
               answers.get(m["user_id"], {}).get("comment"),
               answers.get(m["user_id"], {}).get("answered_at")] for m in record["members"]])
        segment = consultation_segment(consultation.id)
        _write_jsonl(bag_dir / "record" / "audit.jsonl", segment)
        if segment:
            packages.write_into_package(bag_dir / "record", segment[0]["seq"], segment[-1]["seq"])
        bagit.make_bag(str(bag_dir), {
            "External-Identifier": f"hemicycle:consultation:{consultation.id}",
            "External-Description": consultation.title,
            "Hemicycle-Audit-Head": record["audit_head"] or "",
            "Hemicycle-Closed-At": record["closed_at"],
        }, checksums=["sha256"])
        return zip_bag(bag_dir, Path(out))


def _write_jsonl(path: Path, entries: list[dict]) -> None:
    from server.services.audit import canonical_json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(canonical_json(e) + "\n" for e in entries), encoding="utf-8")
