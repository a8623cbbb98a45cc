"""Compare: one prompt to 2–6 models at once, their replies streaming side by side, with their numbers.

Every model streams in its own worker thread (gateway.compare.CompareRun); only this script thread draws, every
~50 ms, into one placeholder per panel. Stop (or any click) ends every stream and keeps the partial replies.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from urllib.parse import urlencode

import altair as alt
import pandas as pd
import streamlit as st

from gateway import Catalogue, ModelRecord, find_model
from gateway.chat import ChatParams
from gateway.compare import (MAX_MODELS, MIN_MODELS, CompareRun, Comparison, Reply, best, effective_params,
                             export_csv, export_json, export_markdown, parse_models_param, results_frame,
                             stats_frame)
from gateway.diff import diff_markdown, word_diff
from gateway.tokens import prompt_refusal
from ui.format import seconds
from ui.layout import page_setup, status_banner
from ui.markdown import displayable, inline_code
from ui.refusal import show_refusal
from ui.reply import metrics_line

COLUMNS = 3  # panels per row
MAX_LINK_REFS = 100  # models read from a ?models= link; a longer one is not a link anyone shared
REFRESH = 0.05  # seconds between redraws while streaming
CHART_METRICS = ("TTFT (s)", "Total (s)", "Tokens/s", "Cost ($)")


# --- Choosing the models (the URL follows the selection) -----------------------------------------------------------

def choose_models(catalogue: Catalogue) -> list[str]:
    """The multiselect of models, grouped by provider, preset from `?models=` and written back to it."""
    usable = sorted((m for m in catalogue.models if m.available), key=lambda m: (m.provider, m.name))
    options = [m.key for m in usable]
    labels = {m.key: f"{m.provider} · {m.name}" for m in usable}
    linked = parse_models_param(st.query_params.get("models"))
    if linked and linked != st.session_state.get("compare_linked"):  # arrived by a link: the link wins
        keys, problems = resolve_link(linked, catalogue)
        st.session_state["compare_models"] = keys
        st.session_state["compare_link_problems"] = (keys, problems)
    elif "compare_models" not in st.session_state:  # back from another page: what was chosen before
        st.session_state["compare_models"] = [k for k in st.session_state.get("compare_kept", []) if k in options]
    chosen = st.multiselect(
        f"Models ({MIN_MODELS}–{MAX_MODELS})", options, key="compare_models", max_selections=MAX_MODELS,
        format_func=lambda key: labels.get(key, key), placeholder="Pick models to compare (provider · model)")
    keys, problems = st.session_state.get("compare_link_problems", ([], []))
    if chosen == keys:
        for problem in problems:
            st.warning(problem, icon=":material/link_off:")
    st.session_state["compare_kept"] = st.session_state["compare_linked"] = chosen
    if st.query_params.get("models", "") != ",".join(chosen):
        if chosen:
            st.query_params["models"] = ",".join(chosen)
        else:
            del st.query_params["models"]
    return chosen


def resolve_link(refs: list[str], catalogue: Catalogue) -> tuple[list[str], list[str]]:
    """The catalogue keys a link names, and a message for each one that cannot be used."""
    keys, problems, unknown = [], [], []
    if len(refs) > MAX_LINK_REFS:
        problems.append(f"The link names {len(refs):,} models: only the first {MAX_LINK_REFS} were read.")
        refs = refs[:MAX_LINK_REFS]
    for ref in refs:
        model = find_model(catalogue.models, ref)
        if model is None:
            unknown.append(ref)
        elif not model.available:
            problems.append(f"{model.name} from the link is not available ({model.unavailable_reason}).")
        elif model.key not in keys:
            keys.append(model.key)
    if unknown:  # one message however many: a link may name hundreds, or carry any text
        more = f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else ""
        problems.insert(0, f"{', '.join(inline_code(ref) for ref in unknown[:5])}{more} from the link "
                        f"{'is' if len(unknown) == 1 else 'are'} not in the catalogue, so "
                        f"{'it was' if len(unknown) == 1 else 'they were'} left out.")
    if len(keys) > MAX_MODELS:
        problems.append(f"At most {MAX_MODELS} models can be compared: left out {', '.join(keys[MAX_MODELS:])}.")
    return keys[:MAX_MODELS], problems


# --- Parameters --------------------------------------------------------------------------------------------------

def choose_params(keys: list[str]) -> dict[str, ChatParams]:
    """The shared system prompt and sampling, with optional per-model overrides."""
    with st.expander("System prompt and parameters (shared, with per-model overrides)", icon=":material/tune:"):
        system = st.text_area("System prompt", key="compare_system", height=68,
                              placeholder="Sent to every model (optional)")
        temperature, top_p, max_tokens = sampling_inputs("compare")
        shared = ChatParams(system, temperature, top_p, max_tokens)
        if keys:
            st.caption("Per-model overrides: leave blank to use the shared value.")
        overrides = {}
        for key in keys:
            name_col, inputs_col = st.columns([1, 3], vertical_alignment="bottom")
            name_col.markdown(f"`{key}`")
            with inputs_col:
                temperature, top_p, max_tokens = sampling_inputs(f"compare_override_{key}", compact=True)
            overrides[key] = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens}
    return {key: effective_params(shared, overrides.get(key)) for key in keys}


def sampling_inputs(prefix: str, *, compact: bool = False) -> tuple[float | None, float | None, int | None]:
    """Temperature, top p and max tokens; blank means the model's default (or the shared value)."""
    visibility = "collapsed" if compact else "visible"
    blank = "shared" if compact else "model default"
    t_col, p_col, m_col = st.columns(3)
    temperature = t_col.number_input("Temperature", 0.0, 2.0, value=None, step=0.1, key=f"{prefix}_temperature",
                                     placeholder=f"temperature: {blank}", label_visibility=visibility)
    top_p = p_col.number_input("Top p", 0.0, 1.0, value=None, step=0.05, key=f"{prefix}_top_p",
                               placeholder=f"top p: {blank}", label_visibility=visibility)
    max_tokens = m_col.number_input("Max tokens", 1, 1_000_000, value=None, step=64, key=f"{prefix}_max_tokens",
                                    placeholder=f"max tokens: {blank}", label_visibility=visibility)
    return temperature, top_p, int(max_tokens) if max_tokens is not None else None


