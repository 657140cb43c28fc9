"""The minutes page: draft, edit, finalise, then the chair and the secretary sign."""
from __future__ import annotations

import pytest

from server.extensions import db
from server.models import MeetingStatus, MinutesStatus, Role
from server.services.minutes import minutes as minutes_service
from server.services.archive.demo_record import DEMO_PASSPHRASE, seed_held_meeting
from tests import factories


@pytest.fixture
def held(app):
    chair = factories.make_user(Role.CHAIR, username="chutoa", full_name="Trần Đức Lương")
    secretary = factories.make_user(Role.SECRETARY, username="thuky", full_name="Lê Thị Thu Hà")
    meeting, _, _ = seed_held_meeting(chair=chair, secretary=secretary)
    db.session.commit()
    return meeting, chair, secretary


def test_from_draft_to_sealed_in_the_browser_forms(client, auth, held):
    meeting, chair, secretary = held
    url = f"/meetings/{meeting.id}/minutes"
    auth.login(secretary)
    assert "have not been drafted" in client.get(url + "?lang=en").get_data(as_text=True)
    response = client.post(url, data={"action": "draft", "language": "vi"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Báo cáo tình hình kinh tế - xã hội năm 2026" in page
    item_id = minutes_service.minutes_of(meeting).sections["items"][0]["id"]
    client.post(url, data={"action": "save", "language": "vi", "opening": "Khai mạc.",
                           f"notes-{item_id}": "Ghi chú từ trang", "locality": "Đà Lạt"})
    db.session.expire_all()
    minutes = minutes_service.minutes_of(meeting)
    assert minutes.sections["items"][0]["notes"] == "Ghi chú từ trang"
    assert minutes.sections["meeting"]["locality"] == "Đà Lạt"
    response = client.post(url, data={"action": "finalise", "language": "vi", "opening": "Khai mạc."})
    db.session.expire_all()
    assert minutes_service.minutes_of(meeting).status == MinutesStatus.FINAL
    assert client.get(url + "/minutes.pdf").data.startswith(b"%PDF")
    page = client.get(url).get_data(as_text=True)
    assert 'name="passphrase"' not in page  # the chair signs first
    auth.logout()

    auth.login(chair)
    assert 'name="passphrase"' in client.get(url).get_data(as_text=True)
    client.post(url, data={"action": "sign", "passphrase": "wrong"})
    assert "Wrong passphrase" in client.get(url).get_data(as_text=True)
    client.post(url, data={"action": "sign", "passphrase": DEMO_PASSPHRASE})
    auth.logout()

    auth.login(secretary)
    client.post(url, data={"action": "sign", "passphrase": DEMO_PASSPHRASE})
    db.session.expire_all()
    assert minutes_service.minutes_of(meeting).status == MinutesStatus.SIGNED
    assert db.session.get(type(meeting), meeting.id).status == MeetingStatus.SEALED


def test_delegates_do_not_see_the_minutes_page(client, auth, held):
    meeting, _chair, _secretary = held
    delegate = factories.make_user(Role.DELEGATE)
    factories.make_participant(meeting, user=delegate)
    auth.login(delegate)
    assert client.get(f"/meetings/{meeting.id}/minutes").status_code in (403, 404)
    response = client.post(f"/meetings/{meeting.id}/minutes", data={"action": "draft"})
    assert response.status_code in (302, 403, 404)
    assert minutes_service.minutes_of(meeting) is None


def test_the_page_shows_what_verification_finds(client, auth, app):
    """The page checks the stored file as `minutes verify --meeting` would."""
    from server.models import UserCertificate
    from server.services.minutes import ca
    from server.services.archive.demo_record import seed_sealed_meeting
    from server.services.minutes import signing
    from tests.forgery import add_overlay_field

    chair = factories.make_user(Role.CHAIR, username="chutoa", full_name="Trần Đức Lương")
    secretary = factories.make_user(Role.SECRETARY, username="thuky", full_name="Lê Thị Thu Hà")
    meeting = seed_sealed_meeting(chair=chair, secretary=secretary)
    minutes = minutes_service.minutes_of(meeting)
    certificate = db.session.get(UserCertificate, minutes.signatures[1].certificate_id)
    auth.login(secretary)
    url = f"/meetings/{meeting.id}/minutes?lang=en"
    page = client.get(url).get_data(as_text=True)
    assert "Verified: every signature is intact" in page, page
    # The report per signature: signer, issuer, level (no TSA here: B-B), changes after it.
    assert 'id="signature-report"' in page and "Certificate issuer" in page
    assert page.count("PAdES B-B") == 2 and "Hemicycle CA - " in page
    assert "the next signature only" in page and "no timestamp; as the signer states" in page
    vi = client.get(f"/meetings/{meeting.id}/minutes?lang=vi").get_data(as_text=True)
    assert "Tình trạng thu hồi khi ký" in vi
    # An insider with the data directory and the database replaces the signed file with
    # the third-field attack, signed by the real secretary key.
    chair_signed = minutes_service.read_blob(minutes.signatures[0].pdf_sha256)
    attacked = signing.sign_pdf(add_overlay_field(chair_signed), "secretary",
                                ca.load_pkcs12(certificate, DEMO_PASSPHRASE), DEMO_PASSPHRASE,
                                signer_name="Lê Thị Thu Hà", role_label="Thư ký")
    minutes.signatures[1].pdf_sha256 = minutes_service.store_blob(attacked)
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "The signed file does not pass verification" in page
    assert "the form has the fields sig_chair, sig_secretary, sig_note" in page
    assert "Verified:" not in page
    vi = client.get(f"/meetings/{meeting.id}/minutes?lang=vi").get_data(as_text=True)
    assert "biểu mẫu có các ô sig_chair, sig_secretary, sig_note" in vi
    assert "the form has the fields" not in vi and "tệp không chứa dữ liệu thu hồi" in vi


def test_the_page_gives_the_signer_a_one_time_link_for_their_token(client, auth, held):
    from server.models import SigningSession
    from server.services.actors import Actor

    meeting, chair, secretary = held
    minutes_service.draft_minutes(meeting.id, Actor.system())
    minutes_service.finalise_minutes(meeting.id, Actor.system())
    db.session.commit()
    url = f"/meetings/{meeting.id}/minutes"
    auth.login(secretary)  # not yet the secretary's turn: no session
    client.post(url + "/signing-session")
    assert db.session.query(SigningSession).count() == 0
    auth.logout()
    auth.login(chair)
    page = client.post(url + "/signing-session?lang=en").get_data(as_text=True)
    row = db.session.query(SigningSession).one()
    assert row.user_id == chair.id and row.role.value == "chair"
    assert "hemicycle-sign --module" in page and "/api/v1/signing-sessions/" in page
    code = page.split("/api/v1/signing-sessions/")[1].split("<")[0].strip()
    assert client.get(f"/api/v1/signing-sessions/{code}").get_json()["signer"] == chair.full_name
    # Shown once: the page again does not show it.
    assert code not in client.get(url).get_data(as_text=True)
