"""Accounts service: argon2 hashes, login checks and limits, user administration."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError
from sqlalchemy import func, select

from server.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated
from server.extensions import db
from server.models import AuditEntry, LoginFailure, Role, User, utcnow
from server.services.accounts import accounts
from server.services.actors import Actor
from tests.factories import PASSWORD, make_user

ADDR = "192.0.2.10"


def failures(**where) -> int:
    query = select(func.count()).select_from(LoginFailure)
    for name, value in where.items():
        query = query.where(getattr(LoginFailure, name) == value)
    return db.session.scalar(query)


def add_failures(n: int, *, age: timedelta, username="someone", addr=ADDR) -> None:
    for _ in range(n):
        db.session.add(LoginFailure(username=username, remote_addr=addr, at=utcnow() - age))
    db.session.commit()


def user_with_hash(stored: str, **kw) -> User:
    user = make_user(password=None, **kw)
    user.password_hash = stored
    db.session.commit()
    return user


def old_hash(password: str = PASSWORD) -> str:
    """A hash made with other parameters than this installation's."""
    return PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(password)


def last_audit() -> AuditEntry:
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()


# -- hashing -----------------------------------------------------------------

def test_hashes_are_argon2id_and_verify(app):
    stored = accounts.hash_password("mật khẩu dài 123")
    assert stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, "mật khẩu dài 123")


def test_production_hasher_uses_strong_parameters(app):
    app.config["TESTING"] = False
    hasher = accounts.password_hasher()
    assert hasher.time_cost >= 2 and hasher.memory_cost >= 19 * 1024


def test_login_rehashes_a_hash_made_with_old_parameters(app):
    old = old_hash()
    user = user_with_hash(old)
    accounts.authenticate(user.username, PASSWORD, ADDR)
    db.session.commit()
    assert user.password_hash != old
    assert not accounts.password_hasher().check_needs_rehash(user.password_hash)
    assert accounts.check_password(user, PASSWORD)


def test_login_keeps_a_current_hash(app):
    user = make_user()
    before = user.password_hash
    accounts.authenticate(user.username, PASSWORD, ADDR)
    assert user.password_hash == before


# -- authenticate --------------------------------------------------------------

def test_right_password_logs_in_and_is_audited(app):
    user = make_user(username="an")
    assert accounts.authenticate("  AN ", PASSWORD, ADDR) is user
    db.session.commit()
    entry = last_audit()
    assert (entry.action, entry.actor, entry.outcome) == ("auth.login", f"user:{user.id}", "ok")
    assert user.last_login_at is not None


@pytest.mark.parametrize("make, password, code", [
    (lambda: make_user(username="binh"), "wrong password", "bad_credentials"),
    (lambda: None, PASSWORD, "bad_credentials"),  # unknown user
    (lambda: make_user(username="binh", password=None), PASSWORD, "bad_credentials"),
    (lambda: make_user(username="binh", active=False), "wrong password", "bad_credentials"),
    (lambda: make_user(username="binh", active=False), PASSWORD, "account_disabled"),
])
def test_refused_logins(app, make, password, code):
    make()
    with pytest.raises(NotAuthenticated) as refused:
        accounts.authenticate("binh", password, ADDR)
    assert refused.value.code == code
    entry = last_audit()
    assert (entry.action, entry.actor, entry.outcome) == ("auth.login", "system", "refused")
    assert entry.payload["username"] == "binh"
    # A wrong guess counts towards the limit; a right password on a disabled account does not.
    assert failures(username="binh") == (0 if code == "account_disabled" else 1)


def test_no_password_ever_reaches_the_audit_log(app):
    user = make_user()
    for password in ("first wrong guess", PASSWORD):
        try:
            accounts.authenticate(user.username, password, ADDR)
        except NotAuthenticated:
            pass
    db.session.commit()
    dumped = json.dumps([e.payload for e in db.session.scalars(select(AuditEntry))])
    assert "first wrong guess" not in dumped and PASSWORD not in dumped


def test_user_limit_refuses_even_the_right_password_without_checking_it(app):
    old = old_hash()
    user = user_with_hash(old, username="chi")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        with pytest.raises(NotAuthenticated):
            accounts.authenticate("chi", "guess", ADDR)
    with pytest.raises(accounts.LoginThrottled) as throttled:
        accounts.authenticate("chi", PASSWORD, ADDR)
    assert 0 < throttled.value.retry_after <= app.config["LOGIN_WINDOW_SECONDS"]
    assert throttled.value.status == 429
    db.session.refresh(user)
    # Had the password been checked, the old-parameter hash would have been replaced.
    assert user.password_hash == old and user.last_login_at is None
    assert failures(username="chi") == 5  # refusals while throttled do not extend the block
    assert last_audit().payload["reason"] == "throttled"


def test_guesses_from_elsewhere_do_not_lock_the_owner_out(app):
    make_user(username="bich")
    for n in range(app.config["LOGIN_MAX_FAILURES"] * 2):  # rotating addresses
        add_failures(1, age=timedelta(seconds=5), username="bich", addr=f"203.0.113.{n}")
    assert accounts.authenticate("bich", PASSWORD, ADDR).username == "bich"


def test_the_account_ceiling_spares_an_address_the_owner_logged_in_from(app):
    from server.models import LoginSession

    owner = make_user(username="cuc")
    db.session.add(LoginSession(user_id=owner.id, token_sha256="0" * 64, remote_addr=ADDR))
    db.session.commit()
    for n in range(accounts.ACCOUNT_MAX_FAILURES):
        add_failures(1, age=timedelta(seconds=5), username="cuc", addr=f"203.0.113.{n}")
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate("cuc", PASSWORD, "198.51.100.9")  # a new address: ceiling
    assert accounts.authenticate("cuc", PASSWORD, ADDR).username == "cuc"


