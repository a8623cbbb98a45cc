"""Health page: built in its own issue."""

import streamlit as st

from ui.layout import page_setup

settings, catalogue = page_setup("Health", ":material/construction:")
st.title("Health")
st.info("This page is being built.")
