"""Errors (gateway/errors.py): how each failure is named, and the one redaction boundary. Pure: no proxy.

Every branch of `from_status` and `map_error` has a row below, and every form a key can take on its way back from a
misconfigured gateway (whole, cut short, split by quotes, JSON-escaped, URL-encoded, behind `Bearer`) has one too.
"""

from __future__ import annotations

import json
import pickle
import re

import httpx
import openai
import pytest

from gateway import errors, redaction
from gateway.config import load_settings
from gateway.errors import (
    AuthenticationFailed,
    BadResponse,
    ContextWindowExceeded,
    GatewayError,
    ModelNotFound,
    PromptTooLong,
    ProviderError,
    ProxyTimeout,
    ProxyUnreachable,
    RateLimited,
    StreamInterrupted,
    error_text,
    from_status,
    map_error,
    mask_key,
    redact,
    register_secrets,
)

KEY = "sk-proxy-key-5b1f0c2e9d7a4e3f8c6b"
REQUEST = httpx.Request("GET", "http://proxy.test/v1/models")


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    """A registry holding only KEY, and no key variables in the environment."""
    monkeypatch.setattr(redaction, "_registered", set())
    redaction._redact.cache_clear()
    for name in errors.SECRET_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    register_secrets(KEY)
    yield
    redaction._redact.cache_clear()


# --- from_status: what a status and a message mean ------------------------------------------------------------------

STATUS_CASES = [
    # status, message, class, words in the message, words in the hint
    (401, "litellm.AuthenticationError: AnthropicException - Missing Anthropic API Key", ProviderError,
     "Missing Anthropic API Key", "provider's key where the proxy runs"),
    (500, "Missing credentials for openai", ProviderError, "Missing credentials", "provider's key"),
    (400, "No connected db.", AuthenticationFailed, "The key was refused (400): No connected db.", "LITELLM_API_KEY"),
    (401, "Invalid proxy server token passed", AuthenticationFailed, "refused (401)", "LITELLM_API_KEY"),
    (403, "not allowed", AuthenticationFailed, "refused (403)", "LITELLM_API_KEY"),
    (400, "Authentication Error, invalid key", AuthenticationFailed, "refused (400)", "LITELLM_API_KEY"),
    (400, "litellm.ContextWindowExceededError: too long", ContextWindowExceeded, "too long", "Shorten"),
    (400, "This exceeds the context window", ContextWindowExceeded, "context window", "larger window"),
    (400, "context_length_exceeded", ContextWindowExceeded, "context_length_exceeded", "Shorten"),
    (400, "Invalid model name passed in model=nope", ModelNotFound, "Invalid model name", "refresh"),
    (404, "The model `nope` does not exist", ModelNotFound, "does not exist", "refresh"),
    (429, "No deployments available. Try again in 5 seconds. In cooldown.", RateLimited, "cooling down",
     "pauses a model's deployments"),
    (429, "litellm.RateLimitError: slow down.", RateLimited, "Rate limited: litellm.RateLimitError: slow down.",
     "Wait"),
    (502, "Invalid API key provided", ProviderError, "Invalid API key", "provider's key"),
    (408, "Request timed out", ProxyTimeout, "timed out", "slow or stuck"),
    (504, "Gateway Timeout", ProxyTimeout, "Gateway Timeout", "slow or stuck"),
    (500, "litellm.InternalServerError: boom", ProviderError, "InternalServerError", "provider failed"),
    (503, "", ProviderError, "HTTP 503", "provider failed"),
    (418, "I'm a teapot", GatewayError, "HTTP 418: I'm a teapot", ""),
    (400, "", GatewayError, "HTTP 400: HTTP 400", ""),
]


@pytest.mark.parametrize("status, message, kind, said, hinted", STATUS_CASES,
                         ids=[f"{c[0]}-{c[2].__name__}-{i}" for i, c in enumerate(STATUS_CASES)])
def test_a_status_and_message_name_the_cause(status, message, kind, said, hinted):
    error = from_status(status, message)
    assert type(error) is kind
    assert said in str(error) and error.status == status
    assert hinted in error.hint


def test_a_cooldown_says_how_long_from_the_text_or_the_header():
    assert from_status(429, "Try again in 5 seconds. cooldown").retry_after == 5
    assert from_status(429, "Try again in 5 seconds. cooldown", retry_after=7.0).retry_after == 7.0
    assert from_status(429, "cooldown, no time given").retry_after is None


