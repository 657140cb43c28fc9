"""The start page: staff go to their meetings, everyone else to the login form."""
from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("meetings.index"))
    return redirect(url_for("accounts.login"))
