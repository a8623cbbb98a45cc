"""Page setup and the one sidebar every page shares: who is signed in, navigation, connection status, refresh.

Every page starts with `page_setup`, and it lets nobody further who is not signed in: they get the sign-in screen
and nothing else (ui/analyst.py).
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

import gateway
from gateway import Catalogue, GatewayError, Settings
from gateway.analyst import Analyst
from ui import analyst as analysts
from ui.format import ago
from ui.markdown import inline_code, plain
from ui.pages import FAVICON, PAGES, Page

BadgeColour = Literal["red", "orange", "green", "gray"]
_STATUS: dict[str, tuple[str, BadgeColour]] = {
    "live": ("Connected", "green"),
    "stale": ("Proxy not answering: showing the last good list", "orange"),
    "unavailable": ("Proxy not answering", "red"),
    "disabled": ("LiteLLM off: built-in models only", "gray"),
    "misconfigured": ("LiteLLM misconfigured", "red"),
}


def page_setup(page: Page, settings: Settings | None = None, *,
               proxy_down: GatewayError | None = None) -> tuple[Settings, Catalogue]:
    """Configure the page, make sure someone is signed in (else the sign-in screen, and the run ends), read the
    settings (unless given) as that analyst uses them (their own proxy key, if they have one) and the catalogue, and
    draw the shared sidebar.

    `proxy_down`: the page's own probes just found the proxy down, so discovery does not wait on it again.
    """
    st.set_page_config(page_title=f"{page.label} · LLM Gateway Dashboard", page_icon=FAVICON, layout="wide")
    settings = settings or gateway.load_settings()
    analyst = analysts.signed_in(settings)
    settings = settings.for_analyst(analyst.id)
    catalogue = gateway.fetch_models(settings, proxy_down=proxy_down)
    _sidebar(settings, catalogue, analyst)
    return settings, catalogue


def _refresh() -> None:
    result = gateway.refresh()
    if result.status == "live":
        st.session_state["_toast"] = (f"Refreshed: {len(result.litellm_models)} models from the proxy.", "✅")
    elif result.status in ("disabled", "misconfigured"):
        st.session_state["_toast"] = ("LiteLLM is not in use: nothing to refresh.", "ℹ️")
    else:
        st.session_state["_toast"] = (f"Refresh failed: {plain(result.error)}", "⚠️")


def _sidebar(settings: Settings, catalogue: Catalogue, analyst: Analyst) -> None:
    with st.sidebar:
        analysts.sidebar_identity(analyst, settings)
        for page in PAGES:
            st.page_link(page.path, label=page.label, icon=page.icon)
        st.divider()
        text, colour = _STATUS[catalogue.status]
        st.badge(text, color=colour)
        if settings.litellm_enabled:
            st.caption(f"Proxy {inline_code(settings.litellm_base_url)}")
        st.caption(f"{len(catalogue.litellm_models)} proxy models · {len(catalogue.models)} in all"
                   + (f" · refreshed {ago(catalogue.age)}" if catalogue.fetched_at else ""))
        st.button("Refresh models", icon=":material/refresh:", on_click=_refresh, width="stretch",
                  disabled=not settings.litellm_usable, help="Ask the proxy for its models again now.")
        for problem in settings.problems:
            st.warning(plain(str(problem)), icon=":material/settings:")
    if "_toast" in st.session_state:
        message, icon = st.session_state.pop("_toast")
        st.toast(message, icon=icon)


def status_banner(catalogue: Catalogue) -> None:
    """A banner when the list is stale, built-in only, or LiteLLM is misconfigured; nothing when live."""
    error = catalogue.error
    reason = plain(f"{str(error).rstrip('.')}. {error.hint}") if error else ""
    if catalogue.status == "stale":
        st.warning(f"The proxy's model list could not be fetched: {reason} Showing the last good list, "
                   f"fetched {ago(catalogue.age)}.", icon=":material/cloud_off:")
    elif catalogue.status == "unavailable":
        st.error(f"The proxy's model list could not be fetched: {reason} Only the built-in models are listed.",
                 icon=":material/cloud_off:")
    elif catalogue.status == "misconfigured":
        st.error(f"{plain(catalogue.error)} — only the built-in models are listed.", icon=":material/settings:")
    elif catalogue.status == "disabled":
        st.info("LiteLLM is not configured (set LITELLM_ENABLED=true and LITELLM_BASE_URL): only the built-in "
                "direct models are listed.", icon=":material/info:")
