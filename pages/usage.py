"""Usage: what I spent and used, by model and by day, from the app's own ledger; the team's too for admins."""

import streamlit as st

from gateway.store import get_store
from ui import analyst, pages
from ui.api_tokens import api_tokens_section
from ui.layout import page_setup
from ui.my_data import my_data_section
from ui.usage import key_section, my_usage, team_usage

settings, catalogue = page_setup(pages.USAGE)
store, me = get_store(settings), analyst.signed_in(settings)

st.title("Usage")
st.caption("Every reply the app sent for you: its cost (LiteLLM's own, or estimated from catalogue prices and marked "
           "so), tokens, time to first token and outcome. Clearing or deleting a chat does not take back its spend.")
my_usage(store, settings, me)
key_section(settings)
if me.admin:
    team_usage(store, settings)
if settings.auth_mode == "oidc":  # the API's sign-in then (in header mode it takes the proxy's header)
    api_tokens_section(store, me)
my_data_section(store, me)
