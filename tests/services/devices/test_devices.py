"""Pairing codes, device tokens, projectors, revocation; and the REST endpoints over them."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.errors import Forbidden, NotFound, TooManyRequests
from server.extensions import db
from server.models import Device, DeviceKind, PairingCode
from server.services import access
from server.services.devices import devices
from server.services.access import Permission
from server.services.actors import Actor
from server.services.tokens import device_for_token
from tests import factories
from tests.realtime.seed import seed_meeting


@pytest.fixture
def seeded(app):
    return seed_meeting(pair_tablet=False)


def new_code(seeded, participant=None, **kw):
    participant = participant or seeded.delegates[0]
    result = devices.create_pairing_code(seeded.secretary_actor, seeded.meeting.id,
                                         participant.id, **kw)
    db.session.commit()
    return result


def test_code_is_stored_only_as_hashes(seeded):
    code, secret, pin = new_code(seeded)
    number, dash, digits = pin.partition("-")
    assert dash and number == str(code.id) and len(digits) == 6 and digits.isdigit()
    assert secret not in (code.secret_sha256, code.pin_sha256)
    assert pin not in (code.secret_sha256, code.pin_sha256)
    assert code.expires_at - code.created_at == devices.CODE_TTL


@pytest.mark.parametrize("by", ["code", "pin"])
def test_pairing_gives_a_token_bound_to_the_participant(seeded, by):
    _, secret, pin = new_code(seeded)
    device, token = devices.pair(**({"code": secret} if by == "code" else {"pin": pin}))
    db.session.commit()
    assert device_for_token(token).id == device.id
    assert device.token_sha256 != token
    assert (device.kind, device.participant_id) == (DeviceKind.TABLET, seeded.delegates[0].id)
    actor = Actor.of_device(device)
    assert access.permissions(actor, seeded.meeting) >= {Permission.VIEW, Permission.SPEAK}
    # Single use.
    with pytest.raises(NotFound):
        devices.pair(code=secret)
    with pytest.raises(NotFound):
        devices.pair(pin=pin)


def test_expired_code_does_not_pair(seeded):
    _, secret, _ = new_code(seeded, ttl=timedelta(seconds=-1))
    with pytest.raises(NotFound):
        devices.pair(code=secret)


def wrong_pin(pin: str) -> str:
    """The same code's number with other digits."""
    number, _, digits = pin.partition("-")
    return f"{number}-{(int(digits) + 1) % 10**6:06d}"


def test_wrong_pins_are_limited_per_code(seeded):
    code, _, pin = new_code(seeded)
    _, _, other_pin = new_code(seeded, seeded.delegates[1])
    for _ in range(devices.MAX_PIN_FAILURES):
        with pytest.raises(NotFound):
            devices.pair(pin=wrong_pin(pin))
    with pytest.raises(TooManyRequests):
        devices.pair(pin=wrong_pin(pin))
    with pytest.raises(TooManyRequests):  # even the right PIN no longer pairs this code
        devices.pair(pin=pin)
    db.session.refresh(code)
    assert code.failed_attempts == devices.MAX_PIN_FAILURES and code.used_at is None
    # The other live code was not touched by the guessing run.
    device, _ = devices.pair(pin=other_pin.replace("-", ""))  # the dash may be left out
    assert device.participant_id == seeded.delegates[1].id


@pytest.mark.parametrize("pin", ["123456", "0-123456", "99999-123456", "12-34567", "x-123456"])
def test_a_pin_naming_no_live_code_pairs_nothing(seeded, pin):
    new_code(seeded)
    with pytest.raises(NotFound):
        devices.pair(pin=pin)


def test_repairing_revokes_the_old_tablet(seeded):
    _, first_secret, _ = new_code(seeded)
    old, old_token = devices.pair(code=first_secret)
    db.session.commit()
    _, second_secret, _ = new_code(seeded)
    new, new_token = devices.pair(code=second_secret)
    db.session.commit()
    assert device_for_token(old_token) is None
    assert device_for_token(new_token).id == new.id


def test_revoke(seeded):
    _, secret, _ = new_code(seeded)
    device, token = devices.pair(code=secret)
    db.session.commit()
    with pytest.raises(Forbidden):
        devices.revoke(seeded.delegate_actor, device.id)
    devices.revoke(seeded.secretary_actor, device.id)
    db.session.commit()
    assert device_for_token(token) is None


