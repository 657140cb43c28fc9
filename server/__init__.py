"""Hemicycle: the application factory."""
from __future__ import annotations

from typing import TYPE_CHECKING

from server.paths import ROOT

# Nothing here imports Flask at module level: `hemicycle serve` must be able to
# monkey-patch eventlet or gevent before Flask and Werkzeug are imported.
if TYPE_CHECKING:
    from flask import Flask

    from server.config import Config


def create_app(config: Config | dict | None = None) -> Flask:
    """Build the app. ``config`` is a Config, or overrides for Config.from_env()."""
    from flask import Flask, jsonify

    from server.config import Config

    if not isinstance(config, Config):
        config = Config.from_env(**(config or {}))
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(config.as_flask())
    config.DATA_DIR.mkdir(parents=True, exist_ok=True)
    from server.monitoring import logs

    logs.configure(config.LOG_FORMAT)

    from server import errors, extensions, routing

    routing.init_app(app)
    extensions.db.init_app(app)
    extensions.csrf.init_app(app)
    errors.register_error_handlers(app)

    from server import auth, i18n

    i18n.init_app(app)
    auth.init_app(app)

    from server import security

    security.init_app(app)

    from server.api import init_app as init_api
    from server.web import init_app as init_web

    init_api(app)
    init_web(app)

    from server.realtime import init_app as init_realtime

    init_realtime(app)

    if config.TRUSTED_PROXIES:  # outermost, so page requests and sockets see the client
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = config.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from server.monitoring import page as monitoring_page

    monitoring_page.init_app(app)

    @app.get("/healthz")
    def healthz():
        from sqlalchemy import text

        extensions.db.session.execute(text("SELECT 1"))
        return jsonify(status="ok", async_mode=app.config["ASYNC_MODE"])

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
            "script-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; "
            "base-uri 'self'; form-action 'self'",
        )
        return response

    return app