# --- Panels ------------------------------------------------------------------------------------------------------

def draw_panels(models: list[ModelRecord], comparison: Comparison, prompt: str | None) -> dict[str, object]:
    """One bordered panel per model, three to a row: its thread so far; returns a placeholder per new reply."""
    slots = {}
    for start in range(0, len(models), COLUMNS):
        for model, column in zip(models[start:start + COLUMNS], st.columns(COLUMNS)):
            with column.container(border=True):
                slots[model.key] = draw_panel(model, comparison, prompt)
    return slots


def draw_panel(model: ModelRecord, comparison: Comparison, prompt: str | None) -> object:
    st.markdown(f"**{model.name}** :gray[· {model.provider}]")
    for round_ in comparison.rounds:
        if model.key in round_.replies:
            with st.chat_message("user"):
                st.markdown(displayable(round_.prompt, settings.reply_image_hosts))
            with st.chat_message("assistant"):
                show_reply(round_.replies[model.key], repeats=len(round_.runs.get(model.key, ())))
    slot = None
    if prompt:
        with st.chat_message("user"):
            st.markdown(displayable(prompt, settings.reply_image_hosts))
        with st.chat_message("assistant"):
            slot = st.empty()
    if st.button("Continue in chat", key=f"compare_handoff_{model.key}", icon=":material/chat:",
                 disabled=not comparison.thread(model.key), help="Carry this model's thread to the chat page"):
        hand_off(model.key, comparison)
    return slot


def show_reply(reply: Reply, *, elapsed: float | None = None, repeats: int = 1) -> None:
    """A reply: its text (with a cursor while streaming), then its error or numbers."""
    if reply.text:
        st.markdown(displayable(reply.text, settings.reply_image_hosts) + ("▌" if not reply.finished else ""))
    elif not reply.finished:
        st.markdown(":gray[_waiting for the first token…_]")
    if reply.error:
        st.error(f"{reply.error}\n\n{reply.hint}".strip(), icon=":material/error:")
    run = f"run {reply.run} of {repeats} · " if repeats > 1 else ""
    if reply.finished and reply.metrics is not None:
        st.caption(run + metrics_line(reply.metrics))
    elif elapsed is not None:
        st.caption(f"{run}{'streaming' if reply.text else 'waiting'}… {seconds(elapsed)}")


def hand_off(key: str, comparison: Comparison) -> None:
    """Carry one model's thread (and its parameters) to the chat page."""
    latest = comparison.latest
    params = latest.params.get(key, ChatParams()) if latest else ChatParams()
    st.session_state["chat_handoff"] = {"model": key, "messages": comparison.thread(key), "params": asdict(params)}
    st.switch_page("pages/chat.py", query_params={"model": key})


