"""A judge pass over an evaluation run against the real proxy: both orders reach the upstream for every row, the
demo judge's lean to the first answer comes out as flagged ties, the right answer wins, every call is attributed to
the analyst and in her usage ledger, and the pass is refused before it starts when its quote does not fit her
budget."""

from __future__ import annotations

import time

import pytest

from gateway.catalogue import fetch_models
from gateway.config import load_settings
from gateway.evaluation import judge_run
from gateway.evaluation.judge import TEMPLATES, Mode
from gateway.evaluation.prompt_sets import PromptRow, PromptSet
from gateway.evaluation.runs import Cell, EvalRun
from gateway.evaluation.votes import Verdict
from gateway.reply import Metrics, Outcome, Reply
from gateway.sending import Sender
from gateway.store import get_store
from gateway.store.evaluation import Evaluations, VoteFilter
from tests.support import upstream

ANA = "ana@example.com"
ROWS = (PromptRow("What is 17 * 23?", expected="391"), PromptRow("What is the capital of Japan?", expected="Tokyo"),
        PromptRow("What is 6 * 7?", expected="42"))
# good: right every time; worse: wrong on the first row; so the judge should prefer good there and, where both are
# right, lean to whichever it saw first: once each way, a flagged tie.
GOOD = ("17 × 23 = 391.", "Tokyo.", "6 × 7 = 42.")
WORSE = ("17 × 23 = 390.", "The capital of Japan is Tokyo.", "It is 42.")


def judge_requests() -> list[dict]:
    """The upstream requests of demo-judge about this module's replies (RECEIVED keeps only the latest 100)."""
    return [r for r in list(upstream.RECEIVED) if r.get("model") == "demo-judge"
            and any(good in r["messages"][-1]["content"] for good in GOOD)]


def saved_run(evaluations: Evaluations) -> EvalRun:
    run = EvalRun.of(PromptSet("judge me", ROWS), ["good", "worse"])
    assert evaluations.create_run(run, ANA) is True
    for row, (good, worse) in enumerate(zip(GOOD, WORSE)):
        for model, text in (("good", good), ("worse", worse)):
            reply = Reply(model, text, Outcome.COMPLETE, Metrics(ttft=0.1, total=0.5))
            assert evaluations.save_cell(run.id, ANA, Cell(row, reply, None)) is True
    return run


def test_a_judge_pass_asks_both_orders_and_records_attributed_verdicts(app_env):
    from tests.test_one_door import recorded_calls

    config = load_settings(secrets={}, dotenv_path=None)
    judge_model = next(m for m in fetch_models(config).models if m.key == "eval-judge")
    evaluations = Evaluations(get_store(config))
    run = saved_run(evaluations)
    template = TEMPLATES[Mode.PAIRWISE]
    todo = judge_run.pairs(run, evaluations.cells(run.id, ANA), "good", "worse")
    assert [p.row for p in todo] == [0, 1, 2]
    assert judge_run.quote(judge_model, todo, template, config) > 0
    upstream.RECEIVED.clear()
    found = judge_run.run_pass(run, ANA, todo, judge_model, template, evaluations, config,
                               Sender(ANA, "judge", run.id), concurrency=4)
    assert (found.done, found.flagged, found.unreadable, found.stopped) == (3, 2, 0, "")

    asked = judge_requests()
    assert len(asked) == 6  # both orders of three rows
    for good, worse in zip(GOOD, WORSE):
        shown = [r["messages"][-1]["content"] for r in asked if good in r["messages"][-1]["content"]]
        assert sorted(text.index(good) < text.index(worse) for text in shown) == [False, True]  # each order once

    verdicts = evaluations.judge_votes(f"eval:{run.id}:", ANA, "eval-judge")
    assert verdicts[f"eval:{run.id}:0"].winner == "good" and not verdicts[f"eval:{run.id}:0"].flagged
    assert all(verdicts[f"eval:{run.id}:{row}"].verdict is Verdict.TIE and verdicts[f"eval:{run.id}:{row}"].flagged
               for row in (1, 2))
    assert evaluations.votes(VoteFilter(source="judge"))["count"].sum() == 3
    assert evaluations.votes(VoteFilter()).empty  # people's board untouched

    spent = get_store(config).spending(ANA, since=0, until=time.time() + 60)
    assert spent[0] == pytest.approx(found.cost) and found.cost > 0  # every call in her ledger
    deadline, seen = time.monotonic() + 60, []
    while len(seen) < 6 and time.monotonic() < deadline:  # the proxy's callbacks run after the response
        seen = [c for c in recorded_calls(app_env)
                if (c["requester_metadata"] or {}).get("conversation_id") == run.id]  # (None: a call without tags)
        time.sleep(0.05)
    assert len(seen) == 6 and {c["end_user"] for c in seen} == {ANA}
    assert all("page:judge" in c["request_tags"] for c in seen)

    again = judge_run.pairs(run, evaluations.cells(run.id, ANA), "good", "worse",
                            skip=judge_run.judged_rows(evaluations, run, ANA, "eval-judge", "good", "worse"))
    assert again == []  # judged rows are not asked again


