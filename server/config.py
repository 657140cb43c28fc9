"""Settings, read from ``HEMICYCLE_*`` environment variables.

Every setting has a default that works for a single-machine installation: an
embedded SQLite database in the data directory and one eventlet process.
"""
from __future__ import annotations

import os
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
    # The invisible per-reader mark in confidential page images (docs/SECURITY.md, finding 8):
    # off until its decoder traces dense pages; on, `hemicycle watermark identify` can name
    # the reader of an undegraded copy of a sparse page, at 30-110 ms more per page.
    READER_FINGERPRINT: bool = False
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
        for name, value in overrides.items():
            setattr(config, name, value)
        if not config.SECRET_KEY:
            config.SECRET_KEY = _secret_key(data_dir)
        return config

    def as_flask(self) -> dict:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        values.update(self.extra)
        return values
