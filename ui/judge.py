"""The evaluate page's "Judge this run": a judge model compares two models of the open run row by row, each pair in
both orders (gateway/evaluation/judge_run.py); the prompt is shown and editable, the pass quoted before it starts,
its verdicts saved as the judge's votes (the leaderboard's *Verdicts: Judge*)."""

from __future__ import annotations

import streamlit as st

from gateway import Catalogue, ModelRecord, Settings
from gateway.analyst import is_admin
from gateway.evaluation import judge_run
from gateway.evaluation.judge import Mode, TemplateError, check_template
from gateway.evaluation.runs import EvalRun
from gateway.sending import Sender
from gateway.store import Unavailable
from gateway.store.evaluation import Evaluations
from gateway.store.judge_passes import run_about
from ui.evaluate import run_cost
from ui.format import count, usd
from ui.judge_progress import pass_warnings, run_with_progress
from ui.judge_round import default_judge, prompt_area
from ui.judge_scores import score_section
from ui.markdown import plain


def judge_section(evaluations: Evaluations, owner: str, run: EvalRun, catalogue: Catalogue,
                  settings: Settings) -> None:
    with st.expander("Judge this run with a model", icon=":material/gavel:"):
        models = {m.key: m for m in catalogue.models}
        if not models or len(run.models) < 2:
            st.caption("No judge can be chosen now (the catalogue is empty).")
            return
        keys = list(models)
        default = default_judge(keys, settings)
        judge_col, mode_col, pair_col = st.columns([1, 1, 2])
        judge_key = judge_col.selectbox("Judge model", keys, index=default, key=f"judge_model_{run.id}")
        mode = Mode(mode_col.radio("Mode", [m.value for m in Mode], key=f"judge_mode_{run.id}", horizontal=True,
                                   format_func=str.capitalize,
                                   help="Pairwise: which of two models answered each row better (both orders). "
                                        "Rubric: each reply scored 0–1 against a rubric. Reference: each reply "
                                        "scored 0–1 against the row's expected answer."))
        if mode is not Mode.PAIRWISE:
            score_section(evaluations, owner, run, models[judge_key], mode, settings, pair_col)
            return
        pair = pair_col.multiselect("Two models of this run", run.models, default=list(run.models[:2]),
                                    max_selections=2, key=f"judge_pair_{run.id}")
        template = prompt_area(evaluations.store, owner, run_about(run.id), f"judge_prompt_{run.id}",
                               "{question}, {first} and {second} are filled in; each pair is asked twice, the two "
                               "replies swapped the second time.")
        if len(pair) != 2:
            st.caption("Pick two models of the run.")
            return
        try:
            check_template(Mode.PAIRWISE, template)
        except TemplateError as error:
            st.error(plain(str(error)), icon=":material/edit_note:")
            return
        cells = evaluations.cells(run.id, owner)
        if isinstance(cells, Unavailable):
            st.error(f"The results cannot be read now: {plain(cells)}", icon=":material/cloud_off:")
            return
        judge_model = models[judge_key]
        done = judge_run.judged_rows(evaluations, run, owner, judge_key, pair[0], pair[1])
        todo = judge_run.pairs(run, cells, pair[0], pair[1], skip=done)
        if not todo:
            st.caption(f"Nothing to judge: {count(len(done), 'row')} judged already for these two models, and a row "
                       "needs a complete reply from both.")
            return
        quote = judge_run.quote(judge_model, todo, template, settings)
        priced = judge_model.input_price is not None and judge_model.output_price is not None
        shown = usd(quote) if priced else f"{usd(quote)} at the assumed rate for a model without a price"
        st.caption(f"{count(len(todo), 'row')} to judge ({len(done):,} judged already), {2 * len(todo):,} calls: "
                   f"quote {shown} (the run itself: {run_cost(run)}).")
        if not st.button("Judge", key=f"judge_start_{run.id}", icon=":material/gavel:"):
            return
        sender = Sender(owner, "judge", run.id, admin=is_admin(owner, settings))
        refused = judge_run.refusal(judge_model, todo, template, settings, evaluations, sender)
        if refused is not None:
            st.error(plain(str(refused)), icon=":material/account_balance_wallet:")
            return
        _run(evaluations, owner, run, todo, judge_model, template, settings, sender)


def _run(evaluations: Evaluations, owner: str, run: EvalRun, todo: list[judge_run.Pair], judge_model: ModelRecord,
         template: str, settings: Settings, sender: Sender) -> None:
    ran = run_with_progress(lambda on_progress: judge_run.run_pass(
        run, owner, todo, judge_model, template, evaluations, settings, sender, settings.eval_concurrency,
        on_progress=on_progress), name="judge-pass", starting="Judging…", done="Judged")
    if ran is None:
        return
    found, bar = ran
    bar.progress(1.0, text=f"Judged {found.done:,} of {found.total:,}")
    words = (f"{count(found.done, 'row')} judged in both orders: {found.flagged:,} "
             f"flagged (the verdict changed when the replies swapped places, so counted as a tie), "
             f"{found.unreadable:,} unreadable; cost {usd(found.cost) if found.cost else 'unknown (no price)'}. "
             "The verdicts are on the Leaderboard "
             f"(Verdicts: Judge).")
    st.success(words, icon=":material/gavel:")
    pass_warnings(found)
