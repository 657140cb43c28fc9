"""REST API under /api/v1; the OpenAPI document at /api/openapi.json."""
from __future__ import annotations

from flask import Flask, current_app, jsonify

from server.api.blueprint import bp


def init_app(app: Flask) -> None:
    # One module per resource; each adds its views to ``bp``.
    from server.api import (  # noqa: F401
        agenda, amendments, archive, auth, consultations, devices, documents, drafts, meetings,
        minutes, participants, polls, session, signing_sessions, users,
    )
    # Imported by its full name: `annotations` in this package is the __future__ feature.
    import server.api.annotations  # noqa: F401

    app.register_blueprint(bp)

    @app.get("/api/openapi.json")
    def openapi_document():
        from server.api.spec import build_openapi

        return jsonify(build_openapi(current_app))
