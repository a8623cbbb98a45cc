"""Page setup and the one sidebar every page shares: navigation, connection status, refresh."""

from __future__ import annotations

import streamlit as st

import gateway
from gateway import Catalogue, Settings
from ui.format import ago

PAGES = (
    ("streamlit_app.py", "Home", ":material/home:"),
    ("pages/chat.py", "Chat", ":material/chat:"),
    ("pages/compare.py", "Compare", ":material/compare_arrows:"),
    ("pages/models.py", "Models", ":material/table_view:"),
    ("pages/health.py", "Proxy health", ":material/monitor_heart:"),
)
_STATUS = {
    "live": ("Connected", "green"),
    "stale": ("Proxy not answering: showing the last good list", "orange"),
    "unavailable": ("Proxy not answering", "red"),
    "disabled": ("LiteLLM off: built-in models only", "gray"),
    "misconfigured": ("LiteLLM misconfigured", "red"),
}


def page_setup(title: str, icon: str, settings: Settings | None = None) -> tuple[Settings, Catalogue]:
    """Configure the page, read the settings (unless given) and the catalogue, and draw the shared sidebar."""
    st.set_page_config(page_title=f"{title} · LLM Gateway Dashboard", page_icon=icon, layout="wide")
    settings = settings or gateway.load_settings()
    catalogue = gateway.fetch_models(settings)
    _sidebar(settings, catalogue)
    return settings, catalogue


def _refresh() -> None:
    result = gateway.refresh()
    if result.status == "live":
        st.session_state["_toast"] = (f"Refreshed: {len(result.litellm_models)} models from the proxy.", "✅")
    elif result.status in ("disabled", "misconfigured"):
        st.session_state["_toast"] = ("LiteLLM is not in use: nothing to refresh.", "ℹ️")
    else:
        st.session_state["_toast"] = (f"Refresh failed: {result.error}", "⚠️")


def _sidebar(settings: Settings, catalogue: Catalogue) -> None:
    with st.sidebar:
        for path, label, icon in PAGES:
            st.page_link(path, label=label, icon=icon)
        st.divider()
        text, colour = _STATUS[catalogue.status]
        st.badge(text, color=colour)
        if settings.litellm_enabled:
            st.caption(f"Proxy `{settings.litellm_base_url}`")
        st.caption(f"{len(catalogue.litellm_models)} proxy models · {len(catalogue.models)} in all"
                   + (f" · refreshed {ago(catalogue.age)}" if catalogue.fetched_at else ""))
        st.button("Refresh models", icon=":material/refresh:", on_click=_refresh, width="stretch",
                  disabled=not settings.litellm_usable, help="Ask the proxy for its models again now.")
        for problem in settings.problems:
            st.warning(str(problem), icon=":material/settings:")
    if "_toast" in st.session_state:
        message, icon = st.session_state.pop("_toast")
        st.toast(message, icon=icon)


def status_banner(catalogue: Catalogue) -> None:
    """A banner when the list is stale, built-in only, or LiteLLM is misconfigured; nothing when live."""
    error = catalogue.error
    reason = f"{str(error).rstrip('.')}. {error.hint}" if error else ""
    if catalogue.status == "stale":
        st.warning(f"The proxy's model list could not be fetched: {reason} Showing the last good list, "
                   f"fetched {ago(catalogue.age)}.", icon=":material/cloud_off:")
    elif catalogue.status == "unavailable":
        st.error(f"The proxy's model list could not be fetched: {reason} Only the built-in models are listed.",
                 icon=":material/cloud_off:")
    elif catalogue.status == "misconfigured":
        st.error(f"{catalogue.error} — only the built-in models are listed.", icon=":material/settings:")
    elif catalogue.status == "disabled":
        st.info("LiteLLM is not configured (set LITELLM_ENABLED=true and LITELLM_BASE_URL): only the built-in "
                "direct models are listed.", icon=":material/info:")
