"""Evaluate: run a prompt set against 2–6 models, with automatic checks, a cost quote first, and a worker in the
background that can be stopped and resumed (also after the app restarts) without sending a finished call again."""

import streamlit as st

from gateway.store import get_store
from gateway.store.evaluation import Evaluations
from ui import analyst, pages
from ui import sharing as sharing_ui
from ui.evaluate import choose_run, new_run, progress, prompt_sets, run_results
from ui.judge import judge_section
from ui.judge_scores import scores_table
from ui.layout import page_setup, status_banner
from ui.markdown import plain
from ui.run_diff import compare_runs
from ui.saving import saving_banner

settings, catalogue = page_setup(pages.EVALUATE)
store, owner = get_store(settings), analyst.owner()
evaluations = Evaluations(store)
st.title("Evaluate")
st.caption("Send every prompt of a set to several models, check each reply against the expected answer, and vote on "
           "any row: votes feed the Leaderboard.")
status_banner(catalogue)
saving_banner(store)

# --- A prompt set, and a new run of it ------------------------------------------------------------------------------

st.subheader("Prompt set")
prompt_set = prompt_sets(evaluations, owner)
if prompt_set is not None:
    st.subheader("New run")
    new_run(evaluations, owner, prompt_set, catalogue, settings)

# --- Runs: progress and results -------------------------------------------------------------------------------------

st.subheader("Runs")
run = choose_run(evaluations, owner)
if run is None:
    st.stop()
st.markdown(f"**{plain(run.set_name)}** · {plain(', '.join(run.models))}")
progress(evaluations, owner, run, catalogue, settings)
run_results(store, evaluations, owner, run)
scores_table(evaluations, owner, run)
sharing_ui.share_run(store, owner, settings, run.id)
compare_runs(evaluations, owner, run)
judge_section(evaluations, owner, run, catalogue, settings)
