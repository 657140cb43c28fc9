"""Bearer tokens for tablets and projectors: random, shown once, stored as sha256."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from server.extensions import db
from server.models import Device


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def device_for_token(token: str | None) -> Device | None:
    """The live (not revoked) device holding this token, if any."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        select(Device).where(Device.token_sha256 == token_digest(token), Device.revoked_at.is_(None))
    )
