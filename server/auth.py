"""Who is asking, for every request: a logged-in user or a bearer-token device."""
from __future__ import annotations

from flask import Flask, g, request
from flask_login import current_user

from server.extensions import db, login_manager
from server.models import User
from server.services.actors import Actor
from server.services.tokens import device_for_token


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(session_id: str) -> User | None:
        user_id, _, epoch = session_id.partition(":")
        if not user_id.isdigit() or not epoch.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or user.session_epoch != int(epoch):
            return None
        return user


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
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
