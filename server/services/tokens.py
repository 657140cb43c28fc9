"""Bearer tokens for tablets and projectors: random, shown once, stored as sha256."""
from __future__ import annotations

import functools
import hashlib
import secrets

from sqlalchemy import ColumnElement, and_, bindparam, select
from sqlalchemy.orm import joinedload

from server.extensions import db
from server.models import Device


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lookup_digest(token: str | None) -> str | None:
    """The digest to look the token up by; None for a token that cannot be one (empty,
    absurdly long), which is then not looked up at all."""
    if not token or len(token) > 200:
        return None
    return token_digest(token)


def live_device() -> ColumnElement[bool]:
    """The condition "the device holds the token whose digest is bound as
    ``:token_sha256`` and is not revoked", for a query of one's own."""
    return and_(Device.token_sha256 == bindparam("token_sha256"), Device.revoked_at.is_(None))


def device_for_token(token: str | None) -> Device | None:
    """The live (not revoked) device holding this token, if any, with its participant
    (loaded in the same statement: every device request asks who holds the tablet)."""
    digest = lookup_digest(token)
    if digest is None:
        return None
    return db.session.scalar(_device_statement(), {"token_sha256": digest})


@functools.cache
def _device_statement():
    return select(Device).where(live_device()).options(joinedload(Device.participant))
