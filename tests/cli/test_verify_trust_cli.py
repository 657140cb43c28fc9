"""`minutes verify` and `archive verify` against forgers (issue 22, issue 23 finding 3).

The real command in a subprocess (exit codes, what stdout and stderr show) on files
made with real PDFs, pyHanko and the test PKI; the database is the test app's.
Exit codes: 0 verified, 1 failed, 2 unreadable input or usage.
"""
from __future__ import annotations

import subprocess
import sys
import zipfile

import bagit
import pytest

from server.extensions import db
from server.models import UserCertificate
from server.services.minutes import ca, minutes as minutes_service, signing
from server.services.archive.demo_record import BODY, DEMO_PASSPHRASE, seed_sealed_meeting
from server.services.archive.package import export_package
from tests import forgery, pki
from tests.live import ROOT


@pytest.fixture
def hemicycle(app):
    def run(*args, data_dir=None, **env):
        environment = {"PATH": "/usr/bin:/bin", "HEMICYCLE_ASYNC_MODE": "threading",
                       "HEMICYCLE_SECRET_KEY": "test-secret",
                       "HEMICYCLE_DATA_DIR": str(data_dir or app.config["DATA_DIR"]),
                       "HEMICYCLE_DATABASE_URL": app.config["DATABASE_URL"], **env}
        return subprocess.run([sys.executable, "-m", "server", *map(str, args)], cwd=ROOT,
                              env=environment, capture_output=True, text=True, timeout=120)

    return run


@pytest.fixture
def sealed(app):
    meeting = seed_sealed_meeting()
    return meeting, minutes_service.minutes_of(meeting)


def _p12(signature) -> bytes:
    return ca.load_pkcs12(db.session.get(UserCertificate, signature.certificate_id),
                          DEMO_PASSPHRASE)


def _forged(minutes) -> bytes:
    forger = pki.make_root("Hemicycle CA - " + BODY)
    return forgery.forge(minutes, pki.issue(forger, "Trần Đức Lương"),
                         pki.issue(forger, "Lê Thị Thu Hà"))


def test_genuine_minutes_pass_and_against_the_record(hemicycle, sealed, tmp_path):
    meeting, minutes = sealed
    path = tmp_path / "bien-ban.pdf"
    path.write_bytes(minutes_service.current_pdf(minutes))
    run = hemicycle("minutes", "verify", path, "--meeting", meeting.id)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "OK: sig_chair: Trần Đức Lương" in run.stdout
    assert "OK: sig_secretary: Lê Thị Thu Hà" in run.stdout
    assert "by the registered chair and secretary" in run.stdout
    assert run.stderr == ""


def test_forged_minutes_fail_with_one_plain_line_per_signature(hemicycle, sealed, tmp_path):
    _meeting, minutes = sealed
    path = tmp_path / "forged.pdf"
    path.write_bytes(_forged(minutes))
    run = hemicycle("minutes", "verify", path)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = [line for line in run.stdout.splitlines() if "sig_" in line]
    assert len(lines) == 2 and all(line.startswith("FAIL: sig_") for line in lines)
    assert lines[0].endswith(": not trusted: its certificate does not lead to a trusted root")
    assert "OK" not in run.stdout
    assert "Traceback" not in run.stderr and run.stderr.strip() == (
        "FAIL: these minutes do not pass verification.")


def test_right_people_in_the_wrong_roles_fail_with_the_meeting(hemicycle, sealed, tmp_path):
    meeting, minutes = sealed
    chair_sig, secretary_sig = minutes.signatures
    pdf = minutes_service.read_blob(minutes.pdf_sha256)
    pdf = signing.sign_pdf(pdf, "chair", _p12(secretary_sig), DEMO_PASSPHRASE,
                           signer_name="Lê Thị Thu Hà", role_label="Chủ tọa")
    pdf = signing.sign_pdf(pdf, "secretary", _p12(chair_sig), DEMO_PASSPHRASE,
                           signer_name="Trần Đức Lương", role_label="Thư ký")
    path = tmp_path / "swapped.pdf"
    path.write_bytes(pdf)
    run = hemicycle("minutes", "verify", path, "--meeting", meeting.id)
    assert run.returncode == 1, run.stdout + run.stderr
    assert ("FAIL: sig_chair: Lê Thị Thu Hà, signed" in run.stdout
            and "signed with the secretary's certificate in the chair's place" in run.stdout)
    assert "signed with the chair's certificate in the secretary's place" in run.stdout


