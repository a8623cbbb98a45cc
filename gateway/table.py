"""The catalogue as a table: filtering, sorting, and the frame the Models page shows and exports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from gateway.models import ModelRecord

COLUMNS = ("Model", "Provider", "Route", "Context", "Context source", "Max output", "Input $/1M", "Output $/1M",
           "Mode", "Capabilities", "Deployments", "Deployments differ", "Available")
DIFFER_HELP = ("Where one name's deployments differ, Context and Max output show the smallest (every request gets "
               "at least that) and prices the highest (the most a request costs).")
SORTS = {
    "Model": ("Model", True),
    "Provider": ("Provider", True),
    "Largest context": ("Context", False),
    "Cheapest input": ("Input $/1M", True),
    "Cheapest output": ("Output $/1M", True),
}


def providers(models: Iterable[ModelRecord]) -> list[str]:
    """Every provider, sorted."""
    return sorted({p for m in models for p in (m.providers or ("unknown",))})


def filter_models(models: Sequence[ModelRecord], *, search: str = "", providers: Sequence[str] = (),
                  min_context: int = 0, capabilities: Sequence[str] = ()) -> list[ModelRecord]:
    """The models matching every filter given. Search is case-insensitive over name, provider and mode."""
    words = search.lower().split()
    wanted = set(providers)
    kept = []
    for model in models:
        haystack = f"{model.id} {model.provider} {model.mode or ''} {model.route}".lower()
        if words and not all(word in haystack for word in words):
            continue
        if wanted and not wanted & set(model.providers or ("unknown",)):
            continue
        if min_context and (model.context_window or 0) < min_context:
            continue
        if not set(capabilities) <= set(model.capabilities):
            continue
        kept.append(model)
    return kept


def models_frame(models: Sequence[ModelRecord], sort: str = "Model") -> pd.DataFrame:
    """One row per model, indexed by catalogue key, sorted (unknown values last)."""
    rows = [{
        "key": m.key,
        "Model": m.name,
        "Provider": m.provider,
        "Route": m.route,
        "Context": m.context_window,
        "Context source": m.context_source,
        "Max output": m.max_output_tokens,
        "Input $/1M": m.input_price,
        "Output $/1M": m.output_price,
        "Mode": m.mode or "",
        "Capabilities": ", ".join(m.capabilities),
        "Deployments": m.deployments,
        "Deployments differ": m.spread,
        "Available": m.available,
    } for m in models]
    frame = pd.DataFrame(rows, columns=("key", *COLUMNS)).set_index("key")
    frame = frame.astype({"Context": "Int64", "Max output": "Int64", "Input $/1M": "Float64",
                          "Output $/1M": "Float64", "Deployments": "Int64"})
    column, ascending = SORTS.get(sort, SORTS["Model"])
    key = (lambda s: s.str.lower()) if frame[column].dtype == object else None
    return frame.sort_values(column, ascending=ascending, na_position="last", kind="stable", key=key)


def price_chart_frame(models: Sequence[ModelRecord]) -> pd.DataFrame:
    """Models with a known context window and prices: the points of the price-against-context chart."""
    rows = [{"Model": m.name, "Provider": m.provider, "Context": m.context_window,
             "Input $/1M": m.input_price, "Output $/1M": m.output_price,
             "Blended $/1M": round((3 * m.input_price + m.output_price) / 4, 4)}
            for m in models
            if m.context_window and m.input_price is not None and m.output_price is not None]
    return pd.DataFrame(rows, columns=("Model", "Provider", "Context", "Input $/1M", "Output $/1M", "Blended $/1M"))
