"""The API's parts that need no server: who counts as this machine, where a list came from, JSON out."""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import math
import secrets

import pytest
import sqlalchemy as sa
from starlette.datastructures import Headers

from api.access import BAD_TOKEN, NO_TOKEN, REMOTE_REFUSED, Refusal, identify, is_loopback
from api.http import dumps, guard
from api.models import source_json
from gateway import api_tokens
from gateway.analyst import LOCAL, Analyst
from gateway.catalogue import Catalogue
from gateway.config import load_settings
from gateway.errors import ProxyUnreachable
from gateway.models import builtin_models
from gateway.redaction import mask_key
from gateway.store import LOCAL_OWNER, get_store
from gateway.store.api_tokens import ApiTokens


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("10.0.0.5", False), ("192.168.1.20", False), ("::ffff:10.0.0.5", False), ("2001:db8::1", False),
    ("localhost", False), ("", False), (None, False), ("not an address", False),
])
def test_only_loopback_addresses_are_this_machine(host, loopback):
    assert is_loopback(host) is loopback


class _Client:
    def __init__(self, host: str) -> None:
        self.host = host


class _Request:
    def __init__(self, host: str | None, headers: dict[str, str] | list[tuple[str, str]] | None = None) -> None:
        self.client = _Client(host) if host else None
        self.headers = Headers(raw=[(k.lower().encode(), v.encode()) for k, v in
                                    (headers.items() if isinstance(headers, dict) else headers or [])])


def settings(**values: str):
    return load_settings(values, secrets={}, dotenv_path=None)


def test_identify_is_the_local_analyst_on_loopback_and_refuses_others_unless_allowed():
    assert identify(_Request("127.0.0.1"), settings()) == LOCAL
    assert LOCAL.owner() == LOCAL_OWNER
    assert identify(_Request("10.1.2.3"), settings()) is REMOTE_REFUSED
    assert identify(_Request(None), settings()) is REMOTE_REFUSED
    assert identify(_Request("10.1.2.3"), settings(API_ALLOW_REMOTE="true")) == LOCAL


def test_header_sign_in_takes_the_analyst_from_the_pages_header_whatever_the_address():
    header = settings(AUTH_MODE="header", AUTH_HEADER="X-Forwarded-Email", ADMIN_EMAILS="boss@example.com")
    ana = identify(_Request("127.0.0.1", {"x-forwarded-email": "Ana@Example.com"}), header)
    assert isinstance(ana, Analyst) and ana.id == "ana@example.com" and not ana.admin
    assert identify(_Request("10.1.2.3", {"X-Forwarded-Email": "boss@example.com"}), header).admin
    for headers in ({}, {"X-Forwarded-Email": "not an address"}, {"X-Email": "ana@example.com"}):
        refused = identify(_Request("127.0.0.1", headers), header)  # loopback is not an identity once sign-in is on
        assert isinstance(refused, Refusal) and refused.status == 401 and "X-Forwarded-Email" in refused.message
    twice = _Request("127.0.0.1", [("x-forwarded-email", "ana@example.com"), ("x-forwarded-email", "bo@example.com")])
    assert isinstance(identify(twice, header), Refusal)  # two different analysts: neither


def test_oidc_sign_in_takes_the_analyst_from_a_live_personal_api_token(tmp_path):
    oidc = settings(AUTH_MODE="oidc", ADMIN_EMAILS="boss@example.com", DATABASE_URL=f"sqlite:///{tmp_path}/t.db")
    store = get_store(oidc)
    ana, boss = api_tokens.issue(store, "ana@example.com", "script"), api_tokens.issue(store, "boss@example.com", "b")
    assert isinstance(ana, api_tokens.Issued) and isinstance(boss, api_tokens.Issued)

    def who(*headers: tuple[str, str]):
        return identify(_Request("127.0.0.1", list(headers)), oidc)

    found = who(("Authorization", f"Bearer {ana.token}"))
    assert isinstance(found, Analyst) and found.id == "ana@example.com" and not found.admin
    assert who(("authorization", f"bearer  {boss.token} ")).admin
    assert who() is NO_TOKEN  # loopback is not an identity once sign-in is on
    for refused in (who(("Authorization", f"Bearer {ana.token}x")), who(("Authorization", "Bearer dash_nothing"))):
        assert refused is BAD_TOKEN and refused.status == 401
    for unusable in (who(("Authorization", f"Basic {ana.token}")), who(("Authorization", ana.token)),
                     who(("Authorization", f"Bearer {ana.token}"), ("Authorization", f"Bearer {boss.token}"))):
        assert unusable is NO_TOKEN
    assert ApiTokens(store).revoke("boss@example.com", ana.record.id) is False  # not his to revoke
    assert ApiTokens(store).revoke("ana@example.com", ana.record.id) is True
    assert who(("Authorization", f"Bearer {ana.token}")) is BAD_TOKEN  # refused as soon as it is revoked
    assert ana.token not in BAD_TOKEN.message + BAD_TOKEN.hint + NO_TOKEN.message + NO_TOKEN.hint