def test_a_judge_pass_over_budget_is_refused_before_anything_is_sent(app_env, monkeypatch):
    from tests.test_one_door import spend

    monkeypatch.setenv("ANALYST_MONTHLY_BUDGET_USD", "1.00")
    config = load_settings(secrets={}, dotenv_path=None)
    judge_model = next(m for m in fetch_models(config).models if m.key == "eval-judge")
    evaluations = Evaluations(get_store(config))
    run = saved_run(evaluations)
    spend(ANA, 0.99999)
    todo = judge_run.pairs(run, evaluations.cells(run.id, ANA), "good", "worse")
    upstream.RECEIVED.clear()
    refused = judge_run.refusal(judge_model, todo, TEMPLATES[Mode.PAIRWISE], config, evaluations,
                                Sender(ANA, "judge", run.id))
    assert refused is not None and "budget" in str(refused)
    assert judge_requests() == []


def test_a_judge_call_refused_before_sending_makes_the_pair_unreadable_and_says_why(store):
    """A judge whose window cannot take the prompt: nothing is sent, no verdict is invented, and the pass says why."""
    from gateway.models import ModelRecord

    config = load_settings({}, secrets={}, dotenv_path=None)
    tiny = ModelRecord("tiny-judge", "litellm", ("openai",), context_window=20)
    evaluations = Evaluations(store)
    run = saved_run(evaluations)
    todo = judge_run.pairs(run, evaluations.cells(run.id, ANA), "good", "worse")
    found = judge_run.run_pass(run, ANA, todo, tiny, TEMPLATES[Mode.PAIRWISE], evaluations, config,
                               Sender(ANA, "judge", run.id), concurrency=2)
    assert (found.done, found.unreadable, found.stopped) == (3, 3, "")
    assert found.refused.startswith("Not sent: the conversation is about")
    assert evaluations.judge_votes(f"eval:{run.id}:", ANA, "tiny-judge") == {}
    assert store.spending(ANA, since=0, until=time.time() + 60)[0] == 0  # nothing reached the ledger


def test_the_evaluate_pages_judge_saves_its_edited_prompt_with_the_run_and_starts_from_it_next_time(app_env):
    """"Judge this run": the prompt as edited is what the upstream receives, it is saved with the run (judge_passes),
    and the section opened again starts from it."""
    from gateway.store import LOCAL_OWNER
    from gateway.store.judge_passes import JudgePasses, run_about
    from tests.support.pages import open_page

    config = load_settings(secrets={}, dotenv_path=None)
    evaluations = Evaluations(get_store(config))
    run = EvalRun.of(PromptSet("judge me", ROWS), ["good", "worse"])
    assert evaluations.create_run(run, LOCAL_OWNER) is True
    for row, (good, worse) in enumerate(zip(GOOD, WORSE)):
        for model, text in (("good", good), ("worse", worse)):
            reply = Reply(model, text, Outcome.COMPLETE, Metrics(ttft=0.1, total=0.5))
            assert evaluations.save_cell(run.id, LOCAL_OWNER, Cell(row, reply, None)) is True
    edited = TEMPLATES[Mode.PAIRWISE] + "\nWeigh correctness above all."
    at = open_page("pages/evaluate.py", run=run.id)
    assert at.selectbox(key=f"judge_model_{run.id}").value == "eval-judge"
    at.text_area(key=f"judge_prompt_{run.id}").set_value(edited)
    upstream.RECEIVED.clear()
    at.button(key=f"judge_start_{run.id}").click().run()
    assert not at.exception, at.exception
    assert len([r for r in judge_requests() if "Weigh correctness above all." in r["messages"][-1]["content"]]) == 6
    saved = JudgePasses(get_store(config)).last(run_about(run.id), LOCAL_OWNER)
    assert saved is not None and (saved.template, saved.judge, saved.models) == (edited, "eval-judge",
                                                                                ("good", "worse"))
    again = open_page("pages/evaluate.py", run=run.id)
    assert again.text_area(key=f"judge_prompt_{run.id}").value == edited
    assert JudgePasses(get_store(config)).last(run_about(run.id), ANA) is None  # Ana's passes are her own