# --- Following a round -------------------------------------------------------------------------------------------

def follow(run: CompareRun, slots: dict[str, object], repeats: int) -> None:
    """Draw the replies as they arrive, every ~50 ms, until all have ended."""
    status = st.empty()
    drawn: dict[str, tuple[object, ...]] = {}
    finished = False
    while not finished:
        finished = run.wait(REFRESH)
        elapsed = seconds_since(run)
        for key, reply in run.snapshot().items():
            state = (len(reply.text), reply.status, reply.run, None if reply.finished else round(elapsed, 1))
            if drawn.get(key) != state:
                drawn[key] = state
                with slots[key].container():  # type: ignore[attr-defined]
                    show_reply(reply, elapsed=elapsed, repeats=repeats)
        done, total = run.progress
        status.progress(done / total, text=f"{done} of {total} replies · {seconds(elapsed)}"
                        + (f" · Run ×{repeats}" if repeats > 1 else ""))


def seconds_since(run: CompareRun) -> float:
    return time.perf_counter() - run.started


# --- Results -----------------------------------------------------------------------------------------------------

def show_results(comparison: Comparison, keys: list[str]) -> None:
    """The latest round's numbers: a table and a chart, repeated-run statistics, a diff, and the exports."""
    latest = comparison.latest
    if latest is None:
        return
    st.subheader("Results")
    frame = results_frame(latest.replies)
    fastest, cheapest = best(frame)
    st.caption(" · ".join(part for part in (
        f"Fastest: **{fastest}**" if fastest else "", f"Cheapest: **{cheapest}**" if cheapest else "",
        "Latest prompt; times in seconds, cost in USD.") if part))
    st.dataframe(highlight(frame), hide_index=True, placeholder="—", column_config={
        "TTFT (s)": st.column_config.NumberColumn(format="%.3f", help="Time to first token"),
        "Total (s)": st.column_config.NumberColumn(format="%.3f"),
        "Tokens/s": st.column_config.NumberColumn(format="%.0f"),
        "Cost ($)": st.column_config.NumberColumn(format="$%.6g")})
    chart = results_chart(frame)
    if chart is not None:
        st.altair_chart(chart)
    if any(len(runs) > 1 for runs in latest.runs.values()):
        repeats = max(len(runs) for runs in latest.runs.values())
        st.subheader(f"Run ×{repeats}")
        st.dataframe(stats_frame(latest.runs), hide_index=True, placeholder="—", column_config={
            name: st.column_config.NumberColumn(format="%.3f")
            for name in ("TTFT median (s)", "TTFT p95 (s)", "Total median (s)", "Total p95 (s)")})
    show_diff(latest.replies)
    show_exports(comparison, keys)


def highlight(frame: pd.DataFrame) -> pd.io.formats.style.Styler:
    """The fastest row's total time and the cheapest row's cost, on green."""
    def colour(row: pd.Series) -> list[str]:
        marks = row["Best"]
        return ["background-color: rgba(33, 195, 84, 0.25)"
                if (name == "Total (s)" and "fastest" in marks) or (name == "Cost ($)" and "cheapest" in marks)
                or (name == "Best" and marks) else "" for name in row.index]
    return frame.style.apply(colour, axis=1)


def results_chart(frame: pd.DataFrame) -> alt.FacetChart | None:
    """One small bar chart per measure; the fastest and the cheapest model in colour."""
    long = frame.melt(id_vars=["Model", "Best"], value_vars=list(CHART_METRICS), var_name="Measure",
                      value_name="Value").dropna(subset=["Value"])
    if long.empty:
        return None
    long["Best"] = long["Best"].replace("", "other")
    bars = alt.Chart(long).mark_bar().encode(
        x=alt.X("Value:Q", title=None),
        y=alt.Y("Model:N", title=None, sort=list(frame["Model"])),
        color=alt.Color("Best:N", title=None, scale=alt.Scale(
            domain=["fastest", "cheapest", "fastest, cheapest", "other"],
            range=["#f28e2b", "#21c354", "#9467bd", "#a0a4ab"]), legend=alt.Legend(orient="bottom")),
        tooltip=["Model", "Measure", alt.Tooltip("Value:Q", format=".4g"), "Best"],
    ).properties(width=330, height=28 * len(frame) + 10)
    return bars.facet(facet=alt.Facet("Measure:N", title=None, sort=list(CHART_METRICS)), columns=2).resolve_scale(
        x="independent")


