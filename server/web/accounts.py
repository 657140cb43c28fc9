"""Login and logout pages."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from server.auth import end_session, start_session
from server.errors import NotAuthenticated
from server.extensions import db
from server.services.accounts import accounts

bp = Blueprint("accounts", __name__)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _form(error: str | None = None, status: int = 200, username: str = ""):
    return render_template("accounts/login.html", error=error, username=username,
                           next=safe_next(request.values.get("next")) or ""), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    destination = safe_next(request.values.get("next")) or url_for("meetings.index")
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(destination)
        return _form()
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if not username.strip() or not password:
        return _form(_("Enter your username and password."), 422, username[:64])
    if len(username) > 64 or len(password) > 1024:
        return _form(_("Wrong username or password."), 401)
    try:
        user = accounts.authenticate(username, password, request.remote_addr)
    except accounts.LoginThrottled as throttled:
        response = _form(throttled.message, 429, username)
        return (*response, {"Retry-After": str(throttled.retry_after)})
    except NotAuthenticated as refused:
        return _form(refused.message, 401, username)
    db.session.commit()
    start_session(user)
    return redirect(destination)


@bp.post("/logout")
def logout():
    end_session()
    return redirect(url_for("accounts.login"))
