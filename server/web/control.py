"""The session's screens: the secretary's control room, the chair's controls, the projector.

The pages are shells: their ES modules (``static/js/control/``,
``static/js/projector/``) follow the meeting through ``static/js/lib/live.js``
and act through the socket commands and the REST API, so every action takes
the one path (service, commit, audit, broadcast). What lives here is what a
page needs from the server itself: the printable pairing sheet, QR codes,
the devices with their reported status, and messages to all tablets.
"""
from __future__ import annotations

import base64
import hmac
import io
from datetime import timedelta
from typing import Annotated

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import login_required
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from sqlalchemy import select

from server.auth import current_actor
from server.errors import InvalidInput, NotFound, invalid_from_validation
from server.extensions import db
from server.models import Device, DeviceKind, Meeting, Participant
from server.pdf.pairing_sheet import PairingCard, SheetLabels, render_pairing_sheet
from server.services import access
from server.services.devices import devices
from server.services.session import announcements, session
from server.services.access import Permission
from server.services.actors import Actor
from server.services.tokens import device_for_token, token_digest
from server.web.meetings.common import local

bp = Blueprint("control", __name__)

SHEET_HOURS = (1, 72)  # how long printed codes stay valid: a meeting day by default
MAX_QR_TEXT = 600


def qr_svg(text: str) -> str:
    """A QR code as an SVG document (dark modules as one path), for pages and downloads."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2,
                         image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue().decode()


def qr_data_uri(text: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(text).encode()).decode()


def join_link() -> str:
    """Where a delegate's tablet starts: the tablet app, which asks for a QR code or PIN."""
    return request.url_root.rstrip("/") + "/tablet/"


def _staff_page(template: str, meeting: Meeting):
    return render_template(template, meeting=meeting, local=local, join_link=join_link(),
                           announcement=announcements.current(meeting.id))


@bp.get("/meetings/<int:meeting_id>/control")
@login_required
def control_room(meeting_id: int):
    meeting = access.get_meeting(meeting_id, current_actor(), Permission.RUN)
    return _staff_page("control/room.html", meeting)


@bp.get("/meetings/<int:meeting_id>/chair")
@login_required
def chair(meeting_id: int):
    meeting = session.lead_meeting(current_actor(), meeting_id)
    return _staff_page("control/chair.html", meeting)


def projector_device(token: str) -> Device:
    """The live projector device behind a display token; anything else is "not found"."""
    device = device_for_token(token)
    if device is None or device.kind != DeviceKind.PROJECTOR or device.participant_id is not None:
        raise NotFound(_("This display link is unknown or has been retired."))
    return device


def door_link(meeting: Meeting, door_token: str) -> str | None:
    """The tablet's check-in link for the meeting's current door code, if ``door_token`` is it."""
    expected = meeting.door_token_sha256
    if not door_token or len(door_token) > 200 or not expected:
        return None
    if not hmac.compare_digest(expected, token_digest(door_token)):
        return None
    return join_link() + "#checkin=" + door_token


@bp.get("/display/<token>")
def projector(token: str):
    """The room view. With ``?door=<door code>`` its QR code checks tablets in instead of
    pointing to the tablet app (a stale door code falls back to the app's link)."""
    device = projector_device(token)
    meeting = access.get_meeting(device.meeting_id, Actor.of_device(device), Permission.WATCH)
    check_in = door_link(meeting, request.args.get("door", ""))
    link = check_in or join_link()
    response = Response(render_template(
        "control/projector.html", meeting=meeting,
        theme="dark" if request.args.get("theme") == "dark" else "light",
        join_link=join_link(), join_qr=qr_data_uri(link), check_in=bool(check_in),
        announcement=announcements.current(meeting.id)))
    # The token is in the address: never let it leave in a Referer, never cache the page.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _sheet_participants(meeting: Meeting, scope: str, chosen: list[int]) -> list[Participant]:
    people = list(db.session.scalars(
        select(Participant).where(Participant.meeting_id == meeting.id).order_by(Participant.id)))
    if chosen:
        unknown = set(chosen) - {p.id for p in people}
        if unknown:
            raise NotFound(_("No such participant in this meeting."),
                           fields={"participant": "unknown participant"})
        return [p for p in people if p.id in set(chosen)]
    if scope == "unpaired":
        paired = set(db.session.scalars(select(Device.participant_id).where(
            Device.meeting_id == meeting.id, Device.revoked_at.is_(None),
            Device.participant_id.is_not(None))))
        people = [p for p in people if p.id not in paired]
    return people


