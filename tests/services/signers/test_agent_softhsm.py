"""hemicycle-sign as a real process, a SoftHSM2 token, a real server: both signatures made
where the keys are, then checked by pdfsig, pyHanko and `hemicycle minutes verify`."""
from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from server import create_app
from server.extensions import db
from server.models import Base, MinutesStatus
from server.services.actors import Actor
from server.services.archive.demo_record import seed_held_meeting
from server.services.minutes import ca, minutes as minutes_service
from server.services.minutes.verify import problems_of, verify_minutes
from server.services.longterm.demo_tsa import ensure_demo_tsa
from server.services.signers import sessions
from tests import pki
from tests.conftest import service_unavailable, test_config as make_config
from tests.live import ROOT, LiveServer, hemicycle
from tests.softhsm import SoftToken


def deployment_ca() -> pki.Issued:
    """The deployment's own CA (the demo's, without a passphrase) as a test issuer."""
    key = serialization.load_pem_private_key((ca.ca_dir() / "ca.key").read_bytes(), None)
    return pki.Issued(key, ca.ca_certificate())


def agent(token: SoftToken, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.services.signers.agent",
                           "--module", token.module, "--pin-file", str(token.pin_file), *args],
                          env=token.env, cwd=ROOT, capture_output=True, text=True, timeout=120)


@contextlib.contextmanager
def _live_minutes(tmp_path, *, tsa: bool):
    if shutil.which("pdfsig") is None:
        service_unavailable("pdfsig", "apt install poppler-utils (scripts/setup --dev does)")
    url = f"sqlite:///{tmp_path / 'live.db'}"
    app = create_app(make_config(tmp_path, DATABASE_URL=url))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        meeting, chair, secretary = seed_held_meeting()
        if tsa:  # the deployment's own TSA (as the demo's), in the server's data directory
            ensure_demo_tsa(Path(app.config["DATA_DIR"]))
        minutes_service.draft_minutes(meeting.id, Actor.system())
        minutes_service.finalise_minutes(meeting.id, Actor.system())
        token = SoftToken(tmp_path / "token").init()
        issuer = deployment_ca()
        for label, key_id, user in (("chair", "01", chair), ("secretary", "02", secretary)):
            issued = pki.issue(issuer, user.full_name)
            token.put(label, key_id, issued)
            ca.register_token_certificate(user, issued.cert, [])
        token.put_certificate("ca", "09", issuer.cert)
        db.session.commit()
        with LiveServer(tmp_path / "data", url) as server:
            yield server, token, meeting, chair, secretary
        db.session.remove()


@pytest.fixture
def live_minutes(tmp_path):
    with _live_minutes(tmp_path, tsa=False) as live:
        yield live


@pytest.fixture
def live_minutes_with_tsa(tmp_path):
    with _live_minutes(tmp_path, tsa=True) as live:
        yield live


def _sign_both_on_the_token(live, tmp_path):
    server, token, meeting, chair, secretary = live
    for user, label in ((chair, "chair"), (secretary, "secretary")):
        _row, code = sessions.open_session(meeting.id, Actor.of_user(user))
        db.session.commit()
        run = agent(token, "--cert", label, "--server", server.url, code)
        assert run.returncode == 0, run.stdout + run.stderr + server.log()
        assert "Signed (signed)." in run.stdout
        # The one-time code is spent: the agent run again is refused, and says why.
        again = agent(token, "--cert", label, "--server", server.url, code)
        assert again.returncode == 1 and "signing_session_used" in again.stderr
    db.session.expire_all()
    minutes = minutes_service.minutes_of(meeting)
    assert minutes.status == MinutesStatus.SIGNED
    result = verify_minutes(minutes)
    assert result.ok, problems_of(result)
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(minutes_service.current_pdf(minutes))
    pdfsig = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True, timeout=60)
    assert pdfsig.stdout.count("Signature is Valid.") == 2, pdfsig.stdout + pdfsig.stderr
    verified = hemicycle(server.env(), "minutes", "verify", pdf, "--meeting", meeting.id)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    return result


def test_the_agent_lists_the_tokens_certificates(live_minutes):
    _server, token, *_ = live_minutes
    run = agent(token, "--list")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("chair\tsigning\tCN=Trần Đức Lương") for line in lines), lines
    assert any(line.startswith("ca\tCA\t") for line in lines), lines


def test_chair_and_secretary_sign_on_their_token_and_the_minutes_verify(live_minutes, tmp_path):
    result = _sign_both_on_the_token(live_minutes, tmp_path)
    assert [s.level for s in result.signatures] == ["B-B", "B-B"]  # no TSA configured


def test_with_a_tsa_the_token_signatures_are_timestamped_and_archival(live_minutes_with_tsa,
                                                                      tmp_path):
    result = _sign_both_on_the_token(live_minutes_with_tsa, tmp_path)
    # Each signature timestamped and its data in the DSS; a document timestamp after the last.
    assert [s.level for s in result.signatures] == ["B-LTA", "B-LTA"]
    assert len(result.timestamps) == 1
    assert all(s.timestamped_at is not None for s in result.signatures)


def test_the_agent_with_a_certificate_not_registered_changes_nothing(live_minutes):
    server, token, meeting, chair, _secretary = live_minutes
    stranger = pki.issue(deployment_ca(), "Trần Đức Lương")  # same name, another key
    token.put("other", "05", stranger)
    _row, code = sessions.open_session(meeting.id, Actor.of_user(chair))
    db.session.commit()
    run = agent(token, "--cert", "other", "--server", server.url, code)
    assert run.returncode == 1 and "certificate_not_yours" in run.stderr, run.stderr
    db.session.expire_all()
    assert minutes_service.minutes_of(meeting).signatures == []


def test_the_agent_refuses_plain_http_to_another_host(live_minutes):
    _server, token, *_ = live_minutes
    run = agent(token, "http://hemicycle.example/api/v1/signing-sessions/abc")
    assert run.returncode == 1 and "https" in run.stderr
