"""Prompt library: saved prompts and system prompts, the analyst's own (to change or delete) and the team's shared
ones (to use or copy); picked from Chat and Compare beside their input."""

import streamlit as st

from gateway.store import get_store
from ui import analyst, pages
from ui.layout import page_setup
from ui.prompt_library import library_page
from ui.saving import saving_banner

settings, catalogue = page_setup(pages.PROMPTS)
store, owner = get_store(settings), analyst.owner()
st.title("Prompt library")
st.caption("Prompts and system prompts to reuse: `{{name}}` in a text is a variable, filled in when the prompt is "
           "used from Chat or Compare (*Prompt library*, beside the prompt box). Private ones are yours alone; "
           "shared ones the whole team can use and copy, and only you can change.")
saving_banner(store)
library_page(store, owner)
