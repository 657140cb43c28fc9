"""Accounts: argon2 password hashes, user administration, and logging in.

Logging in is rate limited with the ``LoginFailure`` table: too many recent
failures for one username from one address, or (unless the owner logged in from that
address recently) for one username overall or from one address, and the attempt is
refused with ``LoginThrottled`` before the password is even looked at. Messages are
translated (they reach the login page and the tablets).
"""
from __future__ import annotations

import math
from datetime import timedelta
from functools import lru_cache
from typing import Annotated, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import delete, select

from server.monitoring import metrics
from server.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound, TooManyRequests
from server.extensions import db
from server.models import LoginFailure, LoginSession, Role, User, utcnow
from server.services import access, audit
from server.services.accounts import logins
from server.services.actors import Actor

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# Tests use cheap parameters (the same as tests/factories.py) so that hashing
# does not dominate the run; production uses argon2-cffi's RFC 9106 defaults.
_TEST_PARAMETERS = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
ADDRESS_MAX_FAILURES = 20  # failures from one address, over every account
ACCOUNT_MAX_FAILURES = 30  # failures for one account, over every address
KNOWN_ADDRESS_DAYS = 30  # a login from an address makes it the owner's for this long

FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024)]
Locale = Literal["vi", "en"]


class NewUser(BaseModel):
    """A new account, as an admin (or the CLI) describes it."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=64, pattern=USERNAME_PATTERN,
                          description="Lower case letters, digits, '.', '_' or '-'")
    full_name: FullName
    role: Role = Role.DELEGATE
    email: Email | None = None
    locale: Locale | None = None
    # None: the person never logs in with a password (a delegate on a paired tablet).
    password: Password | None = None

    @field_validator("username", mode="before")
    @classmethod
    def _normalise_username(cls, value):
        return value.strip().lower() if isinstance(value, str) else value


class UserChanges(BaseModel):
    """Fields to change; only those present are touched."""

    model_config = ConfigDict(extra="forbid")

    full_name: FullName | None = None
    email: Email | None = None
    locale: Locale | None = None
    role: Role | None = None
    active: bool | None = None
    password: Password | None = None
    # Needed when people change their own password.
    current_password: Annotated[str, StringConstraints(max_length=1024)] | None = None


_SELF_SERVICE = {"full_name", "email", "locale", "password", "current_password"}


class LoginThrottled(TooManyRequests):
    """Too many failed logins: says how many seconds to wait."""

    def __init__(self, retry_after: int):
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(_("Too many failed logins. Try again in %(minutes)d minute(s).",
                           minutes=minutes), code="login_throttled")
        self.retry_after = retry_after

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["error"]["retry_after"] = self.retry_after
        return body


# -- passwords ---------------------------------------------------------------

def _parameters() -> tuple:
    params = current_app.config.get("ARGON2_PARAMETERS")
    if params is None:
        params = _TEST_PARAMETERS if current_app.config.get("TESTING") else {}
    return tuple(sorted(params.items()))


def password_hasher() -> PasswordHasher:
    """The hasher for this installation (``ARGON2_PARAMETERS`` overrides the defaults)."""
    return _hasher(_parameters())


@lru_cache(maxsize=4)
def _hasher(params: tuple) -> PasswordHasher:
    return PasswordHasher(**dict(params))


@lru_cache(maxsize=4)
def _dummy_hash(params: tuple) -> str:
    return _hasher(params).hash("not a password anybody has")


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def _verify(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(user: User, password: str) -> bool:
    """True if the password is right; rehashes it when the parameters changed."""
    hasher = password_hasher()
    if user.password_hash is None or not _verify(hasher, user.password_hash, password):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


# -- logging in --------------------------------------------------------------

def login_wait(username: str, remote_addr: str) -> int:
    """Seconds before this username may try again from this address (0: now).

    Failures are counted per (account, address) pair, so guesses from elsewhere never lock
    the owner out. Above that, a ceiling per account (guesses spread over many addresses)
    and one per address (one address trying many accounts), except for the pair of an
    account and an address it logged in from recently: its owner gets in from there.
    """
    config = current_app.config
    window = timedelta(seconds=config["LOGIN_WINDOW_SECONDS"])
    now = utcnow()
    limits = [((LoginFailure.username == username) & (LoginFailure.remote_addr == remote_addr),
               config["LOGIN_MAX_FAILURES"])]
    if not _recently_logged_in_from(username, remote_addr, now):
        limits += [
            (LoginFailure.username == username,
             config.get("LOGIN_ACCOUNT_MAX_FAILURES", ACCOUNT_MAX_FAILURES)),
            (LoginFailure.remote_addr == remote_addr,
             config.get("LOGIN_MAX_ADDRESS_FAILURES", ADDRESS_MAX_FAILURES)),
        ]
    waits = []
    for condition, limit in limits:
        recent = db.session.scalars(
            select(LoginFailure.at).where(condition, LoginFailure.at > now - window)
            .order_by(LoginFailure.at.desc()).limit(limit)
        ).all()
        if len(recent) >= limit:
            # Allowed again once the oldest of the last ``limit`` failures leaves the window.
            waits.append((recent[-1] + window - now).total_seconds())
    return max(1, math.ceil(max(waits))) if waits else 0


def _recently_logged_in_from(username: str, remote_addr: str, now) -> bool:
    days = current_app.config.get("LOGIN_KNOWN_ADDRESS_DAYS", KNOWN_ADDRESS_DAYS)
    return db.session.scalar(
        select(LoginSession.id).join(User, User.id == LoginSession.user_id)
        .where(User.username == username, LoginSession.remote_addr == remote_addr,
               LoginSession.created_at > now - timedelta(days=days)).limit(1)) is not None


def _refuse(username: str, remote_addr: str, reason: str, *, user_id: int | None,
            count_failure: bool) -> None:
    """Record a refused login in a transaction of its own, so raising cannot undo it."""
    db.session.rollback()
    metrics.LOGIN_FAILURES.labels(reason).inc()
    now = utcnow()
    if count_failure:
        db.session.add(LoginFailure(username=username, remote_addr=remote_addr, at=now))
        keep = max(timedelta(days=1), timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"]))
        db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - keep))
    audit.record("auth.login", "user", user_id or "", actor=Actor.system(), outcome="refused",
                 payload={"username": username, "remote_addr": remote_addr, "reason": reason})
    db.session.commit()


def authenticate(username: str, password: str, remote_addr: str | None) -> User:
    """The active user with this username and password, or an error.

    Refusals are committed (failure row and audit entry) before raising;
    on success the caller commits the login's audit entry and any rehash.
    The work done for an unknown username matches a wrong password's.
    """
    username = username.strip().lower()[:64]
    remote_addr = (remote_addr or "unknown")[:64]
    wait = login_wait(username, remote_addr)
    if wait:
        _refuse(username, remote_addr, "throttled", user_id=None, count_failure=False)
        raise LoginThrottled(wait)
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or user.password_hash is None:
        _verify(password_hasher(), _dummy_hash(_parameters()), password)
        ok = False
    else:
        ok = check_password(user, password)
    if not ok:
        reason = "unknown_user" if user is None else "wrong_password"
        _refuse(username, remote_addr, reason, user_id=user.id if user else None, count_failure=True)
        raise NotAuthenticated(_("Wrong username or password."), code="bad_credentials")
    if not user.active:
        _refuse(username, remote_addr, "inactive", user_id=user.id, count_failure=False)
        raise NotAuthenticated(_("This account is disabled."), code="account_disabled")
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    user.last_login_at = utcnow()
    audit.record("auth.login", "user", user.id, actor=Actor.of_user(user),
                 payload={"remote_addr": remote_addr})
    return user


# -- administration ----------------------------------------------------------

def _require_admin(actor: Actor | None, action: str, obj_id="") -> None:
    if actor is not None and actor.kind == "system":
        return
    try:
        access.require_account_role(actor, Role.ADMIN)
    except Forbidden:
        audit.record_refusal(action, "user", obj_id, actor=actor, reason="not an admin")
        raise


def list_users(actor: Actor | None) -> list[User]:
    _require_admin(actor, "user.list")
    return list(db.session.scalars(select(User).order_by(User.username)))


def get_user(actor: Actor | None, user_id: int) -> User:
    """An account; admins see everyone, other people only themselves."""
    if actor is None or (actor.user is None and actor.kind != "system"):
        raise NotAuthenticated(_("Log in first."))
    if actor.user is None or actor.user.id != user_id:
        _require_admin(actor, "user.view", user_id)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def create_user(actor: Actor | None, data: NewUser) -> User:
    """Create an account (admins and the system only); the username must be free."""
    _require_admin(actor, "user.create")
    if db.session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(_("The username %(username)s is already taken.", username=data.username),
                       code="username_taken", fields={"username": "taken"})
    user = User(username=data.username, full_name=data.full_name, role=data.role,
                email=data.email, locale=data.locale,
                password_hash=hash_password(data.password) if data.password else None)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id, actor=actor,
                 payload={"username": user.username, "role": user.role.value})
    return user


def update_user(actor: Actor | None, user_id: int, changes: UserChanges) -> User:
    """Change an account. People may edit their own name, e-mail, language and
    password (giving the current one); admins may change anything, except
    taking away their own admin role or account."""
    user = get_user(actor, user_id)
    fields = changes.model_fields_set
    is_admin = actor.kind == "system" or actor.user.role == Role.ADMIN
    if not is_admin and not fields <= _SELF_SERVICE:
        audit.record_refusal("user.update", "user", user_id, actor=actor, reason="not an admin")
        raise Forbidden(_("Only an administrator can change this."))
    is_self = actor.user is not None and actor.user.id == user.id
    if is_self and ((changes.role not in (None, Role.ADMIN) and user.role == Role.ADMIN)
                    or changes.active is False):
        raise Conflict(_("You cannot remove your own administrator rights or account."),
                       code="self_lockout")
    for name in ("full_name", "role", "active"):
        if name in fields and getattr(changes, name) is None:
            raise InvalidInput(_("This field cannot be empty."), fields={name: "required"})
    for name in fields & {"full_name", "email", "locale", "role", "active"}:
        setattr(user, name, getattr(changes, name))
    if "password" in fields:
        if changes.password is None:
            raise InvalidInput(_("This field cannot be empty."), fields={"password": "required"})
        if is_self and not check_password(user, changes.current_password or ""):
            raise InvalidInput(_("The current password is wrong."),
                               fields={"current_password": "wrong"})
        set_password(user, changes.password)
    if changes.active is False:
        user.session_epoch += 1  # log the person out everywhere, sockets included
        logins.end_all(user.id)
    audit.record("user.update", "user", user.id, actor=actor,
                 payload={"fields": sorted(fields - {"password", "current_password"}),
                          "password_changed": "password" in fields})
    return user


def set_password(user: User, password: str) -> None:
    """Store a new password and end every login (and socket) that used the old one."""
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    logins.end_all(user.id)


def deactivate_user(actor: Actor | None, user_id: int) -> User:
    return update_user(actor, user_id, UserChanges(active=False))


def set_locale(user: User, locale: str) -> None:
    """Remember a person's language (no audit: a preference, not a record)."""
    if locale not in current_app.config["LANGUAGES"]:
        raise InvalidInput(_("Unknown language."), fields={"locale": "unknown"})
    user.locale = locale
