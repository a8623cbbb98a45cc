"""Model catalogue: every model on offer, with provider, context window, prices and capabilities."""

import streamlit as st

from gateway import features
from gateway.safe_csv import frame_csv
from gateway.table import DIFFER_HELP, SORTS, providers
from ui import pages
from ui.catalogue import catalogue_view
from ui.charts import price_context_spec
from ui.downloads import download_button
from ui.format import ago
from ui.layout import page_setup, status_banner
from ui.markdown import inline_code, plain

settings, catalogue = page_setup(pages.MODELS)

st.title("Model catalogue")
status_banner(catalogue)
if catalogue.fetched_at:
    st.caption(f"{len(catalogue.litellm_models)} models from the proxy (`{catalogue.endpoint}`), "
               f"last refreshed {ago(catalogue.age)}; plus {len(catalogue.models) - len(catalogue.litellm_models)} "
               "built-in direct models. Context windows marked *estimated* come from the model's name.")
if missing := features.caption(features.lacking(catalogue, settings)):
    st.caption(f":material/info: {missing}")
differ = sum(1 for m in catalogue.litellm_models if m.deployments_differ)
if differ:
    st.caption(f"{differ} of the proxy's models load-balance over deployments that differ (*Deployments differ* "
               f"gives the ranges). {DIFFER_HELP}")

search_col, provider_col, context_col, caps_col, sort_col = st.columns([3, 3, 2, 2, 2])
search = search_col.text_input("Search", placeholder="name, provider or mode", key="catalogue_search")
chosen_providers = provider_col.multiselect("Provider", providers(catalogue.models), key="catalogue_providers")
min_context = context_col.selectbox(
    "Minimum context", (0, 8_000, 32_000, 128_000, 200_000, 1_000_000), key="catalogue_min_context",
    format_func=lambda n: "any" if n == 0 else f"{n:,} tokens")
capabilities = caps_col.multiselect("Capabilities", ("vision", "tools", "reasoning"), key="catalogue_caps")
sort = sort_col.selectbox("Sort by", tuple(SORTS), key="catalogue_sort")

frame, points = catalogue_view(catalogue.models, search, tuple(chosen_providers), min_context, tuple(capabilities),
                               sort)
st.caption(f"{len(frame)} of {len(catalogue.models)} models match.")

selection = st.dataframe(
    frame,
    hide_index=True,
    on_select="rerun",
    selection_mode="multi-row",
    key="catalogue_table",
    placeholder="—",
    column_config={
        "Context": st.column_config.NumberColumn(format="localized"),
        "Max output": st.column_config.NumberColumn(format="localized"),
        "Input $/1M": st.column_config.NumberColumn(format="$%.4g"),
        "Output $/1M": st.column_config.NumberColumn(format="$%.4g"),
        "Deployments differ": st.column_config.TextColumn(help=f"Ranges across the deployments. {DIFFER_HELP}"),
        "Available": st.column_config.CheckboxColumn(help="Direct models need their provider's key"),
    },
)
selected = [frame.index[row] for row in selection.selection.rows if row < len(frame)]

if selected:
    st.write(f"**Selected:** {', '.join(inline_code(key) for key in selected)}")
    chat_col, compare_col, _ = st.columns([2, 2, 6])
    chat_col.page_link(pages.CHAT.path, label=f"Chat with {plain(selected[0])}", icon=":material/chat:",
                       query_params={"model": selected[0]})
    if len(selected) >= 2:
        compare_col.page_link(pages.COMPARE.path, label=f"Compare selected ({len(selected[:6])})",
                              icon=":material/compare_arrows:", query_params={"models": ",".join(selected[:6])})
    else:
        compare_col.caption("Select 2–6 rows to compare.")
else:
    st.caption("Select rows in the table to chat with a model or compare several.")

download_button(st, "Download CSV", lambda: frame_csv(frame, index=True), "models.csv", "text/csv")

st.subheader("Price against context window")
if points.empty:
    st.caption("No model in the current selection has both a known price and a known context window.")
else:
    st.vega_lite_chart(spec=price_context_spec(points), width="stretch")
    st.caption("Bottom right is the most context for the least money.")
