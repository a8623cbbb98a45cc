"""Every request checked against the OpenAPI document (api/openapi.py) before its handler runs, so nothing is sent to a
model, saved or counted for a request the document does not allow, and the server and the document cannot drift.

`check(request, operation, body)` (called by `api.http.endpoint`, the one wrapper every route has) answers 400 with
the field's name and what it must be, for:
- a query parameter the operation does not document, one given twice that is not a list, or a value that is not
  exactly of its type (`?stream=maybe`: booleans are `true` or `false`; enumerations exact; integers in range);
- a body that is not UTF-8 JSON, nests deeper than MAX_DEPTH, has a number longer than MAX_NUMBER_CHARS or one JSON
  cannot hold (`1e999`, `NaN`), a string with a lone surrogate (`"\\ud800"`: not Unicode, so it could never be
  sent), or any field outside the operation's schema (types, ranges, `maxItems`, `uniqueItems`, unknown fields);
- a body sent to an operation that takes none (only an empty body or `{}` is accepted there).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from starlette.datastructures import QueryParams

from api.errors import ApiError

MAX_DEPTH = 16  # objects and lists inside each other; the document's deepest request needs 2
MAX_NUMBER_CHARS = 40  # characters in one JSON number (an int of 5,001 digits is refused before Python parses it)
_SURROGATE = re.compile("[\ud800-\udfff]")
_INTEGER = re.compile(r"-?[0-9]{1,18}")


class _Refused(ValueError):
    """Raised from inside json.loads by the number hooks."""


def parse_body(body: bytes) -> Any:
    """The JSON value of a request body, or ApiError(400) saying why not, in words, naming the field."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"The request body is not valid UTF-8 (byte {exc.start}).",
                       hint="Send JSON encoded as UTF-8.") from None
    try:
        found = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except _Refused as exc:
        raise ApiError(400, f"The request body has a number JSON cannot carry here: {exc}.",
                       hint=f"Numbers are at most {MAX_NUMBER_CHARS} characters and finite.") from None
    except RecursionError:
        raise ApiError(400, f"The request body nests objects or lists deeper than {MAX_DEPTH} levels.") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column "
                            f"{exc.colno}).") from None
    for path, value, depth in _walk(found):
        if depth > MAX_DEPTH:
            raise ApiError(400, f"The request body nests objects or lists deeper than {MAX_DEPTH} levels.")
        if isinstance(value, str) and (bad := _SURROGATE.search(value)) is not None:
            raise ApiError(400, f"{_named(path)} is not valid Unicode: it has a lone surrogate (\\u{ord(bad[0]):04x}) "
                                f"at character {bad.start()}.",
                           hint="Send text as UTF-8; a \\ud800–\\udfff escape must be half of a pair.",
                           kind="invalid_unicode")
    return found


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"a whole number of {len(text.lstrip('-')):,} digits")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number {len(text):,} characters long")
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise _Refused(f"{text} is beyond the largest number")
    return number


def _constant(text: str) -> Any:
    raise _Refused(f"{text} is not a JSON number")


def _walk(value: Any) -> Iterator[tuple[tuple[str | int, ...], Any, int]]:
    """(path, value, depth) of every value, keys included, without recursion."""
    stack: list[tuple[tuple[str | int, ...], Any, int]] = [((), value, 0)]
    while stack:
        path, item, depth = stack.pop()
        yield path, item, depth
        if isinstance(item, dict):
            for key, inner in item.items():
                yield (*path, key), key, depth + 1  # a key is text too
                stack.append(((*path, key), inner, depth + 1))
        elif isinstance(item, list):
            stack.extend(((*path, index), inner, depth + 1) for index, inner in enumerate(item))


def _named(path: tuple[str | int, ...] | Any) -> str:
    """`prompt`, `models[1]`, or `The body` for the whole."""
    if not path:
        return "The body"
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return f"'{name[:80]}'"


# --- Against the document ---------------------------------------------------------------------------------------


def check(operation: dict[str, Any], query: QueryParams, body: bytes | None, document: dict[str, Any]) -> Any:
    """Check a request against its operation in `document`; the parsed body (None when the operation takes none)."""
    check_query(operation.get("parameters", []), query)
    wanted = operation.get("requestBody")
    if wanted is None:
        if body is not None and body.strip() and parse_body(body) != {}:
            raise ApiError(400, "This endpoint takes no request body.", hint="Send none (or {}).")
        return None
    if body is None or not body.strip():
        raise ApiError(400, "The request has no body: send a JSON object.",
                       hint='e.g. {"models": ["a", "b"], "prompt": "Hello"} with Content-Type: application/json.')
    found = parse_body(body)
    schema = wanted["content"]["application/json"]["schema"]
    check_value(found, schema, document)
    return found


def check_value(value: Any, schema: dict[str, Any], document: dict[str, Any]) -> None:
    """ApiError(400) for the first field of `value` that `schema` (of `document`) refuses, in words."""
    validator = _validator(document, schema)
    error = next(iter(sorted(validator.iter_errors(value), key=_order)), None)
    if error is not None:
        raise ApiError(400, _words(error, document), hint="The fields and their bounds: /api/openapi.json.")


