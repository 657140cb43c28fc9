"""Import participants from a CSV file: every row is checked first, then all or nothing.

The file is UTF-8 (with or without the BOM Excel writes), separated by commas
or semicolons (Excel in Vietnamese and European locales writes semicolons).
Headers are the English column names, or their Vietnamese equivalents.
Problems are reported by line number (1 is the header) and column.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy import select

from server.errors import InvalidInput
from server.extensions import db
from server.models import MeetingRole, Participant, User
from server.schemas.meetings import ImportProblem, ParticipantCreate, friendly_message
from server.services import audit
from server.services.actors import Actor
from server.services.meetings.meetings import meeting_to_prepare
from server.services.meetings.participants import normalise, participant_out, participants_changed

MAX_BYTES = 1024 * 1024
MAX_ROWS = 2000
MAX_PROBLEMS = 200  # a wrong file should not produce a 2,000-line report

COLUMNS = ("full_name", "email", "position", "role", "voting_right", "weight", "seat", "username")
HEADER_ALIASES = {
    "name": "full_name", "họ và tên": "full_name", "họ tên": "full_name",
    "thư điện tử": "email", "e-mail": "email", "chức vụ": "position", "title": "position",
    "vai trò": "role", "quyền biểu quyết": "voting_right", "biểu quyết": "voting_right",
    "trọng số": "weight", "ghế": "seat", "chỗ ngồi": "seat", "tên đăng nhập": "username",
}
ROLE_ALIASES = {
    "chủ tọa": "chair", "chủ toạ": "chair", "thư ký": "secretary", "đại biểu": "delegate",
    "quan sát viên": "observer", "khách mời": "observer",
}
YES = {"1", "yes", "y", "true", "x", "có", "co"}
NO = {"0", "no", "n", "false", "không", "khong"}


class CsvRejected(InvalidInput):
    """The file was refused; nothing was imported. ``problems`` say where and why."""

    code = "csv_rejected"

    def __init__(self, problems: list[ImportProblem]):
        fields = {f"line {p.line}" + (f", {p.column}" if p.column else ""): p.message
                  for p in problems}
        super().__init__(_("Nothing was imported: the file has %(n)d problem(s).", n=len(problems)),
                         fields=fields)
        self.problems = problems

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["error"]["problems"] = [p.model_dump() for p in self.problems]
        return body


def decode(data: bytes) -> str:
    """UTF-8 text without BOM, in NFC; bytes of another encoding are refused with their line."""
    if not data.strip():
        raise CsvRejected([ImportProblem(line=1, column=None, message=_("The file is empty."))])
    if len(data) > MAX_BYTES:
        raise CsvRejected([ImportProblem(line=1, column=None, message=(
            _("The file is larger than %(kb)d KB.", kb=MAX_BYTES // 1024)))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise CsvRejected([ImportProblem(line=line, column=None, message=(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.")))]) from None
    return unicodedata.normalize("NFC", text)


def _header(cells: list[str]) -> tuple[list[str], list[ImportProblem]]:
    names, problems = [], []
    for cell in cells:
        key = normalise(cell).lower().replace(" ", "_") if cell else ""
        key = HEADER_ALIASES.get(normalise(cell).lower(), key)
        if key not in COLUMNS:
            problems.append(ImportProblem(line=1, column=cell, message=(
                _("Unknown column “%(cell)s”; the columns are %(columns)s.", cell=cell,
                  columns=", ".join(COLUMNS)))))
        elif key in names:
            problems.append(ImportProblem(line=1, column=key, message=_("The column is repeated.")))
        names.append(key)
    if "full_name" not in names:
        problems.append(ImportProblem(line=1, column="full_name",
                                      message=_("The column full_name is required.")))
    return names, problems


def _row(values: dict[str, str], line: int, users: dict[str, User]) -> tuple[dict, list]:
    problems: list[ImportProblem] = []
    fields: dict = {k: normalise(v) for k, v in values.items() if k != "username"}
    role_text = fields.pop("role", "").lower()
    role = ROLE_ALIASES.get(role_text, role_text) or "delegate"
    fields["role"] = role
    vote = fields.pop("voting_right", "").lower()
    if vote in YES:
        fields["voting_right"] = True
    elif vote in NO:
        fields["voting_right"] = False
    elif vote:
        problems.append(ImportProblem(line=line, column="voting_right",
                                      message=_("“%(value)s” is not yes or no.", value=vote)))
    weight = fields.pop("weight", "")
    if weight:
        try:
            fields["weight"] = Decimal(weight.replace(",", "."))
        except InvalidOperation:
            problems.append(ImportProblem(line=line, column="weight",
                                          message=_("“%(value)s” is not a number.", value=weight)))
    for name in ("email",):
        if not fields.get(name):
            fields.pop(name, None)
    username = values.get("username", "").strip()
    if username:
        user = users.get(username.lower())
        if user is None:
            problems.append(ImportProblem(line=line, column="username",
                                          message=_("No active user “%(name)s”.", name=username)))
        else:
            fields["user_id"] = user.id
            fields["full_name"] = fields.get("full_name") or user.full_name
            fields.setdefault("email", user.email)
    try:
        row = ParticipantCreate.model_validate(fields)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            column = str(error["loc"][0]) if error["loc"] else None
            problems.append(ImportProblem(line=line, column=column,
                                          message=friendly_message(error)))
        return {}, problems
    return row.model_dump(exclude_none=True), problems


def parse(text: str, meeting_id: int) -> list[tuple[int, dict]]:
    """Every row as (line, participant fields); raises CsvRejected listing all problems."""
    lines = text.splitlines()
    first = lines[0] if lines else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    problems: list[ImportProblem] = []
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise CsvRejected([ImportProblem(line=1, column=None, message=_("No header line."))]) from None
    names, problems = _header(header)
    if problems:
        raise CsvRejected(problems)
    users = {u.username.lower(): u for u in db.session.scalars(select(User).where(User.active))}
    existing = db.session.scalars(select(Participant).where(Participant.meeting_id == meeting_id)).all()
    seen: dict[tuple[str, str], int] = {}
    for p in existing:
        for key in _keys(p.full_name, p.position, p.email, p.user_id, p.seat):
            seen[key] = 0
    rows: list[tuple[int, dict]] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvRejected([ImportProblem(line=line, column=None, message=(
                    _("The file has more than %(n)d participants; split it.", n=MAX_ROWS)))])
            if len(cells) != len(names):
                problems.append(ImportProblem(line=line, column=None, message=(
                    _("The line has %(cells)d cells; the header has %(columns)d.",
                      cells=len(cells), columns=len(names)))))
                rows.append((line, {}))
                continue
            fields, row_problems = _row(dict(zip(names, cells)), line, users)
            problems.extend(row_problems)
            if fields:
                for key in _keys(fields.get("full_name"), fields.get("position", ""),
                                 fields.get("email"), fields.get("user_id"), fields.get("seat", "")):
                    if key in seen:
                        message = (_("Duplicate of line %(n)d.", n=seen[key]) if seen[key]
                                   else _("Duplicate of an existing participant."))
                        problems.append(ImportProblem(line=line, column=key[0], message=message))
                    else:
                        seen[key] = line
            rows.append((line, fields))
            if len(problems) >= MAX_PROBLEMS:
                break
    except csv.Error as exc:
        problems.append(ImportProblem(line=reader.line_num, column=None,
                                      message=_("Malformed CSV: %(error)s.", error=exc)))
    if not rows and not problems:
        problems.append(ImportProblem(line=2, column=None, message=_("The file has no participants.")))
    if problems:
        raise CsvRejected(problems[:MAX_PROBLEMS])
    return rows


def _keys(full_name, position, email, user_id, seat) -> list[tuple[str, str]]:
    """What makes two rows the same person (or the same seat)."""
    keys = [("full_name", f"{(full_name or '').lower()}|{(position or '').lower()}")]
    if email:
        keys.append(("email", email.lower()))
    if user_id:
        keys.append(("username", str(user_id)))
    if seat:
        keys.append(("seat", seat))
    return keys


def import_csv(meeting_id: int, actor: Actor | None, data: bytes) -> list[Participant]:
    """Add every participant of the file, or none: the file is fully checked first.

    Proxies are not part of the file; set them afterwards.
    """
    meeting = meeting_to_prepare(meeting_id, actor, "participant.import")
    rows = parse(decode(data), meeting.id)
    created = []
    for _line, fields in rows:
        role = MeetingRole(fields.pop("role", "delegate"))
        fields.setdefault("voting_right", role in (MeetingRole.CHAIR, MeetingRole.DELEGATE))
        participant = Participant(meeting_id=meeting.id, role=role, **fields)
        db.session.add(participant)
        created.append(participant)
    db.session.flush()
    audit.record("participant.imported", "meeting", meeting.id, actor=actor, meeting_id=meeting.id,
                 payload={"count": len(created),
                          "participants": [participant_out(p).model_dump(mode="json")
                                           for p in created]})
    participants_changed(meeting)
    return created
