"""Two evaluation results compared row by row: which rows changed their check, McNemar's exact test on them, a
paired bootstrap on the time per reply — on cases worked out by hand, on the offline demo's own replies to
examples/prompt-set.csv, and on the evaluate page."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from demo.models import respond
from gateway.evaluation import run_diff
from gateway.evaluation.prompt_sets import PromptRow, PromptSet
from gateway.evaluation.run_diff import Change, Col, Side
from gateway.evaluation.runs import Cell, EvalRun, judge
from gateway.reply import Metrics, Outcome, Reply

ROOT = Path(__file__).resolve().parents[1]


def run_of(rows: list[PromptRow], models: tuple[str, ...] = ("m-a", "m-b")) -> EvalRun:
    return EvalRun.of(PromptSet("set", tuple(rows)), models)


def cell(row: int, model: str, passed: bool | None, total: float = 1.0) -> Cell:
    return Cell(row, Reply(model, "text", Outcome.COMPLETE, Metrics(ttft=0.1, total=total)), passed)


ROWS = [PromptRow(f"prompt {i}", expected="x") for i in range(10)]


def test_rows_that_changed_are_counted_each_way_and_tested_exactly():
    run = run_of(ROWS)
    a = [cell(i, "m-a", i < 8) for i in range(10)]  # passes 0–7
    b = [cell(i, "m-b", i >= 1) for i in range(10)]  # passes 1–9: row 0 broke, rows 8 and 9 fixed
    found = run_diff.compare(Side.of(run, "m-a", a + b), Side.of(run, "m-b", a + b))
    assert (found.passes.broke, found.passes.fixed, found.passes.compared) == (1, 2, 10)
    assert found.passes.p_value == pytest.approx(1.0)  # 1 of 3 one way: as likely as not
    assert "No clear difference in passes" in found.verdict()
    changed = run_diff.changed_rows(found)
    assert list(changed[Col.CHANGE]) == [Change.BROKE.value, Change.FIXED.value, Change.FIXED.value]
    assert list(changed[Col.ROW_A]) == [1, 9, 10]


def test_six_rows_all_fixed_is_a_clear_difference_at_p_one_in_thirty_two():
    run = run_of(ROWS)
    cells = [cell(i, "m-a", i >= 6) for i in range(10)] + [cell(i, "m-b", True) for i in range(10)]
    found = run_diff.compare(Side.of(run, "m-a", cells), Side.of(run, "m-b", cells))
    assert found.passes.p_value == pytest.approx(2 * 0.5 ** 6)  # exact two-sided binomial: 0.03125
    assert found.verdict().startswith("m-b (run ") and "passes more rows" in found.verdict()


def test_unchecked_rows_and_missing_replies_are_not_compared():
    rows = [PromptRow("checked", expected="x"), PromptRow("no check"), PromptRow("missing on b", expected="x")]
    run = run_of(rows)
    cells = [cell(0, "m-a", True), cell(0, "m-b", False), cell(1, "m-a", None), cell(1, "m-b", None),
             cell(2, "m-a", True)]
    found = run_diff.compare(Side.of(run, "m-a", cells), Side.of(run, "m-b", cells))
    assert list(found.rows[Col.CHANGE]) == [Change.BROKE.value, Change.UNCHECKED.value, Change.UNCHECKED.value]
    assert found.passes.compared == 1


def test_rows_are_matched_by_prompt_across_runs_of_an_edited_set():
    old = run_of([PromptRow("same", expected="x"), PromptRow("dropped", expected="x"), PromptRow("twice"),
                  PromptRow("twice")])
    new = run_of([PromptRow("added"), PromptRow("twice"), PromptRow("same", expected="x"), PromptRow("twice")])
    found = run_diff.compare(Side.of(old, "m-a", [cell(0, "m-a", True)]),
                             Side.of(new, "m-a", [cell(2, "m-a", False)]))
    assert list(zip(found.rows[Col.ROW_A], found.rows[Col.ROW_B])) == [(1, 3), (3, 2), (4, 4)]  # n-th with n-th
    assert (found.only_a, found.only_b) == (1, 1)
    assert found.passes.broke == 1
    assert any("1 row only in A's run, 1 only in B's" in line for line in run_diff.summary_lines(found))


def test_the_paired_bootstrap_sees_a_small_steady_difference_that_the_spread_between_prompts_would_hide():
    rng = np.random.default_rng(3)
    base = rng.uniform(1, 20, 40)  # prompts from 1 s to 20 s
    a, b = base, base + 0.3 + rng.normal(0, 0.05, 40)  # B: 0.3 s slower on every prompt
    paired = run_diff.paired_bootstrap(a, b)
    assert paired is not None and paired.clear and paired.low > 0.2 and paired.high < 0.4
    same = run_diff.paired_bootstrap(a, a + rng.normal(0, 0.05, 40))
    assert same is not None and not same.clear  # noise around zero: "no clear difference"
    assert run_diff.paired_bootstrap(a[:1], b[:1]) is None


def demo_run(models: tuple[str, ...]) -> tuple[EvalRun, list[Cell]]:
    """examples/prompt-set.csv answered by the offline demo models, their own replies checked as a run checks them
    (the same replies they give through the proxy: tests/test_sample_config.py)."""
    with (ROOT / "examples" / "prompt-set.csv").open(newline="") as handle:
        rows = [PromptRow.from_dict(row) for row in csv.DictReader(handle)]
    run = run_of(rows, models)
    cells = []
    for i in range(len(rows)):
        for model in models:
            answer = respond(model, {"messages": run.messages(i)})
            assert answer is not None
            total = answer.ttft + len(answer.pieces) / (answer.rate or math.inf)
            reply = Reply(model, "".join(answer.pieces), Outcome.COMPLETE, Metrics(ttft=answer.ttft, total=total))
            cells.append(Cell(i, reply, judge(rows[i], reply)))
    return run, cells


def test_demo_quick_against_demo_thorough_on_the_sample_set():
    run, cells = demo_run(("demo-quick", "demo-thorough"))
    found = run_diff.compare(Side.of(run, "demo-quick", cells), Side.of(run, "demo-thorough", cells))
    assert (found.passes.fixed, found.passes.broke, found.passes.compared) == (6, 0, 20)  # 14 → 20 of 20
    assert found.passes.p_value == pytest.approx(0.03125)
    assert "demo-thorough" in found.verdict() and "passes more rows" in found.verdict()
    assert found.total_time is not None and found.total_time.clear and found.total_time.mean > 0  # thorough: slower


def test_the_same_model_twice_is_no_clear_difference():
    first, cells_first = demo_run(("demo-quick", "demo-creative"))
    second, cells_second = demo_run(("demo-quick", "demo-creative"))
    found = run_diff.compare(Side.of(first, "demo-quick", cells_first), Side.of(second, "demo-quick", cells_second))
    assert found.passes.broke == found.passes.fixed == 0 and found.passes.p_value == 1.0
    assert found.verdict().startswith("No clear difference in passes")
    assert found.time_verdict().startswith("No clear difference in total time")


def test_the_evaluate_page_compares_two_models_of_a_run_and_exports_it(app_env):
    from gateway.config import load_settings
    from gateway.store import LOCAL_OWNER, get_store
    from gateway.store.evaluation import Evaluations
    from tests.support.pages import open_page

    evaluations = Evaluations(get_store(load_settings(secrets={}, dotenv_path=None)))
    run, cells = demo_run(("demo-quick", "demo-thorough"))
    assert evaluations.create_run(run, LOCAL_OWNER) is True
    for one in cells:
        assert evaluations.save_cell(run.id, LOCAL_OWNER, one) is True

    at = open_page("pages/evaluate.py", run=run.id)
    assert at.selectbox(key=f"diff_a_{run.id}").value == "demo-quick"
    assert at.selectbox(key=f"diff_b_{run.id}_{run.id}").value == "demo-thorough"  # the other model of this run
    words = [m.value for m in at.markdown]
    assert any(w.startswith("demo-thorough (run") and "passes more rows" in w and "p = 0.0312" in w for w in words), words
    assert {m.label: m.value for m in at.metric}["fail → pass"] == "6"
    changed = next(f.value for f in at.dataframe if Col.CHANGE in f.value.columns)
    assert list(changed[Col.CHANGE]) == [Change.FIXED.value] * 6

    at.selectbox(key=f"diff_b_{run.id}_{run.id}").set_value("demo-thorough").run()
    at.selectbox(key=f"diff_a_{run.id}").set_value("demo-thorough").run()  # B now offers only demo-quick
    assert at.selectbox(key=f"diff_b_{run.id}_{run.id}").value == "demo-quick"
    assert not at.exception, at.exception
