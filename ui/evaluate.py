"""The evaluate page's parts: prompt sets (upload, paste, save, pick), a new run (models, quote, start), the runs
list, a run's progress (a fragment that only reads the background worker), and its results (summary, grid, exports,
one row side by side with a vote and a link to open it as a comparison)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from gateway import Catalogue, ModelRecord, Settings
from gateway.evaluation import quote as quoting
from gateway.evaluation import results, worker
from gateway.evaluation.prompt_sets import MAX_ROWS, PromptSet, SetError, clean_name, parse
from gateway.evaluation.runs import MAX_MODELS, MIN_MODELS, Cell, EvalRun, RunStatus
from gateway.evaluation.votes import eval_subject
from gateway.params import ChatParams
from gateway.safe_csv import frame_csv
from gateway.store import Store, Unavailable
from gateway.store.evaluation import Evaluations
from ui import pages, prompt_library
from ui.compare_inputs import sampling_inputs
from ui.downloads import download_button
from ui.format import count, seconds, usd
from ui.markdown import displayable, plain
from ui.reasoning import reasoning_inputs, reasons
from ui.reply import draw_reply
from ui.vote import vote_form

REFRESH = 1.0  # seconds between progress redraws while a run works


def _say(result: object, failed: str) -> bool:
    if isinstance(result, Unavailable):
        st.error(f"{failed}: {plain(result)}", icon=":material/cloud_off:")
        return False
    return True


# --- Prompt sets ---------------------------------------------------------------------------------------------------

def prompt_sets(evaluations: Evaluations, owner: str) -> PromptSet | None:
    """Add a set (upload or paste), and pick one of the analyst's sets."""
    found = evaluations.sets(owner)
    if isinstance(found, Unavailable):
        st.error(f"Your prompt sets cannot be read now: {plain(found)}", icon=":material/cloud_off:")
        found = []
    with st.expander("Add a prompt set", icon=":material/upload:", expanded=not found):
        _add_set(evaluations, owner)
    if not found:
        st.caption("No prompt sets yet: add one above (e.g. examples/prompt-set.csv).")
        return None
    by_id = {s.id: s for s in found}
    chosen = st.selectbox("Prompt set", list(by_id), key="eval_set",
                          format_func=lambda i: f"{by_id[i].name} · {count(len(by_id[i].rows), 'prompt')}, "
                                                f"{by_id[i].checked} with expected answers")
    prompt_set = by_id[chosen]
    with st.expander(f"The prompts of {plain(prompt_set.name)}", icon=":material/list:"):
        prompts = pd.DataFrame([r.to_dict() for r in prompt_set.rows])
        st.dataframe(prompts, hide_index=True, placeholder="—")
        # The table's own toolbar download is off (.streamlit/config.toml): this one writes no live formula.
        download_button(st, "CSV", lambda: frame_csv(prompts), "prompt-set.csv", "text/csv", key="eval_set_csv")
        if st.button("Delete this set", key="eval_set_delete", icon=":material/delete:") and _say(
                evaluations.delete_set(prompt_set.id, owner), "Not deleted"):
            st.rerun()
    return prompt_set


def _add_set(evaluations: Evaluations, owner: str) -> None:
    st.caption(f"A CSV (header row) or JSONL file, or pasted text, of up to {MAX_ROWS:,} prompts. Columns: `prompt`, "
               "optional `system_prompt`, `expected` (text the reply must contain, or `/a regular expression/`) and "
               "`tag`. Plain lines are one prompt each.")
    upload = st.file_uploader("File", type=["csv", "jsonl", "ndjson", "json", "txt"], key="eval_upload")
    pasted = st.text_area("…or paste", key="eval_paste", height=100,
                          placeholder="prompt,expected,tag\nWhat is 6 * 7?,42,arithmetic")
    template, system_prompt = prompt_library.for_a_set(evaluations.store, owner)
    default = upload.name.rsplit(".", 1)[0] if upload is not None else ""
    name = st.text_input("Name", value=default, key=f"eval_set_name_{default}", max_chars=120,
                         placeholder="e.g. arithmetic checks")
    if not st.button("Save set", key="eval_save_set", icon=":material/save:", disabled=not (upload or pasted.strip())):
        return
    try:
        rows = parse(upload.getvalue(), upload.name, template=template, system_prompt=system_prompt) \
            if upload is not None else parse(pasted, template=template, system_prompt=system_prompt)
    except (SetError, UnicodeDecodeError) as problem:
        st.error(f"The set was not saved: {plain(problem)}", icon=":material/error:")
        return
    if not clean_name(name):
        st.error("Give the set a name.", icon=":material/error:")
        return
    prompt_set = PromptSet(clean_name(name), rows)
    if _say(evaluations.save_set(prompt_set, owner), "The set was not saved"):
        st.session_state["_toast"] = (f"Saved {plain(prompt_set.name)}: {count(len(rows), 'prompt')}.", "✅")
        st.rerun()


