"""The compare page's "Judge this round": once every reply of the latest round has ended, a judge model compares the
complete replies pair by pair, each pair in both orders (gateway/evaluation/judge_round.py). The judge's prompt is
shown and editable, the cost quoted before anything is sent and the pass refused over budget; the verdict is saved as
the judge's vote on the round (the leaderboard's *Verdicts: Judge* or *Both*), and a verdict that changed when the
replies swapped places is shown as a flagged tie.

Offered only once the analyst can see the names (a blind round waits for their own vote first: the judge's verdict
names the winner, and a vote cast after seeing it would not be blind)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
import streamlit as st

from gateway import Catalogue, Settings
from gateway.analyst import is_admin
from gateway.conversation import Conversation, Round
from gateway.evaluation import judge as judging
from gateway.evaluation import judge_round
from gateway.evaluation.blind import Blind
from gateway.evaluation.judge import TEMPLATES, Choice, Mode, PairJudgement, TemplateError, check_template
from gateway.evaluation.judge_run import Progress
from gateway.evaluation.votes import Verdict, Vote, compare_subject
from gateway.sending import Sender
from gateway.store import Store
from gateway.store.evaluation import Evaluations
from gateway.store.judge_passes import JudgePass, JudgePasses
from ui.format import ago, count, usd
from ui.judge_progress import run_with_progress
from ui.markdown import plain

FLAGGED = ("Flagged tie: the judge's verdict changed when the replies swapped places (its lean to a position, not a "
           "judgement of the replies), so it counts as a tie.")


def judge_round_section(store: Store, owner: str, comparison: Conversation, catalogue: Catalogue,
                        settings: Settings, blind: Blind) -> None:
    latest = comparison.latest
    if latest is None or len(latest.runs) < 2 or not all(r.finished for r in latest.replies.values()):
        return
    if blind.hidden:
        return  # vote first: the judge names the winner
    models = judge_round.judged_models(latest)
    catalogue_keys = [m.key for m in catalogue.models]
    # Its open state is kept (session state, by round): the page's redraw after a pass must not close it over the
    # verdict. Closed, nothing in it is looked up or priced.
    box = st.expander("Judge this round with a model", icon=":material/gavel:", key=OPEN.format(latest.key),
                      on_change="rerun")
    with box:
        if not box.open:
            return
        if len(models) < 2 or not catalogue_keys:
            st.caption("A judge needs two complete replies (a stopped or failed reply is not judged) and a model to "
                       "judge with.")
            return
        judge_col, models_col = st.columns([1, 2])
        judge_key = judge_col.selectbox("Judge model", catalogue_keys, index=default_judge(catalogue_keys, settings),
                                        key=f"round_judge_model_{latest.key}")
        picked = models_col.multiselect("Replies to judge", models, default=models,
                                        key=f"round_judge_pair_{latest.key}",
                                        help="Every pair of these is judged, each in both orders.")
        template = prompt_area(store, owner, compare_subject(comparison.id, latest.key),
                               f"round_judge_prompt_{latest.key}",
                               "{question} (the round's prompt), {first} and {second} (two replies) are filled in; "
                               "each pair is asked twice, the replies swapped the second time.")
        evaluations = Evaluations(store)
        saved = judge_round.verdict_of(evaluations, comparison, latest, owner, judge_key)
        if saved is not None:
            show_verdict(saved)
        if len(picked) < 2:
            st.caption("Pick at least two replies.")
            return
        try:
            check_template(Mode.PAIRWISE, template)
        except TemplateError as error:
            st.error(plain(str(error)), icon=":material/edit_note:")
            return
        judge_model = next(m for m in catalogue.models if m.key == judge_key)
        todo = judge_round.pairs(latest, picked)
        quote = judge_round.quote(judge_model, todo, template, settings)
        priced = judge_model.input_price is not None and judge_model.output_price is not None
        shown = usd(quote) if priced else f"{usd(quote)} at the assumed rate for a model without a price"
        st.caption(f"{count(len(todo), 'pair')}, {2 * len(todo):,} calls (both orders): quote {shown} "
                   f"(the round itself: {usd(_round_cost(latest))}).")
        if not st.button("Judge again" if saved is not None else "Judge", key=f"round_judge_start_{latest.key}",
                         icon=":material/gavel:"):
            _last_pass(latest.key, judge_key)
            return
        sender = Sender(owner, "judge", comparison.id, admin=is_admin(owner, settings))
        refused = judge_round.refusal(judge_model, todo, template, settings, evaluations, sender)
        if refused is not None:
            st.error(plain(str(refused)), icon=":material/account_balance_wallet:")
            return
        result = _run(lambda on_progress: judge_round.judge_round(
            comparison, latest, owner, judge_model, template, evaluations, settings, sender,
            settings.eval_concurrency, models=picked, on_progress=on_progress))
        if result is not None:
            st.session_state[_PASS.format(latest.key, judge_key)] = result
            st.rerun()  # the saved verdict and the pass's pairs, drawn from the top


_PASS = "round_judge_pass_{}_{}"  # session key: the last pass on a round by a judge (its pairs, cost)
OPEN = "round_judge_open_{}"  # session key: whether a round's "Judge this round" is open


def prompt_area(store: Store, owner: str, about: str, key: str, help: str, mode: Mode = Mode.PAIRWISE) -> str:
    """The judge's prompt, shown and editable: it starts from the prompt of the analyst's last pass of this mode on
    `about` (saved with the run or round), else the default; each pass saves the prompt it used."""
    last = JudgePasses(store).last(about, owner, mode.value)
    saved = last if isinstance(last, JudgePass) else None
    text = st.text_area("The judge's prompt", saved.template if saved else TEMPLATES[mode], height=240,
                        key=key, help=help)
    if saved is not None:
        st.caption(f"Starts from the prompt of your last pass here ({plain(saved.judge)}, {ago(time.time() - saved.at)}"
                   "; each pass saves the prompt it used).")
    return text


def default_judge(keys: list[str], settings: Settings) -> int:
    """Where the judge picker starts: the team's default judge (JUDGE_MODEL), else a model with "judge" in its key,
    else the first."""
    found = judging.default_judge(keys, settings.judge_model)
    return keys.index(found) if found is not None else 0


def show_verdict(vote: Vote) -> None:
    """The judge's saved verdict on the round."""
    said = f"**{plain(vote.winner)}** is best" if vote.verdict is Verdict.BEST and vote.winner else "a tie"
    if vote.flagged:
        st.warning(f"{plain(vote.judge)} on this round: {said}. {FLAGGED}", icon=":material/flag:")
    else:
        st.info(f"{plain(vote.judge)} on this round: {said} (the same in both orders).", icon=":material/gavel:")


