"""The prompt library over real HTTP (`streamlit run streamlit_app.py`, AUTH_MODE=header, two analysts; the app's
database SQLite, then PostgreSQL): the round
trip (create, list, change, copy, delete), every answer checked against the OpenAPI document, and the library's
rules: Ana's private prompt never reaches Bob (not listed, 404 like a made-up id), Bob cannot change or delete her
team prompt (403) but can copy it, and the copy is his."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.api import conforms
from tests.support.app import start_app

pytestmark = pytest.mark.processes  # the app's own server (start_app)

ANA, BOB = "ana@example.com", "bob@example.com"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    env = {"LITELLM_ENABLED": "false", "AUTH_MODE": "header"}
    if request.param == "postgres":
        env["DATABASE_URL"] = request.getfixturevalue("postgres_server").create_database()
    app = start_app(env)
    try:
        with httpx.Client(base_url=app.url, timeout=30) as client:
            yield client
    finally:
        app.stop()


def as_(who: str) -> dict[str, str]:
    return {"X-Forwarded-Email": who}


def test_the_round_trip_and_who_may_do_what(client: httpx.Client):
    created = client.post("/api/prompts", headers=as_(ANA), json={
        "name": "Explain simply", "text": "Explain {{topic}} to {{who}}.", "tags": ["Teaching", "teaching"],
        "shared": True})
    assert created.status_code == 201, created.text
    team = conforms(created.json(), "SavedPrompt")
    assert (team["owner"], team["variables"], team["tags"], team["kind"]) == \
        (ANA, ["topic", "who"], ["teaching"], "prompt")
    private = client.post("/api/prompts", headers=as_(ANA), json={
        "name": "Ana's persona", "text": "You are Ana's private assistant.", "kind": "system"}).json()
    assert private["shared"] is False

    # Bob sees the team's prompt, never Ana's private one
    bobs = conforms(client.get("/api/prompts", headers=as_(BOB)).json(), "PromptList")
    assert [p["name"] for p in bobs["prompts"]] == ["Explain simply"]
    assert "Ana's persona" not in client.get("/api/prompts", headers=as_(BOB), params={"q": "persona"}).text
    assert [p["name"] for p in client.get("/api/prompts", headers=as_(ANA), params={"kind": "system"}).json()[
        "prompts"]] == ["Ana's persona"]

    # Bob cannot change or delete Ana's: her team prompt is 403, her private one is 404 like a made-up id
    refused = client.patch(f"/api/prompts/{team['id']}", headers=as_(BOB), json={"text": "Hijacked"})
    assert refused.status_code == 403 and conforms(refused.json(), "ErrorAnswer")["error"]["kind"] == "not_owner"
    assert client.delete(f"/api/prompts/{team['id']}", headers=as_(BOB)).status_code == 403
    hidden = client.patch(f"/api/prompts/{private['id']}", headers=as_(BOB), json={"text": "x"})
    made_up = client.patch("/api/prompts/999999", headers=as_(BOB), json={"text": "x"})
    assert hidden.status_code == made_up.status_code == 404
    assert hidden.json()["error"]["message"].replace(str(private["id"]), "N") == \
        made_up.json()["error"]["message"].replace("999999", "N")
    assert client.post(f"/api/prompts/{private['id']}/copy", headers=as_(BOB)).status_code == 404

    # … but he can copy the team prompt, and the copy is his to change
    copied = client.post(f"/api/prompts/{team['id']}/copy", headers=as_(BOB))
    assert copied.status_code == 201
    mine = conforms(copied.json(), "SavedPrompt")
    assert (mine["owner"], mine["shared"], mine["text"]) == (BOB, False, team["text"])
    changed = client.patch(f"/api/prompts/{mine['id']}", headers=as_(BOB), json={"name": "Explain (Bob)"})
    assert changed.status_code == 200 and changed.json()["name"] == "Explain (Bob)"
    assert changed.json()["text"] == team["text"]  # only the fields given change
    assert [p["name"] for p in client.get("/api/prompts", headers=as_(BOB), params={"scope": "mine"}).json()[
        "prompts"]] == ["Explain (Bob)"]

    # Ana changes and deletes her own
    unshared = client.patch(f"/api/prompts/{team['id']}", headers=as_(ANA), json={"shared": False})
    assert unshared.status_code == 200 and unshared.json()["shared"] is False
    assert client.get("/api/prompts", headers=as_(BOB), params={"scope": "team"}).json()["prompts"] == []
    deleted = client.delete(f"/api/prompts/{team['id']}", headers=as_(ANA))
    assert deleted.status_code == 200 and conforms(deleted.json(), "PromptDeleted") == {"deleted": True,
                                                                                         "id": team["id"]}
    assert client.delete(f"/api/prompts/{team['id']}", headers=as_(ANA)).status_code == 404


def test_bad_prompts_are_400s_that_say_what_to_fix_and_save_nothing(client: httpx.Client):
    before = client.get("/api/prompts", headers=as_("carl@example.com")).json()["count"]
    for body, words in [({"name": "  ", "text": "x"}, "Give the prompt a name"),
                        ({"name": "n"}, "text"),
                        ({"name": "n", "text": "x", "kind": "tool"}, "kind"),
                        ({"name": "n", "text": "x", "owner": "ana@example.com"}, "owner"),
                        ({"name": "n", "text": "x", "tags": ["t"] * 11}, "tags")]:
        answer = client.post("/api/prompts", headers=as_("carl@example.com"), json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert words in answer.json()["error"]["message"], (body, answer.text)
    assert client.get("/api/prompts", headers=as_("carl@example.com")).json()["count"] == before
    assert client.patch("/api/prompts/1", headers=as_("carl@example.com"), json={}).status_code == 400
    wrong = client.put("/api/prompts/1", headers=as_("carl@example.com"), json={})
    assert wrong.status_code == 405 and set(wrong.headers["allow"].split(", ")) == {"DELETE", "PATCH"}


def test_without_a_signed_in_analyst_the_library_is_closed(client: httpx.Client):
    assert client.get("/api/prompts").status_code == 401
    assert client.post("/api/prompts", json={"name": "n", "text": "x"}).status_code == 401


def test_the_data_export_holds_the_callers_own_prompts_and_not_a_colleagues_private_one(client: httpx.Client):
    """GET /api/export (gateway/account_export.py): the caller's data in one document, by the OpenAPI schema."""
    assert client.post("/api/prompts", headers=as_(ANA), json={"name": "Ana's export check", "text": "a"}
                       ).status_code == 201
    assert client.post("/api/prompts", headers=as_(BOB), json={"name": "Bob's export check", "text": "b"}
                       ).status_code == 201
    anas = conforms(client.get("/api/export", headers=as_(ANA)).json(), "AccountExport")
    bobs = conforms(client.get("/api/export", headers=as_(BOB)).json(), "AccountExport")
    assert anas["owner"] == ANA and "Ana's export check" in [p["name"] for p in anas["prompt_library"]]
    assert "Bob's export check" not in str(anas) and "Ana's export check" not in str(bobs)
    assert client.get("/api/export").status_code == 401
