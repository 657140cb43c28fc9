"""``hemicycle consultations test-email`` and bad SMTP settings, as an operator meets them."""
from __future__ import annotations

import subprocess
import sys

from tests.live import ROOT, free_port
from tests.mailserver import mail_server


def _run(tmp_path, *args, **settings) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HEMICYCLE_DATA_DIR": str(tmp_path / "data"),
           **{f"HEMICYCLE_{name}": str(value) for name, value in settings.items()}}
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_test_email_reaches_the_mail_server(tmp_path):
    with mail_server(tmp_path / "smtp", login="hemicycle:s3cret") as smtp:
        password = tmp_path / "smtp-password"
        password.write_text("s3cret\n")
        done = _run(tmp_path, "consultations", "test-email", "vp@hdnd.test",
                    SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_SECURITY="none",
                    SMTP_FROM="Văn phòng <vanphong@hdnd.test>", SMTP_USERNAME="hemicycle",
                    SMTP_PASSWORD_FILE=password)
        assert done.returncode == 0, done.stderr
        assert f"sent to vp@hdnd.test through 127.0.0.1:{smtp.port} (none)" in done.stdout
        [mail] = smtp.received()
        assert mail.message["Subject"] == "Thư thử của Hemicycle / Hemicycle test email"
        assert mail.login == "hemicycle"


def test_test_email_says_why_it_did_not_go(tmp_path):
    port = free_port()
    down = _run(tmp_path, "consultations", "test-email", "vp@hdnd.test", SMTP_HOST="127.0.0.1",
                SMTP_PORT=port, SMTP_SECURITY="none", SMTP_FROM="vanphong@hdnd.test")
    assert down.returncode == 1
    assert f"not sent: the SMTP server 127.0.0.1:{port} could not be reached" in down.stderr
    off = _run(tmp_path, "consultations", "test-email", "vp@hdnd.test")
    assert off.returncode == 1 and "HEMICYCLE_SMTP_HOST is not set" in off.stderr


def test_serve_stops_at_start_on_a_bad_smtp_setting(tmp_path):
    done = _run(tmp_path, "serve", "--port", str(free_port()), SMTP_HOST="mail.example.gov.vn")
    assert done.returncode == 1
    assert "HEMICYCLE_SMTP_FROM must give the sender's address" in done.stderr
    assert "Traceback" not in done.stderr
