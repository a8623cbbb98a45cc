"""Chat: one model, streamed, with each reply's numbers under it; errors stay in the conversation as plain words."""

import streamlit as st

import gateway
from gateway import exports
from gateway.chat import RESEND_RATE
from gateway.conversation import Conversation, Round, messages_for
from gateway.errors import GatewayError
from gateway.models import ModelRecord
from gateway.params import ChatParams
from gateway.reply import Outcome, Reply, ReplyError
from gateway.sending import check_prompt, send_chat
from gateway.store import get_store
from gateway.tokens import ContextFit, context_fit, remember_reply
from ui import analyst, pages, spending
from ui import attachments as files_ui
from ui import sharing as sharing_ui
from ui.downloads import download_button
from ui.history import history_sidebar, open_linked
from ui.layout import page_setup, status_banner
from ui.live import LiveReply
from ui.markdown import displayable, escape_dollars, inline_code
from ui.prompt_library import picker as prompt_picker
from ui.reasoning import reasoning_inputs, reasoning_state
from ui.refusal import show_refusal
from ui.reply import draw_reply, metrics_line, model_facts
from ui.saving import SETTLE, saving_banner
from ui.stopped import finished_after_stop

CHAT_MODES = (None, "chat", "completion", "responses")
HAND_OVER_TURNS = 6  # new turns the fragment draws before the page takes them over (a full-page rerun)
PARAM_KEYS = {"system_prompt": "chat_system_prompt", "temperature": "chat_temperature", "top_p": "chat_top_p",
              "max_tokens": "chat_max_tokens"}

settings, catalogue = page_setup(pages.CHAT)
store, owner = get_store(settings), analyst.owner()
models = {m.key: m for m in sorted(catalogue.models, key=lambda m: (m.provider, m.name))
          if m.available and m.mode in CHAT_MODES}
conversation: Conversation = st.session_state.setdefault("chat_conversation", Conversation())

# --- Arrival: a saved chat by its link (?c=), one handed over by the compare page, or a link naming a model ---------

if (arriving := st.session_state.pop("chat_handoff", None)) is not None:  # "Continue in chat": saved at once
    store.save_conversation(arriving, owner)
    st.query_params["c"] = arriving.id
else:
    arriving = open_linked(store, owner, "chat", conversation)
if arriving is not None:
    conversation = st.session_state["chat_conversation"] = arriving
    for name, key in PARAM_KEYS.items():
        st.session_state[key] = getattr(conversation.params, name)
    st.session_state.update(reasoning_state(conversation.params, "chat"))
    if (used := conversation.used_models()) and used[-1] in models and "model" not in st.query_params:
        st.session_state["chat_model"] = used[-1]  # continue with the model that answered last
for name, key in PARAM_KEYS.items():  # first visit: the parameters last used
    st.session_state.setdefault(key, getattr(conversation.params, name))
for key, value in reasoning_state(conversation.params, "chat").items():
    st.session_state.setdefault(key, value)


def new_chat() -> None:
    st.session_state["chat_conversation"] = Conversation()
    st.query_params.pop("c", None)


new_entry = history_sidebar(store, owner, "chat", pages.CHAT, conversation, on_new=new_chat, new_in_fragment=True)
if conversation.rounds and st.query_params.get("c") != conversation.id:
    st.query_params["c"] = conversation.id  # e.g. after a stop, which ends the run before the link is updated

asked = st.query_params.get("model")
if asked in models:
    st.session_state["chat_model"] = asked  # the URL decides: a link reproduces the view
elif st.session_state.get("chat_model") not in models and models:
    st.session_state["chat_model"] = next((k for k, m in models.items() if m.route == "litellm"), next(iter(models)))


def follow_picker() -> None:
    st.query_params["model"] = st.session_state["chat_model"]


# --- Model and parameters -------------------------------------------------------------------------------------------

st.title("Chat")
status_banner(catalogue)
if asked and asked not in models:
    st.warning(f"{inline_code(asked)} is not among the models on offer right now. The list may be out of date.",
               icon=":material/help:")
    st.button("Refresh models", key="chat_refresh_asked", icon=":material/refresh:", on_click=gateway.refresh)

picker_col, facts_col = st.columns([3, 2], vertical_alignment="bottom")
model_key = picker_col.selectbox(
    "Model", tuple(models), key="chat_model", on_change=follow_picker, persist_state="session",
    format_func=lambda key: f"{models[key].provider} · {models[key].name}",
    placeholder="No model available", help="Grouped by provider. Type to search.")
model: ModelRecord | None = models.get(model_key)
if model is not None:
    st.query_params["model"] = model.key
    facts_col.caption(escape_dollars(model_facts(model)))  # two prices on a line are not LaTeX