# --- A new run -----------------------------------------------------------------------------------------------------

def new_run(evaluations: Evaluations, owner: str, prompt_set: PromptSet, catalogue: Catalogue,
            settings: Settings) -> None:
    """Models, sampling, the cost quote, and Start."""
    usable = sorted((m for m in catalogue.models if m.available), key=lambda m: (m.provider, m.name))
    by_key = {m.key: m for m in usable}
    keys = st.multiselect(f"Models ({MIN_MODELS}–{MAX_MODELS})", list(by_key), key="eval_models",
                          max_selections=MAX_MODELS, format_func=lambda k: f"{by_key[k].provider} · {by_key[k].name}")
    with st.expander("Parameters (shared by every call; each row keeps its own system prompt)", icon=":material/tune:"):
        temperature, top_p, max_tokens = sampling_inputs("eval")
        thinking = reasons(by_key.get(k) for k in keys) if keys else False
        effort, budget = reasoning_inputs(thinking, "eval", nested=True) if thinking is not False else (None, None)
    if len(keys) < MIN_MODELS:
        st.caption(f"Choose {MIN_MODELS} to {MAX_MODELS} models to get a quote.")
        return
    draft = EvalRun.of(prompt_set, keys, ChatParams("", temperature, top_p, max_tokens, effort, budget))
    wanted = (prompt_set.id, tuple(keys), draft.params)
    quote_col, start_col = st.columns(2)
    if quote_col.button("Get a cost quote", key="eval_quote", icon=":material/request_quote:", width="stretch"):
        with st.spinner("Counting the prompts' tokens…"):
            found = quoting.quote(draft, by_key, settings, _history(evaluations, keys))
            st.session_state["eval_quoted"] = (wanted, found)
    held = st.session_state.get("eval_quoted")
    quote = held[1] if held and held[0] == wanted else None
    if quote is not None:
        _show_quote(quote, draft)
    started = start_col.button("Start the run", key="eval_start", type="primary", icon=":material/play_arrow:",
                               disabled=quote is None, width="stretch",
                               help=None if quote else "Get the cost quote first")
    if started and quote is not None:
        run = EvalRun.of(prompt_set, keys, draft.params, quote.total)
        if (refused := worker.budget_refusal(run, owner, evaluations, settings, by_key)) is not None:
            st.error(plain(refused), icon=":material/block:")  # over budget: not created, not started
        elif _say(evaluations.create_run(run, owner), "The run was not created"):
            begun = worker.start(run, owner, evaluations, settings, by_key)
            if isinstance(begun, str):
                st.session_state["_toast"] = (plain(begun), "⚠️")
            st.session_state.pop("eval_quoted", None)
            st.query_params["run"] = run.id
            st.rerun()


def _history(evaluations: Evaluations, keys: Sequence[str]) -> dict[str, tuple[float, int]]:
    ledger = evaluations.ledger(keys)
    if isinstance(ledger, Unavailable) or ledger.empty:
        return {}
    grouped = ledger.dropna(subset=["completion_tokens"]).groupby("model")["completion_tokens"]
    return quoting.history_medians({k: (float(v.median()), len(v)) for k, v in grouped})


def _show_quote(quote: quoting.Quote, draft: EvalRun) -> None:
    total = quote.total
    st.markdown(f"**Quote:** {usd(total) if total is not None else 'unknown (a model has no price)'} for "
                f"{count(draft.cells_total, 'call')} ({count(quote.rows, 'prompt')} × "
                f"{count(len(quote.models), 'model')})")
    st.dataframe(pd.DataFrame([{"Model": m.model, "Input tokens": m.input_tokens,
                                "Output tokens a reply (est.)": m.output_tokens_each, "Cost ($)": m.cost}
                               for m in quote.models]), hide_index=True, placeholder="—",
                 column_config={"Cost ($)": st.column_config.NumberColumn(format="$%.6g")})
    st.caption(f"Based on: {plain(quote.basis)} Prices from the catalogue.")


