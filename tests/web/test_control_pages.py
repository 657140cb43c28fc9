"""The session screens' pages: who may open them, the display link, pairing sheets, messages."""
from __future__ import annotations

import re

import pymupdf
import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Device, MeetingEvent, PairingCode, Role
from server.services.devices import devices
from server.services.session import attendance
from tests import factories
from tests.realtime.seed import seed_meeting


@pytest.fixture
def seeded(app):
    return seed_meeting(delegates=3)


def html(response) -> str:
    return response.get_data(as_text=True)


def assert_csp_friendly(body: str) -> None:
    """No inline script or style: the CSP would block them."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), "inline <script>"
    assert not re.search(r"\sstyle=", body), "inline style attribute"
    assert "javascript:" not in body and not re.search(r"\son[a-z]+=", body), "inline handler"


def projector_token(seeded) -> str:
    _device, token = devices.create_projector(seeded.secretary_actor, seeded.meeting.id)
    db.session.commit()
    return token


@pytest.mark.parametrize("path", ["/meetings/{id}/control", "/meetings/{id}/chair"])
def test_pages_need_a_login(client, seeded, path):
    response = client.get(path.format(id=seeded.meeting.id))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["secretary_user", "chair_user"])
def test_staff_open_the_control_room_and_the_chair_view(client, auth, seeded, who):
    auth.login(getattr(seeded, who))
    for path, module in (("control", "js/control/room.js"), ("chair", "js/control/chair.js")):
        response = client.get(f"/meetings/{seeded.meeting.id}/{path}")
        assert response.status_code == 200
        body = html(response)
        assert module in body and seeded.meeting.title in body
        assert f'data-meeting-id="{seeded.meeting.id}"' in body
        assert_csp_friendly(body)


def test_a_secretary_account_runs_any_meeting(client, auth, seeded):
    auth.login(factories.make_user(Role.SECRETARY))
    assert client.get(f"/meetings/{seeded.meeting.id}/control").status_code == 200


@pytest.mark.parametrize("path", ["/meetings/{id}/control", "/meetings/{id}/chair"])
def test_a_delegate_is_refused(client, auth, seeded, path):
    auth.login(seeded.delegate_user)  # a delegate of this meeting
    assert client.get(path.format(id=seeded.meeting.id)).status_code == 403
    auth.logout()
    auth.login(factories.make_user(Role.DELEGATE))  # not in this meeting: it does not exist
    assert client.get(path.format(id=seeded.meeting.id)).status_code == 404


def test_a_secretary_cannot_lead_from_the_chair_view_of_an_unknown_meeting(client, auth, seeded):
    auth.login(seeded.secretary_user)
    assert client.get("/meetings/99999/control").status_code == 404
    assert client.get("/meetings/99999/chair").status_code == 404


def test_the_projector_page_opens_with_its_display_token(client, seeded):
    token = projector_token(seeded)
    response = client.get(f"/display/{token}")
    assert response.status_code == 200
    body = html(response)
    assert "js/projector/projector.js" in body and seeded.meeting.title in body
    assert 'class="projector-page theme-light"' in body
    assert 'src="data:image/svg+xml;base64,' in body  # the join QR code
    assert "http://localhost/tablet/" in body
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert_csp_friendly(body)
    assert 'theme-dark' in html(client.get(f"/display/{token}?theme=dark"))


@pytest.mark.parametrize("token", ["nope", "x" * 43, "x" * 500])
def test_the_projector_page_with_a_bad_token_is_not_found(client, seeded, token):
    assert client.get(f"/display/{token}").status_code == 404


def test_a_tablet_token_or_a_retired_display_token_is_not_a_projector(client, seeded):
    assert client.get(f"/display/{seeded.tablet_token}").status_code == 404
    token = projector_token(seeded)
    device = db.session.scalar(select(Device).where(Device.kind == "projector"))
    devices.revoke(seeded.secretary_actor, device.id)
    db.session.commit()
    assert client.get(f"/display/{token}").status_code == 404


def sheet_pins(pdf: bytes) -> tuple[list[str], str]:
    document = pymupdf.open(stream=pdf, filetype="pdf")
    text = "".join(page.get_text() for page in document)
    return [f"{n}-{a}{b}" for n, a, b in re.findall(r"^(\d+)-(\d{3}) (\d{3})$", text, re.M)], text


def test_the_pairing_sheet_prints_a_working_code_for_each_participant(client, auth, seeded):
    auth.login(seeded.secretary_user)
    response = client.post(f"/meetings/{seeded.meeting.id}/pairing-sheet.pdf",
                           data={"scope": "all", "hours": "8"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    people = sorted(seeded.meeting.participants, key=lambda p: p.id)
    pins, text = sheet_pins(response.data)
    for person in people:
        assert person.full_name in text
    assert len(pins) == len(people)
    assert db.session.scalar(select(func.count()).select_from(PairingCode)) == len(people) + 1
    # The third card's PIN pairs a tablet to the third participant.
    device, _token = devices.pair(pin=pins[2])
    db.session.commit()
    assert device.participant_id == people[2].id


def test_the_pairing_sheet_leaves_out_paired_tablets_by_default(client, auth, seeded):
    auth.login(seeded.secretary_user)
    response = client.post(f"/meetings/{seeded.meeting.id}/pairing-sheet.pdf", data={})
    pins, text = sheet_pins(response.data)
    paired = seeded.tablet.participant
    assert paired.full_name not in text and len(pins) == len(seeded.meeting.participants) - 1
    chosen = seeded.delegates[2]
    response = client.post(f"/meetings/{seeded.meeting.id}/pairing-sheet.pdf",
                           data={"participant": str(chosen.id)})
    pins, text = sheet_pins(response.data)
    assert len(pins) == 1 and chosen.full_name in text


@pytest.mark.parametrize("form", [{"hours": "0"}, {"hours": "500"}, {"hours": "abc"},
                                  {"participant": "x"}])
def test_the_pairing_sheet_refuses_bad_input(client, auth, seeded, form):
    auth.login(seeded.secretary_user)
    response = client.post(f"/meetings/{seeded.meeting.id}/pairing-sheet.pdf", data=form)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(PairingCode)) == 1  # the seed's


def test_a_delegate_cannot_print_pairing_codes(client, auth, seeded):
    auth.login(seeded.delegate_user)
    assert client.post(f"/meetings/{seeded.meeting.id}/pairing-sheet.pdf").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(PairingCode)) == 1


def test_a_message_reaches_every_tablet_as_a_live_event(client, auth, seeded):
    auth.login(seeded.secretary_user)
    response = client.post(f"/meetings/{seeded.meeting.id}/announcements",
                           json={"text": "  Nghỉ giải lao\n đến 10:30 "})
    assert response.status_code == 201
    event = db.session.scalar(select(MeetingEvent).where(MeetingEvent.type == "announcement"))
    assert event.audience == "all"
    assert event.payload["text"] == "Nghỉ giải lao đến 10:30" and not event.payload["cleared"]
    assert client.post(f"/meetings/{seeded.meeting.id}/announcements",
                       json={"text": ""}).get_json()["cleared"] is True


@pytest.mark.parametrize("body", [{"text": "x" * 501}, {"text": 3}, {"words": "hi"}, ["hi"]])
def test_a_bad_message_is_refused(client, auth, seeded, body):
    auth.login(seeded.secretary_user)
    response = client.post(f"/meetings/{seeded.meeting.id}/announcements", json=body)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(MeetingEvent)
                             .where(MeetingEvent.type == "announcement")) == 0


def test_a_delegate_cannot_send_a_message(client, auth, seeded):
    auth.login(seeded.delegate_user)
    response = client.post(f"/meetings/{seeded.meeting.id}/announcements", json={"text": "Hi"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 403


def test_the_device_list_shows_what_tablets_report(client, auth, seeded):
    seeded.tablet.status = {"battery": 0.42, "charging": False, "connection": "wifi"}
    db.session.commit()
    auth.login(seeded.secretary_user)
    listed = client.get(f"/meetings/{seeded.meeting.id}/control/devices").get_json()
    tablet = next(d for d in listed if d["device_id"] == seeded.tablet.id)
    assert tablet["status"]["battery"] == 0.42
    assert tablet["participant_name"] == seeded.tablet.participant.full_name
    assert tablet["online"] is False
    auth.logout()
    auth.login(seeded.delegate_user)
    assert client.get(f"/meetings/{seeded.meeting.id}/control/devices").status_code == 403


def test_qr_codes_for_links_shown_in_the_control_room(client, auth, seeded):
    auth.login(seeded.secretary_user)
    url = f"/meetings/{seeded.meeting.id}/control/qr.svg"
    response = client.post(url, json={"text": "http://localhost/display/abc"})
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data and b"<path" in response.data
    assert client.post(url, json={"text": ""}).status_code == 422
    assert client.post(url, json={"text": "x" * 601}).status_code == 422


def test_the_projector_can_show_the_door_check_in_code(client, seeded):
    token = projector_token(seeded)
    door = attendance.create_door_token(seeded.secretary_actor, seeded.meeting.id)
    db.session.commit()
    body = html(client.get(f"/display/{token}?lang=en&door={door}"))
    assert 'id="p-join-label">Check in: scan with your tablet' in body
    assert_csp_friendly(body)
    body = html(client.get(f"/display/{token}?lang=en&door=stale-code"))
    assert 'id="p-join-label">Join on your tablet' in body
    assert client.get(f"/display/{token}?door={'x' * 300}").status_code == 200


def test_a_published_meeting_links_its_preparation_pages_to_the_control_room(client, auth, seeded):
    auth.login(seeded.secretary_user)
    body = html(client.get(f"/meetings/{seeded.meeting.id}"))
    assert f'href="/meetings/{seeded.meeting.id}/control"' in body
    draft = factories.make_meeting(title="Bản nháp")
    assert "/control" not in html(client.get(f"/meetings/{draft.id}"))


def test_screens_opened_later_show_the_current_message(client, auth, seeded):
    token = projector_token(seeded)
    auth.login(seeded.secretary_user)
    client.post(f"/meetings/{seeded.meeting.id}/announcements", json={"text": "Break until 10:30"})
    for path in (f"/display/{token}", f"/meetings/{seeded.meeting.id}/control"):
        assert '"text": "Break until 10:30"' in html(client.get(path))
    client.post(f"/meetings/{seeded.meeting.id}/announcements", json={"text": ""})
    assert "data-announcement='null'" in html(client.get(f"/display/{token}"))


def test_the_control_room_speaks_vietnamese(client, auth, seeded):
    auth.login(seeded.secretary_user)
    body = html(client.get(f"/meetings/{seeded.meeting.id}/control?lang=vi"))
    assert "Khai mạc phiên họp" in body and "Phòng điều hành" in body
    token = projector_token(seeded)
    assert "Tham gia trên máy tính bảng" in html(client.get(f"/display/{token}?lang=vi"))


def test_each_page_speaks_the_language_of_its_request(client, auth, seeded):
    """The strings for the scripts follow each request's language (no cached first language)."""
    auth.login(seeded.secretary_user)
    url = f"/meetings/{seeded.meeting.id}/control"
    assert "Live" in html(client.get(url + "?lang=en")).split("data-strings=", 1)[1][:4000]
    vietnamese = html(client.get(url + "?lang=vi")).split("data-strings=", 1)[1][:4000]
    assert "Tr\\u1ef1c tuy\\u1ebfn" in vietnamese or "Trực tuyến" in vietnamese