def test_address_limit_covers_every_username(app):
    make_user(username="dung")
    add_failures(accounts.ADDRESS_MAX_FAILURES, age=timedelta(seconds=5), username="random")
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate("dung", PASSWORD, ADDR)
    assert accounts.authenticate("dung", PASSWORD, "198.51.100.7").username == "dung"


def test_limit_lifts_when_the_window_has_passed(app):
    window = app.config["LOGIN_WINDOW_SECONDS"]
    make_user(username="giang")
    add_failures(5, age=timedelta(seconds=window + 1), username="giang")
    assert accounts.authenticate("giang", PASSWORD, ADDR).username == "giang"


def test_retry_after_counts_down_to_the_oldest_failure_in_the_window(app):
    window = app.config["LOGIN_WINDOW_SECONDS"]
    add_failures(4, age=timedelta(seconds=window - 30), username="ha")
    add_failures(1, age=timedelta(seconds=5), username="ha")
    assert 25 <= accounts.login_wait("ha", ADDR) <= 31


def test_success_clears_that_usernames_failures_only(app):
    make_user(username="khanh")
    add_failures(3, age=timedelta(seconds=5), username="khanh")
    add_failures(2, age=timedelta(seconds=5), username="other")
    accounts.authenticate("khanh", PASSWORD, ADDR)
    db.session.commit()
    assert failures(username="khanh") == 0
    assert failures(username="other") == 2


# -- administration ----------------------------------------------------------

NEW = {"username": "Lan.Nguyen", "full_name": "Nguyễn Thị Lan", "role": "chair",
       "password": "một mật khẩu"}


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.CHAIR, Role.DELEGATE, Role.OBSERVER])
def test_only_admins_create_users(app, role):
    actor = Actor.of_user(make_user(role))
    with pytest.raises(Forbidden):
        accounts.create_user(actor, accounts.NewUser(**NEW))
    assert db.session.scalar(select(User).where(User.username == "lan.nguyen")) is None
    assert (last_audit().action, last_audit().outcome) == ("user.create", "refused")


def test_anonymous_cannot_create_users(app):
    with pytest.raises(NotAuthenticated):
        accounts.create_user(None, accounts.NewUser(**NEW))


@pytest.mark.parametrize("actor", [lambda: Actor.system(), lambda: Actor.of_user(make_user(Role.ADMIN))])
def test_admin_or_system_creates_users(app, actor):
    user = accounts.create_user(actor(), accounts.NewUser(**NEW))
    db.session.commit()
    assert (user.username, user.role) == ("lan.nguyen", Role.CHAIR)
    assert accounts.check_password(user, "một mật khẩu")


def test_usernames_are_unique_whatever_the_case(app):
    make_user(username="lan.nguyen")
    with pytest.raises(Conflict):
        accounts.create_user(Actor.system(), accounts.NewUser(**NEW))


@pytest.mark.parametrize("changes", [
    {"username": "has space"}, {"username": "x"}, {"username": "a" * 65}, {"username": 12},
    {"full_name": ""}, {"full_name": "   "}, {"full_name": "N" * 201}, {"role": "king"},
    {"password": "short"}, {"password": "p" * 1025}, {"email": "not-an-email"},
    {"locale": "fr"}, {"is_admin": True},
])
def test_new_user_rejects_bad_input(changes):
    with pytest.raises(ValidationError):
        accounts.NewUser(**{**NEW, **changes})


def test_password_change_ends_other_sessions_and_needs_the_current_one(app):
    user = make_user(Role.DELEGATE)
    me = Actor.of_user(user)
    with pytest.raises(InvalidInput) as wrong:
        accounts.update_user(me, user.id, accounts.UserChanges(password="brand new pass",
                                                              current_password="nope"))
    assert wrong.value.fields == {"current_password": "wrong"}
    epoch = user.session_epoch
    accounts.update_user(me, user.id, accounts.UserChanges(password="brand new pass",
                                                          current_password=PASSWORD))
    db.session.commit()
    assert user.session_epoch == epoch + 1
    assert accounts.check_password(user, "brand new pass")
    assert "brand new pass" not in json.dumps(last_audit().payload)


def test_people_edit_themselves_but_not_their_role(app):
    user = make_user(Role.DELEGATE)
    me = Actor.of_user(user)
    accounts.update_user(me, user.id, accounts.UserChanges(full_name="Tên Mới", locale="en"))
    assert (user.full_name, user.locale) == ("Tên Mới", "en")
    with pytest.raises(Forbidden):
        accounts.update_user(me, user.id, accounts.UserChanges(role=Role.ADMIN))
    db.session.refresh(user)
    assert user.role == Role.DELEGATE


def test_admin_cannot_lock_themselves_out(app):
    admin = make_user(Role.ADMIN)
    for changes in (accounts.UserChanges(active=False), accounts.UserChanges(role=Role.DELEGATE)):
        with pytest.raises(Conflict):
            accounts.update_user(Actor.of_user(admin), admin.id, changes)


def test_deactivating_ends_sessions_and_logins(app):
    user = make_user()
    epoch = user.session_epoch
    accounts.deactivate_user(Actor.of_user(make_user(Role.ADMIN)), user.id)
    db.session.commit()
    assert (user.active, user.session_epoch) == (False, epoch + 1)
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(user.username, PASSWORD, ADDR)
