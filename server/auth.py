"""Who is asking, for every request: a logged-in user or a bearer-token device.

Also where browser sessions start and end, and where CSRF is enforced: every
POST/PUT/PATCH/DELETE carried by the session cookie must bring the token
(form field ``csrf_token`` or header ``X-CSRFToken``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError

from server.errors import HemicycleError, NotAuthenticated, wants_json
from server.extensions import csrf, db, login_manager
from server.models import Device, LoginSession, User
from server.services.accounts import logins
from server.services.actors import Actor
from server.services.tokens import device_for_token, new_token

T = TypeVar("T")

# Per-request caches kept in ``g``. An application context can outlive one
# request (the test suite keeps one open around many requests), so they are
# dropped when each request starts.
_REQUEST_CACHES = ("actor", "_login_user", "_flask_babel", "csrf_token", "csrf_valid")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"
    # CSRF is checked by our own hook below, which knows about bearer tokens.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    @login_manager.user_loader
    def _load_user(session_id: str) -> User | None:
        user_id, _sep, epoch = session_id.partition(":")
        if not user_id.isdigit() or not epoch.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or user.session_epoch != int(epoch):
            return None
        if _live_login_session(user.id) is None:
            return None  # logged out (or a cookie from before server-side sessions)
        return user

    @login_manager.unauthorized_handler
    def _unauthorized():
        if wants_json():
            raise NotAuthenticated(_("Log in first."))
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))

    def _reset_request_caches() -> None:
        for name in _REQUEST_CACHES:
            g.pop(name, None)

    # First of all hooks: the locale and CSRF hooks already look at the user.
    app.before_request_funcs.setdefault(None, []).insert(0, _reset_request_caches)

    @app.before_request
    def _csrf_protect():
        if not app.config.get("WTF_CSRF_ENABLED", True):
            return
        # A bearer token is sent by the tablet's own code, never attached by
        # the browser to a forged cross-site request, so it needs no CSRF token;
        # such requests are never authenticated by the cookie (current_actor).
        if bearer_token() is not None:
            return
        csrf.protect(apply_exemptions=True)

    @app.errorhandler(CSRFError)
    def _csrf_failed(error: CSRFError):
        failure = HemicycleError(
            _("The security token is missing or expired; reload the page and try again."),
            code="csrf_failed", status=400)
        if wants_json():
            return jsonify(failure.as_dict()), 400
        return render_template("error.html", error=failure), 400


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_actor() -> Actor | None:
    """The actor behind this request, or None when nobody is authenticated."""
    if "actor" not in g:
        token = bearer_token()
        if token is not None:
            device = device_for_token(token)
            g.actor = Actor.of_device(device) if device is not None else None
        elif current_user.is_authenticated:
            g.actor = Actor.of_user(current_user._get_current_object())
        else:
            g.actor = None
    return g.actor


def current_actor_with(lookup: Callable[[str], tuple[Device | None, T]]) -> tuple[Actor | None, T | None]:
    """``current_actor()``, with the view's own rows found in the same statement as the
    bearer token.

    ``lookup(token)`` must return the live (not revoked) device holding the token, or None,
    and the view's rows (``document_access.reading_for_token``). For a request that is not
    authenticated by a bearer token, or whose actor is already known, this is
    ``(current_actor(), None)`` and the view loads its rows itself.
    """
    if "actor" not in g:
        token = bearer_token()
        if token is not None:
            device, found = lookup(token)
            if device is None:
                g.actor = None
                return None, None
            g.actor = Actor.of_device(device)
            return g.actor, found
    return current_actor(), None


def start_session(user: User) -> None:
    """Log a user in with a fresh session.

    The old session is cleared first, so nothing planted in it before the
    login (a fixed session, an attacker's CSRF token) survives; only the
    chosen language is carried over.
    """
    lang = session.get("lang")
    _end_login_session()
    session.clear()
    if lang:
        session["lang"] = lang
    token = new_token()
    logins.start(user, token, request.headers.get("User-Agent", ""), request.remote_addr)
    db.session.commit()
    session[_SESSION_TOKEN] = token
    login_user(user)
    g.pop("actor", None)
    g.pop("csrf_token", None)  # Flask-WTF caches the old session's token here


def end_session() -> None:
    _end_login_session()
    logout_user()
    session.clear()
    g.pop("actor", None)
    g.pop("csrf_token", None)


_SESSION_TOKEN = "login_token"


def _live_login_session(user_id: int) -> LoginSession | None:
    return logins.live(session.get(_SESSION_TOKEN), user_id)


def current_login_id() -> int | None:
    """The id of the live login this request's cookie carries (sockets remember it)."""
    if not current_user.is_authenticated:
        return None
    login = _live_login_session(current_user.id)
    return login.id if login is not None else None


def _end_login_session() -> None:
    logins.end(session.get(_SESSION_TOKEN))
    db.session.commit()
