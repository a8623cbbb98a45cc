"""The judge and evaluation runs over the API (POST /api/judge, GET /api/runs, /api/runs/results, /api/runs/compare):
the app's own routes (validated against the OpenAPI document, the header sign-in) in front of the real proxy, with
answers checked against the document's schemas. A round of a comparison made through the API is judged in both
orders and the verdict saved as the judge's vote; two texts are judged with the team's default judge; the calls are
attributed to the caller and in her usage; over budget nothing is sent (402); another analyst's comparison or run is
not found."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import api.http
from api import ROUTES
from gateway.config import load_settings
from gateway.evaluation.prompt_sets import PromptRow, PromptSet
from gateway.evaluation.runs import Cell, EvalRun
from gateway.evaluation.votes import compare_subject
from gateway.reply import Metrics, Outcome, Reply
from gateway.store import get_store
from gateway.store.evaluation import Evaluations
from tests.support import upstream
from tests.support.api import conforms

ANA, BOB = "ana@example.com", "bob@example.com"


@pytest.fixture
def client(app_env, monkeypatch) -> Iterator[TestClient]:
    monkeypatch.setenv("AUTH_MODE", "header")  # the API's sign-in: the reverse proxy's header
    monkeypatch.setattr(api.http, "_settings", None)
    monkeypatch.setattr(api.http, "_lanes", {})  # (each TestClient has an event loop of its own)
    with TestClient(Starlette(routes=ROUTES)) as test_client:
        yield test_client


def as_(who: str) -> dict[str, str]:
    return {"X-Forwarded-Email": who}


def judge_prompts(*needles: str) -> list[str]:
    return [r["messages"][-1]["content"] for r in list(upstream.RECEIVED) if r.get("model") == "demo-judge"
            and all(n in r["messages"][-1]["content"] for n in needles)]


def test_a_round_compared_over_the_api_is_judged_in_both_orders_and_saved_as_the_judges_vote(client, app_env):
    from tests.test_one_door import recorded_calls

    made = client.post("/api/compare", json={"models": ["eval-quick", "eval-creative"], "prompt": "What is 38 * 27?"},
                       headers=as_(ANA)).raise_for_status().json()
    assert get_store(load_settings(secrets={}, dotenv_path=None)).flush(10)
    upstream.RECEIVED.clear()
    answer = client.post("/api/judge", json={"comparison": made["id"], "judge": "eval-judge"}, headers=as_(ANA))
    found = conforms(answer.raise_for_status().json(), "Judgement")
    assert (found["verdict"], found["winner"], found["flagged"], found["saved"]) == ("best", "eval-creative", False,
                                                                                   True)
    assert found["calls"] == 2 and 0 < found["cost"] <= found["quote"]
    assert found["pairs"] == [{"first": "eval-quick", "second": "eval-creative", "forward": "eval-creative",
                               "backward": "eval-creative", "flagged": False, "readable": True,
                               "winner": "eval-creative", "reasons": found["pairs"][0]["reasons"]}]
    assert sorted(p.index("1025") < p.index("1026") for p in judge_prompts("1025", "1026")) == [False, True]

    evaluations = Evaluations(get_store(load_settings(secrets={}, dotenv_path=None)))
    subject = compare_subject(made["id"], found["round"])
    assert evaluations.judge_votes(subject, ANA, "eval-judge")[subject].winner == "eval-creative"
    deadline, seen = time.monotonic() + 60, []
    while len(seen) < 2 and time.monotonic() < deadline:  # the proxy's callbacks run after the response
        seen = [c for c in recorded_calls(app_env) if (c["requester_metadata"] or {}).get("conversation_id")
                == made["id"] and c["model_group"] == "eval-judge"]
        time.sleep(0.05)
    assert len(seen) == 2 and {c["end_user"] for c in seen} == {ANA} and all(
        "page:api" in c["request_tags"] for c in seen)

    refused = client.post("/api/judge", json={"comparison": made["id"], "judge": "eval-judge"}, headers=as_(BOB))
    assert refused.status_code == 404 and conforms(refused.json(), "ErrorAnswer")["error"]["kind"] == "not_found"


def test_two_texts_are_judged_by_the_teams_default_judge_and_a_lean_shows_as_a_flagged_tie(client, monkeypatch):
    monkeypatch.setenv("JUDGE_MODEL", "eval-judge")
    right = client.post("/api/judge", json={"prompt": "What is 6 * 7?", "replies": [
        {"name": "wrong", "text": "6 × 7 = 41."}, {"name": "right", "text": "6 × 7 = 42."}]}, headers=as_(ANA))
    found = conforms(right.raise_for_status().json(), "Judgement")
    assert (found["judge"], found["verdict"], found["winner"], found["saved"]) == ("eval-judge", "best", "right",
                                                                                 False)
    both = client.post("/api/judge", json={"prompt": "What is 6 * 7?", "replies": [
        {"text": "It is 42."}, {"text": "42."}]}, headers=as_(ANA)).raise_for_status().json()
    assert (both["verdict"], both["flagged"]) == ("tie", True)
    assert both["pairs"][0]["forward"] == "first" and both["pairs"][0]["backward"] == "second"


def test_a_judge_over_budget_is_refused_with_402_before_anything_is_sent(client, monkeypatch):
    from tests.test_one_door import spend

    monkeypatch.setenv("ANALYST_MONTHLY_BUDGET_USD", "1.00")
    spend(ANA, 0.99999)
    upstream.RECEIVED.clear()
    answer = client.post("/api/judge", json={"judge": "eval-judge", "prompt": "What is 6 * 7?", "replies": [
        {"text": "6 × 7 = 41."}, {"text": "6 × 7 = 42."}]}, headers=as_(ANA))
    assert answer.status_code == 402, answer.text
    refusal = conforms(answer.json(), "BudgetRefusal")
    assert refusal["error"]["kind"] == "budget_exceeded" and refusal["budget"]["limit"] == 1.0
    assert judge_prompts("6 × 7 = 41.") == []


@pytest.mark.parametrize("body, status, words", [
    ({"judge": "no-such-judge", "prompt": "q", "replies": [{"text": "a"}, {"text": "b"}]}, 400, "not in the catalogue"),
    ({"judge": "eval-judge", "prompt": "q", "replies": [{"text": "a"}, {"text": "b"}], "template": "{question}"},
     400, "needs {first}, {second}"),
    ({"judge": "eval-judge", "comparison": "abc", "prompt": "q"}, 400, "not both"),
    ({"judge": "eval-judge", "prompt": "q", "replies": [{"text": "a"}]}, 400, "'replies'"),
    ({"judge": "eval-judge", "comparison": "0" * 32}, 404, "no such comparison"),
])
def test_a_bad_judge_request_is_refused_in_plain_words_and_sends_nothing(client, body, status, words):
    upstream.RECEIVED.clear()
    answer = client.post("/api/judge", json=body, headers=as_(ANA))
    assert answer.status_code == status, answer.text
    assert words in conforms(answer.json(), "ErrorAnswer")["error"]["message"]
    assert [r for r in list(upstream.RECEIVED) if r.get("model") == "demo-judge"] == []


def test_a_blind_round_not_voted_on_is_not_judged_its_verdict_would_name_the_models(client):
    from gateway.conversation import Conversation, Round
    from gateway.evaluation.votes import Verdict, Vote

    store = get_store(load_settings(secrets={}, dotenv_path=None))
    comparison = Conversation("compare", models=["x", "y"])
    comparison.rounds.append(Round("What is 6 * 7?", runs={"x": [Reply("x", "42.", Outcome.COMPLETE)],
                                                         "y": [Reply("y", "41.", Outcome.COMPLETE)]}, blind=True))
    store.save_round(comparison, 0, ANA)
    assert store.flush(10)
    upstream.RECEIVED.clear()
    refused = client.post("/api/judge", json={"comparison": comparison.id, "judge": "eval-judge"}, headers=as_(ANA))
    assert refused.status_code == 409 and refused.json()["error"]["kind"] == "blind"
    assert judge_prompts("42.") == []
    subject = compare_subject(comparison.id, comparison.latest.key)
    assert Evaluations(store).vote(Vote(subject, ("x", "y"), Verdict.BEST, "x", blind=True), ANA) is True
    judged = client.post("/api/judge", json={"comparison": comparison.id, "judge": "eval-judge"}, headers=as_(ANA))
    assert judged.raise_for_status().json()["winner"] == "x"


# --- Evaluation runs -------------------------------------------------------------------------------------------

ROWS = tuple(PromptRow(f"What is {i} + {i}?", expected=str(2 * i)) for i in range(1, 9))


def saved_run() -> EvalRun:
    """Ana's run of two models: `good` passes every row; `worse` fails the first six."""
    evaluations = Evaluations(get_store(load_settings(secrets={}, dotenv_path=None)))
    run = EvalRun.of(PromptSet("sums", ROWS), ["good", "worse"])
    assert evaluations.create_run(run, ANA) is True
    for row, prompt in enumerate(ROWS):
        for model, passed in (("good", True), ("worse", row >= 6)):
            text = prompt.expected if passed else "no idea"
            reply = Reply(model, text, Outcome.COMPLETE, Metrics(ttft=0.1, total=0.5, cost=0.001))
            assert evaluations.save_cell(run.id, ANA, Cell(row, reply, passed)) is True
    return run