prompt_picker(store, owner, key="chat", prompt_key="chat_prompt", system_key="chat_system_prompt",
              last_prompt=conversation.rounds[-1].prompt if conversation.rounds else "")

with st.sidebar:
    st.subheader("Chat settings")
    system_prompt = st.text_area("System prompt", key="chat_system_prompt", height=90, persist_state="session")
    temperature = st.number_input("Temperature", 0.0, 2.0, step=0.1, key="chat_temperature", persist_state="session",
                                  placeholder="model default")
    top_p = st.number_input("Top p", 0.0, 1.0, step=0.05, key="chat_top_p", persist_state="session",
                            placeholder="model default")
    max_tokens = st.number_input("Max tokens", 1, 1_000_000, step=256, key="chat_max_tokens",
                                 persist_state="session", placeholder="model default")
    effort, thinking_budget = reasoning_inputs(model, "chat", persist=True)
params = ChatParams(system_prompt or "", temperature, top_p, int(max_tokens) if max_tokens else None, effort,
                    thinking_budget)


# --- The conversation -----------------------------------------------------------------------------------------------
# The page draws the turns so far; a fragment draws new ones. Sending a prompt reruns only the fragment, so the
# browser does not redraw the page and the whole history before it can show the first token.

def show_reply(reply: Reply, text_slot=None, *, last: bool = False) -> None:
    """A reply with its outcome and numbers (naming its model when it is not the one picked now)."""
    draw_reply(reply, text_slot=text_slot, prefix=f"{reply.model} · " if reply.model != model_key else "",
               image_hosts=settings.reply_image_hosts)
    if last and reply.error and reply.error.kind == "model_not_found" and st.button(
            "Refresh models", key="chat_refresh_missing", icon=":material/refresh:"):
        gateway.refresh()
        st.rerun()  # the whole page, not just the fragment: the picker and the sidebar's counts change too


def show_fit(fit: ContextFit) -> None:
    """How full the model's context window is, and a warning when the next request cannot fit."""
    counted = "counted by the proxy" if fit.source == "proxy" else "estimated"
    if fit.limit:
        st.progress(min(fit.fraction or 0.0, 1.0),
                    text=f"Context: {fit.used + fit.reserve:,} of {fit.limit:,} tokens ({fit.fraction:.0%}, {counted})")
    else:
        st.caption(f"Context: {fit.used:,} tokens ({counted}); this model's window is unknown.")
    if not fit.fits:
        st.warning("The conversation no longer fits this model's context window: the next request would be "
                   "refused. Clear the conversation, lower Max tokens, or pick a model with a larger window.",
                   icon=":material/warning:")
    elif fit.nearly_full:
        st.warning("The context window is nearly full.", icon=":material/warning:")


def show_round(index: int) -> None:
    round_ = conversation.rounds[index]
    with st.chat_message("user"):
        st.markdown(displayable(round_.prompt, settings.reply_image_hosts))
        files_ui.draw_attachments(round_.attachments)
    if (reply := round_.reply()) is not None:
        with st.chat_message("assistant"):
            show_reply(reply, last=index == len(conversation.rounds) - 1)


def answer(round_: Round, model: ModelRecord, params: ChatParams, images: bool = True) -> None:
    """Send the conversation through the one door (gateway/sending.py: context fit, budget, attribution) and stream
    the reply into the round; a request the door refuses is not sent, and the refusal is the round's reply.
    Without `images`, attached images are named instead of sent (a model without vision)."""
    conversation.params = params
    messages = messages_for(conversation.history(images=images), params)
    sending = send_chat(model, messages, params, settings, store, analyst.sender("chat", conversation.id))
    with st.chat_message("assistant"):
        if isinstance(sending, GatewayError):
            reply = round_.add(Reply(model.key, outcome=Outcome.FAILED, error=ReplyError.of(sending)), params)
            store.save_round(conversation, len(conversation.rounds) - 1, owner)
            show_reply(reply, last=True)
            return
        stream = sending.stream
        slot = st.empty()
        live = LiveReply(slot, settings.reply_image_hosts)
        with finished_after_stop():  # Stop: the page runs again and draws the stopped reply, its numbers, the link
            try:
                for _ in stream.batched(resend_rate=RESEND_RATE):
                    live.update(stream.reply)
            finally:  # also when the analyst stops or leaves mid-reply: the partial text is kept, marked stopped
                stream.close()
                round_.add(stream.reply, params)
                store.save_round(conversation, len(conversation.rounds) - 1, owner)  # queued: never holds the page
                sending.settle()  # after the save: the reply's cost is in the ledger (queued) before its hold goes
        remember_reply(model, messages, stream.reply, settings)  # the context meter below needs no second request
        show_reply(stream.reply, slot, last=True)