def test_a_projector_connection_can_change_nothing(app, client, seeded):
    """Every state-changing socket command, with a payload that would work for the chair, is
    refused to the projector's token, and nothing changes; REST refuses it too."""
    from server.extensions import socketio
    from server.realtime.commands import COMMANDS
    from server.services.session import floor, session
    from server.services.voting import polls as voting

    meeting_id = seeded.meeting.id
    session.open_session(seeded.chair_actor, meeting_id)
    request = floor.request_floor(seeded.delegate_actor, meeting_id)
    poll = voting.create_poll(seeded.chair_actor, meeting_id,
                              {"motion": "Thông qua chương trình", "quorum_required": False})
    voting.open_poll(seeded.chair_actor, poll.id)
    db.session.commit()
    token = projector_token(seeded)
    db.session.refresh(seeded.meeting)
    revision = seeded.meeting.revision
    examples = {"item_id": seeded.items[1].id, "participant_id": seeded.delegates[1].id,
                "status": "present", "door_token": "door", "request_id": request.id,
                "request_ids": [request.id], "poll_id": poll.id,
                "ballot_id": "6f1c2b1e-5a3d-4c1e-9b7a-2d4e8f9a0b1c", "choices": ["yes"],
                "time_limit_seconds": 60, "decision": "Thông qua"}
    projector = socketio.test_client(app, auth={"token": token})
    assert projector.is_connected()
    tried = []
    for name, spec in COMMANDS.items():
        if not spec.changes_state:
            continue
        fields = spec.schema.model_fields
        payload = {"meeting_id": meeting_id, **{k: v for k, v in examples.items() if k in fields}}
        ack = projector.emit(name, payload, callback=True)
        assert ack["ok"] is False, (name, ack)
        assert ack["error"]["code"] in ("forbidden", "tablet_only", "no_voting_right"), (name, ack)
        tried.append(name)
    assert {"session.adjourn", "item.next", "floor.grant", "attendance.mark", "poll.close"} <= set(tried)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post(f"/api/v1/polls/{poll.id}/close", headers=auth).status_code in (403, 404)
    assert client.post(f"/api/v1/meetings/{meeting_id}/present", headers=auth,
                       json={"version_id": 1, "page": 1}).status_code in (403, 404)
    db.session.expire_all()
    assert seeded.meeting.revision == revision
    # Watching is what it may do.
    assert projector.emit("sync", {"meeting_id": meeting_id}, callback=True)["ok"] is True