_validators: dict[tuple[int, str], tuple[dict[str, Any], Draft202012Validator]] = {}


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of `schema` (a `$ref` into `document`), made once per document and schema."""
    key = (id(document), schema.get("$ref", ""))
    kept = _validators.get(key)
    if kept is None or kept[0] is not document:
        if len(_validators) > 32:
            _validators.clear()
        registry: Registry = Registry().with_resource("urn:api", DRAFT202012.create_resource(document))
        ref = schema.get("$ref", "")
        target = {"$ref": "urn:api" + ref} if ref.startswith("#") else schema
        kept = _validators[key] = (document, Draft202012Validator(target, registry=registry))
    return kept[1]


def _order(error: ValidationError) -> tuple[int, int]:
    """Unknown fields first, then missing ones, then the shallowest field."""
    rank = {"additionalProperties": 0, "required": 1, "type": 2}.get(str(error.validator), 3)
    return rank, len(error.absolute_path)


def _words(error: ValidationError, document: dict[str, Any]) -> str:
    path = tuple(error.absolute_path)
    schema = _resolve(error.schema, document) if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        given = error.instance if isinstance(error.instance, dict) else {}
        unknown = sorted(set(given) - set(schema.get("properties", {})))
        fields = ", ".join(sorted(schema.get("properties", {})))
        return f"Unknown field {', '.join(repr(str(u)[:40]) for u in unknown)} (the fields are: {fields})."
    if error.validator == "required":
        missing = [name for name in schema.get("required", []) if name not in (error.instance or {})]
        name = missing[0] if missing else "?"
        return f"{_named((*path, name))} must be {describe(schema['properties'][name], document)}."
    field_schema = schema  # the schema the failing keyword belongs to: the field's own
    detail = ""
    if error.validator in ("minItems", "maxItems") and isinstance(error.instance, list):
        detail = f", not {len(error.instance)}"
    elif error.validator == "uniqueItems" and isinstance(error.instance, list):
        twice = next((item for index, item in enumerate(error.instance) if item in error.instance[:index]), None)
        detail = f" ({str(twice)[:40]!r} is given twice)" if twice is not None else ""
    return f"{_named(path)} must be {describe(field_schema, document)}{detail}."


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        found: Any = document
        for part in schema["$ref"].removeprefix("urn:api").lstrip("#/").split("/"):
            found = found[part]
        schema = found
    return schema


def describe(schema: dict[str, Any], document: dict[str, Any]) -> str:
    """What a value of `schema` is, in words: `a whole number from 1 to 20`, `true or false`, `one of a, b`."""
    schema = _resolve(schema, document)
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    kind = schema.get("type")
    if kind == "boolean":
        return "true or false"
    if kind in ("integer", "number"):
        words = "a whole number" if kind == "integer" else "a number"
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            return f"{words} from {low:,} to {high:,}"
        return f"{words} of at least {low:,}" if low is not None else words
    if kind == "string":
        if schema.get("maxLength") is not None:
            return f"a string of {schema.get('minLength', 0):,} to {schema['maxLength']:,} characters"
        return "a non-empty string" if schema.get("minLength") else "a string"
    if kind == "array":
        items = _resolve(schema.get("items", {}), document)
        noun = items.get("title", "item")
        low, high = schema.get("minItems"), schema.get("maxItems")
        count = f"{low} to {high} " if low is not None and high is not None else ""
        different = "different " if schema.get("uniqueItems") else ""
        return f"a list of {count}{different}{noun}s"
    if kind == "object":
        return "a JSON object"
    return "as /api/openapi.json describes"


def check_query(parameters: list[dict[str, Any]], query: QueryParams) -> None:
    """Every query parameter documented, given once (unless it is a list), and exactly of its type."""
    documented = {p["name"]: p for p in parameters if p.get("in") == "query"}
    for name in dict.fromkeys(query.keys()):
        parameter = documented.get(name)
        if parameter is None:
            known = ", ".join(documented) or "none"
            raise ApiError(400, f"Unknown query parameter {name[:40]!r} (this endpoint takes: {known}).")
        values = query.getlist(name)
        schema = parameter["schema"]
        if schema.get("type") == "array":
            items = [piece.strip() for value in values for piece in value.split(",") if piece.strip()]
            for item in items:
                _check_query_value(name, item, schema["items"])
        elif len(values) > 1:
            raise ApiError(400, f"{name} is given {len(values)} times; give it once.")
        else:
            _check_query_value(name, values[0], schema)


def _check_query_value(name: str, value: str, schema: dict[str, Any]) -> None:
    ok = True
    if "enum" in schema:
        ok = value in schema["enum"]
    elif schema.get("type") == "boolean":
        ok = value in ("true", "false")
    elif schema.get("type") == "integer":
        ok = bool(_INTEGER.fullmatch(value)) and schema.get("minimum", -(10 ** 18)) <= int(value) \
            <= schema.get("maximum", 10 ** 18)
    elif schema.get("type") == "string":
        ok = len(value) <= schema.get("maxLength", len(value))
    if not ok:
        raise ApiError(400, f"{name}={value[:40]!r} is not {describe(schema, {})}.",
                       hint="The query parameters and their values: /api/openapi.json.")

