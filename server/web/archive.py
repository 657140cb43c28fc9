"""The archive page: search sealed meetings, download their signed minutes and packages."""
from __future__ import annotations

import tempfile
from datetime import date
from io import BytesIO
from pathlib import Path

from flask import Blueprint, render_template, request, send_file
from flask_login import login_required
from pydantic import ValidationError

from server.api.archive import ArchiveSearchQuery
from server.auth import current_actor
from server.errors import fields_from_validation
from server.services.archive import package as archive, search as archive_search
from server.services.access import require_account_role
from server.services.minutes.minutes import current_pdf, minutes_of
from server.web.meetings.common import local

bp = Blueprint("archive", __name__, url_prefix="/archive")


def _archivist() -> None:
    require_account_role(current_actor(), *archive_search.ARCHIVIST_ROLES)


@bp.get("")
@login_required
def index():
    """Search form, hits grouped by meeting, and every sealed meeting with its downloads."""
    _archivist()
    sealed = archive.sealed_meetings()
    values = {k: v for k in ("q", "body", "from", "to") if (v := request.args.get(k, "").strip())}
    hits: list[dict] | None = None
    errors: dict[str, str] = {}
    if values.get("q"):
        try:
            query = ArchiveSearchQuery.model_validate(values)
            hits = archive_search.search(current_actor(), query.q, body=query.body,
                                         date_from=getattr(query, "from"), date_to=query.to)
        except ValidationError as exc:
            errors = fields_from_validation(exc)
    return render_template("archive/index.html", sealed=sealed, hits=hits, errors=errors,
                           values=values, bodies=sorted({m.body for m in sealed}), local=local,
                           today=date.today().isoformat())


@bp.get("/<int:meeting_id>/minutes.pdf")
@login_required
def minutes_pdf(meeting_id: int):
    _archivist()
    meeting = archive._sealed(meeting_id)
    return send_file(BytesIO(current_pdf(minutes_of(meeting))), mimetype="application/pdf",
                     download_name=f"bien-ban-{meeting_id}.pdf")


@bp.get("/<int:meeting_id>/package.zip")
@login_required
def package(meeting_id: int):
    _archivist()
    with tempfile.TemporaryDirectory(prefix="hemicycle-export-") as tmp:
        path = archive.export_package(meeting_id, Path(tmp) / "package.zip")
        data = path.read_bytes()
    return send_file(BytesIO(data), mimetype="application/zip", as_attachment=True,
                     download_name=f"hemicycle-meeting-{meeting_id}.zip")


@bp.get("/consultations/<int:consultation_id>/report.pdf")
@login_required
def consultation_report(consultation_id: int):
    from server.services.archive.consultation_package import closed
    from server.services.consultations import reporting

    _archivist()
    return send_file(BytesIO(reporting.report_pdf(closed(consultation_id))),
                     mimetype="application/pdf",
                     download_name=f"bao-cao-xin-y-kien-{consultation_id}.pdf")


@bp.get("/consultations/<int:consultation_id>/package.zip")
@login_required
def consultation_package(consultation_id: int):
    from server.services.archive.consultation_package import export_package

    _archivist()
    with tempfile.TemporaryDirectory(prefix="hemicycle-export-") as tmp:
        data = export_package(consultation_id, Path(tmp) / "package.zip").read_bytes()
    return send_file(BytesIO(data), mimetype="application/zip", as_attachment=True,
                     download_name=f"hemicycle-consultation-{consultation_id}.zip")
