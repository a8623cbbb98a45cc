"""The caller's evaluation runs over HTTP: `GET /api/runs` (the list, newest first), `GET /api/runs/results?run=<id>`
(a run's rows and cells, as the page's JSON export, with the per-model summary, the judge's verdicts on its rows
and the rubric and reference judges' scores) and
`GET /api/runs/compare?run=<id>&model=<key>&other_run=<id>&other_model=<key>` (one model of a run against one of
another run of the same prompts, or another model of the same run: the page's "Compare with another run" —
McNemar's exact test on the changed checks, the paired bootstrap of the time per reply and of the judge scores both
sides have, every matched row).

Runs are private to their analyst: another analyst's run id answers 404, like one that does not exist.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from starlette.responses import Response

from api.http import ApiError, Call, json_response
from gateway.evaluation import judge_scores, results, run_diff
from gateway.evaluation.run_diff import Side
from gateway.evaluation.runs import Cell, EvalRun
from gateway.store import Unavailable, get_store
from gateway.store.evaluation import Evaluations
from gateway.store.judge_passes import JudgePasses

LIST_LIMIT = 50


def _unavailable(found: Unavailable) -> ApiError:
    return ApiError(503, f"Evaluation runs cannot be read now: {found}", kind="unavailable",
                    hint="The app's database is not answering; try again in a moment.")


def _needed(call: Call, name: str) -> str:
    value = call.request.query_params.get(name)
    if not value:
        raise ApiError(400, f"'{name}' is needed (a run's id: GET /api/runs lists yours).")
    return value


def _run(evaluations: Evaluations, run_id: str, owner: str) -> tuple[EvalRun, list[Cell]]:
    run = evaluations.load_run(run_id, owner)
    if isinstance(run, Unavailable):
        raise _unavailable(run)
    if run is None:
        raise ApiError(404, "There is no such evaluation run of yours.", kind="not_found",
                       hint="GET /api/runs lists your runs and their ids.")
    cells = evaluations.cells(run.id, owner)
    if isinstance(cells, Unavailable):
        raise _unavailable(cells)
    return run, cells


def run_json(run: EvalRun) -> dict[str, Any]:
    return {"id": run.id, "set": {"id": run.set_id, "name": run.set_name}, "models": list(run.models),
            "rows": len(run.rows), "status": run.state().value, "cellsDone": run.cells_done,
            "cellsTotal": run.cells_total, "quote": run.quote, "cost": run.cost, "createdAt": run.created_at,
            "url": f"/evaluate?run={run.id}"}


def _plain(value: Any) -> Any:
    """A pandas record value as JSON: NaN as null, numpy numbers as numbers."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value


def list_runs(call: Call) -> Response:
    """GET /api/runs"""
    found = Evaluations(get_store(call.settings)).runs(call.analyst.owner(), limit=LIST_LIMIT)
    if isinstance(found, Unavailable):
        raise _unavailable(found)
    return json_response({"runs": [run_json(run) for run in found]}, settings=call.settings)


def run_results(call: Call) -> Response:
    """GET /api/runs/results?run=<id>"""
    owner = call.analyst.owner()
    evaluations = Evaluations(get_store(call.settings))
    run, cells = _run(evaluations, _needed(call, "run"), owner)
    summary = [{key: _plain(value) for key, value in row.items()}
               for row in results.summary(run, cells).to_dict("records")]
    judged = _judge_verdicts(evaluations, run, owner)
    scores = JudgePasses(evaluations.store).scores(run.id, owner)
    if isinstance(scores, Unavailable):
        raise _unavailable(scores)
    return json_response({**results.to_dict(run, cells), "run": run_json(run),
                          "summary": [{_SUMMARY.get(k, k): v for k, v in row.items()} for row in summary],
                          "judged": judged, "scores": [asdict(s) for s in scores]}, settings=call.settings)


_SUMMARY = {results.Col.MODEL: "model", results.Col.CELLS: "cells", results.Col.COMPLETE: "complete",
            results.Col.FAILED: "failed", results.Col.CHECKED: "checked", results.Col.PASSED: "passed",
            results.Col.PASS_RATE: "passRate", results.Col.TTFT_MEDIAN: "medianTtft",
            results.Col.TOTAL_COST: "totalCost"}


def _judge_verdicts(evaluations: Evaluations, run: EvalRun, owner: str) -> list[dict[str, Any]]:
    """The caller's judge verdicts on the run's rows (every judge model)."""
    found = evaluations.judge_votes_any(f"eval:{run.id}:", owner)
    if isinstance(found, Unavailable):
        raise _unavailable(found)
    return [{"row": int(vote.subject.rsplit(":", 1)[1]), "judge": vote.judge, "models": list(vote.models),
             "verdict": vote.verdict.value, "winner": vote.winner, "flagged": vote.flagged}
            for vote in sorted(found, key=lambda v: (int(v.subject.rsplit(":", 1)[1]), v.judge))]


def _scores(evaluations: Evaluations, run: EvalRun, model: str, owner: str) -> dict[str, dict[int, float]]:
    found = JudgePasses(evaluations.store).scores(run.id, owner)
    if isinstance(found, Unavailable):
        raise _unavailable(found)
    return judge_scores.by_label(found, model)


def compare_runs(call: Call) -> Response:
    """GET /api/runs/compare?run=<id>&model=<key>&other_run=<id>&other_model=<key>"""
    owner = call.analyst.owner()
    query = call.request.query_params
    evaluations = Evaluations(get_store(call.settings))
    run, cells = _run(evaluations, _needed(call, "run"), owner)
    other_id = query.get("other_run") or run.id
    other, other_cells = (run, cells) if other_id == run.id else _run(evaluations, other_id, owner)
    model, other_model = query.get("model") or "", query.get("other_model") or ""
    if model not in run.models:
        raise ApiError(400, f"'model' must be one of the run's models: {', '.join(run.models)}.")
    if other_model not in other.models:
        raise ApiError(400, f"'other_model' must be one of the other run's models: {', '.join(other.models)}.")
    if other.id == run.id and other_model == model:
        raise ApiError(400, "Compare a model with another model of the run, or with a model of another run.")
    found = run_diff.compare(Side.of(run, model, cells), Side.of(other, other_model, other_cells),
                             _scores(evaluations, run, model, owner), _scores(evaluations, other, other_model, owner))
    return json_response(run_diff.to_dict(found), settings=call.settings)
