"""Declare an API endpoint once: validation, authorisation note and OpenAPI entry.

``@endpoint(body=Model, response=Model)`` parses the JSON body (or query) with
pydantic before the view runs and records what the OpenAPI document says about
the operation, so the document cannot drift from the code.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, request
from pydantic import BaseModel, ValidationError
from werkzeug.routing import IntegerConverter, UUIDConverter

from server.errors import InvalidInput, invalid_from_validation


@dataclass
class EndpointSpec:
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None  # a pydantic model, list[Model], or None for 204
    status: int = 200
    auth: str = "staff"  # short text: who may call it
    errors: tuple[int, ...] = ()
    content_type: str = "application/json"  # of the request body
    response_content_type: str = "application/json"
    extra: dict = field(default_factory=dict)


def endpoint(summary: str, *, tag: str, body=None, query=None, response=None, status=200,
             auth="staff", errors=(), content_type="application/json",
             response_content_type="application/json", request_body: dict | None = None):
    """``request_body``: an OpenAPI requestBody, for bodies the view parses itself (uploads)."""
    spec = EndpointSpec(summary, tag, body, query, response, status, auth, tuple(errors),
                        content_type, response_content_type,
                        {"requestBody": request_body} if request_body else {})

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            try:
                if body is not None and content_type == "application/json":
                    try:
                        data = request.get_json(silent=True)
                    except RecursionError:  # absurdly deep nesting: bad input, not a crash
                        data = None
                    if data is None:
                        raise InvalidInput("The request body must be a JSON object.",
                                           code="invalid_json")
                    kwargs["body"] = body.model_validate(data)
                if query is not None:
                    kwargs["query"] = query.model_validate(request.args.to_dict())
            except ValidationError as exc:
                raise invalid_from_validation(exc) from None
            return view(*args, **kwargs)

        wrapper.api_spec = spec
        return wrapper

    return decorate


_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _schema_ref(model, components: dict) -> dict:
    if model is None:
        return {}
    origin = getattr(model, "__origin__", None)
    if origin is list:
        return {"type": "array", "items": _schema_ref(model.__args__[0], components)}
    components[model.__name__] = _inline_schema(model, components, "serialization")
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _inline_schema(model, components: dict, mode: str = "validation") -> dict:
    """The model's schema, its nested definitions moved to the components."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    return schema


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}

_ERROR_TEXT = {
    400: "Bad request", 401: "Not logged in", 403: "Not allowed for this user",
    404: "No such object", 409: "Conflicts with the current state",
    413: "Payload too large", 415: "Unsupported media type",
    422: "Invalid input", 429: "Too many requests",
}


def _path_schema(converter) -> dict:
    """A path parameter's schema, with the bounds its converter enforces (server/routing.py)."""
    if isinstance(converter, IntegerConverter):
        schema = {"type": "integer"}
        if converter.min is not None:
            schema["minimum"] = converter.min
        if converter.max is not None:
            schema["maximum"] = converter.max
        return schema
    if isinstance(converter, UUIDConverter):
        return {"type": "string", "format": "uuid"}
    return {"type": "string", "maxLength": 200}


def build_openapi(app: Flask) -> dict:
    """The OpenAPI 3.1 document for every view declared with ``@endpoint``."""
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        spec: EndpointSpec | None = getattr(view, "api_spec", None)
        if spec is None:
            continue
        path = _CONVERTER.sub(r"{\2}", rule.rule)
        parameters = [{"name": name, "in": "path", "required": True,
                       "schema": _path_schema(rule._converters[name])}
                      for _conv, name in _CONVERTER.findall(rule.rule)]
        if spec.query is not None:
            query_schema = _inline_schema(spec.query, components)
            for name, info in spec.query.model_fields.items():
                param_schema = query_schema["properties"][name]
                parameters.append({"name": name, "in": "query", "required": info.is_required(),
                                   "schema": param_schema})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            responses: dict[str, Any] = {}
            if spec.status == 204:
                responses["204"] = {"description": "Done"}
            elif spec.response_content_type != "application/json":
                responses[str(spec.status)] = {
                    "description": "OK",
                    "content": {spec.response_content_type: {"schema": {"type": "string", "format": "binary"}}},
                }
            else:
                responses[str(spec.status)] = {
                    "description": "OK",
                    "content": {"application/json": {"schema": _schema_ref(spec.response, components)}},
                }
            codes = set(spec.errors) | ({422} if spec.body or spec.query else set())
            if spec.auth != "public":
                codes |= {401, 403}
            for code in sorted(codes):
                responses[str(code)] = {
                    "description": _ERROR_TEXT.get(code, "Error"),
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            operation: dict[str, Any] = {
                "operationId": rule.endpoint.replace(".", "_"),
                "summary": spec.summary,
                "tags": [spec.tag],
                "description": f"Who may call it: {spec.auth}.",
                "parameters": parameters,
                "responses": responses,
            }
            if spec.auth == "public":
                operation["security"] = []
            if spec.body is not None:
                if spec.content_type == "application/json":
                    components[spec.body.__name__] = _inline_schema(spec.body, components)
                    schema = {"$ref": f"#/components/schemas/{spec.body.__name__}"}
                else:
                    schema = _inline_schema(spec.body, components)
                operation["requestBody"] = {"required": True,
                                            "content": {spec.content_type: {"schema": schema}}}
            if "requestBody" in spec.extra:
                operation["requestBody"] = spec.extra["requestBody"]
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hemicycle API",
            "version": "1",
            "description": (
                "Paperless meeting room system. Errors are "
                '`{"error": {"code", "message", "fields"}}`. Browser sessions '
                "authenticate with the session cookie and send the CSRF token in "
                "`X-CSRFToken` on every change; tablets send `Authorization: Bearer <device token>`."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "device": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"session": []}, {"device": []}],
    }
