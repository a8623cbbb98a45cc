"""The seam between Streamlit's secrets and the gateway's settings: gateway/ has no Streamlit, so the app hands it
`st.secrets` (`.streamlit/secrets.toml`, where Streamlit finds it) through `gateway.config.use_secrets`.

Importing `ui` does it (ui/__init__.py), so every page reads secrets; streamlit_app.py imports it for the API too.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from gateway import config


def streamlit_secrets() -> Mapping[str, object]:
    """Streamlit's secrets as a mapping; empty when there is no secrets file (a broken one is empty too: the
    settings loader catches what this raises)."""
    if st.secrets.load_if_toml_exists():
        return dict(st.secrets)
    return {}


config.use_secrets(streamlit_secrets)