def _int_list(values: list[str], field: str) -> list[int]:
    try:
        return [int(v) for v in values if v.strip()]
    except ValueError:
        raise InvalidInput(_("Choose participants from the list."), fields={field: "not a number"}) from None


@bp.post("/meetings/<int:meeting_id>/pairing-sheet.pdf")
@login_required
def pairing_sheet(meeting_id: int):
    """New one-time codes for the chosen participants, printed one card each."""
    actor = current_actor()
    meeting = access.get_meeting(meeting_id, actor, Permission.RUN)
    hours = request.form.get("hours", "12").strip() or "12"
    if not (hours.isdecimal() and len(hours) < 4) or not SHEET_HOURS[0] <= int(hours) <= SHEET_HOURS[1]:
        raise InvalidInput(_("Codes can stay valid from 1 to 72 hours."), fields={"hours": "1-72"})
    scope = request.form.get("scope", "unpaired")
    people = _sheet_participants(meeting, scope, _int_list(request.form.getlist("participant"),
                                                           "participant"))
    cards = []
    for person in people:
        code, secret, pin = devices.create_pairing_code(actor, meeting.id, person.id,
                                                        ttl=timedelta(hours=int(hours)))
        detail = " · ".join(part for part in (person.position, _("Seat %(seat)s", seat=person.seat)
                                              if person.seat else "") if part)
        link = request.url_root.rstrip("/") + f"/tablet/#pair={secret}"
        cards.append(PairingCard(person.full_name, detail, link, pin, code.expires_at))
    db.session.commit()
    labels = SheetLabels(heading=_("Tablet pairing cards"),
                         scan=_("Scan with the tablet's camera, or type the PIN:"),
                         pin=_("PIN"), expires=_("Valid until"),
                         one_time=_("One-time code: do not share."))
    pdf = render_pairing_sheet(meeting.title, cards, labels=labels,
                               format_time=lambda value: local(value))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="pairing-sheet-{meeting.id}.pdf"',
        "Cache-Control": "no-store"})


class AnnouncementIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: Annotated[str, StringConstraints(max_length=announcements.MAX_LENGTH * 2)]


class QrIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_QR_TEXT)]


def _json_body(model: type[BaseModel]):
    try:
        return model.model_validate(request.get_json(silent=True))
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None


@bp.post("/meetings/<int:meeting_id>/announcements")
@login_required
def announce(meeting_id: int):
    """A message to every tablet and the projector; an empty text removes it."""
    body = _json_body(AnnouncementIn)
    payload = announcements.announce(current_actor(), meeting_id, body.text)
    db.session.commit()
    return jsonify(payload), 201


@bp.get("/meetings/<int:meeting_id>/control/devices")
@login_required
def device_list(meeting_id: int):
    """Tablets and projectors with what their browsers report (battery, connection)."""
    listed = devices.list_devices(current_actor(), meeting_id)
    names = {p.id: p.full_name for p in db.session.scalars(
        select(Participant).where(Participant.meeting_id == meeting_id))}
    return jsonify([{**devices.device_payload(d), "status": d.status or {},
                     "participant_name": names.get(d.participant_id)} for d in listed
                    if d.revoked_at is None])


@bp.post("/meetings/<int:meeting_id>/control/qr.svg")
@login_required
def qr_code(meeting_id: int):
    """A QR code for a link the control room shows (a projector link, a pairing link)."""
    access.get_meeting(meeting_id, current_actor(), Permission.RUN)
    text = _json_body(QrIn).text
    return Response(qr_svg(text), mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})

