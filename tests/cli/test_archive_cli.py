"""`hemicycle ca`, `minutes verify` and `archive …` through click, on the test database."""
from __future__ import annotations

import zipfile

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from server.cli.commands import cli
from server.extensions import db
from server.models import Role, UserCertificate
from server.services.minutes import minutes as minutes_service
from server.services.archive.demo_record import seed_sealed_meeting
from tests import factories


@pytest.fixture
def run(app, tmp_path, monkeypatch):
    """Invoke the real command line against the test app's database and data directory."""
    monkeypatch.setenv("HEMICYCLE_DATA_DIR", str(app.config["DATA_DIR"]))
    monkeypatch.setenv("HEMICYCLE_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("HEMICYCLE_SECRET_KEY", "test-secret")
    monkeypatch.setenv("HEMICYCLE_ASYNC_MODE", "threading")
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def sealed(app):
    meeting = seed_sealed_meeting()
    minutes = minutes_service.minutes_of(meeting)
    return {"id": meeting.id, "title": meeting.title, "head": minutes.audit_head,
            "pdf": minutes_service.current_pdf(minutes)}


def _flip_a_byte(data: bytes) -> bytes:
    offset = data.index(b"stream", 200) + 20
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1:]


def test_ca_init_then_issue(run, app):
    result = run("ca", "init", "--name", "CA Hội đồng nhân dân", "--organization", "HĐND tỉnh")
    assert result.exit_code == 0, result.output
    assert (app.config["DATA_DIR"] / "ca" / "ca.pem").is_file()
    assert run("ca", "init").exit_code == 1  # never silently replaced
    user = factories.make_user(Role.CHAIR, username="chutoa", full_name="Nguyễn Văn Chủ Tọa")
    result = run("ca", "issue", "chutoa", "--passphrase", "mật-khẩu-ký")
    assert result.exit_code == 0, result.output
    assert "Nguyễn Văn Chủ Tọa" in result.output
    row = db.session.scalar(select(UserCertificate).where(UserCertificate.user_id == user.id))
    assert row is not None and row.issued_by_local_ca
    assert run("ca", "issue", "nobody", "--passphrase", "whatever1").exit_code == 1
    result = run("ca", "revoke", row.id, "--reason", "key lost")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(UserCertificate, row.id).revoked_at is not None
    assert run("ca", "revoke", row.id).exit_code == 1  # already revoked


def test_minutes_verify_prints_the_audit_head(run, app, sealed, tmp_path):
    path = tmp_path / "bien-ban.pdf"
    path.write_bytes(sealed["pdf"])
    result = run("minutes", "verify", path)  # the deployment's own CA is trusted by default
    assert result.exit_code == 0, result.output
    assert f"Audit head: {sealed['head']}" in result.output
    assert result.output.count("OK: sig_") == 2 and "not trusted" not in result.output
    path.write_bytes(_flip_a_byte(sealed["pdf"]))
    result = run("minutes", "verify", path)
    assert result.exit_code == 1
    assert "FAIL: sig_chair" in result.output and "OK: sig_" not in result.output


def test_archive_export_verify_list_search(run, sealed, tmp_path):
    package = tmp_path / "luu-tru.zip"
    result = run("archive", "export", sealed["id"], "--out", package)
    assert result.exit_code == 0, result.output
    result = run("archive", "verify", package)
    assert result.exit_code == 0, result.output
    assert f"Audit head: {sealed['head']}" in result.output
    assert "OK: the package is complete" in result.output

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(tampered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("record/attendance.csv"):
                data = data.replace("Trần Văn Lữ".encode(), "Trần Văn Lũ".encode())
            target.writestr(info, data)
    result = run("archive", "verify", tampered)
    assert result.exit_code == 1
    assert "attendance.csv" in result.output

    result = run("archive", "list")
    assert result.exit_code == 0 and sealed["title"] in result.output
    result = run("archive", "search", "bien ban")
    assert result.exit_code == 0 and "Biên bản được lập xong" in result.output
    assert "Nothing found" in run("archive", "search", "khong co tu nay").output
    assert run("archive", "export", 9999, "--out", tmp_path / "x.zip").exit_code == 1


def test_archive_export_to_a_directory(run, sealed, tmp_path):
    out = tmp_path / "bag"
    assert run("archive", "export", sealed["id"], "--out", out).exit_code == 0
    assert (out / "bagit.txt").is_file() and (out / "manifest-sha256.txt").is_file()
    result = run("archive", "verify", out)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("content", [b"", b"not a pdf at all", b"%PDF-1.7\n%%EOF\n"])
def test_minutes_verify_refuses_what_is_not_signed_minutes(run, app, tmp_path, content):
    path = tmp_path / "x.pdf"
    path.write_bytes(content)
    result = run("minutes", "verify", path)
    assert result.exit_code == 2 and "FAIL: not a readable PDF" in result.output
    assert "Traceback" not in result.output


def test_minutes_verify_refuses_an_unsigned_pdf(run, app, tmp_path):
    from tests.pdf.test_minutes_pdf import HEAD, SECTIONS
    from server.pdf.minutes import render_minutes

    path = tmp_path / "unsigned.pdf"
    path.write_bytes(render_minutes(SECTIONS, "", "vi", HEAD).pdf)
    result = run("minutes", "verify", path)
    assert result.exit_code == 1
    assert f"Audit head: {HEAD}" in result.output
