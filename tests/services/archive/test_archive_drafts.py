"""The archive package holds each draft's comments, answers and compiled report."""
from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import timedelta

import bagit
import pymupdf
from openpyxl import load_workbook
from sqlalchemy import select

from server.extensions import db
from server.models import (
    CommentKind, CommentResponse, CommentPeriod, Document, DraftComment, Participant,
)
from server.services.archive.demo_record import seed_sealed_meeting
from server.services.archive.package import export_package

COMMENT = "Đề nghị bổ sung chỉ tiêu thu ngân sách năm 2027."
ANSWER = "Đã tiếp thu, bổ sung tại mục II."


def test_the_package_holds_the_compiled_comment_report(app, tmp_path):
    meeting = seed_sealed_meeting()
    document = db.session.scalars(select(Document).where(Document.meeting_id == meeting.id)).first()
    delegate = db.session.scalars(select(Participant).where(
        Participant.meeting_id == meeting.id, Participant.role == "delegate")).first()
    # Written as the services leave them before the sealing (they refuse a sealed meeting).
    comment_period = CommentPeriod(meeting_id=meeting.id, document_id=document.id,
                                version_id=document.current_version.id, title="Dự thảo báo cáo",
                                deadline=meeting.starts_at - timedelta(days=1))
    db.session.add(comment_period)
    db.session.flush()
    db.session.add(DraftComment(
        id=str(uuid.uuid4()), comment_period_id=comment_period.id, participant_id=delegate.id,
        page_number=1, quote="Thu ngân sách đạt 12.500 tỷ đồng.", kind=CommentKind.SUBSTANTIVE,
        text=COMMENT, response=CommentResponse.ACCEPTED, response_text=ANSWER))
    db.session.commit()

    package = export_package(meeting.id, tmp_path / "package.zip")
    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path / "bag")
    bag_dir = tmp_path / "bag" / f"hemicycle-meeting-{meeting.id}"
    bagit.Bag(str(bag_dir)).validate()
    drafts = bag_dir / "data" / "drafts"
    index = json.loads((drafts / "index.json").read_text(encoding="utf-8"))
    assert index[0]["title"] == "Dự thảo báo cáo"
    assert index[0]["comments"][0]["text"] == COMMENT
    assert index[0]["comments"][0]["author"] == delegate.full_name
    assert index[0]["comments"][0]["response_text"] == ANSWER
    with pymupdf.open(drafts / index[0]["report_pdf"]) as pdf:
        text = " ".join("".join(p.get_text() for p in pdf).split())
    assert COMMENT in text and ANSWER in text and delegate.full_name in text
    sheet = load_workbook(io.BytesIO((drafts / index[0]["report_xlsx"]).read_bytes())).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert COMMENT in values and ANSWER in values and "Tiếp thu" in values
