"""Home: what this dashboard is, the proxy at a glance, and where to go next (the first page of the app)."""

import pandas as pd
import streamlit as st

import gateway
from gateway.health import GLANCE_CHECKS, run_probes
from ui import pages
from ui.format import ago
from ui.layout import page_setup, status_banner
from ui.markdown import plain

# The proxy's status comes from the health page's probes (bounded: a proxy that never answers costs at most
# health.DEADLINE, and discovery then does not wait on it again). The glance skips the heavy /model/info.
proxy_health = run_probes(settings := gateway.load_settings(), checks=GLANCE_CHECKS)
settings, catalogue = page_setup(pages.HOME, settings, proxy_down=proxy_health.down)

st.title("LLM Gateway Dashboard")
st.write("Chat with any model your LiteLLM proxy serves, compare several side by side on the same prompt, "
         "browse the catalogue of models with their context windows and prices, and check the proxy's health.")
status_banner(catalogue)

proxy_col, models_col, builtin_col = st.columns(3)
proxy_col.metric("Proxy", proxy_health.label,
                 help=f"{plain(proxy_health.summary)} See Proxy health for details and fixes.")
if proxy_health.proxy_version:
    proxy_col.caption(f"LiteLLM {plain(proxy_health.proxy_version)}")
models_col.metric("Proxy models", len(catalogue.litellm_models),
                  help=f"Refreshed {ago(catalogue.age)}" if catalogue.fetched_at else None)
builtin_col.metric("Built-in models usable", sum(1 for m in catalogue.models if m.route != "litellm" and m.available),
                   help="Direct OpenAI / Anthropic models whose key is set")

counts = pd.Series([p for m in catalogue.models for p in (m.providers or ("unknown",))]).value_counts()
if not counts.empty:
    st.subheader("Models by provider")
    st.bar_chart(counts.rename("models"), horizontal=True, height=min(60 + 28 * len(counts), 420))

st.subheader("Go to")
for page, column in zip(pages.PAGES[1:], st.columns(len(pages.PAGES) - 1)):
    column.page_link(page.path, label=page.label, icon=page.icon, help=page.help)
