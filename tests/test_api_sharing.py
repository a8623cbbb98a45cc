"""Share links over the HTTP API (AUTH_MODE=header, in process): Ana shares her comparison, Bob reads the snapshot
as JSON (the schema the OpenAPI document gives), Ana lists her links with Bob's view counted, revokes the link, and
Bob then gets the same 404 for it as for a made-up token; Bob cannot share or revoke what is not his; an admin lists
everyone's; with sharing switched off nothing is shared or read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import api.http
from api import ROUTES
from gateway.config import load_settings
from gateway.conversation import Conversation
from gateway.reply import Metrics, Outcome, Reply
from gateway.sharing import links
from gateway.store import get_store
from tests.support.api import conforms

ANA, BOB, BOSS = "ana@example.com", "bob@example.com", "boss@example.com"


def as_(email: str) -> dict[str, str]:
    return {"X-Forwarded-Email": email}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("AUTH_MODE", "header")
    monkeypatch.setenv("ADMIN_EMAILS", BOSS)
    monkeypatch.setattr(api.http, "_settings", None)
    monkeypatch.setattr(api.http, "_lanes", {})
    with TestClient(Starlette(routes=ROUTES)) as test_client:
        yield test_client


def anas_comparison() -> Conversation:
    comparison = Conversation("compare", models=["demo-fast", "demo-slow"])
    round_ = comparison.add_prompt("Name a prime above 90")
    round_.add(Reply("demo-fast", "97 is prime", Outcome.COMPLETE, Metrics(total=0.8, cost=0.0031)))
    round_.add(Reply("demo-slow", "91 is prime", Outcome.COMPLETE, Metrics(total=2.5, cost=0.0009)))
    store = get_store(load_settings(secrets={}, dotenv_path=None))
    store.save_conversation(comparison, ANA)
    assert store.flush(10)
    return comparison


def test_the_api_round_trip(client: TestClient) -> None:
    comparison = anas_comparison()
    assert client.post("/api/shares", json={"kind": "compare", "id": comparison.id},
                       headers=as_(BOB)).status_code == 404  # not Bob's to share
    made = client.post("/api/shares", json={"kind": "compare", "id": comparison.id, "expiresInDays": 7},
                       headers=as_(ANA))
    assert made.status_code == 201, made.text
    share = conforms(made.json(), "Share")
    token = share["token"]
    assert share["url"].endswith(f"/shared?s={token}") and share["expiresAt"] > share["createdAt"]

    read = client.get("/api/shared", params={"token": token}, headers=as_(BOB))
    assert read.status_code == 200, read.text
    body = conforms(read.json(), "SharedSnapshot")
    replies = body["snapshot"]["conversation"]["rounds"][0]["runs"]
    assert replies["demo-fast"][0]["text"] == "97 is prime" and replies["demo-slow"][0]["metrics"]["cost"] == 0.0009

    listed = conforms(client.get("/api/shares", headers=as_(ANA)).json(), "ShareList")
    assert [(s["token"], s["views"]) for s in listed["shares"]] == [(token, 1)]
    assert client.get("/api/shares", headers=as_(BOB)).json() == {"shares": []}
    assert client.get("/api/shares", params={"scope": "all"}, headers=as_(BOB)).status_code == 403
    assert [s["token"] for s in client.get("/api/shares", params={"scope": "all"}, headers=as_(BOSS)).json()[
        "shares"]] == [token]

    assert client.post("/api/shares/revoke", json={"token": token}, headers=as_(BOB)).status_code == 404
    assert client.post("/api/shares/revoke", json={"token": token}, headers=as_(ANA)).json() == {"revoked": True}
    revoked = client.get("/api/shared", params={"token": token}, headers=as_(BOB))
    made_up = client.get("/api/shared", params={"token": links.new_token()}, headers=as_(BOB))
    assert revoked.status_code == made_up.status_code == 404 and revoked.json() == made_up.json()
    assert "revoked" in revoked.json()["error"]["message"]
    assert client.get("/api/shared", params={"token": token}).status_code == 401  # nobody named


def test_sharing_switched_off_shares_and_opens_nothing(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    comparison = anas_comparison()
    token = client.post("/api/shares", json={"kind": "compare", "id": comparison.id}, headers=as_(ANA)).json()["token"]
    monkeypatch.setenv("SHARING_ENABLED", "false")
    monkeypatch.setattr(api.http, "_settings", None)
    assert client.post("/api/shares", json={"kind": "compare", "id": comparison.id},
                       headers=as_(ANA)).status_code == 403
    assert client.get("/api/shared", params={"token": token}, headers=as_(BOB)).status_code == 403
    assert client.post("/api/shares", json={"kind": "compare", "id": comparison.id, "public": True},
                       headers=as_(ANA)).status_code == 403


def test_a_link_for_anyone_reads_without_sign_in_where_allowed_and_nothing_else_does(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    comparison = anas_comparison()
    monkeypatch.setenv("SHARING_PUBLIC_LINKS", "true")
    monkeypatch.setattr(api.http, "_settings", None)
    for_anyone = client.post("/api/shares", json={"kind": "compare", "id": comparison.id, "public": True},
                             headers=as_(ANA)).json()["token"]
    signed_in_only = client.post("/api/shares", json={"kind": "compare", "id": comparison.id},
                                 headers=as_(ANA)).json()["token"]
    read = client.get("/api/shared", params={"token": for_anyone})
    assert read.status_code == 200 and conforms(read.json(), "SharedSnapshot")["public"] is True
    assert ANA not in read.text  # the owner's address is not handed out to anyone
    refusals = [client.get("/api/shared", params={"token": token}) for token in (signed_in_only, links.new_token())]
    refusals.append(client.get("/api/shares"))  # every other operation still needs a caller
    assert [r.status_code for r in refusals] == [401, 401, 401]
    assert refusals[0].json() == refusals[1].json() == refusals[2].json()  # the API's usual 401, word for word
    assert all("www-authenticate" in r.headers for r in refusals)
    monkeypatch.setenv("SHARING_PUBLIC_LINKS", "false")
    monkeypatch.setattr(api.http, "_settings", None)
    assert client.get("/api/shared", params={"token": for_anyone}).status_code == 401