def test_a_token_is_kept_only_as_its_digest_and_prefix(tmp_path):
    store = get_store(settings(DATABASE_URL=f"sqlite:///{tmp_path}/t.db"))
    issued = api_tokens.issue(store, "ana@example.com", "  my   notebook ")
    assert isinstance(issued, api_tokens.Issued)
    token = issued.token
    assert token.startswith("dash_") and len(token) == 5 + 43 and token not in repr(issued)
    assert issued.record.name == "my notebook" and issued.record.prefix == token[:12]
    assert store.flush(5)
    with sa.create_engine(f"sqlite:///{tmp_path}/t.db").connect() as connection:
        stored = [tuple(row) for row in connection.execute(sa.text("SELECT * FROM api_tokens"))]
    assert len(stored) == 1 and hashlib.sha256(token.encode()).hexdigest() in stored[0]
    assert not any(isinstance(value, str) and token[:13] in value for value in stored[0])  # prefix: 12 characters
    assert [t.name for t in ApiTokens(store).listed("ana@example.com")] == ["my notebook"]
    assert ApiTokens(store).listed("bo@example.com") == []
    assert ApiTokens(store).listed("ana@example.com")[0].last_used_at is None
    assert api_tokens.owner_of(store, token) == "ana@example.com"
    assert ApiTokens(store).listed("ana@example.com")[0].last_used_at is not None  # noted on use


@pytest.mark.parametrize("name, words", [("", "Give the token a name"), ("   ", "Give the token a name"),
                                         ("x" * 101, "101 characters long; keep it to 100")])
def test_a_token_needs_a_usable_name(tmp_path, name, words):
    store = get_store(settings(DATABASE_URL=f"sqlite:///{tmp_path}/t.db"))
    with pytest.raises(api_tokens.NameRefused, match=words):
        api_tokens.issue(store, "ana@example.com", name)
    assert ApiTokens(store).listed("ana@example.com") == []


def test_a_malformed_api_allow_remote_keeps_the_api_closed_and_says_so():
    found = settings(API_ALLOW_REMOTE="sometimes")
    assert found.api_allow_remote is False and [p.variable for p in found.problems] == ["API_ALLOW_REMOTE"]


BUILTINS = builtin_models(openai_key=False, anthropic_key=False)


@pytest.mark.parametrize("catalogue, asked_at, source", [
    (Catalogue(BUILTINS, "live", fetched_at=100.0, endpoint="/model/info"), 99.0, "live"),  # fetched for this call
    (Catalogue(BUILTINS, "live", fetched_at=100.0, endpoint="/model/info"), 101.0, "cached"),
    (Catalogue(BUILTINS, "stale", fetched_at=100.0, error=ProxyUnreachable("down")), 101.0, "last_good"),
    (Catalogue(BUILTINS, "unavailable", error=ProxyUnreachable("down")), 101.0, "builtin_only"),
    (Catalogue(BUILTINS, "disabled"), 101.0, "builtin_only"),
])
def test_the_source_says_live_cached_last_good_or_builtin_only(catalogue, asked_at, source):
    found = source_json(catalogue, asked_at)
    assert found["source"] == source and found["status"] == catalogue.status
    assert (found["error"] is None) == (catalogue.error is None)
    assert (found["ageSeconds"] is None) == (catalogue.fetched_at is None)