def test_only_runners_create_codes_and_projectors(seeded):
    with pytest.raises(Forbidden):
        devices.create_pairing_code(seeded.delegate_actor, seeded.meeting.id, seeded.delegates[0].id)
    with pytest.raises(Forbidden):
        devices.create_projector(seeded.delegate_actor, seeded.meeting.id)
    other = seed_meeting(pair_tablet=False)
    with pytest.raises(NotFound):
        devices.create_pairing_code(seeded.secretary_actor, seeded.meeting.id, other.delegates[0].id)


def test_projector_only_watches(seeded):
    projector, token = devices.create_projector(seeded.secretary_actor, seeded.meeting.id, "Máy chiếu")
    db.session.commit()
    actor = Actor.of_device(device_for_token(token))
    assert actor.kind == "projector"
    assert access.permissions(actor, seeded.meeting) == {Permission.WATCH}
    other = factories.make_meeting()
    assert access.permissions(actor, other) == set()


# REST ---------------------------------------------------------------------------------

def test_pairing_over_rest(seeded, client, auth):
    auth.login(seeded.secretary_user)
    mid, pid = seeded.meeting.id, seeded.delegates[2].id
    response = client.post(f"/api/v1/meetings/{mid}/participants/{pid}/pairing-code")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    auth.logout()
    paired = client.post("/api/v1/pair", json={"pin": body["pin"], "label": "iPad 7"})
    assert paired.status_code == 201, paired.get_json()
    token = paired.get_json()["token"]
    assert paired.get_json()["device"]["participant_id"] == pid
    again = client.post("/api/v1/pair", json={"code": body["code"]})
    assert again.status_code == 404 and again.get_json()["error"]["code"] == "invalid_pairing_code"
    live = client.get(f"/api/v1/meetings/{mid}/live", headers={"Authorization": f"Bearer {token}"})
    assert live.status_code == 200 and live.get_json()["mode"] == "snapshot"


@pytest.mark.parametrize("body", [
    {}, {"pin": "12345"}, {"pin": "abcdef"}, {"code": "x" * 500}, {"pin": "123456", "code": "y" * 20},
    {"pin": 123456}, {"pin": "123456", "extra": 1}, [], "pin",
])
def test_pair_rejects_bad_input(client, app, body):
    response = client.post("/api/v1/pair", json=body)
    assert response.status_code == 422, response.get_json()
    assert db.session.scalar(select(Device.id)) is None


def test_device_management_over_rest(seeded, client, auth):
    mid = seeded.meeting.id
    assert client.post(f"/api/v1/meetings/{mid}/projectors", json={}).status_code == 401
    auth.login(seeded.secretary_user)
    projector = client.post(f"/api/v1/meetings/{mid}/projectors", json={"label": "Hội trường"})
    assert projector.status_code == 201
    device_id = projector.get_json()["device"]["device_id"]
    listed = client.get(f"/api/v1/meetings/{mid}/devices").get_json()
    assert [d["device_id"] for d in listed] == [device_id]
    door = client.post(f"/api/v1/meetings/{mid}/door-token").get_json()["token"]
    assert client.delete(f"/api/v1/devices/{device_id}").status_code == 204
    assert client.get(f"/api/v1/meetings/{mid}/devices").get_json()[0]["revoked_at"] is not None
    auth.logout()
    # A tablet checks in with the door token.
    _, secret, _ = new_code(seeded)
    tablet_token = client.post("/api/v1/pair", json={"code": secret}).get_json()["token"]
    checked = client.post(f"/api/v1/meetings/{mid}/check-in", json={"door_token": door},
                          headers={"Authorization": f"Bearer {tablet_token}"})
    assert checked.status_code == 200 and checked.get_json()["status"] == "present"


def test_delegate_cannot_manage_devices(seeded, client, auth):
    auth.login(seeded.delegate_user)
    mid = seeded.meeting.id
    assert client.post(f"/api/v1/meetings/{mid}/projectors", json={}).status_code == 403
    assert client.get(f"/api/v1/meetings/{mid}/devices").status_code == 403
    assert db.session.scalar(select(PairingCode.id)) is None


def test_endpoints_are_documented(client):
    document = client.get("/api/openapi.json").get_json()
    pair = document["paths"]["/api/v1/pair"]["post"]
    assert pair["security"] == [] and "429" in pair["responses"]
    assert "delete" in document["paths"]["/api/v1/devices/{device_id}"]
    assert "get" in document["paths"]["/api/v1/meetings/{meeting_id}/live"]
    assert "PairIn" in document["components"]["schemas"]