@st.fragment
def conversation_view(model: ModelRecord | None, params: ChatParams, drawn: int) -> None:
    """The turns added since the page drew the first `drawn`, the prompt box (pinned to the bottom), a new reply
    as it streams in, what can be done with the conversation, and how full the context window is."""
    for index in range(drawn, len(conversation.rounds)):
        show_round(index)

    files_ui.restore_prompt("chat_prompt")
    prompt = st.bottom.chat_input(f"Message {model.name}" if model else "Pick a model first", key="chat_prompt",
                                  submit_mode="stop", disabled=model is None, accept_file="multiple",
                                  file_type=files_ui.ACCEPTED)
    typed = getattr(prompt, "text", None) or ""
    if prompt and model is not None and (refusal := check_prompt(
            typed, settings, files=bool(getattr(prompt, "files", None)))) is not None:
        show_refusal(refusal, typed, key="chat_refused_prompt")  # not sent, not added: the page stays light
        prompt = None
    outgoing = files_ui.incoming(prompt, conversation, model, models, params, settings, key="chat_prompt")
    if outgoing and model is not None:
        text, attachments, images = outgoing
        conversation.add_prompt(text, attachments)
        with st.chat_message("user"):
            st.markdown(displayable(text, settings.reply_image_hosts))
            files_ui.draw_attachments(attachments)

    if model is not None and (outgoing or st.session_state.pop("chat_resend", False)) and conversation.awaiting_reply:
        answer(conversation.rounds[-1], model, params, images=outgoing[2] if outgoing else
               model.supports_vision is not False)
        st.query_params["c"] = conversation.id  # the link to this chat, from its first saved turn
        if len(conversation.rounds) - drawn >= HAND_OVER_TURNS:
            st.rerun()  # the whole page: it draws these turns from now on, and the fragment starts empty again
    new_entry.draw(conversation)  # a new chat in the history sidebar, from its first reply, without a page run

    if conversation.rounds:
        regenerate_col, edit_col, clear_col, md_col, json_col = st.columns(5)
        # These change earlier turns, which the fragment does not draw: each reruns the whole page.
        if regenerate_col.button("Regenerate", icon=":material/refresh:", width="stretch", key="chat_regenerate",
                                 disabled=model is None or conversation.last_prompt is None):
            st.session_state["chat_resend"] = conversation.regenerate()
            st.rerun()
        edit = edit_col.popover("Edit last prompt", icon=":material/edit:", width="stretch", key="chat_edit_menu",
                                disabled=conversation.last_prompt is None, on_change="rerun")
        if edit.open:  # its contents drawn only while open (opening it reruns this fragment), not after every reply
            with edit:
                edited = st.text_area("Last prompt", conversation.last_prompt or "",
                                      key=f"chat_edit_{len(conversation.rounds)}")
                if st.button("Resend", key="chat_resend_edited", icon=":material/send:", disabled=model is None):
                    conversation.edit_last_prompt(edited)
                    st.session_state["chat_resend"] = True
                    st.rerun()
        if clear_col.button("Clear", icon=":material/delete:", width="stretch", key="chat_clear"):
            conversation.clear()
            store.save_conversation(conversation, owner)
            st.rerun()
        # Made when clicked, not on every run: a long conversation's exports would otherwise be rebuilt (and kept
        # in memory) after every reply.
        download_button(md_col, "Markdown", lambda: exports.to_markdown(conversation, metrics_line=metrics_line),
                        "chat.md", "text/markdown", width="stretch", key="chat_md")
        download_button(json_col, "JSON", lambda: exports.to_json(conversation), "chat.json", "application/json",
                        width="stretch", key="chat_json")
        sharing_ui.share_conversation(store, owner, settings, conversation)

    saving_notice = st.container()  # here, so that a prompt (which reruns only this fragment) shows it too
    if model is not None:
        show_fit(context_fit(model, messages_for(conversation.history(images=model.supports_vision is not False),
                                                 params), settings,
                             max_tokens=params.max_tokens))
    elif not models:
        st.info("No model is available: connect the proxy, or set OPENAI_API_KEY / ANTHROPIC_API_KEY.")
    spending.budget_note(settings, store)  # after each reply: it may have crossed 80 % or 100 % of the budget
    with saving_notice:  # last: the reply's write has had the fit and budget checks' time to land
        saving_banner(store, owner, settle=SETTLE)


for index in range(len(conversation.rounds)):
    show_round(index)
conversation_view(model, params, len(conversation.rounds))