# --- Runs ------------------------------------------------------------------------------------------------------------

def known_cost(run: EvalRun) -> float | None:
    """What a run cost, None when unknown: a run whose quote was unknown (a model has no price) and whose known costs
    add up to nothing never reports $0."""
    return None if run.quote is None and not run.cost else run.cost


def run_cost(run: EvalRun) -> str:
    """A run's cost in words: `$0.0123`, `at least $0.0123` (a model has no price), `cost unknown`."""
    if run.quote is not None:
        return usd(run.cost)
    return f"at least {usd(run.cost)} (a model has no price)" if run.cost else "cost unknown (a model has no price)"


def choose_run(evaluations: Evaluations, owner: str) -> EvalRun | None:
    """The analyst's runs (who, when, set, models, cost, status); the one in `?run=` is opened."""
    found = evaluations.runs(owner)
    if isinstance(found, Unavailable):
        st.error(f"Your runs cannot be read now: {plain(found)}", icon=":material/cloud_off:")
        return None
    wanted = st.query_params.get("run")
    if not found:
        if wanted:  # a link to a run, and this analyst has none: not theirs (or gone)
            st.warning("No run of yours has that link.", icon=":material/link_off:")
        st.caption("No runs yet: pick a prompt set and models above, get the quote, and start.")
        return None
    table = pd.DataFrame([{"Who": r.owner, "When": dt.datetime.fromtimestamp(r.created_at).strftime("%d %b %H:%M"),
                           "Set": r.set_name, "Models": ", ".join(r.models), "Cost ($)": known_cost(r),
                           "Quote ($)": r.quote, "Status": r.state().value,
                           "Done": f"{r.cells_done}/{r.cells_total}"} for r in found])
    picked = st.dataframe(table, hide_index=True, placeholder="—", on_select="rerun", selection_mode="single-row",
                          key="eval_runs",
                          column_config={"Cost ($)": st.column_config.NumberColumn(format="$%.6g"),
                                         "Quote ($)": st.column_config.NumberColumn(format="$%.6g")})
    rows = picked.selection.rows if picked is not None else []
    if rows and found[rows[0]].id != st.query_params.get("run"):
        st.query_params["run"] = found[rows[0]].id
    wanted = st.query_params.get("run")
    run = next((r for r in found if r.id == wanted), None)
    if wanted and run is None:
        loaded = evaluations.load_run(wanted, owner)  # older than the list shows
        run = loaded if isinstance(loaded, EvalRun) else None
        if run is None:
            st.warning("No run of yours has that link.", icon=":material/link_off:")
    return run


def progress(evaluations: Evaluations, owner: str, run: EvalRun, catalogue: Catalogue, settings: Settings) -> None:
    """The run's progress with ETA, Stop and Resume: redrawn every second while it works (reading only)."""
    working = worker.running(owner, run.id)
    live = (working is not None and working.alive) or run.state() is RunStatus.RUNNING
    st.fragment(run_every=REFRESH if live else None)(_progress)(evaluations, owner, run.id, catalogue, settings, live)


def _progress(evaluations: Evaluations, owner: str, run_id: str, catalogue: Catalogue, settings: Settings,
              live: bool) -> None:
    run = evaluations.load_run(run_id, owner)
    if not isinstance(run, EvalRun):
        return
    working = worker.running(owner, run_id)
    state = run.state()
    done = run.cells_done
    if working is not None and working.alive:
        now = working.progress()
        done = max(done, now.done)
        eta = f" · about {seconds(now.eta)} left" if now.eta is not None else ""
        st.progress(done / run.cells_total, text=f"{done:,} of {run.cells_total:,} cells · "
                                                 f"{seconds(now.elapsed)}{eta} · {run_cost(run)} so far")
        if now.message:
            st.caption(plain(now.message))
        if st.button("Stop", key="eval_stop", icon=":material/stop_circle:"):
            working.stop()
            working.wait(10)
            st.rerun(scope="app")
        return
    if live and state is not RunStatus.RUNNING:
        st.rerun(scope="app")  # it has just ended: draw the results and stop refreshing
    st.progress(done / run.cells_total if run.cells_total else 1.0,
                text=f"{state.value.capitalize()} · {done:,} of {run.cells_total:,} cells · {run_cost(run)}")
    if working is not None and working.progress().message:
        st.warning(plain(working.progress().message), icon=":material/pause_circle:")
    if state is RunStatus.RUNNING:
        st.caption("Running in another app process: progress shows here as cells are saved.")
    resumable = state in (RunStatus.STOPPED, RunStatus.INTERRUPTED)
    if resumable and st.button(f"Resume ({run.cells_total - done:,} cells left)", key="eval_resume",
                               icon=":material/play_arrow:", type="primary"):
        begun = worker.start(run, owner, evaluations, settings, catalogue_models(catalogue))
        if isinstance(begun, str):
            st.warning(plain(begun), icon=":material/warning:")
        else:
            st.rerun(scope="app")