def test_a_rate_limit_says_when_to_retry_only_when_the_proxy_said():
    assert str(from_status(429, "slow down", retry_after=3.0)) == "Rate limited: slow down. Retry after 3 s."
    assert str(from_status(429, "slow down")) == "Rate limited: slow down."


# --- map_error: each exception the layers below raise ----------------------------------------------------------------

def response(status: int, body: object = None, *, text: str | None = None, headers: dict | None = None):
    if text is not None:
        return httpx.Response(status, text=text, headers=headers, request=REQUEST)
    return httpx.Response(status, json=body, headers=headers, request=REQUEST)


def connect_error(cause: str) -> httpx.ConnectError:
    error = httpx.ConnectError(cause, request=REQUEST)
    error.__cause__ = OSError(cause)
    return error


MAP_CASES = [
    # exception, mid_stream, class, words in the message
    (openai.APITimeoutError(request=REQUEST), False, ProxyTimeout, "did not answer in time"),
    (httpx.ReadTimeout("read timed out", request=REQUEST), False, ProxyTimeout, "did not answer in time"),
    (httpx.ConnectTimeout("connect timed out", request=REQUEST), False, ProxyUnreachable, "Timed out connecting"),
    (connect_error("[Errno 111] Connection refused"), False, ProxyUnreachable, "connection refused (nothing is"),
    (connect_error("[Errno -2] Name or service not known"), False, ProxyUnreachable, "unknown host"),
    (connect_error("TLS handshake failed"), False, ProxyUnreachable, "TLS handshake failed"),
    (openai.APIConnectionError(request=REQUEST), False, ProxyUnreachable, "Could not connect"),
    (openai.APIStatusError("Error code: 429", response=response(429, headers={"retry-after": "2"}),
                           body={"error": {"message": "slow down", "code": "429"}}), False, RateLimited,
     "Retry after 2 s"),
    (openai.APIStatusError("Error code: 400 - raw", response=response(400), body=None), False, GatewayError,
     "HTTP 400: Error code: 400 - raw"),
    (httpx.HTTPStatusError("x", request=REQUEST, response=response(404, {"error": {"message": "model gone"}})),
     False, ModelNotFound, "model gone"),
    (httpx.HTTPStatusError("x", request=REQUEST, response=response(500, {"detail": "oops"})), False, ProviderError,
     "oops"),
    (httpx.HTTPStatusError("x", request=REQUEST, response=response(502, text="<html>Bad gateway</html>")), False,
     ProviderError, "<html>Bad gateway</html>"),
    (openai.APIError("stream error", REQUEST, body={"error": {"message": "slow", "code": "429"}}), True,
     RateLimited, "slow"),
    (openai.APIError("stream error", REQUEST, body={"error": {"message": "upstream exploded", "code": "500"}}),
     True, StreamInterrupted, "broke off: upstream exploded"),
    (openai.APIError("stream error", REQUEST, body={"error": {"message": "upstream exploded", "code": "500"}}),
     False, ProviderError, "upstream exploded"),
    (openai.APIError("no body at all", REQUEST, body=None), False, ProviderError, "no body at all"),
    (openai.APIError("weird code", REQUEST, body={"error": {"message": "m", "code": "abc"}}), False, ProviderError,
     "m"),
    (RecursionError("maximum recursion depth exceeded"), False, BadResponse, "nested too deeply"),
    (json.JSONDecodeError("Expecting value", "x", 0), False, BadResponse, "could not be read: Expecting value"),
    (ValueError("bad number"), False, BadResponse, "could not be read: bad number"),
    (KeyError("data"), False, GatewayError, "KeyError: 'data'"),
    (httpx.RemoteProtocolError("peer closed", request=REQUEST), True, StreamInterrupted,
     "broke off: Could not connect"),
]


@pytest.mark.parametrize("exc, mid_stream, kind, said", MAP_CASES,
                         ids=[f"{type(c[0]).__name__}-{c[2].__name__}-{i}" for i, c in enumerate(MAP_CASES)])
def test_each_exception_maps_onto_a_gateway_error(exc, mid_stream, kind, said):
    error = map_error(exc, mid_stream=mid_stream)
    assert type(error) is kind, error
    assert said in str(error)
    assert "Traceback" not in str(error)