def show_diff(replies: dict[str, Reply]) -> None:
    """A word-level diff between any two replies."""
    st.subheader("Difference between two replies")
    keys = [key for key, reply in replies.items() if reply.text]
    if len(keys) < 2:
        st.caption("At least two replies with text are needed.")
        return
    first_col, second_col = st.columns(2)
    first = first_col.selectbox("First reply", keys, index=0, key="compare_diff_first")
    second = second_col.selectbox("Second reply", keys, index=1, key="compare_diff_second")
    if first == second:
        st.caption("Pick two different replies.")
        return
    diff = word_diff(replies[first].text, replies[second].text)
    if diff.identical:
        st.success(f"The replies of {first} and {second} are identical, word for word.", icon=":material/check:")
        return
    counts = diff.counts
    st.caption(f"{diff.ratio:.0%} similar · {counts['delete']} words only in {first} (struck through) · "
               f"{counts['insert']} only in {second} (green)")
    st.markdown(diff_markdown(diff))


def show_exports(comparison: Comparison, keys: list[str]) -> None:
    """Downloads (Markdown, CSV, JSON) and the share link."""
    st.subheader("Export")
    link = share_link(keys)
    md_col, csv_col, json_col = st.columns(3)
    md_col.download_button("Markdown", export_markdown(comparison, share_url=link), "comparison.md",
                           "text/markdown", icon=":material/download:", use_container_width=True)
    csv_col.download_button("CSV", export_csv(comparison), "comparison.csv", "text/csv",
                            icon=":material/download:", use_container_width=True)
    json_col.download_button("JSON", export_json(comparison, share_url=link), "comparison.json",
                             "application/json", icon=":material/download:", use_container_width=True)
    st.caption("Share link: opens this page with the same models chosen.")
    st.code(link, language=None)


def share_link(keys: list[str]) -> str:
    base = st.context.url or "/compare"
    return f"{base.split('?')[0]}?{urlencode({'models': ','.join(keys)}, safe=',:/')}"


def new_comparison() -> None:
    st.session_state["comparison"] = Comparison()


# --- The page ----------------------------------------------------------------------------------------------------

settings, catalogue = page_setup("Compare", ":material/compare_arrows:")
st.title("Compare")
st.caption("One prompt to several models at once: replies stream side by side, with their numbers.")
status_banner(catalogue)
comparison: Comparison = st.session_state.setdefault("comparison", Comparison())

models_col, repeats_col, new_col = st.columns([7, 2, 3], vertical_alignment="bottom")
with models_col:
    keys = choose_models(catalogue)
repeats = int(repeats_col.number_input("Run ×N", 1, 20, value=1, key="compare_repeats",
                                       help="Send each prompt N times to every model and report the median and "
                                            "p95 times and the mean cost"))
new_col.button("New comparison", icon=":material/restart_alt:", on_click=new_comparison,
               disabled=not comparison.rounds, use_container_width=True)
params = choose_params(keys)
models = [model for model in (find_model(catalogue.models, key) for key in keys) if model is not None]

ready = len(models) >= MIN_MODELS
prompt = st.chat_input("Send to every model…" if ready else f"Choose at least {MIN_MODELS} models first",
                       submit_mode="stop", disabled=not ready, key="compare_prompt")
if not ready:
    st.info(f"Choose {MIN_MODELS} to {MAX_MODELS} models above, or select rows on the Models page and press "
            "*Compare selected*.", icon=":material/compare_arrows:")
else:
    sending = prompt.strip() if prompt and prompt.strip() else None
    if sending and (refusal := prompt_refusal(sending, settings)) is not None:
        show_refusal(refusal, sending, key="compare_refused_prompt")
        sending = None
    run = CompareRun(comparison.jobs(models, sending, params, repeats), settings).start() if sending else None
    try:  # the models are already answering while the panels are drawn
        slots = draw_panels(models, comparison, sending)
        if run is not None:
            follow(run, slots, repeats)
    finally:  # also when Stop (or any click) ends the script run: keep the partial replies
        if run is not None:
            run.stop()
            comparison.record(sending, params, run)
    if run is not None:
        st.rerun()
    if not comparison.rounds:
        st.caption("Type a prompt below: it goes to every model at once, and follow-ups continue each model's "
                   "own thread.")
    show_results(comparison, keys)
