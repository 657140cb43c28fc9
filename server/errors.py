"""Domain errors and the handlers that answer them as JSON or HTML.

Services raise ``HemicycleError`` subclasses; the API answers
``{"error": {"code", "message", "fields"}}`` with the error's status, pages
show a translated error page. Nothing a client sends may produce a 500.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class HemicycleError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None,
                 status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.fields = fields or {}
        self.status = status or self.status

    def as_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class InvalidInput(HemicycleError):
    status = 422
    code = "invalid_input"


class NotAuthenticated(HemicycleError):
    status = 401
    code = "not_authenticated"


class Forbidden(HemicycleError):
    status = 403
    code = "forbidden"


class NotFound(HemicycleError):
    status = 404
    code = "not_found"


class Conflict(HemicycleError):
    status = 409
    code = "conflict"


class ServiceUnavailable(HemicycleError):
    status = 503
    code = "database_unavailable"


def database_unavailable() -> ServiceUnavailable:
    return ServiceUnavailable("The database cannot be reached just now; try again shortly.")


class TooManyRequests(HemicycleError):
    status = 429
    code = "too_many_requests"


def fields_from_validation(exc: ValidationError) -> dict[str, str]:
    """Pydantic errors as {"field.path": "message"}, the first message per field."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or "body"
        fields.setdefault(path, error["msg"])
    return fields


def invalid_from_validation(exc: ValidationError) -> InvalidInput:
    fields = fields_from_validation(exc)
    return InvalidInput("Some fields are invalid: " + ", ".join(fields), fields=fields)


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path in ("/healthz", "/metrics"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _respond(error: HemicycleError):
    if wants_json():
        return jsonify(error.as_dict()), error.status
    return render_template("error.html", error=error), error.status


_HTTP_CODES = {
    400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
    429: "too_many_requests",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HemicycleError)
    def _domain_error(error: HemicycleError):
        return _respond(error)

    @app.errorhandler(ValidationError)
    def _validation_error(error: ValidationError):
        return _respond(invalid_from_validation(error))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        response = _respond(HemicycleError(error.description or error.name, code=code, status=status))
        if status == 405 and error.valid_methods:
            body, status = response
            body = make_response(body)  # a rendered page is a str, not yet a response
            body.headers["Allow"] = ", ".join(error.valid_methods)
            return body, status
        return response

    @app.errorhandler(OperationalError)
    def _database_down(error: OperationalError):
        log.error("database unavailable on %s %s: %s", request.method, request.path,
                  str(error).splitlines()[0])
        return _respond(database_unavailable())

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(HemicycleError("Internal error; it has been logged.",
                                       code="internal_error", status=500))