def test_a_runs_results_and_its_comparison_are_read_over_the_api_by_their_owner_only(client):
    run = saved_run()
    listed = conforms(client.get("/api/runs", headers=as_(ANA)).raise_for_status().json(), "RunList")
    assert [r["id"] for r in listed["runs"]] == [run.id] and listed["runs"][0]["url"] == f"/evaluate?run={run.id}"

    results = conforms(client.get("/api/runs/results", params={"run": run.id}, headers=as_(ANA))
                       .raise_for_status().json(), "RunResults")
    assert len(results["cells"]) == 16 and [r["prompt"] for r in results["rows"]] == [r.prompt for r in ROWS]
    summary = {row["model"]: row for row in results["summary"]}
    assert summary["good"]["passRate"] == 1.0 and summary["worse"]["passRate"] == 0.25
    assert results["judged"] == []

    compared = conforms(client.get("/api/runs/compare", params={"run": run.id, "model": "worse",
                                                                "other_model": "good"}, headers=as_(ANA))
                        .raise_for_status().json(), "RunComparison")
    assert compared["mcnemar"] == {"fail_to_pass": 6, "pass_to_fail": 0, "compared": 8,
                                   "p_value": pytest.approx(2 * 0.5 ** 6)}
    assert compared["summary"][1].startswith("good (run ") and len(compared["rows"]) == 8
    same = client.get("/api/runs/compare", params={"run": run.id, "model": "good", "other_model": "good"},
                      headers=as_(ANA))
    assert same.status_code == 400

    assert client.get("/api/runs", headers=as_(BOB)).json() == {"runs": []}
    for path, query in (("/api/runs/results", {"run": run.id}),
                        ("/api/runs/compare", {"run": run.id, "model": "good", "other_model": "worse"})):
        hidden = client.get(path, params=query, headers=as_(BOB))
        assert hidden.status_code == 404 and hidden.json()["error"]["kind"] == "not_found"
    assert client.get("/api/runs/results", headers=as_(ANA)).status_code == 400  # which run?
