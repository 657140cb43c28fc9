"""Settings from HEMICYCLE_* variables: the SMTP server for consultation emails."""
from __future__ import annotations

import pytest

from server.config import Config

SERVER = {"SMTP_HOST": "mail.example.gov.vn", "SMTP_FROM": "Văn phòng <vp@example.gov.vn>"}


def _config(monkeypatch, tmp_path, **values) -> Config:
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY", "SMTP_USERNAME", "SMTP_PASSWORD",
                 "SMTP_PASSWORD_FILE", "SMTP_FROM", "SMTP_TIMEOUT", "SMTP_CA_FILE", "PUBLIC_URL"):
        monkeypatch.delenv(f"HEMICYCLE_{name}", raising=False)
    for name, value in values.items():
        monkeypatch.setenv(f"HEMICYCLE_{name}", str(value))
    return Config.from_env(DATA_DIR=tmp_path, SECRET_KEY="k")


def test_no_host_no_email(monkeypatch, tmp_path):
    config = _config(monkeypatch, tmp_path)
    assert config.SMTP_HOST is None and config.PUBLIC_URL is None


@pytest.mark.parametrize("security, port", [("starttls", 587), ("ssl", 465), ("none", 25)])
def test_the_port_follows_the_security_mode(monkeypatch, tmp_path, security, port):
    config = _config(monkeypatch, tmp_path, **SERVER, SMTP_SECURITY=security)
    assert (config.SMTP_SECURITY, config.SMTP_PORT) == (security, port)


def test_the_password_is_read_from_its_file(monkeypatch, tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n")
    config = _config(monkeypatch, tmp_path, **SERVER, SMTP_USERNAME="hemicycle",
                     SMTP_PASSWORD_FILE=secret, PUBLIC_URL="https://hall.example.org/")
    assert config.SMTP_PASSWORD == "s3cret" and config.PUBLIC_URL == "https://hall.example.org"


@pytest.mark.parametrize("values, named", [
    ({"SMTP_PORT": "smtp"}, "HEMICYCLE_SMTP_PORT"),
    ({"SMTP_PORT": "70000"}, "HEMICYCLE_SMTP_PORT"),
    ({"SMTP_SECURITY": "tls"}, "HEMICYCLE_SMTP_SECURITY must be one of starttls, ssl, none"),
    ({"SMTP_FROM": "vanphong"}, "HEMICYCLE_SMTP_FROM"),
    ({"SMTP_USERNAME": "hemicycle"}, "set together"),
    ({"SMTP_PASSWORD": "x"}, "set together"),
    ({"SMTP_PASSWORD_FILE": "/nonexistent/pw"}, "cannot be read"),
    ({"SMTP_USERNAME": "hemicycle", "SMTP_PASSWORD": "mật khẩu"}, "must be ASCII"),
    ({"SMTP_USERNAME": "u", "SMTP_PASSWORD": "p", "SMTP_SECURITY": "none"}, "in clear"),
    ({"SMTP_TIMEOUT": "0"}, "HEMICYCLE_SMTP_TIMEOUT"),
    ({"SMTP_TIMEOUT": "soon"}, "HEMICYCLE_SMTP_TIMEOUT"),
    ({"SMTP_CA_FILE": "/nonexistent/ca.pem"}, "HEMICYCLE_SMTP_CA_FILE"),
    ({"PUBLIC_URL": "hall.example.org"}, "HEMICYCLE_PUBLIC_URL"),
])
def test_bad_smtp_settings_are_refused_at_start_naming_the_setting(monkeypatch, tmp_path,
                                                                    values, named):
    with pytest.raises(ValueError, match=named):
        _config(monkeypatch, tmp_path, **{**SERVER, **values})


def test_the_sender_is_required_with_a_host(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="HEMICYCLE_SMTP_FROM"):
        _config(monkeypatch, tmp_path, SMTP_HOST="mail.example.gov.vn")


def test_a_password_in_clear_is_allowed_to_a_server_on_this_machine(monkeypatch, tmp_path):
    config = _config(monkeypatch, tmp_path, SMTP_HOST="127.0.0.1", SMTP_FROM="vp@example.org",
                     SMTP_SECURITY="none", SMTP_USERNAME="u", SMTP_PASSWORD="p")
    assert config.SMTP_USERNAME == "u"


def test_a_backup_keeps_the_smtp_settings_but_not_the_password():
    from server.services.backup.create import settings

    kept = settings({"HEMICYCLE_SMTP_HOST": "mail.example.gov.vn",
                     "HEMICYCLE_SMTP_PASSWORD": "s3cret",
                     "HEMICYCLE_SMTP_PASSWORD_FILE": "/etc/hemicycle/smtp-password"})
    assert kept["HEMICYCLE_SMTP_HOST"] == "mail.example.gov.vn"
    assert "s3cret" not in str(kept) and "smtp-password" not in str(kept)
