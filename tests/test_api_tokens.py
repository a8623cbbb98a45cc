"""Personal API tokens over real HTTP: `streamlit run streamlit_app.py` with OpenID Connect sign-in (AUTH_MODE=oidc,
Ben an admin). A call is answered as the analyst whose live token it carries, and only then: no token, an unknown
one or a revoked one gets 401; one analyst's token never shows another's usage; the token never comes back in an
answer or the server's log. Tokens are made as the Usage page makes them (`gateway.api_tokens.issue`) on the
server's database."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gateway import api_tokens
from gateway.conversation import Conversation
from gateway.reply import Metrics, Outcome, Reply
from gateway.store import Store
from gateway.store.api_tokens import ApiTokens
from tests.support.api import conforms
from tests.support.app import start_app

pytestmark = pytest.mark.processes  # the app's own server (start_app)


def spend(store: Store, owner: str, model: str, cost: float) -> None:
    conversation = Conversation("chat")
    conversation.add_prompt("a prompt").add(Reply(model, "text", Outcome.COMPLETE, Metrics(
        ttft=0.1, total=1.0, prompt_tokens=10, completion_tokens=20, cost=cost, cost_source="proxy")))
    store.save_round(conversation, 0, owner)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('api-tokens-db')}/dashboard.db"
    store = Store.open(url)
    try:
        spend(store, "ana@example.com", "ana-model", 0.25)
        spend(store, "ben@example.com", "ben-model", 1.5)
        assert store.flush(10)
    finally:
        store.close()
    yield url


@pytest.fixture(scope="module")
def server(database: str):
    app = start_app({"LITELLM_ENABLED": "false", "AUTH_MODE": "oidc", "ADMIN_EMAILS": "ben@example.com",
                     "DATABASE_URL": database})
    yield app
    app.stop()


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    store = Store.open(database)
    yield store
    store.close()


def issue(store: Store, owner: str, name: str) -> str:
    issued = api_tokens.issue(store, owner, name)
    assert isinstance(issued, api_tokens.Issued), issued
    return issued.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refused(answer: httpx.Response, words: str) -> dict:
    assert answer.status_code == 401, answer.text
    error = conforms(answer.json(), "ErrorAnswer")["error"]
    assert error["kind"] == "unauthenticated" and words in error["message"]
    return error


def test_without_a_token_nothing_is_answered_even_from_this_machine(api):
    for answer in (api.get("/api/models"), api.get("/api/usage"), api.get("/api/health"),
                   api.post("/api/models"), api.get("/api/openapi.json"),
                   api.get("/api/usage", headers={"Authorization": "Basic YW5hOnNlY3JldA=="})):
        error = refused(answer, "needs your personal API token")
        assert "Usage page" in error["hint"] and answer.headers["www-authenticate"] == 'Bearer realm="api"'


def test_a_token_acts_for_its_analyst_and_shows_nobody_elses_usage(api, store):
    ana, ben = issue(store, "ana@example.com", "notebook"), issue(store, "ben@example.com", "monitor")
    mine = api.get("/api/usage", headers=bearer(ana))
    assert mine.status_code == 200, mine.text
    answer = conforms(mine.json(), "Usage")
    assert answer["analyst"] == "ana@example.com" and [m["model"] for m in answer["models"]] == ["ana-model"]
    assert "ben" not in mine.text
    assert api.get("/api/usage", headers=bearer(ana), params={"scope": "team"}).status_code == 403

    team = conforms(api.get("/api/usage", headers=bearer(ben), params={"scope": "team"}).json(), "Usage")
    assert {a["analyst"] for a in team["analysts"]} == {"ana@example.com", "ben@example.com"}  # Ben is an admin
    assert api.get("/api/models", headers=bearer(ana)).status_code == 200
    assert ApiTokens(store).listed("ana@example.com")[0].last_used_at is not None  # the list says it was used


def test_an_unknown_or_revoked_token_is_refused_and_never_repeated(api, store, server):
    token = issue(store, "ana@example.com", "short-lived")
    assert api.get("/api/usage", headers=bearer(token)).status_code == 200
    [record] = [t for t in ApiTokens(store).listed("ana@example.com") if t.name == "short-lived"]
    assert ApiTokens(store).revoke("ben@example.com", record.id) is False  # not his
    assert api.get("/api/usage", headers=bearer(token)).status_code == 200
    assert ApiTokens(store).revoke("ana@example.com", record.id) is True
    answers = [api.get("/api/usage", headers=bearer(token)), api.get("/api/models", headers=bearer(token)),
               api.get("/api/usage", headers=bearer(token[:-1] + ("A" if token[-1] != "A" else "B"))),
               api.get("/api/usage", headers=bearer("dash_" + "x" * 43))]
    for answer in answers:
        refused(answer, "not valid: it was revoked, or this dashboard never issued it")
        assert answer.headers["www-authenticate"] == 'Bearer realm="api", error="invalid_token"'
        assert token[5:] not in answer.text and token[5:] not in str(answer.headers)
    assert token[5:] not in server.log_path.read_text(errors="replace")  # nor in the server's log
