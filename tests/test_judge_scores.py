"""Rubric and reference passes over an evaluation run, against the real proxy: `eval-judge` (demo-judge) scores each
complete reply 0–1 with a reason, one call per reply through the sending door (attributed, in the analyst's ledger,
refused over budget before anything is sent); the scores are kept per judge and mode, shown in the run's results,
and compared between two models by run comparison's paired bootstrap."""

from __future__ import annotations

import time

import pytest

from gateway.catalogue import fetch_models
from gateway.config import load_settings
from gateway.evaluation import judge_scores, run_diff
from gateway.evaluation.judge import TEMPLATES, Mode
from gateway.evaluation.prompt_sets import PromptRow, PromptSet
from gateway.evaluation.run_diff import Side
from gateway.evaluation.runs import Cell, EvalRun
from gateway.reply import Metrics, Outcome, Reply
from gateway.sending import Sender
from gateway.store import LOCAL_OWNER, get_store
from gateway.store.evaluation import Evaluations
from gateway.store.judge_passes import JudgePasses, JudgeScore, run_about
from tests.support import upstream

ANA = "ana@example.com"
ROWS = (PromptRow("What is 17 * 23?", expected="391"), PromptRow("What is the capital of Japan?", expected="Tokyo"),
        PromptRow("What is 6 * 7?", expected="42", rubric="Gives the product as a number."),
        PromptRow("Say hello."))  # no expected answer: no reference score
GOOD = ("17 × 23 = 391.", "Tokyo.", "6 × 7 = 42.", "Hello!")
WORSE = ("17 × 23 = 390.", "The capital of Japan is Tokyo.", "It is 41.", "Hi.")


def saved_run(evaluations: Evaluations, owner: str = ANA) -> EvalRun:
    run = EvalRun.of(PromptSet("score me", ROWS), ["good", "worse"])
    assert evaluations.create_run(run, owner) is True
    for row, (good, worse) in enumerate(zip(GOOD, WORSE)):
        for model, text in (("good", good), ("worse", worse)):
            reply = Reply(model, text, Outcome.COMPLETE, Metrics(ttft=0.1, total=0.5))
            assert evaluations.save_cell(run.id, owner, Cell(row, reply, None)) is True
    return run


def judge_model(config):
    return next(m for m in fetch_models(config).models if m.key == "eval-judge")


def test_what_each_mode_scores_against():
    run = EvalRun.of(PromptSet("s", ROWS), ["good", "worse"])
    cells = [Cell(row, Reply(m, "x", Outcome.COMPLETE), None) for row in range(4) for m in ("good", "worse")]
    cells.append(Cell(3, Reply("good", "partial", Outcome.STOPPED), None))  # (a stopped reply is never scored)
    rubric = judge_scores.tasks(run, cells[:-1], Mode.RUBRIC, ["good"], "Be right.")
    assert [(t.row, t.against) for t in rubric] == [(0, "Be right."), (1, "Be right."),
                                                    (2, "Gives the product as a number."), (3, "Be right.")]
    assert judge_scores.tasks(run, cells, Mode.RUBRIC, ["good"]) == [
        judge_scores.Task(2, "good", "What is 6 * 7?", "x", "Gives the product as a number.")]  # no text: its column
    reference = judge_scores.tasks(run, cells[:-1], Mode.REFERENCE, ["good", "worse"])
    assert [(t.row, t.model, t.against) for t in reference] == [
        (0, "good", "391"), (0, "worse", "391"), (1, "good", "Tokyo"), (1, "worse", "Tokyo"), (2, "good", "42"),
        (2, "worse", "42")]  # the row without an expected answer is not scored


