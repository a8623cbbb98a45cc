import streamlit as st

from ui import pages
from ui.layout import page_setup

settings, catalogue = page_setup(pages.EVALUATE)
st.title("Evaluate")
