"""Compare: one prompt to 2–6 models at once, their replies streaming side by side, with their numbers.

Stop (or any click) ends every stream and keeps the partial replies. Follow-ups continue each model's own thread, or
every model from the best reply of each voted round.
"""

import streamlit as st

from gateway import find_model
from gateway.compare import MAX_MODELS, MIN_MODELS
from gateway.conversation import Conversation, new_id
from gateway.errors import GatewayError
from gateway.sending import check_prompt, start_compare
from gateway.store import get_store
from ui import analyst, pages, spending
from ui import attachments as files_ui
from ui import sharing as sharing_ui
from ui.compare_inputs import choose_models, choose_params
from ui.compare_panels import draw_panels, stream_into_panels
from ui.compare_results import show_results
from ui.continue_best import continue_from
from ui.history import history_sidebar, open_linked
from ui.judge_round import judge_round_section
from ui.layout import page_setup, status_banner
from ui.prompt_library import picker as prompt_picker
from ui.refusal import show_refusal
from ui.saving import SETTLE, saving_banner
from ui.stopped import finished_after_stop
from ui.vote import blind_mode, still_blind, vote_on_round

settings, catalogue = page_setup(pages.COMPARE)
store, owner = get_store(settings), analyst.owner()
st.title("Compare")
st.caption("One prompt to several models at once: replies stream side by side, with their numbers.")
status_banner(catalogue)
saving_notice = st.container()  # filled at the end: after this run's writes
spending.budget_note(settings, store)
comparison: Conversation = st.session_state.setdefault("comparison", Conversation("compare"))

# --- A saved comparison by its link (?c=): its models are chosen again --------------------------------------------

if (arriving := open_linked(store, owner, "compare", comparison)) is not None:
    comparison = st.session_state["comparison"] = arriving
    st.query_params["models"] = ",".join(arriving.models)


def new_comparison() -> None:
    st.session_state["comparison"] = Conversation("compare")
    st.query_params.pop("c", None)


history_sidebar(store, owner, "compare", pages.COMPARE, comparison, on_new=new_comparison)
if comparison.rounds and st.query_params.get("c") != comparison.id:
    st.query_params["c"] = comparison.id  # e.g. after a stop, which ends the run before the link is updated

# --- Models, repeats and parameters --------------------------------------------------------------------------------

models_col, repeats_col, new_col = st.columns([7, 2, 3], vertical_alignment="bottom")
with models_col:
    keys = choose_models(catalogue)
repeats = int(repeats_col.number_input("Run ×N", 1, 20, value=1, key="compare_repeats",
                                       help="Send each prompt N times to every model and report the median and "
                                            "p95 times and the mean cost"))
new_col.button("New comparison", icon=":material/restart_alt:", disabled=not comparison.rounds, width="stretch",
              on_click=new_comparison)
params = choose_params(keys, catalogue)
models = [model for model in (find_model(catalogue.models, key) for key in keys) if model is not None]
comparison.models = [model.key for model in models]

# --- The round: every model answers at once ------------------------------------------------------------------------

ready = len(models) >= MIN_MODELS
prompt_picker(store, owner, key="compare", prompt_key="compare_prompt", system_key="compare_system",
              last_prompt=comparison.rounds[-1].prompt if comparison.rounds else "")
files_ui.restore_prompt("compare_prompt")
prompt = st.chat_input("Send to every model…" if ready else f"Choose at least {MIN_MODELS} models first",
                       submit_mode="stop", disabled=not ready, key="compare_prompt", accept_file="multiple",
                       file_type=files_ui.ACCEPTED)
sending, attachments = files_ui.compare_files(prompt, comparison, settings, key="compare_prompt")
if not ready:
    st.info(f"Choose {MIN_MODELS} to {MAX_MODELS} models above, or select rows on the Models page and press "
            "*Compare selected*.", icon=":material/compare_arrows:")
    st.stop()
if sending and (refusal := check_prompt(sending, settings, files=bool(attachments))) is not None:
    show_refusal(refusal, sending, key="compare_refused_prompt")  # not sent, not added: the page stays light
    sending = None
sending_key = new_id() if sending else None  # the round's key, chosen now: its blind order and its vote are by it
blind = blind_mode(store, owner, comparison, models, sending_key)  # names hidden and panels shuffled until the vote
if not blind.hidden:  # the expected cost names unpriced models, and costs are hidden until the vote
    spending.expected_cost_caption(comparison, models, params, repeats)
# The one door (gateway/sending.py): the prompt's limits (checked above too, before anything is drawn), the budget
# for every call of the round, attribution.
best = continue_from(store, owner, comparison, blind)  # "Continue from the best", or each model's own thread
outcome = start_compare(comparison, models, sending, params, repeats, settings, store,
                        analyst.sender("compare", comparison.id), attachments, best=best) if sending else None
if isinstance(outcome, GatewayError):  # the budget: not sent; the prompt is kept, every reply says why
    spending.refuse_round(comparison, models, sending or "", params, outcome, attachments)
    store.save_round(comparison, len(comparison.rounds) - 1, owner)
    sending, outcome = None, None
run = outcome.run if outcome is not None else None
with finished_after_stop():  # Stop: the page runs again and draws the stopped replies, their numbers, the link
    try:  # the models are already answering while the panels are drawn
        slots = draw_panels(models, comparison, sending, settings.reply_image_hosts, blind)
        if run is not None:
            stream_into_panels(run, slots, repeats, settings.reply_image_hosts, blind)
    finally:  # also when Stop (or any click) ends the script run: keep the partial replies
        if outcome is not None and sending is not None:
            outcome.run.stop()
            outcome.run.record(comparison, sending, params, attachments, key=sending_key, blind=blind.hidden)
            store.save_round(comparison, len(comparison.rounds) - 1, owner)  # queued: never holds the page
            outcome.settle()  # after the save: the round's cost is in the ledger (queued) before its hold goes
if run is not None:
    st.query_params["c"] = comparison.id  # the link to this comparison, from its first saved round
    st.rerun()

# --- The vote, then the results ------------------------------------------------------------------------------------

vote_on_round(store, owner, comparison, blind)
judge_round_section(store, owner, comparison, catalogue, settings, blind)
if not comparison.rounds:
    st.caption("Type a prompt below: it goes to every model at once, and follow-ups continue each model's own thread.")
show_results(comparison, keys, blind, on_diff=lambda: store.save_view(comparison, owner),  # the pair is kept
             withheld=still_blind(store, owner, comparison))  # exports name no model of an unvoted blind round
sharing_ui.share_conversation(store, owner, settings, comparison, blind.names)
with saving_notice:
    saving_banner(store, owner, settle=SETTLE)