@pytest.mark.parametrize("mode", [Mode.RUBRIC, Mode.REFERENCE])
def test_a_scoring_pass_scores_each_reply_once_attributed_and_kept(app_env, mode):
    from tests.test_one_door import recorded_calls

    config = load_settings(secrets={}, dotenv_path=None)
    store = get_store(config)
    evaluations = Evaluations(store)
    run = saved_run(evaluations)
    todo = judge_scores.tasks(run, evaluations.cells(run.id, ANA), mode, ["good", "worse"], "Answers correctly.")
    template = TEMPLATES[mode]
    quote = judge_scores.quote(judge_model(config), todo, mode, template, config)
    upstream.RECEIVED.clear()
    found = judge_scores.run_pass(run, ANA, todo, mode, judge_model(config), template, evaluations, config,
                                  Sender(ANA, "judge", run.id), concurrency=4)
    assert (found.done, found.unreadable, found.stopped) == (len(todo), 0, "")
    assert len([r for r in list(upstream.RECEIVED) if r.get("model") == "demo-judge"]) == len(todo)  # one call each

    scores = {(s.row, s.model): s.score for s in JudgePasses(store).scores(run.id, ANA)}
    assert scores[(0, "good")] == 1.0 and scores[(0, "worse")] == 0.0  # 391 right, 390 wrong
    assert scores[(2, "good")] == 1.0 and scores[(2, "worse")] == 0.0
    assert scores[(1, "good")] == scores[(1, "worse")] == 1.0
    assert ((3, "good") in scores) is (mode is Mode.RUBRIC)  # no expected answer: no reference score
    saved = JudgePasses(store).last(run_about(run.id), ANA, mode.value)
    assert saved is not None and saved.template == template and saved.models == ("good", "worse")

    assert 0 < found.cost <= quote
    assert store.spending(ANA, since=0, until=time.time() + 60)[0] == pytest.approx(found.cost)  # in her ledger
    deadline, seen = time.monotonic() + 60, []
    while len(seen) < len(todo) and time.monotonic() < deadline:
        seen = [c for c in recorded_calls(app_env) if (c["requester_metadata"] or {}).get("conversation_id") == run.id]
        time.sleep(0.05)
    assert len(seen) == len(todo) and {c["end_user"] for c in seen} == {ANA}

    compared = run_diff.compare(
        Side.of(run, "worse", evaluations.cells(run.id, ANA)), Side.of(run, "good", evaluations.cells(run.id, ANA)),
        judge_scores.by_label(JudgePasses(store).scores(run.id, ANA), "worse"),
        judge_scores.by_label(JudgePasses(store).scores(run.id, ANA), "good"))
    name = f"eval-judge · {mode.value}"
    interval = compared.judge_scores[name]
    rows = 3 if mode is Mode.REFERENCE else 4  # (the row without an expected answer has no reference score)
    assert interval is not None and (interval.mean, interval.rows) == (pytest.approx(2 / rows), rows)
    assert any(line.startswith(f"No clear difference in judge scores ({name}): {2 / rows:+.2f}") for line in
               run_diff.summary_lines(compared))  # two rows of a few differ: an interval that holds 0


def test_a_scoring_pass_over_budget_is_refused_before_anything_is_sent(app_env, monkeypatch):
    from tests.test_one_door import spend

    monkeypatch.setenv("ANALYST_MONTHLY_BUDGET_USD", "1.00")
    config = load_settings(secrets={}, dotenv_path=None)
    evaluations = Evaluations(get_store(config))
    run = saved_run(evaluations)
    spend(ANA, 0.99999)
    todo = judge_scores.tasks(run, evaluations.cells(run.id, ANA), Mode.REFERENCE, ["good", "worse"])
    upstream.RECEIVED.clear()
    refused = judge_scores.refusal(judge_model(config), todo, Mode.REFERENCE, TEMPLATES[Mode.REFERENCE], config,
                                   evaluations, Sender(ANA, "judge", run.id))
    assert refused is not None and "budget" in str(refused)
    assert [r for r in list(upstream.RECEIVED) if r.get("model") == "demo-judge"] == []


