"""`GET /api/usage` over real HTTP: `streamlit run streamlit_app.py` with header sign-in (Ben an admin) on a
database the test fills first. Each analyst gets their own usage, the page's numbers; the team's is for admins only
(403 for anyone else); periods and time zones count days as the page does. No proxy is needed: the ledger is read."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest
import sqlalchemy as sa

from gateway.budget import month
from gateway.conversation import Conversation
from gateway.reply import Metrics, Outcome, Reply
from gateway.store import Store
from gateway.store.engine import create_engine, resolve_url
from gateway.store.schema import usage as ledger
from tests.support.api import conforms
from tests.support.app import start_app

ANA = {"X-Forwarded-Email": "ana@example.com"}
BEN = {"X-Forwarded-Email": "ben@example.com"}  # an admin
SECRET_PROMPT = "ana's private prompt"
DAY = 86_400

pytestmark = pytest.mark.processes  # the app's own server (start_app)


def utc_midnight(now: float) -> float:
    return dt.datetime.fromtimestamp(now, dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


NOW = time.time()
OLD = NOW - 40 * DAY  # in the last 90 days, not the last 30
LATE_YESTERDAY = utc_midnight(NOW) - 3600  # 23:00 UTC yesterday: today already in Asia/Karachi (UTC+5, no DST)


def chat(store: Store, owner: str, *replies: tuple[str, float | None, str | None]) -> None:
    """Save a chat of `owner`, one round per (model, cost, cost source): each a reply in the ledger."""
    conversation = Conversation("chat")
    for index, (model, cost, source) in enumerate(replies):
        conversation.add_prompt(f"{SECRET_PROMPT} {index}").add(Reply(model, "secret reply text", Outcome.COMPLETE,
                                                                      Metrics(ttft=0.5, total=2.0, prompt_tokens=10,
                                                                              completion_tokens=30, cost=cost,
                                                                              cost_source=source)))
        store.save_round(conversation, index, owner)


def ledger_row(connection: sa.Connection, owner: str, at: float, model: str, cost: float, key: str) -> None:
    connection.execute(sa.insert(ledger).values(
        owner=owner, at=at, kind="chat", conversation_id="0" * 32, model=model, run=1, outcome="complete",
        prompt_tokens=1, completion_tokens=2, cost=cost, cost_source="proxy", ttft=0.1, total=0.2, call_id=None,
        reply_key=key))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    database = f"sqlite:///{tmp_path_factory.mktemp('api-usage-db')}/dashboard.db"
    store = Store.open(database)
    try:
        chat(store, "ana@example.com", ("gpt-x", 0.0125, "proxy"), ("gpt-x", 0.0031, "catalogue"),
             ("claude-y", 0.2, "proxy"), ("free-z", None, None))
        chat(store, "ben@example.com", ("gpt-x", 1.25, "proxy"))
        assert store.flush(10)
    finally:
        store.close()
    engine = create_engine(resolve_url(database))
    try:
        with engine.begin() as connection:
            ledger_row(connection, "ana@example.com", OLD, "old-model", 3.0, "old")
            ledger_row(connection, "ana@example.com", LATE_YESTERDAY, "late-model", 0.5, "late")
    finally:
        engine.dispose()
    app = start_app({"LITELLM_ENABLED": "false", "AUTH_MODE": "header", "AUTH_HEADER": "X-Forwarded-Email",
                     "ADMIN_EMAILS": "ben@example.com", "DATABASE_URL": database,
                     "ANALYST_MONTHLY_BUDGET_USD": "10"})
    yield app
    app.stop()


def usage(api: httpx.Client, headers: dict[str, str], **query: str) -> dict:
    response = api.get("/api/usage", headers=headers, params=query)
    assert response.status_code == 200, response.text
    return conforms(response.json(), "Usage")


def by(rows: list[dict], field: str) -> dict:
    return {row[field]: row for row in rows}


def test_an_analyst_gets_their_own_usage_by_model_and_day(api):
    answer = usage(api, ANA, period="7d")
    assert answer["scope"] == "me" and answer["analyst"] == "ana@example.com" and "analysts" not in answer
    assert answer["period"]["key"] == "7d" and answer["period"]["label"] == "Last 7 days"
    models = by(answer["models"], "model")
    assert set(models) == {"gpt-x", "claude-y", "free-z", "late-model"}  # not the 40-day-old one, nothing of Ben's
    assert models["gpt-x"]["cost"] == pytest.approx(0.0156) and models["gpt-x"]["replies"] == 2
    assert models["gpt-x"]["estimatedCost"] == pytest.approx(0.0031)  # marked as estimated, as on the page
    assert models["gpt-x"]["tokens"] == 80 and models["gpt-x"]["meanTtft"] == pytest.approx(0.5)
    assert models["free-z"]["unpriced"] == 1 and models["free-z"]["cost"] == 0
    assert [m["model"] for m in answer["models"]][0] == "late-model"  # costliest first, as the page's table
    totals = answer["totals"]
    assert totals["cost"] == pytest.approx(0.0125 + 0.0031 + 0.2 + 0.5) and totals["replies"] == 5
    assert totals["unpriced"] == 1 and totals["estimatedCost"] == pytest.approx(0.0031)
    assert sum(d["cost"] for d in answer["days"]) == pytest.approx(totals["cost"])
    assert [d["day"] for d in answer["days"]] == sorted(d["day"] for d in answer["days"])
    this_month = 0.0125 + 0.0031 + 0.2 + (0.5 if month(NOW)[0] <= LATE_YESTERDAY else 0.0)  # calendar month, UTC
    assert answer["budget"] == {"limit": 10.0, "spent": pytest.approx(this_month), "exempt": False}
    everything = str(answer)
    assert "ben@example.com" not in everything and SECRET_PROMPT not in everything and "secret reply" not in everything


def test_the_period_filters_are_the_pages(api):
    assert "old-model" not in by(usage(api, ANA, period="30d")["models"], "model")
    ninety = usage(api, ANA, period="90d")
    assert by(ninety["models"], "model")["old-model"]["cost"] == 3.0
    assert ninety["totals"]["cost"] == pytest.approx(usage(api, ANA, period="7d")["totals"]["cost"] + 3.0)
    today = usage(api, ANA, period="day")
    assert "late-model" not in by(today["models"], "model")  # yesterday, in UTC
    assert today["period"]["timeZone"] == "UTC" and today["period"]["firstDay"] == dt.datetime.fromtimestamp(
        time.time(), dt.UTC).date().isoformat()
    assert usage(api, ANA)["period"]["key"] == "month"  # the default, as on the page


def test_days_are_counted_in_the_time_zone_asked_for(api):
    yesterday = dt.datetime.fromtimestamp(LATE_YESTERDAY, dt.UTC).date()
    in_utc = usage(api, ANA, period="90d")
    in_karachi = usage(api, ANA, period="90d", tz="Asia/Karachi")
    assert in_karachi["period"]["timeZone"] == "Asia/Karachi"
    assert by(in_utc["days"], "day")[yesterday.isoformat()]["cost"] == pytest.approx(0.5)
    assert by(in_karachi["days"], "day")[(yesterday + dt.timedelta(days=1)).isoformat()]["cost"] >= 0.5


def test_the_team_is_for_admins_only(api):
    refused = api.get("/api/usage", headers=ANA, params={"scope": "team"})
    assert refused.status_code == 403, refused.text
    error = conforms(refused.json(), "ErrorAnswer")["error"]
    assert error["kind"] == "forbidden" and "admins" in error["message"]
    assert "ben@example.com" not in refused.text

    team = usage(api, BEN, scope="team", period="7d")
    assert team["scope"] == "team" and "budget" not in team
    analysts = by(team["analysts"], "analyst")
    assert set(analysts) == {"ana@example.com", "ben@example.com"}
    assert analysts["ben@example.com"]["cost"] == pytest.approx(1.25)
    assert analysts["ana@example.com"]["cost"] == pytest.approx(0.0125 + 0.0031 + 0.2 + 0.5)
    assert analysts["ana@example.com"]["monthlyBudget"] == 10.0
    assert team["totals"]["cost"] == pytest.approx(sum(a["cost"] for a in team["analysts"]))
    assert SECRET_PROMPT not in str(team)  # costs only, nobody's conversations

    own = usage(api, BEN, period="7d")
    assert own["analyst"] == "ben@example.com" and set(by(own["models"], "model")) == {"gpt-x"}
    assert own["budget"]["exempt"] is True


def test_without_the_header_nothing_is_answered(api):
    answer = api.get("/api/usage")
    assert answer.status_code == 401 and answer.json()["error"]["kind"] == "unauthenticated"


@pytest.mark.parametrize("query, words", [
    ({"period": "year"}, "period='year' is not one of day, week, month, 7d, 30d, 90d"),
    ({"tz": "Mars/Olympus"}, "tz='Mars/Olympus' is not a time zone"),
    ({"scope": "everyone"}, "scope='everyone' is not one of me, team"),
])
def test_bad_filters_are_refused_in_plain_words(api, query, words):
    answer = api.get("/api/usage", headers=ANA, params=query)
    assert answer.status_code == 400, answer.text
    assert words in conforms(answer.json(), "ErrorAnswer")["error"]["message"]
