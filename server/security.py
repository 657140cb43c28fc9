"""Hardening applied to every request: unstorable text refused, HSTS, and an audit entry
for every refused change.

No value of a request (path, query, form fields, JSON body) may hold NUL or
a lone surrogate: neither backend can store one, so such a request is answered 422
``invalid_characters`` before any view runs (server/schemas/types.py ``require_storable``).

Services audit the refusals they know about (``audit.record_refusal``); many
refusals, though, come straight from ``access.require`` or from the API layer
("log in first", "send the tablet's token"). So after any change request
(POST/PUT/PATCH/DELETE) on a known route that ends in 401, 403 or 404, and for
which nothing has been audited yet, one ``refused`` entry is appended here:
who asked, which endpoint, and why. Reads that are refused are not audited,
so browsing cannot flood the chain.
"""
from __future__ import annotations

import logging

from flask import Flask, g, has_request_context, request
from sqlalchemy import event

from server.models import AuditEntry
from server.schemas.types import require_storable

log = logging.getLogger(__name__)

CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFUSALS = frozenset({401, 403, 404})
HSTS = "max-age=31536000; includeSubDomains"


class _Anonymous:
    """Who asked, when nobody is authenticated (``audit.record`` only reads ``audit_name``)."""

    audit_name = "anonymous"


@event.listens_for(AuditEntry, "after_insert")
def _note_refusal(_mapper, _connection, entry: AuditEntry) -> None:
    if entry.outcome == "refused" and has_request_context():
        g.refusal_audited = True


def _reason(response) -> str:
    body = response.get_json(silent=True) if response.is_json else None
    code = (body or {}).get("error", {}).get("code") if isinstance(body, dict) else None
    return f"{response.status_code} {code or ''}".strip()


def _audit_refusal(response) -> None:
    from server.auth import current_actor
    from server.services import audit

    actor = current_actor() or _Anonymous()
    meeting_id = (request.view_args or {}).get("meeting_id")
    audit.record_refusal(
        request.url_rule.endpoint[:64], "request", request.path[:64], actor=actor,
        meeting_id=meeting_id if isinstance(meeting_id, int) else None, reason=_reason(response))


def _request_values() -> dict:
    values: dict = {"path": request.path, "query": request.args.to_dict(flat=False)}
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        values["form"] = request.form.to_dict(flat=False)  # file names: the upload cleans them
    elif request.is_json:
        try:
            values["body"] = request.get_json(silent=True)
        except RecursionError:  # absurdly deep nesting: the view answers invalid_json
            pass
    return values


def refuse_unstorable() -> None:
    require_storable(_request_values())


def init_app(app: Flask) -> None:
    def _forget_refusal() -> None:
        g.pop("refusal_audited", None)  # an app context can outlive one request (tests)

    app.before_request_funcs.setdefault(None, []).insert(0, _forget_refusal)
    app.before_request_funcs[None].insert(1, refuse_unstorable)

    @app.after_request
    def _harden(response):
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if (request.method in CHANGES and response.status_code in REFUSALS
                and request.url_rule is not None and not g.get("refusal_audited")):
            try:
                _audit_refusal(response)
            except Exception:  # the refusal stands even if its audit entry cannot be written
                log.exception("could not audit the refusal of %s %s", request.method, request.path)
        return response
