"""Chat page: built in its own issue."""

import streamlit as st

from ui.layout import page_setup

settings, catalogue = page_setup("Chat", ":material/construction:")
st.title("Chat")
st.info("This page is being built.")
