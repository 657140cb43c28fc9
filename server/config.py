"""Settings, read from ``HEMICYCLE_*`` environment variables.

Every setting has a default that works for a single-machine installation: an
embedded SQLite database in the data directory and one eventlet process.
"""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

ASYNC_MODES = ("eventlet", "gevent", "threading")
LOG_FORMATS = ("text", "json")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"HEMICYCLE_{name}")
    return value if value not in (None, "") else default


def _secret_key(data_dir: Path) -> str:
    """Use HEMICYCLE_SECRET_KEY, else a random key kept in the data directory.

    Keeping it on disk means sessions and tablet tokens survive a restart
    without the operator having to invent a key for a first run.
    """
    configured = _env("SECRET_KEY")
    if configured:
        return configured
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def allowed_origins(value: str | None) -> tuple[str, ...] | None:
    """``HEMICYCLE_ALLOWED_ORIGINS``: comma-separated origins, or unset for the request's own.

    ``*`` is refused: it would let any page on the hall network drive a logged-in
    secretary's socket (cross-site WebSocket hijacking).
    """
    if value is None:
        return None
    origins = tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())
    for origin in origins:
        if origin == "*" or "://" not in origin:
            raise ValueError("HEMICYCLE_ALLOWED_ORIGINS lists origins such as "
                             f"https://hall.example.org, not {origin!r}")
    return origins or None


def trust_roots_from_env() -> tuple[str, ...]:
    """``HEMICYCLE_TRUST_ROOTS``: paths separated by ``:`` (``os.pathsep``)."""
    return tuple(p for p in (_env("TRUST_ROOTS") or "").split(os.pathsep) if p.strip())


SMTP_SECURITY = {"starttls": 587, "ssl": 465, "none": 25}  # mode -> its usual port


def _smtp_from_env(config: "Config") -> None:
    """``HEMICYCLE_SMTP_*``: the mail server for consultation emails; no host, no email.

    Refuses, with the setting named, what could only fail at the first email: a port
    that is not a number, an unknown security mode, no sender address, a username without
    a password (or the reverse), an unreadable password file, and a password sent in
    clear (``none``) to a server that is not on this machine, and credentials that are not
    ASCII (smtplib's AUTH cannot send them).
    """
    config.SMTP_HOST = _env("SMTP_HOST")
    config.PUBLIC_URL = _env("PUBLIC_URL")
    if config.PUBLIC_URL:
        config.PUBLIC_URL = config.PUBLIC_URL.rstrip("/")
        if not config.PUBLIC_URL.startswith(("https://", "http://")):
            raise ValueError("HEMICYCLE_PUBLIC_URL is the address members open, such as "
                             f"https://hall.example.org, not {config.PUBLIC_URL!r}")
    if not config.SMTP_HOST:
        return
    config.SMTP_SECURITY = _env("SMTP_SECURITY", "starttls")
    if config.SMTP_SECURITY not in SMTP_SECURITY:
        raise ValueError(f"HEMICYCLE_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, "
                         f"not {config.SMTP_SECURITY!r}")
    port = _env("SMTP_PORT", str(SMTP_SECURITY[config.SMTP_SECURITY]))
    if not (port.isdecimal() and 0 < int(port) < 65536):
        raise ValueError(f"HEMICYCLE_SMTP_PORT is a port number, not {port!r}")
    config.SMTP_PORT = int(port)
    timeout = _env("SMTP_TIMEOUT", "10")
    try:
        config.SMTP_TIMEOUT = float(timeout)
    except ValueError:
        config.SMTP_TIMEOUT = 0.0
    if not 0 < config.SMTP_TIMEOUT <= 120:
        raise ValueError(f"HEMICYCLE_SMTP_TIMEOUT is seconds, 0 to 120, not {timeout!r}")
    config.SMTP_FROM = _env("SMTP_FROM")
    if not config.SMTP_FROM or "@" not in config.SMTP_FROM:
        raise ValueError("HEMICYCLE_SMTP_HOST is set, so HEMICYCLE_SMTP_FROM must give the "
                         "sender's address (e.g. Văn phòng <vanphong@example.gov.vn>)")
    config.SMTP_USERNAME = _env("SMTP_USERNAME")
    config.SMTP_PASSWORD = _env("SMTP_PASSWORD")
    password_file = _env("SMTP_PASSWORD_FILE")
    if password_file:
        try:
            config.SMTP_PASSWORD = Path(password_file).read_text().strip()
        except OSError as error:
            raise ValueError(f"HEMICYCLE_SMTP_PASSWORD_FILE {password_file!r} cannot be read: "
                             f"{error.strerror}") from None
    if bool(config.SMTP_USERNAME) != bool(config.SMTP_PASSWORD):
        raise ValueError("HEMICYCLE_SMTP_USERNAME and HEMICYCLE_SMTP_PASSWORD (or "
                         "HEMICYCLE_SMTP_PASSWORD_FILE) are set together or not at all")
    if not ((config.SMTP_USERNAME or "").isascii() and (config.SMTP_PASSWORD or "").isascii()):
        # smtplib writes SMTP AUTH as ASCII: a Vietnamese letter would fail every email.
        raise ValueError("HEMICYCLE_SMTP_USERNAME and the SMTP password must be ASCII "
                         "(letters without diacritics, digits, punctuation)")
    if (config.SMTP_USERNAME and config.SMTP_SECURITY == "none"
            and config.SMTP_HOST not in ("localhost", "127.0.0.1", "::1")):
        raise ValueError("HEMICYCLE_SMTP_SECURITY=none would send the SMTP password in clear "
                         f"to {config.SMTP_HOST}; use starttls or ssl")
    config.SMTP_CA_FILE = _env("SMTP_CA_FILE")
    if config.SMTP_CA_FILE and not Path(config.SMTP_CA_FILE).is_file():
        raise ValueError(f"HEMICYCLE_SMTP_CA_FILE {config.SMTP_CA_FILE!r} is not a file")


