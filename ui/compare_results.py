"""The compare page's results: the latest round's numbers, Run ×N statistics, a word diff, and the exports.

In blind mode, until the vote, models are named by their panel ("Model A"…), costs are left out, and the exports
(which name the models) wait for the vote. The two replies the diff compares are the comparison's `diff` (model keys):
saved with it, and picked again when it is reopened.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from urllib.parse import urlencode

import altair as alt
import pandas as pd
import streamlit as st

from gateway import exports
from gateway.compare.stats import (
    CHART_COLUMNS,
    CHEAPEST,
    FASTEST,
    STATS_TIMES,
    Col,
    best_by_measure,
    fastest_and_cheapest,
    median_intervals,
    pairwise_differences,
    results_frame,
    stats_frame,
)
from gateway.conversation import Conversation, diff_pair
from gateway.diff import word_diff
from gateway.evaluation.blind import SHOWN, Blind
from gateway.evaluation.blind import withheld as withhold
from gateway.reply import Reply
from ui.diff import diff_markdown
from ui.downloads import download_button
from ui.format import count
from ui.markdown import plain

DIFF_PICKERS = ("compare_diff_first", "compare_diff_second")  # widget keys
DIFF_OF = "compare_diff_of"  # the comparison whose pair the pickers hold


def show_results(comparison: Conversation, keys: list[str], blind: Blind = SHOWN,
                 on_diff: Callable[[], None] | None = None, withheld: Collection[str] = ()) -> None:
    """The latest round's numbers: a table and a chart, repeated-run statistics, a diff, and the exports.
    `on_diff` runs when the analyst picks other replies to diff (the pair is then in `comparison.diff`); `withheld`:
    the keys of the rounds whose names the exports withhold (sent blind, not voted on)."""
    latest = comparison.latest
    if latest is None:
        return
    st.subheader("Results")
    order = blind.arrange(latest.runs)
    replies = {blind.label(key): blind.mask(latest.replies[key]) for key in order if key in latest.replies}
    runs = {blind.label(key): [blind.mask(reply) for reply in latest.runs[key]] for key in order}
    frame = results_frame(replies)
    fastest, cheapest = fastest_and_cheapest(frame)  # (no cheapest while blind: the costs are masked)
    if blind.hidden:
        frame = frame.drop(columns=[Col.COST])
    st.caption(" · ".join(part for part in (
        f"Fastest: **{plain(fastest)}**" if fastest else "", f"Cheapest: **{plain(cheapest)}**" if cheapest else "",
        "Latest prompt; times in seconds, cost in USD.") if part))
    st.dataframe(highlight(frame), hide_index=True, placeholder="—", column_config={
        Col.TTFT: st.column_config.NumberColumn(format="%.3f", help="Time to the first token of the answer (a "
                                                "reasoning model's thinking comes before it: see Thinking)"),
        Col.TOTAL: st.column_config.NumberColumn(format="%.3f", help="Time to the end of the reply: what Fastest "
                                                 "ranks by"),
        Col.TOKENS_PER_S: st.column_config.NumberColumn(format="%.0f", help="Answer tokens a second, from the "
                                                        "first answer token to the end (thinking not counted)"),
        Col.THINKING: st.column_config.NumberColumn(format="%.3f", help="From the first thought to the answer"),
        Col.REASONING: st.column_config.NumberColumn(help="Reasoning tokens as the provider reported them (empty: "
                                                     "not reported); billed as output, in Tokens"),
        Col.COST: st.column_config.NumberColumn(format="$%.6g")})
    chart = results_chart(frame)
    if chart is not None:
        st.altair_chart(chart)
    if any(len(runs) > 1 for runs in latest.runs.values()):
        repeats = max(len(runs) for runs in latest.runs.values())
        st.subheader(f"Run ×{repeats}")
        stats = stats_frame(runs)
        st.dataframe(stats.drop(columns=[Col.MEAN_COST]) if blind.hidden else stats, hide_index=True,
                     placeholder="—", column_config={name: st.column_config.NumberColumn(format="%.3f")
                                                     for name in STATS_TIMES})
        show_run_statistics(runs)
    show_diff(comparison, {key: blind.mask(latest.replies[key]) for key in order if key in latest.replies},
              blind.label, on_diff)
    show_exports(withhold(comparison, withheld, blind.names), keys, link=not withheld)
    if withheld:
        st.caption(":material/visibility_off: The exports call the models of a round you have not voted on "
                   "\"Model A\", \"Model B\"…, without costs: vote to see the names there too.")


def highlight(frame: pd.DataFrame) -> pd.io.formats.style.Styler:
    """The fastest row's total time and the cheapest row's cost, on green."""
    def colour(row: pd.Series) -> list[str]:
        marks = row[Col.BEST]
        return ["background-color: rgba(33, 195, 84, 0.25)"
                if (name == Col.TOTAL and FASTEST in marks) or (name == Col.COST and CHEAPEST in marks)
                or (name == Col.BEST and marks) else "" for name in row.index]
    return frame.style.apply(colour, axis=1)


def chart_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The chart's rows: one per model and measure, marked "fastest" (or "cheapest", for the cost) where that model
    is the best at that measure (the TTFT chart marks the first to answer, not the first to finish)."""
    measures = [name for name in CHART_COLUMNS if name in frame]  # (no cost while blind)
    long = frame.melt(id_vars=[Col.MODEL], value_vars=measures, var_name="Measure",
                      value_name="Value").dropna(subset=["Value"])
    best = best_by_measure(frame)
    long[Col.BEST] = [(CHEAPEST if measure == Col.COST else FASTEST) if best.get(measure) == model else "other"
                      for model, measure in zip(long[Col.MODEL], long["Measure"])]
    return long


