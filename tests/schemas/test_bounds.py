"""Every value a client can send is bounded before it reaches a column (server/schemas/types.py).

Walks the schema of every input: the REST bodies and queries of every ``@endpoint`` and
every socket command's payload. An integer or number without both bounds, a string
without a length, a list or map without a size, or a time not of the bounded ``When`` /
``Day`` types fails here, naming the field; so does a path parameter the OpenAPI
document leaves unbounded.
"""
from __future__ import annotations

import datetime as dt
import typing

import pytest
from pydantic import BaseModel

from server.realtime.commands import COMMANDS
from server.schemas import types

UNBOUNDED_STRING_FORMATS = {"uuid", "binary", "date", "date-time"}


def input_models(app) -> dict[str, type[BaseModel]]:
    models = {}
    for endpoint, view in app.view_functions.items():
        spec = getattr(view, "api_spec", None)
        for model in (spec.body, spec.query) if spec else ():
            if model is not None:
                models[f"{endpoint} {model.__name__}"] = model
    for name, command in COMMANDS.items():
        models[f"socket {name} {command.schema.__name__}"] = command.schema
    return models


def _resolve(schema: dict, defs: dict) -> dict:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def schema_problems(schema: dict, defs: dict, where: str, seen: set) -> list[str]:
    schema = _resolve(schema, defs)
    if id(schema) in seen:
        return []
    seen = seen | {id(schema)}
    problems = []
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key, ())
        decimal = any(o.get("type") == "number" for o in options)
        for option in options:
            if decimal and option == {"type": "string"}:
                continue  # pydantic's Decimal as a string: its digits are bounded by the number's
            problems += schema_problems(option, defs, where, seen)
    kind = schema.get("type")
    bounded = lambda low, high: (low in schema or f"exclusive{low.title()}" in schema) and (  # noqa: E731
        high in schema or f"exclusive{high.title()}" in schema)
    if kind in ("integer", "number") and not bounded("minimum", "maximum"):
        problems.append(f"{where}: {kind} without minimum and maximum")
    if kind == "string" and "maxLength" not in schema and "enum" not in schema \
            and "const" not in schema and schema.get("format") not in UNBOUNDED_STRING_FORMATS:
        problems.append(f"{where}: string without maxLength")
    if kind == "array":
        if "maxItems" not in schema:
            problems.append(f"{where}: array without maxItems")
        for index, item in enumerate(schema.get("prefixItems", ())):
            problems += schema_problems(item, defs, f"{where}[{index}]", seen)
        if isinstance(schema.get("items"), dict):
            problems += schema_problems(schema["items"], defs, f"{where}[]", seen)
    if kind == "object":
        for name, inner in schema.get("properties", {}).items():
            problems += schema_problems(inner, defs, f"{where}.{name}", seen)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            if "maxProperties" not in schema:
                problems.append(f"{where}: map without maxProperties")
            problems += schema_problems(extra, defs, f"{where}{{}}", seen)
    return problems


def _time_problems(model: type[BaseModel], where: str, seen: set) -> list[str]:
    """Times and map keys are not visible in the JSON schema: inspect the annotations."""
    if model in seen:
        return []
    seen.add(model)
    problems = []
    for name, info in model.model_fields.items():
        stack = [(info.annotation, info.metadata)]
        while stack:
            annotation, metadata = stack.pop()
            origin = typing.get_origin(annotation)
            if origin is typing.Annotated:
                base, *extra = typing.get_args(annotation)
                stack.append((base, [*metadata, *extra]))
                continue
            if annotation in (dt.datetime, dt.date) or getattr(annotation, "__name__", "") in (
                    "AwareDatetime", "NaiveDatetime"):
                validators = [getattr(m, "func", None) for m in metadata]
                if not {types._in_range, types._day_in_range} & set(validators):
                    problems.append(f"{where}.{name}: a time that is not types.When / types.Day")
            elif origin is dict:
                key, value = typing.get_args(annotation)
                stack += [(key, []), (value, [])]
                if typing.get_origin(key) is not typing.Annotated and key is int:
                    problems.append(f"{where}.{name}: map keyed by an unbounded int")
            elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
                problems += _time_problems(annotation, f"{where}.{name}", seen)
            else:
                stack += [(arg, []) for arg in typing.get_args(annotation)]
    return problems


def test_there_are_inputs_to_check(app):
    models = input_models(app)
    assert len(models) > 60
    assert any(name.startswith("socket ") for name in models)


def test_every_input_field_is_bounded(app):
    problems = []
    for name, model in sorted(input_models(app).items()):
        schema = model.model_json_schema(mode="validation")
        problems += schema_problems(schema, schema.get("$defs", {}), name, set())
        problems += _time_problems(model, name, set())
    assert not problems, "\n".join(sorted(set(problems)))


def test_every_path_parameter_is_bounded_in_the_openapi_document(client):
    document = client.get("/api/openapi.json").get_json()
    problems = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation["parameters"]:
                schema = parameter["schema"]
                if schema.get("type") == "integer" and (
                        schema.get("minimum") != 1 or schema.get("maximum") != types.MAX_ID):
                    problems.append(f"{method} {path} {parameter['name']}: {schema}")
    assert not problems, "\n".join(problems)


def test_the_checker_finds_what_it_is_for():
    class Loose(BaseModel):
        count: int
        name: str
        when: dt.datetime
        tags: list[types.text(10)]
        notes: dict[int, types.text(10)]

    schema = Loose.model_json_schema(mode="validation")
    found = schema_problems(schema, schema.get("$defs", {}), "Loose", set()) + \
        _time_problems(Loose, "Loose", set())
    assert any("count: integer" in p for p in found)
    assert any("name: string" in p for p in found)
    assert any("tags: array" in p for p in found)
    assert any("notes: map without" in p for p in found)
    assert any("notes: map keyed" in p for p in found)
    assert any("when: a time" in p for p in found)


@pytest.mark.parametrize("value, where", [
    ({"a": ["ok", "bad\x00"]}, "a.1"),
    ({"k\ud800": 1}, "k\\ud800"),
    ("\udfff", "body"),
])
def test_unstorable_names_the_value(value, where):
    assert types.unstorable(value)[0] == where


def test_storable_text_passes():
    assert types.unstorable({"tên": ["Nguyễn Văn Ả", "😀", 3, None]}) is None
