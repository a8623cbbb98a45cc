"""The usage page's charts (Altair): cost per day stacked by a series (model or analyst), and totals per model."""

from __future__ import annotations

import altair as alt
import pandas as pd

from gateway.usage import Col


def cost_by_day(data: pd.DataFrame, series: str) -> alt.Chart:
    """Bars per day, stacked by `series` (Col.MODEL or Col.ANALYST), with tokens in the tooltip."""
    shown = pd.DataFrame({"day": pd.to_datetime(data[Col.DAY]), "series": data[series], "cost": data[Col.COST],
                          "tokens": data[Col.TOKENS]})
    return alt.Chart(shown).mark_bar().encode(
        x=alt.X("yearmonthdate(day):O", title=None, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("sum(cost):Q", title="Cost ($)"),
        color=alt.Color("series:N", title=series),
        tooltip=[alt.Tooltip("yearmonthdate(day):T", title="Day"), alt.Tooltip("series:N", title=series),
                 alt.Tooltip("sum(cost):Q", title="Cost ($)", format="$.4f"),
                 alt.Tooltip("sum(tokens):Q", title="Tokens", format=",")],
    ).properties(height=260)


def per_model(data: pd.DataFrame, measure: str, title: str, fmt: str) -> alt.Chart:
    """One horizontal bar per model for `measure` (a column of a per-model summary)."""
    shown = pd.DataFrame({"model": data[Col.MODEL], "value": data[measure]})
    return alt.Chart(shown).mark_bar().encode(
        y=alt.Y("model:N", sort="-x", title=None),
        x=alt.X("value:Q", title=title),
        tooltip=[alt.Tooltip("model:N", title="Model"), alt.Tooltip("value:Q", title=title, format=fmt)],
    ).properties(height=min(40 + 28 * len(shown), 360))