def in_own_loop(coroutine):
    """`asyncio.run` in a thread of its own: the browser tests' Playwright (sync API) keeps an event loop running
    in the main thread for the whole session."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_json_has_no_nan_and_keys_are_masked_on_the_way_out():
    assert dumps({"a": math.nan, "b": [math.inf, 1.5]}) == '{"a":null,"b":[null,1.5]}'
    key = f"sk-verbatim-{secrets.token_hex(12)}"  # no 8 characters in common with keys other tests registered
    assert guard(f"oops {key} here", settings(LITELLM_API_KEY=key)) == f"oops {mask_key(key)} here"


def test_the_last_check_is_the_gateways_redaction_boundary():
    """A key a proxy echoes split, escaped or cut short (as in a reply's text) leaves no 8 characters of itself."""
    key = "sk-echoed-Zq8Xv2Lm4Np7Rt1Wy9Bc"
    escaped = key.replace("-", "\\u002d")
    text = dumps({"text": f"split '{key[:14]}' + '{key[14:]}', escaped {escaped}, cut {key[:20]}",
                  "error": f"Authorization: Bearer {key}"})
    guarded = guard(text, settings(LITELLM_API_KEY=key))
    assert not [key[i:i + 8] for i in range(3, len(key) - 11) if key[i:i + 8] in guarded], guarded
    assert guarded.count("***") >= 4 and json.loads(guarded)["error"] == "Authorization: Bearer ***"


def test_gets_close_together_share_one_catalogue_read(monkeypatch):
    import threading

    import gateway
    from api import models

    calls, release = [], threading.Event()

    def fetch_models(settings):  # stands for a warm read that takes a while (it unpickles the whole list)
        calls.append(settings)
        release.wait(5)
        if len(calls) == 2:
            raise ProxyUnreachable("down")
        return Catalogue(BUILTINS, "disabled")

    monkeypatch.setattr(gateway, "fetch_models", fetch_models)
    monkeypatch.setattr(models, "_read", {})

    async def together(count: int):
        asyncio.get_running_loop().call_later(0.2, release.set)
        return await asyncio.gather(*(models.shared_fetch(settings()) for _ in range(count)), return_exceptions=True)

    first = in_own_loop(together(20))  # arriving while the read runs
    assert len(calls) == 1 and all(found is first[0] for found in first)
    assert in_own_loop(together(5)) == [first[0]] * 5 and len(calls) == 1  # up to READ_REUSE seconds later
    monkeypatch.setattr(models, "READ_REUSE", 0.0)
    release.clear()
    second = in_own_loop(together(5))  # later: read again; a failure reaches every caller of that read
    assert len(calls) == 2 and all(isinstance(found, ProxyUnreachable) for found in second)


@pytest.mark.parametrize("header, gzip", [
    ("gzip", True), ("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.8", True), ("*", True),
    ("identity", False), ("", False), ("gzip;q=0", False), ("deflate, gzip;q=0.0", False),
])
def test_gzip_is_sent_only_when_the_client_takes_it(header, gzip):
    from api.models import accepts_gzip

    assert accepts_gzip(header) is gzip


def usage_call(query: str, analyst: Analyst, **values: str):
    from starlette.requests import Request

    from api.http import Call

    request = Request({"type": "http", "method": "GET", "path": "/api/usage", "query_string": query.encode(),
                       "headers": []})
    return Call(request, settings(**values), analyst)


def test_usage_says_503_in_plain_words_when_the_database_does_not_answer():
    from api.http import ApiError
    from api.usage import usage_endpoint

    down = {"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"}  # port 9: nothing listens
    with pytest.raises(ApiError) as refused:
        usage_endpoint(usage_call("period=7d", Analyst("ana@example.com", "Ana"), **down))
    assert refused.value.status == 503 and refused.value.kind == "unavailable"
    assert refused.value.message.startswith("Usage cannot be read now: Saved work cannot be read")
    with pytest.raises(ApiError) as forbidden:  # refused before the database is asked
        usage_endpoint(usage_call("scope=team", Analyst("ana@example.com", "Ana"), **down))
    assert forbidden.value.status == 403 and forbidden.value.kind == "forbidden"


def test_the_openapi_document_passes_the_redaction_unchanged():
    """Every answer goes through the redaction: a description that looks like a key or a Bearer token would be served
    masked (and differ from the document)."""
    from api.openapi import document

    text = dumps(document())
    assert guard(text, settings()) == text
