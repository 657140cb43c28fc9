"""REST endpoints: log in and out with the session cookie, and who am I."""
from __future__ import annotations

from typing import Annotated

from flask import request
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from pydantic import BaseModel, ConfigDict, StringConstraints

from server.api.blueprint import bp
from server.api.spec import endpoint
from server.api.users import UserOut
from server.auth import current_actor, end_session, start_session
from server.errors import NotAuthenticated
from server.extensions import csrf, db
from server.services.accounts import accounts


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    # Capped so nobody can make the server hash megabytes.
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str


class MeChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: accounts.Locale


def _user_or_401():
    actor = current_actor()
    if actor is None or actor.user is None:
        raise NotAuthenticated(_("Log in first."))
    return actor.user


@bp.errorhandler(accounts.LoginThrottled)
def _throttled(error: accounts.LoginThrottled):
    return error.as_dict(), error.status, {"Retry-After": str(error.retry_after)}


@bp.post("/auth/login")
# Exempt from CSRF: the caller has no session yet, so there is no token to
# send, and a forged login gains the forger nothing (it needs the password).
# The session is replaced on success, so nothing from before survives.
@csrf.exempt
@endpoint("Log in; sets the session cookie and returns the CSRF token for later changes",
          tag="auth", body=LoginBody, response=LoginOut, auth="public", errors=(401, 429))
def login(body: LoginBody):
    user = accounts.authenticate(body.username, body.password, request.remote_addr)
    db.session.commit()
    start_session(user)
    return {"user": UserOut.dump(user), "csrf_token": generate_csrf()}


@bp.post("/auth/logout")
@endpoint("Log out (ends this browser session)", tag="auth", status=204, auth="anyone")
def logout():
    end_session()
    return "", 204


@bp.get("/auth/me")
@endpoint("The logged-in user", tag="auth", response=UserOut, auth="a logged-in user")
def me():
    return UserOut.dump(_user_or_401())


@bp.patch("/auth/me")
@endpoint("Save my language", tag="auth", body=MeChanges, response=UserOut,
          auth="a logged-in user")
def update_me(body: MeChanges):
    user = _user_or_401()
    accounts.set_locale(user, body.locale)
    db.session.commit()
    return UserOut.dump(user)
