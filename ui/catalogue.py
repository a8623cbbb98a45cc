"""The Models page's data, per set of filters: the table and the chart points, cached for the page's reruns."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gateway.models import ModelRecord
from gateway.table import filter_models, models_frame, price_chart_frame


@st.cache_data(show_spinner=False, max_entries=64)
def catalogue_view(models: tuple[ModelRecord, ...], search: str, providers: tuple[str, ...], min_context: int,
                   capabilities: tuple[str, ...], sort: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table and the chart points for one set of filters, cached: a rerun with the same filters is free (each
    session gets its own copy of the frames, which it may change)."""
    shown = filter_models(models, search=search, providers=providers, min_context=min_context,
                          capabilities=capabilities)
    return models_frame(shown, sort), price_chart_frame(shown)
