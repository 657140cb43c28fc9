"""Signing sessions through the API: what the agent's answers must be, and every refusal
(replay, a late answer, another certificate, a signature over other bytes) changes nothing."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import select
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from server.extensions import db
from server.models import AuditEntry, MinutesStatus, Role, SigningSession, utcnow
from server.services import audit
from server.services.actors import Actor
from server.services.archive.demo_record import seed_held_meeting
from server.services.minutes import ca, minutes as minutes_service
from server.services.minutes.verify import problems_of, verify_minutes
from tests import factories, pki

SESSIONS = "/api/v1/signing-sessions"


@pytest.fixture
def final(app, auth):
    chair = factories.make_user(Role.CHAIR)
    secretary = factories.make_user(Role.SECRETARY)
    meeting, chair, secretary = seed_held_meeting(chair=chair, secretary=secretary)
    minutes_service.draft_minutes(meeting.id, Actor.system())
    minutes_service.finalise_minutes(meeting.id, Actor.system())
    key = serialization.load_pem_private_key((ca.ca_dir() / "ca.key").read_bytes(), None)
    issuer = pki.Issued(key, ca.ca_certificate())
    tokens = {}
    for user in (chair, secretary):
        tokens[user.id] = pki.issue(issuer, user.full_name)
        ca.register_token_certificate(user, tokens[user.id].cert, [])
    db.session.commit()
    return meeting, chair, secretary, tokens, issuer


def _open(client, auth, meeting, user):
    auth.login(user)
    response = client.post(f"/api/v1/meetings/{meeting.id}/minutes/signing-sessions")
    assert response.status_code == 201, response.get_json()
    auth.logout()
    return response.get_json()


def _present(client, code, issued):
    return client.post(f"{SESSIONS}/{code}/certificate",
                       json={"certificate_chain": issued.pem.decode()})


def _value(issued, data: bytes) -> str:
    return base64.b64encode(issued.key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()


def _finish(client, code, issued, data=None):
    prepared = client.get(f"{SESSIONS}/{code}").get_json()
    data = data if data is not None else base64.b64decode(prepared["signed_attributes"])
    return client.post(f"{SESSIONS}/{code}/signature", json={"signature_value": _value(issued, data)})


def _signed_count(meeting) -> int:
    db.session.expire_all()
    return len(minutes_service.minutes_of(meeting).signatures)


def test_a_session_signs_both_and_seals(client, auth, final):
    meeting, chair, secretary, tokens, _ = final
    for user in (chair, secretary):
        opened = _open(client, auth, meeting, user)
        assert opened["link"].endswith(f"{SESSIONS}/{opened['code']}")
        assert "hemicycle-sign" in opened["command"] and opened["state"] == "open"
        prepared = _present(client, opened["code"], tokens[user.id])
        assert prepared.status_code == 200, prepared.get_json()
        assert prepared.get_json()["state"] == "prepared"
        done = _finish(client, opened["code"], tokens[user.id])
        assert done.status_code == 201, done.get_json()
    db.session.expire_all()
    minutes = minutes_service.minutes_of(meeting)
    assert minutes.status == MinutesStatus.SIGNED
    assert verify_minutes(minutes).ok, problems_of(verify_minutes(minutes))


def _refused(response, code: str, status: int = 409):
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code


def test_a_replayed_answer_is_refused(client, auth, final):
    meeting, chair, _secretary, tokens, _ = final
    code = _open(client, auth, meeting, chair)["code"]
    _present(client, code, tokens[chair.id])
    assert _finish(client, code, tokens[chair.id]).status_code == 201
    _refused(_finish(client, code, tokens[chair.id]), "signing_session_used")
    _refused(_present(client, code, tokens[chair.id]), "signing_session_used")
    assert _signed_count(meeting) == 1


def test_a_late_answer_is_refused(client, auth, final):
    meeting, chair, _secretary, tokens, _ = final
    code = _open(client, auth, meeting, chair)["code"]
    _refused(_finish(client, code, tokens[chair.id], data=b"x"), "signing_session_not_prepared")
    _present(client, code, tokens[chair.id])
    row = db.session.query(SigningSession).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    _refused(_finish(client, code, tokens[chair.id]), "signing_session_expired")
    assert _signed_count(meeting) == 0


def test_a_signature_over_other_bytes_is_refused(client, auth, final):
    meeting, chair, _secretary, tokens, _ = final
    code = _open(client, auth, meeting, chair)["code"]
    _present(client, code, tokens[chair.id])
    _refused(_finish(client, code, tokens[chair.id], data=b"other bytes"), "signature_mismatch")
    assert _signed_count(meeting) == 0
    refusal = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert (refusal.action, refusal.outcome) == ("minutes.signing_session", "refused")
    assert refusal.payload["reason"] == "signature_mismatch"
    assert audit.verify().ok
    # The right answer still goes through: a refusal spends nothing.
    assert _finish(client, code, tokens[chair.id]).status_code == 201


def test_a_value_from_another_key_is_refused(client, auth, final):
    meeting, chair, secretary, tokens, _ = final
    code = _open(client, auth, meeting, chair)["code"]
    _present(client, code, tokens[chair.id])
    _refused(_finish(client, code, tokens[secretary.id]), "signature_mismatch")
    assert _signed_count(meeting) == 0


def test_certificates_that_are_not_the_signers_are_refused(client, auth, final):
    meeting, chair, secretary, tokens, issuer = final
    code = _open(client, auth, meeting, chair)["code"]
    # The secretary's (registered, trusted) certificate in the chair's session.
    _refused(_present(client, code, tokens[secretary.id]), "certificate_not_yours")
    # A trusted certificate in the chair's name that nobody registered.
    _refused(_present(client, code, pki.issue(issuer, chair.full_name)), "certificate_not_yours")
    bad = client.post(f"{SESSIONS}/{code}/certificate", json={"certificate_chain": "no pem"})
    _refused(bad, "invalid_certificate", 422)
    assert client.get(f"{SESSIONS}/{code}").get_json()["state"] == "open"
    assert _signed_count(meeting) == 0


def test_an_untrusted_or_unfit_token_certificate_cannot_be_registered(app, final):
    _meeting, chair, _secretary, _tokens, issuer = final
    from server.errors import InvalidInput

    for issued, code in ((pki.self_signed(chair.full_name), "certificate_untrusted"),
                         (pki.issue(issuer, chair.full_name, key_usage=pki.ENCIPHERMENT_ONLY),
                          "certificate_not_for_signing")):
        with pytest.raises(InvalidInput) as error:
            ca.register_token_certificate(chair, issued.cert, [])
        assert error.value.code == code


def test_a_session_opened_before_the_minutes_moved_on_is_refused(client, auth, final):
    meeting, chair, _secretary, tokens, _ = final
    first = _open(client, auth, meeting, chair)["code"]
    second = _open(client, auth, meeting, chair)["code"]
    _present(client, first, tokens[chair.id])
    _present(client, second, tokens[chair.id])
    assert _finish(client, first, tokens[chair.id]).status_code == 201
    _refused(_finish(client, second, tokens[chair.id]), "already_signed")
    assert _signed_count(meeting) == 1


def test_only_the_signer_whose_turn_it_is_opens_a_session(client, auth, final):
    meeting, _chair, secretary, _tokens, _ = final
    auth.login(secretary)
    response = client.post(f"/api/v1/meetings/{meeting.id}/minutes/signing-sessions")
    _refused(response, "signing_order")
    assert db.session.query(SigningSession).count() == 0


def test_an_unknown_code_is_not_found(client):
    _refused(client.get(f"{SESSIONS}/not-a-code"), "signing_session_unknown", 404)


def test_a_code_passes_as_the_agents_argument(tmp_path):
    """The code is given on the agent's command line: one starting with "-" was taken as an
    option (1 in 64 of the former urlsafe codes), so codes are letters and digits only."""
    from server.services.signers import agent, sessions
    codes = {sessions.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == 32 and code.isascii() and code.isalnum()
    for code in list(codes)[:200]:
        assert agent._parse(["--module", "m.so", code]).link == code