def _round_cost(round_: Round) -> float:
    return sum(r.metrics.cost or 0.0 for runs in round_.runs.values() for r in runs)


def _said(choice: Choice | None, shown_first: str, shown_second: str) -> str:
    if choice is None:
        return "unreadable"
    if choice is Choice.TIE:
        return "tie"
    return shown_first if choice is Choice.FIRST else shown_second


def pairs_frame(judgements: list[PairJudgement]) -> pd.DataFrame:
    """One row per pair: what each order said, and whether the swap changed it."""
    return pd.DataFrame([{
        "Pair": f"{j.first} vs {j.second}",
        f"Shown {j.first} first": _said(j.forward, j.first, j.second),
        "Swapped": _said(j.backward, j.second, j.first),
        "Counted as": ("unreadable" if not j.readable else "tie (flagged)" if j.flagged
                       else j.winners[0] or "tie"),
        "Reasons": " / ".join(r for r in j.reasons if r),
    } for j in judgements]).fillna("")


def _last_pass(round_key: str, judge_key: str) -> None:
    found = st.session_state.get(_PASS.format(round_key, judge_key))
    if not isinstance(found, judge_round.RoundJudgement):
        return
    progress = found.progress
    st.caption(f"Last pass: {count(progress.done, 'pair')} judged in both orders, {progress.flagged:,} flagged, "
               f"{progress.unreadable:,} unreadable; the judge's calls cost "
               f"{usd(progress.cost) if progress.cost else 'unknown (no price)'} (in your usage).")
    if progress.judgements:
        st.dataframe(pairs_frame(sorted(progress.judgements, key=lambda j: (j.first, j.second))), hide_index=True)
    if progress.stopped:
        st.warning(plain(progress.stopped), icon=":material/account_balance_wallet:")
    if progress.refused:
        st.warning(plain(f"Some judge calls were not sent: {progress.refused}"), icon=":material/block:")
    if found.vote is None and not progress.stopped:
        st.caption("No verdict was saved: a pair's answer was unreadable.")


def _run(work: Callable[[Callable[[Progress], None]], judge_round.RoundJudgement],
         ) -> judge_round.RoundJudgement | None:
    """Run the pass in a thread (the calls go `EVAL_CONCURRENCY` at a time) with a progress bar, gone at the end."""
    ran = run_with_progress(work, name="judge-round", starting="Judging…", done="Judged", unit=" pairs")
    if ran is None:
        return None
    found, bar = ran
    bar.empty()
    return found