def data_dir_from_env() -> Path:
    return Path(_env("DATA_DIR", "data")).resolve()


@dataclass
class Config:
    DATA_DIR: Path = Path("data")
    DATABASE_URL: str = ""
    SECRET_KEY: str = ""
    REDIS_URL: str | None = None
    # Redis channel of the Socket.IO message queue: workers of one deployment share it.
    SOCKETIO_CHANNEL: str = "hemicycle"
    # Origins (scheme://host[:port]) whose pages may open a Socket.IO connection. None: only
    # the request's own host (engine.io's same-origin check), which is what a deployment
    # behind one name needs; list every name when the server is reached under several.
    ALLOWED_ORIGINS: tuple[str, ...] | None = None
    # Seconds between reminders of each meeting's revision to connected clients.
    HEARTBEAT_SECONDS: float = 10.0
    ASYNC_MODE: str = "eventlet"
    # "text" (a line for a person) or "json" (one object a line for a log collector).
    LOG_FORMAT: str = "text"
    TESTING: bool = False
    # Cookies are Secure unless the deployment says it serves plain HTTP
    # (the demo and the tests on localhost do).
    SESSION_COOKIE_SECURE: bool = True
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    REMEMBER_COOKIE_HTTPONLY: bool = True
    WTF_CSRF_TIME_LIMIT: int | None = None
    BABEL_DEFAULT_LOCALE: str = "vi"
    LANGUAGES: tuple[str, ...] = ("vi", "en")
    MAX_CONTENT_LENGTH: int = 64 * 1024 * 1024
    # Failures per (account, address) pair; the account and address ceilings and the
    # owner's recent addresses are in services/accounts/accounts.py (LOGIN_* overrides).
    LOGIN_MAX_FAILURES: int = 5
    LOGIN_WINDOW_SECONDS: int = 300
    # Reverse proxies in front of the workers (nginx: 1) whose X-Forwarded-For/-Proto/-Host
    # are believed; 0 believes none, so a client cannot choose the address its login
    # failures are counted under. Behind nginx without it, every client shares nginx's address.
    TRUSTED_PROXIES: int = 0
    # /metrics answers only a scraper sending this token (Authorization: Bearer); unset, it is off.
    METRICS_TOKEN: str | None = None
    # Audit checkpoints (docs/SECURITY.md): seconds between checkpoints of the chain's head
    # by the serving process (0: only at finalisations, seals and `hemicycle audit
    # checkpoint`); the RFC 3161 TSA that timestamps them (unset: none); the audit key
    # (unset: DATA_DIR/audit/audit.key, created on first use); the checkpoint file
    # (unset: DATA_DIR/audit/checkpoints.jsonl).
    AUDIT_CHECKPOINT_SECONDS: float = 3600.0
    AUDIT_TSA_URL: str | None = None
    # RFC 3161 timestamp authority for signatures on the minutes (PAdES B-T and up,
    # docs/MINUTES.md "Long-term signatures"); without it they are PAdES B-B.
    TSA_URL: str | None = None
    AUDIT_KEY: str | None = None
    AUDIT_CHECKPOINT_FILE: str | None = None
    # PEM files (or directories of them) whose certificates are trusted, besides the
    # deployment's own CA, as roots for signatures on the minutes (e.g. the national root CA).
    TRUST_ROOTS: tuple[str, ...] = ()
    # A PKCS#11 token on the server (docs/MINUTES.md, "Keys on tokens"): the module (.so),
    # the token's label, the label of the key and its certificate, a file holding the PIN.
    PKCS11_MODULE: str | None = None
    PKCS11_TOKEN: str = ""
    PKCS11_KEY: str = ""
    PKCS11_PIN_FILE: str = ""
    # A remote signing service (Cloud Signature Consortium API v1): its base URL (before
    # /csc/v1/) and the OAuth bearer token its operator gave the deployment, if any.
    CSC_URL: str | None = None
    CSC_TOKEN: str | None = None
    # Minutes a signing session (a signature made on the signer's own token) stays open.
    SIGNING_SESSION_MINUTES: float = 10.0
    # The internal nginx location (e.g. "/_pages/") that serves the page cache: clean page
    # images are answered with X-Accel-Redirect there instead of streamed by the worker.
    ACCEL_REDIRECT: str | None = None
    # The string nginx's secure_link checks a tablet's page link with (docs/DEPLOYMENT.md,
    # "Page images"): with it, a reader of a non-confidential version gets a link valid
    # PAGE_LINK_SECONDS that nginx serves from the page cache without asking a worker.
    PAGE_LINK_SECRET: str | None = None
    PAGE_LINK_SECONDS: int = 30
    # The invisible per-reader mark in confidential page images (docs/SECURITY.md, finding 8):
    # off until its decoder traces dense pages; on, `hemicycle watermark identify` can name
    # the reader of an undegraded copy of a sparse page, at 30-110 ms more per page.
    READER_FINGERPRINT: bool = False
    # The address members open (https://hall.example.org): links in emails. Unset, the
    # address the office's request came to (wrong behind a proxy that rewrites the host).
    PUBLIC_URL: str | None = None
    # Email to the members of written consultations (asked, reminded), through this SMTP
    # server; unset host, no email. docs/CONSULTATIONS.md, "Email".
    SMTP_HOST: str | None = None
    SMTP_PORT: int = 587
    SMTP_SECURITY: str = "starttls"  # starttls, ssl (SMTPS) or none
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_FROM: str | None = None
    SMTP_CA_FILE: str | None = None  # trusted CA for the server's certificate, besides the system's
    SMTP_TIMEOUT: float = 10.0  # seconds for the connection and each SMTP exchange
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> "Config":
        data_dir = Path(overrides.pop("DATA_DIR", None) or _env("DATA_DIR", "data")).resolve()
        config = cls(DATA_DIR=data_dir)
        config.DATABASE_URL = _env("DATABASE_URL") or f"sqlite:///{data_dir / 'hemicycle.db'}"
        config.REDIS_URL = _env("REDIS_URL")
        config.SOCKETIO_CHANNEL = _env("SOCKETIO_CHANNEL", "hemicycle")
        config.ALLOWED_ORIGINS = allowed_origins(_env("ALLOWED_ORIGINS"))
        config.HEARTBEAT_SECONDS = float(_env("HEARTBEAT_SECONDS", "10"))
        config.ASYNC_MODE = _env("ASYNC_MODE", "eventlet")
        if config.ASYNC_MODE not in ASYNC_MODES:
            raise ValueError(
                f"HEMICYCLE_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}, "
                f"not {config.ASYNC_MODE!r}"
            )
        config.LOG_FORMAT = _env("LOG_FORMAT", "text")
        if config.LOG_FORMAT not in LOG_FORMATS:
            raise ValueError(
                f"HEMICYCLE_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, "
                f"not {config.LOG_FORMAT!r}"
            )
        config.METRICS_TOKEN = _env("METRICS_TOKEN")
        proxies = _env("TRUSTED_PROXIES", "0")
        if not (proxies.isdecimal() and int(proxies) <= 5):
            raise ValueError(f"HEMICYCLE_TRUSTED_PROXIES is a number of proxies, 0 to 5, "
                             f"not {proxies!r}")
        config.TRUSTED_PROXIES = int(proxies)
        config.SESSION_COOKIE_SECURE = _env("INSECURE_COOKIES", "0") != "1"
        config.AUDIT_CHECKPOINT_SECONDS = float(_env("AUDIT_CHECKPOINT_SECONDS", "3600"))
        config.AUDIT_TSA_URL = _env("AUDIT_TSA_URL")
        config.TSA_URL = _env("TSA_URL")
        config.AUDIT_KEY = _env("AUDIT_KEY")
        config.AUDIT_CHECKPOINT_FILE = _env("AUDIT_CHECKPOINT_FILE")
        config.TRUST_ROOTS = trust_roots_from_env()
        config.ACCEL_REDIRECT = _env("ACCEL_REDIRECT")
        config.READER_FINGERPRINT = _env("READER_FINGERPRINT", "0") == "1"
        config.PAGE_LINK_SECRET = _env("PAGE_LINK_SECRET")
        if config.PAGE_LINK_SECRET is not None and not re.fullmatch(r"[A-Za-z0-9]{32,128}",
                                                                    config.PAGE_LINK_SECRET):
            raise ValueError("HEMICYCLE_PAGE_LINK_SECRET is 32 to 128 letters and digits "
                             "(e.g. `openssl rand -hex 32`), the same string as in nginx's "
                             "page-link.conf")
        seconds = _env("PAGE_LINK_SECONDS", "30")
        if not (seconds.isdecimal() and 5 <= int(seconds) <= 3600):
            raise ValueError(f"HEMICYCLE_PAGE_LINK_SECONDS is 5 to 3600, not {seconds!r}")
        config.PAGE_LINK_SECONDS = int(seconds)
        config.PKCS11_MODULE = _env("PKCS11_MODULE")
        config.PKCS11_TOKEN = _env("PKCS11_TOKEN", "")
        config.PKCS11_KEY = _env("PKCS11_KEY", "")
        config.PKCS11_PIN_FILE = _env("PKCS11_PIN_FILE", "")
        config.CSC_URL = _env("CSC_URL")
        config.CSC_TOKEN = _env("CSC_TOKEN")
        config.SIGNING_SESSION_MINUTES = float(_env("SIGNING_SESSION_MINUTES", "10"))
        if config.ACCEL_REDIRECT and not (config.ACCEL_REDIRECT.startswith("/")
                                          and config.ACCEL_REDIRECT.endswith("/")):
            raise ValueError("HEMICYCLE_ACCEL_REDIRECT is a location path such as /_pages/ "
                             f"(a leading and a trailing slash), not {config.ACCEL_REDIRECT!r}")
        _smtp_from_env(config)
        for name, value in overrides.items():
            setattr(config, name, value)
        if not config.SECRET_KEY:
            config.SECRET_KEY = _secret_key(data_dir)
        return config

    def as_flask(self) -> dict:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        values.update(self.extra)
        return values
