"""Rubric and reference passes over an evaluation run: a judge model scores each complete reply from 0 to 1 with a
reason (gateway/evaluation/judge.py's templates), and each score is kept (gateway/store/judge_passes.py).

- **rubric**: against the row's `rubric` column, or the pass's own rubric text where a row has none (a row with
  neither is not scored);
- **reference**: against the row's `expected` answer (the judge reads it as a fact to find, beyond the substring or
  regular expression the run's own check uses; rows without one are not scored; a `/regex/` is shown to the judge as
  written).

The calls go through the one sending door, attributed and budgeted, each in the usage ledger (kind "judge"), like
the pairwise pass (`judge_run.JudgeCalls`); the pass is quoted first and refused over budget. An answer without a
readable score in 0–1 is counted as unreadable, never guessed. The scores are shown in the run's results and compared
between two runs by run comparison's paired bootstrap (gateway/evaluation/run_diff.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd

from gateway.budget import BudgetExceeded
from gateway.config import Settings
from gateway.evaluation import judge
from gateway.evaluation.judge import Mode
from gateway.evaluation.judge_run import JudgeCalls, Progress
from gateway.evaluation.runs import Cell, EvalRun
from gateway.models import ModelRecord
from gateway.reply import Outcome
from gateway.sending import Sender, check_spending, expected_cost
from gateway.store.evaluation import Evaluations
from gateway.store.judge_passes import JudgePass, JudgePasses, JudgeScore, run_about

SCORED = (Mode.RUBRIC, Mode.REFERENCE)


@dataclass(frozen=True)
class Task:
    """One reply to score, and what it is scored against."""

    row: int
    model: str
    question: str
    reply: str
    against: str  # the rubric, or the expected answer

    def messages(self, mode: Mode, template: str) -> list[dict[str, str]]:
        field = "rubric" if mode is Mode.RUBRIC else "expected"
        return judge.messages(mode, template, question=self.question, reply=self.reply, **{field: self.against})


def tasks(run: EvalRun, cells: Sequence[Cell], mode: Mode, models: Sequence[str], rubric: str = "") -> list[Task]:
    """Every complete reply of `models` with something to score it against (see the module docs)."""
    found = []
    for cell in sorted(cells, key=lambda c: (c.row, list(run.models).index(c.model) if c.model in run.models else 99)):
        if cell.model not in models or cell.reply.outcome is not Outcome.COMPLETE or not cell.reply.text:
            continue
        row = run.rows[cell.row]
        against = (row.rubric or rubric) if mode is Mode.RUBRIC else row.expected
        if against.strip():
            found.append(Task(cell.row, cell.model, row.prompt, cell.reply.text, against))
    return found


def quote(judge_model: ModelRecord, todo: Sequence[Task], mode: Mode, template: str, settings: Settings) -> float:
    from gateway.evaluation.judge_run import PARAMS

    return sum(expected_cost(judge_model, task.messages(mode, template), PARAMS.max_tokens, settings)
               for task in todo)


def refusal(judge_model: ModelRecord, todo: Sequence[Task], mode: Mode, template: str, settings: Settings,
            evaluations: Evaluations, sender: Sender) -> BudgetExceeded | None:
    return check_spending(sender, settings, evaluations.store, quote(judge_model, todo, mode, template, settings))


def run_pass(run: EvalRun, owner: str, todo: Sequence[Task], mode: Mode, judge_model: ModelRecord, template: str,
             evaluations: Evaluations, settings: Settings, sender: Sender, concurrency: int,
             on_progress: Callable[[Progress], None] | None = None) -> Progress:
    """Score every task (one call each), keep each readable score, and return what happened (`done`, `unreadable`,
    the cost). The pass (judge, mode, prompt, models) is saved with the run first."""
    if mode not in SCORED:
        raise ValueError(f"not a scoring mode: {mode}")
    judge.check_template(mode, template)
    models = tuple(dict.fromkeys(task.model for task in todo))
    passes = JudgePasses(evaluations.store)
    passes.save(JudgePass(run_about(run.id), judge_model.key, mode.value, template, models), owner)
    progress = Progress(len(todo))
    calls = JudgeCalls(judge_model, evaluations, owner, run.id, settings, sender, progress)

    def one(task: Task) -> None:
        reply = calls.ask(task.messages(mode, template))
        if reply is None:
            return
        score = judge.read_score(reply.text) if reply.outcome is Outcome.COMPLETE else None
        if score is not None:
            passes.save_score(run.id, JudgeScore(task.row, task.model, judge_model.key, mode.value, score.value,
                                                 score.reason), owner)
        with calls.lock:
            progress.done += 1
            progress.unreadable += score is None
            if on_progress is not None:
                on_progress(progress)

    with ThreadPoolExecutor(max(1, concurrency)) as pool:
        list(pool.map(one, todo))
    return progress


# --- Reading them back -------------------------------------------------------------------------------------------

def label(judge_key: str, mode: str) -> str:
    """How a judge's scores are named: `eval-judge · rubric`."""
    return f"{judge_key} · {mode}"


def by_label(scores: Sequence[JudgeScore], model: str) -> dict[str, dict[int, float]]:
    """One model's scores per judge and mode (`label`), by row."""
    found: dict[str, dict[int, float]] = {}
    for score in scores:
        if score.model == model:
            found.setdefault(label(score.judge, score.mode), {})[score.row] = score.score
    return found


def summary(scores: Sequence[JudgeScore]) -> pd.DataFrame:
    """Per model, judge and mode: rows scored and the mean score."""
    if not scores:
        return pd.DataFrame(columns=["Model", "Judge", "Mode", "Rows scored", "Mean score"])
    frame = pd.DataFrame([{"Model": s.model, "Judge": s.judge, "Mode": s.mode, "score": s.score} for s in scores])
    return frame.groupby(["Model", "Judge", "Mode"], sort=False).agg(
        **{"Rows scored": ("score", "size"), "Mean score": ("score", "mean")}).reset_index()
