"""Every request checked against the OpenAPI document before anything runs (api/validation.py), without a server:
hostile bodies (a lone surrogate, 50,000 `[`, a 5,001-digit number, 1e308) are 400s naming the field, never an
exception; and a property test over the document's request schema: whatever arrives, the answer is a valid request
or a 400, never anything else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.datastructures import QueryParams

from api.errors import ApiError, Sent, answer_for, kind_of
from api.openapi import document
from api.validation import MAX_DEPTH, check, parse_body
from gateway.errors import ProxyTimeout, RateLimited
from tests.support.properties import examples

DOC = document(4096)
COMPARE = DOC["paths"]["/api/compare"]["post"]
GOOD = {"models": ["a", "b"], "prompt": "hi"}


def refused(body: bytes | str, query: str = "", operation: dict[str, Any] = COMPARE) -> ApiError:
    with pytest.raises(ApiError) as caught:
        check(operation, QueryParams(query), body.encode() if isinstance(body, str) else body, DOC)
    assert caught.value.status == 400
    return caught.value


def test_a_valid_request_passes_whole():
    body = {**GOOD, "max_tokens": 4096, "temperature": 0.5, "top_p": 1, "repeats": 2, "system_prompt": "", "stream": True}
    assert check(COMPARE, QueryParams("stream=false"), json.dumps(body).encode(), DOC) == body


@pytest.mark.parametrize("body, words", [
    ('{"models": ["a", "b"], "prompt": "x\\ud800y"}', "'prompt' is not valid Unicode: it has a lone surrogate"),
    ('{"models": ["a", "b\\udfff"], "prompt": "x"}', "'models[1]' is not valid Unicode"),
    ('{"models": ["a", "b"], "prompt": "x", "\\ud800": 1}', "is not valid Unicode"),
    ("[" * 50_000, f"nests objects or lists deeper than {MAX_DEPTH} levels"),
    ('{"a":' * 5_000 + "1" + "}" * 5_000, f"deeper than {MAX_DEPTH} levels"),
    ('{"models": ["a", "b"], "prompt": "x", "max_tokens": ' + "9" * 5_001 + "}", "a whole number of 5,001 digits"),
    ('{"models": ["a", "b"], "prompt": "x", "max_tokens": 1e308}', "'max_tokens' must be a whole number from 1 to 4,096"),
    ('{"models": ["a", "b"], "prompt": "x", "max_tokens": 1e999}', "1e999 is beyond the largest number"),
    ('{"models": ["a", "b"], "prompt": "x", "temperature": NaN}', "NaN is not a JSON number"),
    ('{"models": ["a", "b"], "prompt": "x", "max_tokens": 4097}', "'max_tokens' must be a whole number from 1 to 4,096"),
    ('{"models": ["a", "b"], "prompt": "x", "max_tokens": "10"}', "'max_tokens' must be a whole number"),
    ('{"models": ["a", "b"], "prompt": "x", "max_tokens": true}', "'max_tokens' must be a whole number"),
    ('{"models": ["a", "b"], "prompt": 5}', "'prompt' must be a non-empty string"),
    ('{"models": ["a", "b", "c", "d", "e", "f", "g"], "prompt": "x"}', "2 to 6 different model keys, not 7"),
    ('{"models": ["a", "a"], "prompt": "x"}', "('a' is given twice)"),
    ('{"models": ["a", "b"], "prompt": "x", "stream": "maybe"}', "'stream' must be true or false"),
    ('"just a string"', "The body must be a JSON object"),
    ('{"models": ["a", "b"], "prompt": "x"} trailing', "not valid JSON"),
])
def test_hostile_bodies_are_400s_naming_the_field(body, words):
    assert words in refused(body).message


def test_a_body_that_is_not_utf_8_is_refused_not_guessed():
    assert "not valid UTF-8" in refused(json.dumps(GOOD).encode("utf-16")).message
    assert "not valid UTF-8" in refused(b'{"prompt": "\xff"}').message


@pytest.mark.parametrize("query, words", [
    ("stream=maybe", "stream='maybe' is not true or false"), ("stream=1", "is not true or false"),
    ("stream=true&stream=false", "stream is given 2 times"), ("strem=true", "Unknown query parameter 'strem'"),
])
def test_query_values_are_exactly_of_their_type(query, words):
    assert words in refused(json.dumps(GOOD), query).message


def test_an_operation_without_a_body_takes_none_or_an_empty_object():
    refresh = DOC["paths"]["/api/models"]["post"]
    assert check(refresh, QueryParams(""), b"", DOC) is None
    assert check(refresh, QueryParams(""), b"{}", DOC) is None
    assert "takes no request body" in refused('{"x": 1}', operation=refresh).message


def test_the_bound_on_max_tokens_follows_the_setting():
    assert document(4096) is document(4096)  # made once per setting: requests are checked against it
    assert document(4096)["components"]["schemas"]["CompareRequest"]["properties"]["max_tokens"]["maximum"] == 4096
    assert document()["components"]["schemas"]["CompareRequest"]["properties"]["max_tokens"]["maximum"] == 131_072


# --- The one mapping from a failure to an answer ------------------------------------------------------------------

def test_gateway_errors_map_by_their_kind():
    limited = answer_for(RateLimited("slow down", retry_after=2.4), (), Sent(), "test")
    assert (limited.status, limited.kind, limited.headers) == (429, "rate_limited", {"Retry-After": "2"})
    assert answer_for(ProxyTimeout("late"), (), Sent(), "test").status == 504
    assert kind_of(ValueError()) == "error" and kind_of(RateLimited("x")) == "rate_limited"


def test_an_unexpected_failure_says_whether_anything_was_sent_and_what_was_recorded():
    before = answer_for(KeyError("boom"), ("sk-secret-123456789",), Sent(), "test")
    assert before.status == 500 and "before anything was sent" in before.message and "can be retried" in before.hint
    sent = Sent()
    sent.note("the prompt was sent to a, b; what arrives is saved as comparison c1")
    after = answer_for(RuntimeError("disk full sk-secret-123456789"), ("sk-secret-123456789",), sent, "test")
    assert "after it had sent the request: the prompt was sent to a, b" in after.message
    assert "comparison c1" in after.message and "Do not simply retry" in after.hint
    assert "sk-secret-123456789" not in after.message


# --- Property: whatever arrives is a valid request or a 400 -----------------------------------------------------

_REGISTRY = Registry().with_resource("urn:api", Resource(contents=DOC, specification=DRAFT202012))
_VALID = Draft202012Validator({"$ref": "urn:api#/components/schemas/CompareRequest"}, registry=_REGISTRY)
# Any character, lone surrogates and markup often among them.
_text = st.text(st.characters() | st.sampled_from(["\ud800", "\udc00", "\udfff", "<", "\x00", "\u202e"]), max_size=12)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                     _text, st.integers(min_value=10 ** 30, max_value=10 ** 60))
_json_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) |
                            st.dictionaries(_text, inner, max_size=3), max_leaves=8)
_valid = st.fixed_dictionaries(
    {"models": st.lists(st.sampled_from(["a", "b", "c", "d"]) | _text.filter(bool), min_size=2, max_size=6, unique=True),
     "prompt": _text.filter(bool)},
    optional={"temperature": st.floats(0, 2), "top_p": st.floats(0, 1), "max_tokens": st.integers(1, 4096),
              "repeats": st.integers(1, 20), "stream": st.booleans(), "system_prompt": _text})
_hostile = st.one_of(_json_values, st.floats(), st.integers(-10, 10 ** 6), _text, st.just("\ud800"),
                     st.lists(st.sampled_from(["a", "a", "b"]), max_size=8))
_mutated = st.builds(lambda body, name, value: {**body, name: value}, _valid,
                     st.sampled_from(["models", "prompt", "system_prompt", "temperature", "top_p", "max_tokens",
                                      "repeats", "stream", "extra"]), _hostile)
_bodies = st.one_of(_valid, _mutated).map(lambda d: json.dumps(d).encode())
_raw = st.one_of(_bodies, st.binary(max_size=64), st.builds(lambda n, tail: b"[" * n + tail, st.integers(0, 3000),
                                                              st.binary(max_size=4)))


@settings(max_examples=examples(600), suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(body=_raw, query=st.sampled_from(["", "stream=true", "stream=false", "stream=maybe", "x=1"]))
def test_any_body_is_a_valid_request_or_a_400_never_an_exception(body, query):
    try:
        found = check(COMPARE, QueryParams(query), body, DOC)
    except ApiError as error:
        assert error.status == 400 and error.message
        return
    _VALID.validate(found)  # what passes is exactly what the document allows, and is Unicode throughout
    json.dumps(found, ensure_ascii=False).encode("utf-8")  # no lone surrogate anywhere
    assert query in ("", "stream=true", "stream=false")


def test_the_body_parser_agrees_with_the_document_on_numbers():
    assert parse_body(b'{"n": 1e308}') == {"n": 1e308}  # a finite number: the schema's maximum decides
    assert parse_body(b'{"n": -12}') == {"n": -12}