def run_results(store: Store, evaluations: Evaluations, owner: str, run: EvalRun) -> None:
    """Summary per model, the grid, exports, and one row side by side."""
    cells = evaluations.cells(run.id, owner)
    if isinstance(cells, Unavailable):
        st.error(f"The results cannot be read now: {plain(cells)}", icon=":material/cloud_off:")
        return
    st.subheader("Per model")
    number = st.column_config.NumberColumn
    st.dataframe(results.summary(run, cells), hide_index=True, placeholder="—", column_config={
        results.Col.PASS_RATE: number(format="percent", help="Of the rows with an expected answer"),
        results.Col.TTFT_MEDIAN: number(format="%.3f"), results.Col.TOTAL_COST: number(format="$%.6g")})
    st.subheader("Prompt × model")
    st.caption("✓ passed its check · ✗ failed it · · no check; then the reply's total time. Select a row to see its "
               "replies side by side, vote on it, or open it as a comparison.")
    grid = st.dataframe(results.grid(run, cells), hide_index=True, placeholder="—", on_select="rerun",
                        selection_mode="single-row",
                        key=f"eval_grid_{run.id}")
    csv_col, json_col, _ = st.columns([1, 1, 2])
    download_button(csv_col, "CSV", lambda: results.to_csv(run, cells), f"evaluation-{run.id[:8]}.csv", "text/csv",
                    width="stretch", key=f"eval_csv_{run.id}")
    download_button(json_col, "JSON", lambda: results.to_json(run, cells), f"evaluation-{run.id[:8]}.json",
                    "application/json", width="stretch", key=f"eval_json_{run.id}")
    chosen = grid.selection.rows if grid is not None else []
    if chosen:
        row_detail(store, owner, run, chosen[0], cells)


def draw_row(run: EvalRun, row: int, cells: Sequence[Cell], *, missing: str) -> dict[str, Cell]:
    """One row of a run: its prompt and expected answer, then each model's reply side by side with its check
    (`missing`: what a model's empty place says); returns the row's cells by model."""
    prompt = run.rows[row]
    st.markdown(displayable(prompt.prompt))  # (model-facing text: drawn the way replies are)
    if prompt.expected:
        st.caption("Expected")
        st.code(prompt.expected, language=None)
    replies = {c.model: c for c in cells if c.row == row}
    for key, column in zip(run.models, st.columns(max(1, len(run.models)))):
        with column.container(border=True):
            st.markdown(f"**{plain(key)}**")
            cell = replies.get(key)
            if cell is None:
                st.caption(missing)
                continue
            if cell.passed is not None:
                st.caption("✓ passed the check" if cell.passed else "✗ failed the check")
            draw_reply(cell.reply)
    return replies


def row_detail(store: Store, owner: str, run: EvalRun, row: int, cells: Sequence[Cell]) -> None:
    st.subheader(f"Row {row + 1}")
    replies = draw_row(run, row, cells, missing="Not run yet.")
    if len(replies) >= 2 and all(c.reply.finished for c in replies.values()):
        with st.container(border=True):
            vote_form(store, owner, eval_subject(run.id, row), [k for k in run.models if k in replies],
                      what=f"row {row + 1}")
        if st.button("Open as a comparison", key=f"eval_open_{run.id}_{row}", icon=":material/compare_arrows:"):
            comparison = results.as_comparison(run, row, cells)
            store.save_conversation(comparison, owner)
            store.flush(2.0)
            st.switch_page(pages.COMPARE.path, query_params={"c": comparison.id})


def catalogue_models(catalogue: Catalogue) -> dict[str, ModelRecord]:
    return {m.key: m for m in catalogue.models}
