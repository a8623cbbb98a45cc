"""The compare page's inputs: which models (the URL follows the selection) and their parameters."""

from __future__ import annotations

from typing import Literal

import streamlit as st

from gateway import Catalogue, find_model
from gateway.compare import MAX_MODELS, MIN_MODELS
from gateway.compare.links import parse_models_param
from gateway.params import ChatParams
from ui.markdown import inline_code, plain
from ui.reasoning import reasoning_inputs

MAX_LINK_REFS = 100  # models read from a ?models= link; a longer one is not a link anyone shared


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
    keys: list[str] = []
    problems: list[str] = []
    unknown: list[str] = []
    if len(refs) > MAX_LINK_REFS:
        problems.append(f"The link names {len(refs):,} models: only the first {MAX_LINK_REFS} were read.")
        refs = refs[:MAX_LINK_REFS]
    for ref in refs:
        model = find_model(catalogue.models, ref)
        if model is None:
            unknown.append(ref)
        elif not model.available:
            problems.append(f"{plain(model.name)} from the link is not available ({plain(model.unavailable_reason)}).")
        elif model.key not in keys:
            keys.append(model.key)
    if unknown:  # one message however many: a link may name hundreds, or carry any text
        more = f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else ""
        problems.insert(0, f"{', '.join(inline_code(ref) for ref in unknown[:5])}{more} from the link "
                        f"{'is' if len(unknown) == 1 else 'are'} not in the catalogue, so "
                        f"{'it was' if len(unknown) == 1 else 'they were'} left out.")
    if len(keys) > MAX_MODELS:
        left_out = ", ".join(inline_code(key) for key in keys[MAX_MODELS:])
        problems.append(f"At most {MAX_MODELS} models can be compared: left out {left_out}.")
    return keys[:MAX_MODELS], problems


# --- Parameters --------------------------------------------------------------------------------------------------

def choose_params(keys: list[str], catalogue: Catalogue | None = None) -> dict[str, ChatParams]:
    """The shared system prompt and sampling, with optional per-model overrides, and each reasoning model's effort
    and thinking budget (ui/reasoning.py: offered by what the catalogue says of the model)."""
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
            name_col.markdown(inline_code(key))
            with inputs_col:
                temperature, top_p, max_tokens = sampling_inputs(f"compare_override_{key}", compact=True)
                model = find_model(catalogue.models, key) if catalogue is not None else None
                effort, budget = reasoning_inputs(model, f"compare_override_{key}", compact=True, nested=True)
            overrides[key] = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens,
                              "reasoning_effort": effort, "thinking_budget": budget}
    return {key: shared.with_overrides(overrides.get(key)) for key in keys}


def sampling_inputs(prefix: str, *, compact: bool = False) -> tuple[float | None, float | None, int | None]:
    """Temperature, top p and max tokens; blank means the model's default (or the shared value)."""
    visibility: Literal["collapsed", "visible"] = "collapsed" if compact else "visible"
    blank = "shared" if compact else "model default"
    t_col, p_col, m_col = st.columns(3)
    temperature = t_col.number_input("Temperature", 0.0, 2.0, value=None, step=0.1, key=f"{prefix}_temperature",
                                     placeholder=f"temperature: {blank}", label_visibility=visibility)
    top_p = p_col.number_input("Top p", 0.0, 1.0, value=None, step=0.05, key=f"{prefix}_top_p",
                               placeholder=f"top p: {blank}", label_visibility=visibility)
    max_tokens = m_col.number_input("Max tokens", 1, 1_000_000, value=None, step=64, key=f"{prefix}_max_tokens",
                                    placeholder=f"max tokens: {blank}", label_visibility=visibility)
    return temperature, top_p, int(max_tokens) if max_tokens is not None else None