def test_the_third_field_attack_fails(hemicycle, sealed, tmp_path):
    _meeting, minutes = sealed
    chair_signed = minutes_service.read_blob(minutes.signatures[0].pdf_sha256)
    attacked = signing.sign_pdf(forgery.add_overlay_field(chair_signed), "secretary",
                                _p12(minutes.signatures[1]), DEMO_PASSPHRASE,
                                signer_name="Lê Thị Thu Hà", role_label="Thư ký")
    path = tmp_path / "attacked.pdf"
    path.write_bytes(attacked)
    run = hemicycle("minutes", "verify", path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAIL: the form has the fields sig_chair, sig_secretary, sig_note" in run.stdout
    assert "FAIL: something was added to the file between sig_chair and sig_secretary" in run.stdout


@pytest.mark.parametrize("args", [
    ("--meeting", 9999),
    ("--trust", "TRUST_FILE"),
])
def test_unreadable_input_exits_2(hemicycle, sealed, tmp_path, args):
    _meeting, minutes = sealed
    path = tmp_path / "bien-ban.pdf"
    path.write_bytes(minutes_service.current_pdf(minutes))
    (tmp_path / "junk.pem").write_text("not a certificate")
    args = [str(tmp_path / "junk.pem") if a == "TRUST_FILE" else a for a in args]
    run = hemicycle("minutes", "verify", path, *args)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.startswith("FAIL: ") and "Traceback" not in run.stderr
    assert hemicycle("minutes", "verify", tmp_path / "missing.pdf").returncode == 2


def _package_with(minutes_pdf: bytes, package, tmp_path):
    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path / "unpacked")
    bag_dir = next((tmp_path / "unpacked").iterdir())
    (bag_dir / "data" / "minutes" / "minutes-signed.pdf").write_bytes(minutes_pdf)
    bagit.Bag(str(bag_dir)).save(manifests=True)
    return bag_dir


def test_archive_verify_trusts_the_deployment_not_the_package(hemicycle, sealed, tmp_path):
    meeting, minutes = sealed
    package = export_package(meeting.id, tmp_path / "p.zip")
    assert hemicycle("archive", "verify", package).returncode == 0
    # Elsewhere (no deployment CA in the data directory), the package's ca.pem is not enough.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = hemicycle("archive", "verify", package, data_dir=elsewhere)
    assert run.returncode == 1 and "Trusted roots: none" in run.stdout
    assert "not trusted here" in run.stdout
    ca_copy = tmp_path / "ca-from-the-deployment.pem"
    ca_copy.write_bytes((ca.ca_dir() / "ca.pem").read_bytes())
    run = hemicycle("archive", "verify", package, "--trust", ca_copy, data_dir=elsewhere)
    assert run.returncode == 0, run.stdout + run.stderr
    run = hemicycle("archive", "verify", package, data_dir=elsewhere,
                    HEMICYCLE_TRUST_ROOTS=str(ca_copy))
    assert run.returncode == 0, run.stdout + run.stderr

    forged_bag = _package_with(_forged(minutes), package, tmp_path)
    run = hemicycle("archive", "verify", forged_bag)
    assert run.returncode == 1
    assert run.stdout.count("FAIL: sig_") == 2 and "OK: sig_" not in run.stdout
    assert "Traceback" not in run.stderr
    (tmp_path / "junk.zip").write_bytes(b"PK\x03\x04 not a zip")
    assert hemicycle("archive", "verify", tmp_path / "junk.zip").returncode == 2
