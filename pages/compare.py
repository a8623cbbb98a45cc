"""Compare page: built in its own issue."""

import streamlit as st

from ui.layout import page_setup

settings, catalogue = page_setup("Compare", ":material/construction:")
st.title("Compare")
st.info("This page is being built.")
