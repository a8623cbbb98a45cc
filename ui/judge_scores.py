"""The evaluate page's rubric and reference passes (gateway/evaluation/judge_scores.py): the judge scores each
complete reply of the chosen models from 0 to 1 with a reason — against the row's `rubric` column or a rubric text,
or against the row's expected answer — quoted before it starts, refused over budget; and the scores in the run's
results."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from gateway import ModelRecord, Settings
from gateway.analyst import is_admin
from gateway.evaluation import judge_scores
from gateway.evaluation.judge import Mode, TemplateError, check_template
from gateway.evaluation.runs import EvalRun
from gateway.sending import Sender
from gateway.store import Unavailable
from gateway.store.evaluation import Evaluations
from gateway.store.judge_passes import JudgePasses, run_about
from ui.evaluate import run_cost
from ui.format import count, usd
from ui.judge_progress import pass_warnings, run_with_progress
from ui.judge_round import prompt_area
from ui.markdown import plain


def score_section(evaluations: Evaluations, owner: str, run: EvalRun, judge_model: ModelRecord, mode: Mode,
                  settings: Settings, models_col: Any) -> None:
    """A rubric or reference pass over the run: the models, the rubric, the prompt, the quote, the pass."""
    models = models_col.multiselect("Models of this run to score", run.models, default=list(run.models),
                                    key=f"judge_score_models_{run.id}")
    rubric = ""
    if mode is Mode.RUBRIC:
        rubric = st.text_area("Rubric (for rows without a `rubric` column)", key=f"judge_rubric_{run.id}",
                              placeholder="e.g. Answers the question directly and correctly, in at most two "
                                          "sentences.", height=80)
    template = prompt_area(evaluations.store, owner, run_about(run.id), f"judge_score_prompt_{run.id}_{mode.value}",
                           "{question}, {reply} and {" + ("rubric" if mode is Mode.RUBRIC else "expected")
                           + "} are filled in; the judge answers a score from 0 to 1 and a reason.", mode)
    try:
        check_template(mode, template)
    except TemplateError as error:
        st.error(plain(str(error)), icon=":material/edit_note:")
        return
    cells = evaluations.cells(run.id, owner)
    if isinstance(cells, Unavailable):
        st.error(f"The results cannot be read now: {plain(cells)}", icon=":material/cloud_off:")
        return
    todo = judge_scores.tasks(run, cells, mode, models, rubric)
    if not todo:
        st.caption("Nothing to score: " + ("give a rubric (or a `rubric` column in the set)." if mode is Mode.RUBRIC
                                           else "no row with an `expected` answer has a complete reply."))
        return
    quote = judge_scores.quote(judge_model, todo, mode, template, settings)
    priced = judge_model.input_price is not None and judge_model.output_price is not None
    shown = usd(quote) if priced else f"{usd(quote)} at the assumed rate for a model without a price"
    st.caption(f"{count(len(todo), 'reply', 'replies')} to score, one call each: quote {shown} (the run itself: "
               f"{run_cost(run)}). A new pass replaces this judge's earlier {mode.value} scores of the same replies.")
    if not st.button("Score", key=f"judge_score_start_{run.id}", icon=":material/grading:"):
        return
    sender = Sender(owner, "judge", run.id, admin=is_admin(owner, settings))
    refused = judge_scores.refusal(judge_model, todo, mode, template, settings, evaluations, sender)
    if refused is not None:
        st.error(plain(str(refused)), icon=":material/account_balance_wallet:")
        return
    ran = run_with_progress(lambda on_progress: judge_scores.run_pass(
        run, owner, todo, mode, judge_model, template, evaluations, settings, sender, settings.eval_concurrency,
        on_progress=on_progress), name="judge-scores", starting="Scoring…", done="Scored")
    if ran is None:
        return
    found, bar = ran
    bar.progress(1.0, text=f"Scored {found.done:,} of {found.total:,}")
    st.success(f"{count(found.done - found.unreadable, 'reply', 'replies')} scored, {found.unreadable:,} unreadable; "
               f"cost {usd(found.cost) if found.cost else 'unknown (no price)'}. The scores are in the run's results "
               "and in Compare with another run.", icon=":material/grading:")
    pass_warnings(found)


def scores_table(evaluations: Evaluations, owner: str, run: EvalRun) -> None:
    """The run's judge scores: the mean per model, judge and mode, and every score with its reason."""
    found = JudgePasses(evaluations.store).scores(run.id, owner)
    if isinstance(found, Unavailable):
        st.caption(f":material/cloud_off: Judge scores cannot be read now: {plain(found)}")
        return
    if not found:
        return
    st.markdown("**Judge scores** (0–1, from rubric and reference passes)")
    st.dataframe(judge_scores.summary(found), hide_index=True,
                 column_config={"Mean score": st.column_config.NumberColumn(format="%.2f")})
    with st.expander("Every score, with the judge's reason"):
        st.dataframe(pd.DataFrame([{"#": s.row + 1, "Prompt": run.rows[s.row].prompt if s.row < len(run.rows) else "",
                                    "Model": s.model, "Judge": s.judge, "Mode": s.mode, "Score": s.score,
                                    "Reason": s.reason} for s in found]), hide_index=True)
