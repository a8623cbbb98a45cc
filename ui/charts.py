"""Charts, built with Altair and cached as Vega-Lite specs (building an Altair chart costs ~100 ms a rerun)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st


@st.cache_data(show_spinner=False, max_entries=64)
def price_context_spec(points: pd.DataFrame) -> dict:
    """Blended price against context window (log scales), one colour per provider."""
    chart = alt.Chart(points).mark_circle(size=90, opacity=0.8).encode(
        x=alt.X("Context:Q", scale=alt.Scale(type="log"), title="Context window (tokens, log scale)"),
        y=alt.Y("Blended $/1M:Q", scale=alt.Scale(type="symlog"),
                title="Blended price, $ per 1M tokens (3:1 in:out)"),
        color=alt.Color("Provider:N"),
        tooltip=["Model", "Provider", alt.Tooltip("Context:Q", format=","), "Input $/1M", "Output $/1M"],
    )
    return chart.to_dict()
