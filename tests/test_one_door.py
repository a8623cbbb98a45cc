"""Every model call made for an analyst goes through one door (gateway/sending.py), against the real proxy:

- chat, compare, an evaluation run and the API refuse the same over-long prompt and the same over-budget analyst
  with the same words (one table over the four paths), and send nothing;
- with sign-in by header, a prompt set run from /evaluate reaches LiteLLM with the analyst's `user` on every call
  (the proxy's callback, tests/attribution_callback.py), tagged `page:evaluate` with the run's id;
- over budget a run refuses to start; a run that reaches the budget stops, says why, and stays resumable.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.runtime.context import ContextProxy, StreamlitHeaders
from streamlit.testing.v1 import AppTest

import api.http
from api import ROUTES
from gateway.catalogue import fetch_models
from gateway.config import load_settings
from gateway.conversation import Conversation
from gateway.evaluation import worker
from gateway.evaluation.prompt_sets import PromptRow, PromptSet
from gateway.evaluation.runs import EvalRun, RunStatus
from gateway.reply import Metrics, Outcome, Reply
from gateway.sending import check_prompt
from gateway.store import get_store
from gateway.store.evaluation import Evaluations
from tests.support.pages import HOME, RUN_TIMEOUT, open_signed_in

ANA = "ana@example.com"
MODELS = ["upstream-echo", "demo-fast"]
LONG = "Summarise this:" + " lorem ipsum" * 30  # 375 characters, over MAX_PROMPT_CHARS=300 (none at either end:
# the compare page and the API send a prompt stripped, chat and evaluation as written)
OVER_BUDGET = "Not sent: you have spent $1.05 of your $1.00 budget for this month."


def settings():
    return load_settings(secrets={}, dotenv_path=None)


def spend(owner: str, cost: float) -> None:
    """A saved chat of `owner` whose one reply cost `cost` (as LiteLLM said)."""
    conversation = Conversation("chat")
    conversation.add_prompt("earlier").add(Reply("upstream-echo", "text", Outcome.COMPLETE, Metrics(
        ttft=0.1, total=1.0, prompt_tokens=10, completion_tokens=20, cost=cost, cost_source="proxy")))
    store = get_store(settings())
    store.save_round(conversation, 0, owner)
    assert store.flush(5)


def visit(path: str, **query: str) -> AppTest:
    """A page as Ana sees it, signed in (AUTH_MODE=oidc: `st.user`, with the ID token's times)."""
    return open_signed_in(path, "Ana@Example.com", name="Ana", **query)


# --- The four paths, each giving the words of its refusal ----------------------------------------------------------

def by_chat(prompt: str) -> set[str]:
    at = visit("pages/chat.py", model="upstream-echo")
    at.chat_input(key="chat_prompt").set_value(prompt).run()
    assert not at.exception, at.exception
    rounds = at.session_state["chat_conversation"].rounds
    if not rounds:  # refused before it was added: the refusal is on the page
        return {e.value for e in at.error if e.value.startswith("Not sent")}
    assert all(r.metrics.total is None for round_ in rounds for r in round_.replies.values())  # none was sent
    return {r.error.message for round_ in rounds for r in round_.replies.values() if r.error}


def by_compare(prompt: str) -> set[str]:
    at = visit("pages/compare.py", models=",".join(MODELS))
    at.chat_input(key="compare_prompt").set_value(prompt).run()
    assert not at.exception, at.exception
    rounds = at.session_state["comparison"].rounds
    if not rounds:
        return {e.value for e in at.error if e.value.startswith("Not sent")}
    replies = [r for round_ in rounds for runs in round_.runs.values() for r in runs]
    assert all(r.metrics.total is None for r in replies)
    return {r.error.message for r in replies if r.error}


def by_evaluation(prompt: str) -> set[str]:
    config = settings()
    models = {m.key: m for m in fetch_models(config).models}
    evaluations = Evaluations(get_store(config))
    run = EvalRun.of(PromptSet("one", (PromptRow(prompt),)), MODELS)
    assert evaluations.create_run(run, ANA) is True
    started = worker.start(run, ANA, evaluations, config, models)
    if isinstance(started, str):  # refused to start: the reason, then what to do
        return {started.split(" Ask an admin")[0]}
    assert started.wait(60)
    cells = evaluations.cells(run.id, ANA)
    assert len(cells) == 2 and all(c.reply.metrics.total is None for c in cells)
    return {c.reply.error.message for c in cells if c.reply.error}


def by_api(prompt: str, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    monkeypatch.setenv("AUTH_MODE", "header")  # the API's sign-in: the reverse proxy's header
    monkeypatch.setattr(api.http, "_settings", None)
    monkeypatch.setattr(api.http, "_lanes", {})  # (each TestClient has an event loop of its own)
    with TestClient(Starlette(routes=ROUTES)) as client:
        answer = client.post("/api/compare", json={"models": MODELS, "prompt": prompt},
                             headers={"X-Forwarded-Email": ANA})
    monkeypatch.setenv("AUTH_MODE", "oidc")
    assert answer.status_code in (400, 402), answer.text
    return {answer.json()["error"]["message"]}


PATHS: dict[str, Callable[..., set[str]]] = {"chat": by_chat, "compare": by_compare, "evaluation": by_evaluation}


@pytest.fixture
def signed_in(app_env, monkeypatch):
    monkeypatch.setenv("AUTH_MODE", "oidc")
    monkeypatch.setenv("MAX_PROMPT_CHARS", "300")
    return monkeypatch


@pytest.mark.parametrize("case", ["over-long prompt", "over-budget analyst"])
def test_every_path_refuses_with_the_same_words(signed_in, case):
    if case == "over-long prompt":
        prompt, expected = LONG, check_prompt(LONG, settings()).message  # type: ignore[union-attr]
        assert expected.startswith("Not sent: this prompt is 375 characters")
    else:
        signed_in.setenv("ANALYST_MONTHLY_BUDGET_USD", "1.00")
        spend(ANA, 1.05)
        prompt, expected = "A fair question", OVER_BUDGET
    before = get_store(settings()).spending(ANA, since=0, until=time.time() + 60)
    found = {name: path(prompt) for name, path in PATHS.items()}
    found["api"] = by_api(prompt, signed_in)
    assert found == {name: {expected} for name in ("chat", "compare", "evaluation", "api")}
    assert get_store(settings()).spending(ANA, since=0, until=time.time() + 60) == before  # nothing was spent


# --- Evaluation runs: attribution and budgets ----------------------------------------------------------------------

PASTED = "prompt,expected,tag\nWhat is 6 * 7?,42,arithmetic\nWhat is the capital of Japan?,Tokyo,facts\n"


def recorded_calls(proxy) -> list[dict]:
    from tests.attribution_callback import callback_log, read_calls

    return read_calls(callback_log(proxy.process.pid))


def start_run(at: AppTest) -> None:
    """On /evaluate: paste PASTED as a set, save it, pick two models, get the quote and start the run."""
    at.text_area(key="eval_paste").set_value(PASTED)
    at.text_input(key="eval_set_name_").set_value("two checks").run()
    at.button(key="eval_save_set").click().run()
    at.multiselect(key="eval_models").set_value(["eval-quick", "demo-fast"]).run()
    at.button(key="eval_quote").click().run()
    at.button(key="eval_start").click().run()


def test_a_run_started_by_a_header_signed_in_analyst_names_her_on_every_call(app_env, monkeypatch):
    """AUTH_MODE=header: the reverse proxy's X-Forwarded-Email is all the page knows of her (the request headers
    AppTest cannot send are given to `st.context.headers`, parsed by the app as a browser's would be)."""
    monkeypatch.setenv("AUTH_MODE", "header")
    monkeypatch.setattr(ContextProxy, "headers", property(
        lambda self: StreamlitHeaders([("X-Forwarded-Email", "Ana@Example.com")])))
    at = AppTest.from_file(HOME, default_timeout=RUN_TIMEOUT)
    at.run()
    at.switch_page("pages/evaluate.py").run()
    assert not at.exception, at.exception
    start_run(at)
    assert not at.exception, at.exception
    run_id = at.query_params["run"]
    running = worker.running(ANA, run_id)  # owned by her: the header's address, lower-cased
    assert running is not None and running.wait(60)
    cells = Evaluations(get_store(settings())).cells(run_id, ANA)
    assert len(cells) == 4 and all(c.reply.metrics.call_id for c in cells)

    wanted = {c.reply.metrics.call_id for c in cells}
    deadline, seen = time.monotonic() + 10, {}
    while len(seen) < len(wanted) and time.monotonic() < deadline:  # callbacks run after the response
        seen = {c["call_id"]: c for c in recorded_calls(app_env) if c["call_id"] in wanted}
        time.sleep(0.05)
    assert len(seen) == 4  # every call
    for call in seen.values():
        assert call["end_user"] == ANA
        assert set(call["request_tags"]) >= {"dashboard", "page:evaluate"}
        assert call["requester_metadata"]["conversation_id"] == run_id
    spent = get_store(settings()).spending(ANA, since=0, until=time.time() + 60)
    assert spent[0] == pytest.approx(sum(c.reply.metrics.cost or 0 for c in cells))  # in the usage ledger too


def test_over_budget_a_run_refuses_to_start_and_the_page_says_so(app_env, monkeypatch):
    monkeypatch.setenv("AUTH_MODE", "oidc")
    monkeypatch.setenv("ANALYST_MONTHLY_BUDGET_USD", "1.00")
    spend(ANA, 0.9999)  # not spent yet, but no room for the run's quote
    at = visit("pages/evaluate.py")
    start_run(at)
    assert not at.exception, at.exception
    refusals = [e.value for e in at.error if "this is expected to cost about" in e.value]  # (Markdown-escaped)
    assert refusals and "of your \\$1.00 budget for this month is left" in refusals[0], [e.value for e in at.error]
    assert "run" not in at.query_params
    assert Evaluations(get_store(settings())).runs(ANA) == []  # not created, nothing sent


def test_a_run_that_reaches_the_budget_stops_says_why_and_stays_resumable(app_env, monkeypatch):
    """One call at a time; once the first cell is saved, Ana's chats elsewhere pass the budget: the next cell is not
    sent, the run stops ("stopped", resumable) with the refusal as its message, and a resume is refused too."""
    monkeypatch.setenv("ANALYST_MONTHLY_BUDGET_USD", "1.00")
    monkeypatch.setenv("EVAL_CONCURRENCY", "1")
    config = settings()
    models = {m.key: m for m in fetch_models(config).models}
    evaluations = Evaluations(get_store(config))
    rows = tuple(PromptRow(f"What is {i} + {i}?", expected=str(2 * i)) for i in range(10))
    run = EvalRun.of(PromptSet("sums", rows), ["eval-quick", "eval-creative"], quote=0.001)
    assert evaluations.create_run(run, ANA) is True
    started = worker.start(run, ANA, evaluations, config, models)
    assert isinstance(started, worker.EvalWorker)
    deadline = time.monotonic() + 60
    while started.progress().done < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    spend(ANA, 1.50)  # spent elsewhere meanwhile
    assert started.wait(60)
    progress = started.progress()
    assert 1 <= progress.done < 20
    assert progress.message.startswith("The run stopped at the budget. Not sent: you have spent $1.5")
    assert "of your $1.00 budget for this month" in progress.message
    saved = evaluations.load_run(run.id, ANA)
    assert saved.state() is RunStatus.STOPPED and saved.cells_done == progress.done  # resumable, nothing lost
    again = worker.start(saved, ANA, evaluations, config, models)
    assert isinstance(again, str) and again.startswith("Not sent: you have spent $1.5")
    assert evaluations.load_run(run.id, ANA).state() is RunStatus.STOPPED
