"""The evaluate page's "Compare with another run": one model of the open run (A) against a model of another run of
the same prompts, or another model of the same run (B): the verdict in words, the rows whose check changed, and
the comparison as CSV and JSON. The statistics are gateway.evaluation.run_diff's."""

from __future__ import annotations

import datetime as dt
import json

import streamlit as st

from gateway.evaluation import judge_scores, run_diff
from gateway.evaluation.run_diff import Col, RunComparison, Side
from gateway.evaluation.runs import EvalRun
from gateway.safe_csv import frame_csv
from gateway.store import Unavailable
from gateway.store.evaluation import Evaluations
from gateway.store.judge_passes import JudgePasses
from ui.downloads import download_button
from ui.markdown import plain


def _label(run: EvalRun, current: EvalRun) -> str:
    when = dt.datetime.fromtimestamp(run.created_at).strftime("%d %b %H:%M")
    this = " (this run)" if run.id == current.id else ""
    return f"{run.set_name} · {when} · {', '.join(run.models)}{this}"


def _shares_prompts(run: EvalRun, other: EvalRun) -> bool:
    prompts = {(row.prompt, row.system_prompt) for row in run.rows}
    return any((row.prompt, row.system_prompt) in prompts for row in other.rows)


def compare_runs(evaluations: Evaluations, owner: str, run: EvalRun) -> None:
    st.subheader("Compare with another run")
    found = evaluations.runs(owner)
    if isinstance(found, Unavailable):
        st.error(f"Your runs cannot be read now: {plain(found)}", icon=":material/cloud_off:")
        return
    candidates = {run.id: run} | {r.id: r for r in found if r.id != run.id and _shares_prompts(run, r)}
    st.caption("Pick a model of this run (A) and a model of another run of the same prompts — or another model of "
               "this run (B): which rows changed their check, whether the change is more than chance (McNemar's "
               "test), the difference in time per reply and, where a judge scored both, in judge scores (paired "
               "bootstrap).")
    a_col, run_col, b_col = st.columns([1, 2, 1])
    a_model = a_col.selectbox("A: model of this run", run.models, key=f"diff_a_{run.id}")
    other_id = run_col.selectbox("B: run", list(candidates), key=f"diff_run_{run.id}",
                                 format_func=lambda i: _label(candidates[i], run))
    other = candidates[other_id]
    b_choices = [m for m in other.models if other.id != run.id or m != a_model]
    b_model = b_col.selectbox("B: model", b_choices, key=f"diff_b_{run.id}_{other.id}")
    if b_model is None:
        return
    cells = evaluations.cells(run.id, owner)
    other_cells = cells if other.id == run.id else evaluations.cells(other.id, owner)
    if isinstance(cells, Unavailable) or isinstance(other_cells, Unavailable):
        st.error("The results cannot be read now.", icon=":material/cloud_off:")
        return
    show(run_diff.compare(Side.of(run, a_model, cells), Side.of(other, b_model, other_cells),
                          scores_of(evaluations, owner, run, a_model), scores_of(evaluations, owner, other, b_model)))


def scores_of(evaluations: Evaluations, owner: str, run: EvalRun, model: str) -> dict[str, dict[int, float]]:
    """One model's judge scores in a run, by judge and mode (none when they cannot be read now)."""
    found = JudgePasses(evaluations.store).scores(run.id, owner)
    return {} if isinstance(found, Unavailable) else judge_scores.by_label(found, model)


def show(comparison: RunComparison) -> None:
    lines = run_diff.summary_lines(comparison)
    with st.container(border=True):
        for line in lines:
            st.markdown(plain(line))
        passes = comparison.passes
        fixed_col, broke_col, p_col = st.columns(3)
        fixed_col.metric("fail → pass", passes.fixed)
        broke_col.metric("pass → fail", passes.broke)
        p_col.metric("McNemar p", f"{passes.p_value:.3g}" if passes.compared else "—",
                     help="The chance of a split of the changed rows at least this lopsided if A and B were equally "
                          "good (exact test); below 0.05 reads as a difference.")
    changed = run_diff.changed_rows(comparison)
    if changed.empty:
        st.caption("No row changed its check.")
    else:
        st.dataframe(changed[[Col.ROW_A, Col.PROMPT, Col.CHANGE, Col.TOTAL_A, Col.TOTAL_B]], hide_index=True,
                     column_config={Col.TOTAL_A: st.column_config.NumberColumn(format="%.2f"),
                                    Col.TOTAL_B: st.column_config.NumberColumn(format="%.2f")})
    name = f"runs-{comparison.a.run.id[:8]}-{comparison.b.run.id[:8]}"
    csv_col, json_col, _ = st.columns([1, 1, 2])
    download_button(csv_col, "CSV", lambda: frame_csv(comparison.rows), f"{name}.csv", "text/csv",
                    width="stretch", key=f"{name}_csv")
    download_button(json_col, "JSON", lambda: to_json(comparison), f"{name}.json", "application/json",
                    width="stretch", key=f"{name}_json")


def to_json(comparison: RunComparison) -> str:
    return json.dumps(run_diff.to_dict(comparison), ensure_ascii=False, indent=1)