def results_chart(frame: pd.DataFrame) -> alt.FacetChart | None:
    """One small bar chart per measure; in each, the model best at that measure in colour."""
    measures = [name for name in CHART_COLUMNS if name in frame]
    long = chart_data(frame)
    if long.empty:
        return None
    bars = alt.Chart(long).mark_bar().encode(
        x=alt.X("Value:Q", title=None),
        y=alt.Y(f"{Col.MODEL}:N", title=None, sort=list(frame[Col.MODEL])),
        color=alt.Color(f"{Col.BEST}:N", title=None, scale=alt.Scale(
            domain=[FASTEST, CHEAPEST, "other"], range=["#f28e2b", "#21c354", "#a0a4ab"]),
            legend=alt.Legend(orient="bottom")),
        tooltip=[Col.MODEL, "Measure", alt.Tooltip("Value:Q", format=".4g"), Col.BEST],
    ).properties(width=330, height=28 * len(frame) + 10)
    return bars.facet(facet=alt.Facet("Measure:N", title=None, sort=measures), columns=2).resolve_scale(
        x="independent")


def show_run_statistics(runs: dict[str, list[Reply]]) -> None:
    """Medians with bootstrap 95 % intervals per model and measure, and for each pair whether the difference is real."""
    medians, pairs = median_intervals(runs), pairwise_differences(runs)
    if medians.empty:
        return
    st.caption("Medians of the complete replies with bootstrap 95 % intervals (1,000 resamples); a difference is "
               "called real when the interval of the difference of two medians leaves out zero. N is the number of "
               "replies each is based on: with a few runs, most differences are not clear.")
    number = st.column_config.NumberColumn(format="%.4g")
    st.dataframe(medians, hide_index=True, column_config={Col.MEDIAN: number, Col.LOW: number, Col.HIGH: number})
    if not pairs.empty:
        st.dataframe(pairs, hide_index=True, column_config={Col.DIFFERENCE: number, Col.LOW: number,
                                                            Col.HIGH: number})


def show_diff(comparison: Conversation, replies: dict[str, Reply], label: Callable[[str], str] = str,
              on_pick: Callable[[], None] | None = None) -> None:
    """A word-level diff between any two replies (`replies` by model key; `label`: what a model is called now).
    The pair starts as the comparison's saved one; picking another sets `comparison.diff` and calls `on_pick`."""
    st.subheader("Difference between two replies")
    keys = [key for key, reply in replies.items() if reply.text]
    if len(keys) < 2:
        st.caption("At least two replies with text are needed.")
        return
    _start_pickers(comparison, keys)

    def picked() -> None:
        comparison.diff = diff_pair([st.session_state[picker] for picker in DIFF_PICKERS])
        if on_pick is not None:
            on_pick()

    first_col, second_col = st.columns(2)
    first = first_col.selectbox("First reply", keys, key=DIFF_PICKERS[0], format_func=label, on_change=picked)
    second = second_col.selectbox("Second reply", keys, key=DIFF_PICKERS[1], format_func=label, on_change=picked)
    if first == second:
        st.caption("Pick two different replies.")
        return
    diff = word_diff(replies[first].text, replies[second].text)
    if diff.identical:
        st.success(f"The replies of {plain(label(first))} and {plain(label(second))} are identical, word for word.",
                   icon=":material/check:")
        return
    counts = diff.counts
    st.caption(f"{diff.ratio:.0%} similar · {count(counts['delete'], 'word')} only in {plain(label(first))} (struck "
               f"through) · {count(counts['insert'], 'word')} only in {plain(label(second))} (green)")
    st.markdown(diff_markdown(diff))


def _start_pickers(comparison: Conversation, keys: list[str]) -> None:
    """The pickers show the comparison's saved pair (else the first two replies) when they are new, belong to another
    comparison, or hold a model this round has no reply of; otherwise they keep what the analyst picked."""
    state = st.session_state
    if state.get(DIFF_OF) == comparison.id and all(state.get(picker) in keys for picker in DIFF_PICKERS):
        return
    saved = comparison.diff
    pair = saved if saved is not None and all(key in keys for key in saved) else (keys[0], keys[1])
    for picker, key in zip(DIFF_PICKERS, pair):
        state[picker] = key
    state[DIFF_OF] = comparison.id


def show_exports(comparison: Conversation, keys: list[str], *, link: bool = True) -> None:
    """Downloads (Markdown, CSV, JSON) and the share link (`link`: False while it would name the models of a round
    the analyst has not voted on)."""
    st.subheader("Export")
    shared = share_link(keys) if link else None
    md_col, csv_col, json_col = st.columns(3)
    # Built when clicked and fetched by this analyst's browser only (ui/downloads.py): no link outlives the click.
    download_button(md_col, "Markdown", lambda: exports.to_markdown(comparison, share_url=shared), "comparison.md",
                    "text/markdown", width="stretch", key="compare_md")
    download_button(csv_col, "CSV", lambda: exports.to_csv(comparison), "comparison.csv", "text/csv",
                    width="stretch", key="compare_csv")
    download_button(json_col, "JSON", lambda: exports.to_json(comparison, share_url=shared), "comparison.json",
                    "application/json", width="stretch", key="compare_json")
    if shared is not None:
        st.caption("Models link: opens an empty comparison of the same models (to show colleagues these replies and "
                   "numbers, use Share).")
        st.code(shared, language=None)


def share_link(keys: list[str]) -> str:
    base = st.context.url or "/compare"
    return f"{base.split('?')[0]}?{urlencode({'models': ','.join(keys)}, safe=',:/')}"
