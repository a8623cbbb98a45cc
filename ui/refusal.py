"""A prompt the app will not send (gateway.sending.check_prompt: too long, or nothing visible in it): why, what to do,
and the text to take back."""

from __future__ import annotations

import streamlit as st

from gateway.errors import GatewayError
from ui.downloads import download_button


def show_refusal(error: GatewayError, prompt: str, key: str) -> None:
    """The refusal with the prompt's size, and the prompt itself as a download: nothing typed or pasted is lost."""
    st.error(str(error), icon=":material/block:")
    st.caption(error.hint)
    download_button(st, "Download your text", lambda: prompt, "prompt.txt", "text/plain", key=key)