def test_a_gateway_error_is_returned_as_it_is_or_as_an_interruption_mid_stream():
    error = ModelNotFound("gone")
    assert map_error(error) is error
    broke = map_error(ProxyUnreachable("Could not connect to the server: reset"), mid_stream=True)
    assert isinstance(broke, StreamInterrupted) and "broke off: Could not connect" in str(broke)


def test_error_text_reads_json_then_text_then_the_reason():
    assert error_text(response(400, {"error": {"message": "m"}})) == "m"
    assert error_text(response(400, {"error": "flat"})) == "flat"
    assert error_text(response(400, {"other": 1})) == '{"other":1}'
    assert error_text(response(502, text="  plain words  ")) == "plain words"
    assert error_text(response(502, text="")) == "Bad Gateway"


def _all_subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_all_subclasses(sub))]


def every_error_class() -> list[type[GatewayError]]:
    """Every GatewayError subclass in gateway/ (each module imported first, so none is missed)."""
    import importlib
    import pkgutil

    import gateway

    for module in pkgutil.walk_packages(gateway.__path__, "gateway."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    return [c for c in _all_subclasses(GatewayError) if c.__module__.startswith("gateway.")]


def test_every_error_names_its_own_kind_and_status():
    """Found from the classes themselves (not from a table of them, which a new class can be left out of): each
    declares its own kind, distinct from every other's, and the HTTP status the API answers with."""
    classes = every_error_class()
    assert {ProxyTimeout, PromptTooLong, RateLimited} <= set(classes) and len(classes) >= 12
    kinds = {}
    for cls in classes:
        assert "kind" in vars(cls), f"{cls.__name__} inherits its kind ({cls.kind!r}) instead of naming its own"
        assert re.fullmatch(r"[a-z_]+", cls.kind) and cls.kind not in kinds, (cls, kinds.get(cls.kind))
        kinds[cls.kind] = cls
        assert 400 <= cls.http_status < 600, cls
        assert cls("x").kind == cls.kind  # and an instance says the same
    assert GatewayError("x").kind == "error" and "error" not in kinds
    assert PromptTooLong("x").kind == "prompt_too_long" and PromptTooLong.http_status == 400
    assert "MAX_PROMPT_CHARS" in PromptTooLong.hint
    assert (RateLimited.http_status, ProxyTimeout.http_status) == (429, 504)


# --- Redaction: every form a key can take ----------------------------------------------------------------------------

def escaped(text: str) -> str:
    """Every character JSON-escaped (what some serialisers do with anything outside [A-Za-z0-9])."""
    return "".join(f"\\u{ord(c):04x}" if not c.isalnum() else c for c in text)


REDACT_CASES = [
    # name, text, what must not remain
    ("whole key", f"invalid key {KEY}", KEY),
    ("key cut short", f"invalid key {KEY[:14]}…", KEY[3:14]),
    ("key's tail", f"…{KEY[-12:]} was refused", KEY[-12:-4]),
    ("split by quotes", f'key "{KEY[:10]}" "{KEY[10:]}"', KEY[3:10]),
    ("split by a JSON concatenation", f'"{KEY[:15]}" + "{KEY[15:]}"', KEY[5:15]),
    ("inside escaped quotes", json.dumps({"detail": f'key "{KEY}" refused'}), KEY[3:-4]),
    ("JSON-escaped", escaped(f"key {KEY}"), "proxy"),
    ("URL-encoded", f"?api={KEY.replace('-', '%2D')}", "5b1f0c2e"),
    ("across a line break", f"{KEY[:12]}\n{KEY[12:]}", KEY[3:12]),
]


@pytest.mark.parametrize("name, text, gone", REDACT_CASES, ids=[c[0] for c in REDACT_CASES])
def test_a_registered_key_is_removed_in_every_form(name, text, gone):
    shown = redact(text)
    assert gone not in shown and "5b1f0c2e" not in shown
    assert redact(shown) == shown  # idempotent


PATTERN_CASES = [
    # name, text, expected
    ("bearer token", "invalid key Bearer abc.DEF-123_xyz", "invalid key Bearer ***"),
    ("bearer in quotes", 'Authorization: "Bearer tok3n-value"', 'Authorization: "Bearer ***"'),
    ("bearer lower case", "bearer=opaque-token-42", "bearer=***"),
    ("openai-shaped key", "got sk-abcdefghijklmnop", "got sk-***"),
    ("anthropic-shaped key", "got sk-ant-api03-abcdefghijkl", "got sk-***"),
    ("short sk- key", "got sk-abc…", "got sk-***…"),
    ("JSON-escaped sk- key", "got sk\\u002dabcdefgh", "got sk-***"),
    ("api_key field", "api_key=opaque1234", "api_key=***"),
    ("x-api-key header", '"x-api-key": "opaque1234"', '"x-api-key": "***"'),
    ("master key field", "master_key: opaque1234", "master_key: ***"),
]


@pytest.mark.parametrize("name, text, expected", PATTERN_CASES, ids=[c[0] for c in PATTERN_CASES])
def test_unknown_keys_are_removed_by_their_shape(name, text, expected):
    assert redact(text) == expected


KEPT = [
    "desk-lamp and task-force",  # sk- inside a word
    "sk-…5b1f is the masked form",
    "No connected db.",
    "Invalid model name passed in model=gpt-4o",
    "http://127.0.0.1:4000/v1/models answered 404",
    "ÄÖÜ ✓ 中文 עברית \x00",
    'curl -H "Authorization: Bearer $LITELLM_API_KEY" http://proxy:4000/v1/models',  # a shell variable
]


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_text_is_left_alone(text):
    assert redact(text) == text


def test_the_whole_key_is_shown_masked():
    assert redact(f"key {KEY} refused") == f"key {mask_key(KEY)} refused" == "key sk-…8c6b refused"


@pytest.mark.parametrize("name", errors.SECRET_VARIABLES)
def test_keys_in_the_environment_are_removed_without_registering(monkeypatch, name):
    secret = f"env-{name.lower()}-0123456789"
    monkeypatch.setenv(name, secret)
    assert secret[4:12] not in redact(f"echo: {secret}")


def test_load_settings_registers_every_key_it_reads(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("LITELLM_MASTER_KEY=master-from-dotenv-0123\n")
    load_settings({"LITELLM_API_KEY": "proxy-key-from-env-42", "OPENAI_API_KEY": "openai-key-from-env-42"},
                  secrets={"ANTHROPIC_API_KEY": "anthropic-from-secrets-42"}, dotenv_path=dotenv)
    shown = redact("proxy-key-from-env-42 openai-key-from-env-42 anthropic-from-secrets-42 master-from-dotenv-0123")
    for word in ("from-env", "from-secrets", "from-dotenv"):
        assert word not in shown


def test_short_values_are_not_secrets_and_extra_secrets_can_be_passed():
    register_secrets("abc", None, "")
    assert redact("abc abcd") == "abc abcd"
    assert redact("call-id-7 was refused", ("call-id-7",)) == "*** was refused"


# --- The boundary: a GatewayError can never hold a key -------------------------------------------------------------

def test_a_gateway_error_redacts_its_message_and_hint_when_made():
    error = AuthenticationFailed(f"refused Bearer {KEY}", hint=f"use {KEY}")
    for text in (str(error), error.message, error.hint, repr(error), str(error.args)):
        assert KEY[3:-4] not in text


def test_a_gateway_error_redacts_what_is_set_later_and_what_is_pickled():
    error = ProviderError("fine")
    error.message = f"now with {KEY}"
    error.hint = f"and {KEY[:20]}"
    copy = pickle.loads(pickle.dumps(error))
    for text in (str(error), error.hint, str(copy), copy.hint, repr(copy)):
        assert KEY[3:-4] not in text and KEY[3:20] not in text
    assert type(copy) is ProviderError and copy.status == error.status


def test_a_key_registered_after_the_error_was_made_is_still_removed():
    late = "late-registered-key-0123456789"
    error = GatewayError(f"echo {late}")
    register_secrets(late)
    assert late not in str(error) and late[4:12] not in error.message


def test_from_status_and_map_error_redact_what_the_proxy_echoed():
    echoed = {"error": {"message": f"invalid key Bearer {KEY}, header was 'Authorization: Bearer {KEY}'"}}
    http_error = httpx.HTTPStatusError("x", request=REQUEST, response=response(401, echoed))
    sdk_error = openai.APIStatusError(f"Error code: 401 - {echoed}", response=response(401, echoed), body=echoed)
    for error in (from_status(401, echoed["error"]["message"]), map_error(http_error), map_error(sdk_error),
                  map_error(RuntimeError(f"boom {KEY}")), map_error(GatewayError(f"x {KEY}"))):
        assert KEY[3:-4] not in str(error) + error.hint + repr(error)