def test_judge_scores_that_move_on_every_row_are_a_clear_difference():
    rows = tuple(PromptRow(f"q{i}") for i in range(12))
    run = EvalRun.of(PromptSet("s", rows), ["a", "b"])
    cells = [Cell(i, Reply(m, "t", Outcome.COMPLETE, Metrics(total=1.0)), None) for i in range(12) for m in "ab"]
    a = {"j · rubric": {i: 0.3 + 0.02 * i for i in range(12)}}
    b = {"j · rubric": {i: 0.8 + 0.01 * i for i in range(12)}, "j · reference": {0: 1.0}}
    found = run_diff.compare(Side.of(run, "a", cells), Side.of(run, "b", cells), a, b)
    assert list(found.judge_scores) == ["j · rubric"]  # only what both sides were scored by
    assert found.judge_scores["j · rubric"].clear
    assert any(line.startswith("b (run ") and "scores higher (j · rubric)" in line
               for line in run_diff.summary_lines(found))
    assert run_diff.to_dict(found)["judge_score_difference"]["j · rubric"]["rows"] == 12


def test_the_evaluate_page_runs_a_reference_pass_and_shows_the_scores(app_env):
    from tests.support.pages import open_page

    config = load_settings(secrets={}, dotenv_path=None)
    evaluations = Evaluations(get_store(config))
    run = saved_run(evaluations, LOCAL_OWNER)
    at = open_page("pages/evaluate.py", run=run.id)
    at.radio(key=f"judge_mode_{run.id}").set_value("reference").run()
    assert any("6 replies to score, one call each: quote $" in c.value for c in at.caption)
    at.button(key=f"judge_score_start_{run.id}").click().run()
    assert not at.exception, at.exception
    assert any("6 replies scored, 0 unreadable" in s.value for s in at.success)
    again = open_page("pages/evaluate.py", run=run.id)
    table = next(f.value for f in again.dataframe if "Mean score" in f.value.columns).set_index("Model")
    assert table.loc["good", "Mean score"] == 1.0 and table.loc["worse", "Mean score"] == pytest.approx(1 / 3)
    assert isinstance(JudgePasses(get_store(config)).scores(run.id, LOCAL_OWNER)[0], JudgeScore)


def test_passes_and_scores_are_kept_per_analyst_and_a_new_score_replaces_the_old(store):
    """On SQLite and PostgreSQL: the latest pass (of a mode) is the one a section starts from; a score is replaced in
    place by the same judge's new score of the same reply in the same mode, and kept beside another mode's."""
    from gateway.store.judge_passes import JudgePass

    passes = JudgePasses(store)
    assert passes.last("eval:r1", ANA) is None
    assert passes.save(JudgePass("eval:r1", "j", "rubric", "first {question}", ("a", "b"), at=1.0), ANA) is True
    assert passes.save(JudgePass("eval:r1", "j", "pairwise", "second", ("a", "b"), at=2.0), ANA) is True
    assert passes.last("eval:r1", ANA).template == "second"
    assert passes.last("eval:r1", ANA, "rubric").template == "first {question}"
    assert passes.last("eval:r1", "bob@example.com") is None  # hers alone
    assert passes.save_score("r1", JudgeScore(0, "a", "j", "rubric", 0.25, "weak"), ANA) is True
    assert passes.save_score("r1", JudgeScore(0, "a", "j", "rubric", 0.75, "better"), ANA) is True
    assert passes.save_score("r1", JudgeScore(0, "a", "j", "reference", 1.0, "right"), ANA) is True
    assert passes.scores("r1", ANA) == [JudgeScore(0, "a", "j", "reference", 1.0, "right"),
                                        JudgeScore(0, "a", "j", "rubric", 0.75, "better")]
    assert passes.scores("r1", "bob@example.com") == []
    assert judge_scores.by_label(passes.scores("r1", ANA), "a") == {"j · reference": {0: 1.0}, "j · rubric": {0: 0.75}}
