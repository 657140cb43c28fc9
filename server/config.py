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


@dataclass
class Config:
    DATA_DIR: Path = Path("data")
    DATABASE_URL: str = ""
    SECRET_KEY: str = ""
    REDIS_URL: str | None = None
    # Redis channel of the Socket.IO message queue: workers of one deployment share it.
    SOCKETIO_CHANNEL: str = "hemicycle"
    # Seconds between reminders of each meeting's revision to connected clients.
    HEARTBEAT_SECONDS: float = 10.0
    ASYNC_MODE: str = "eventlet"
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
    LOGIN_MAX_FAILURES: int = 5
    LOGIN_WINDOW_SECONDS: int = 300
    # The internal nginx location (e.g. "/_pages/") that serves the page cache: clean page
    # images are answered with X-Accel-Redirect there instead of streamed by the worker.
    ACCEL_REDIRECT: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> "Config":
        data_dir = Path(overrides.pop("DATA_DIR", None) or _env("DATA_DIR", "data")).resolve()
        config = cls(DATA_DIR=data_dir)
        config.DATABASE_URL = _env("DATABASE_URL") or f"sqlite:///{data_dir / 'hemicycle.db'}"
        config.REDIS_URL = _env("REDIS_URL")
        config.SOCKETIO_CHANNEL = _env("SOCKETIO_CHANNEL", "hemicycle")
        config.HEARTBEAT_SECONDS = float(_env("HEARTBEAT_SECONDS", "10"))
        config.ASYNC_MODE = _env("ASYNC_MODE", "eventlet")
        if config.ASYNC_MODE not in ASYNC_MODES:
            raise ValueError(
                f"HEMICYCLE_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}, "
                f"not {config.ASYNC_MODE!r}"
            )
        config.SESSION_COOKIE_SECURE = _env("INSECURE_COOKIES", "0") != "1"
        config.ACCEL_REDIRECT = _env("ACCEL_REDIRECT")
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
