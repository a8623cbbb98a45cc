"""Attachments on the chat page: the files under a prompt (thumbnails, table previews, token costs), the checks
before a prompt with files is sent, and the question asked before images go to a model without vision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from gateway.attachments import FILE_TYPES, Attachment, Limits, prepare_message, table_preview, user_content
from gateway.attachments.thumbnail import thumbnail_url
from gateway.config import Settings
from gateway.conversation import Conversation, messages_for
from gateway.models import ModelRecord
from gateway.params import ChatParams
from gateway.tokens import count_attachments, fit_before_sending
from ui.markdown import plain

THUMBNAIL_WIDTH = 240
PREVIEW_ROWS = 50
ACCEPTED = list(FILE_TYPES)  # for st.chat_input(file_type=...)


def draw_attachments(attachments: Sequence[Attachment]) -> None:
    """The files of one prompt, under it: image thumbnails (inline in the page: no link to them exists), table
    previews with their size, documents' page counts; each with its token cost (the proxy's count, or an estimate)."""
    for attachment in attachments:
        cost = (f"{attachment.tokens:,} tokens (counted by the proxy)" if attachment.counted_tokens is not None
                else f"≈ {attachment.tokens:,} tokens (estimated)")
        if attachment.kind == "image":
            url = thumbnail_url(attachment.data, THUMBNAIL_WIDTH)
            if url is None:
                st.caption(f":material/broken_image: {plain(attachment.facts)} · {cost}")
            else:
                st.image(url, caption=f"{plain(attachment.facts)} · {cost}", width=THUMBNAIL_WIDTH)
        elif attachment.kind == "table":
            st.caption(f":material/table: {plain(attachment.facts)} · {cost}")
            st.dataframe(table_preview(attachment, PREVIEW_ROWS), height=200, hide_index=True)
        else:
            icon = ":material/picture_as_pdf:" if attachment.kind == "document" else ":material/description:"
            st.caption(f"{icon} {plain(attachment.facts)} · {cost}")


def incoming(prompt: Any, conversation: Conversation, model: ModelRecord | None, models: Mapping[str, ModelRecord],
             params: ChatParams, settings: Settings, *, key: str) -> tuple[str, list[Attachment], bool] | None:
    """What to send now: (text, files, send images?), or None. Draws the problems of the last try (the prompt is
    put back in the box) and the vision question while it waits for an answer. `key` is the chat_input's key."""
    for problem in st.session_state.pop(f"{key}_problems", ()):
        st.error(plain(problem), icon=":material/attach_file_off:")
    pending = st.session_state.get(f"{key}_pending")
    if prompt and model is not None:
        text, files = prompt.text or "", list(getattr(prompt, "files", None) or ())
        limits = Limits.from_settings(settings)
        attachments, problems = prepare_message(((f.name, f.getvalue()) for f in files), limits,
                                                conversation.attachment_bytes)
        if not problems and attachments:
            attachments = count_attachments(model, attachments, settings)
            problems = _fit_problems(text, attachments, conversation, model, params, settings)
        if problems:
            _refuse(key, text, problems)
        if not (text.strip() or attachments):
            return None
        if model.supports_vision is False and any(a.kind == "image" for a in attachments):
            st.session_state[f"{key}_pending"] = (text, attachments)
            pending = st.session_state[f"{key}_pending"]
        else:
            return text, attachments, model.supports_vision is not False
    if pending is not None and model is not None:
        return _ask_vision(pending, model, models, key=key)
    return None


def _fit_problems(text: str, attachments: list[Attachment], conversation: Conversation, model: ModelRecord,
                  params: ChatParams, settings: Settings) -> list[str]:
    images = model.supports_vision is not False
    messages = messages_for(conversation.history(images=images)
                            + [{"role": "user", "content": user_content(text, attachments, images=images)}], params)
    fit = fit_before_sending(model, messages, settings, max_tokens=params.max_tokens)
    if fit.fits:
        return []
    files = ", ".join(f"{a.name}: {a.tokens:,}" if a.counted_tokens is not None else f"{a.name} ≈ {a.tokens:,}"
                      for a in attachments)
    return [f"Not sent: with its files ({files} tokens) this message brings the conversation to about "
            f"{fit.used:,} tokens{f' plus {fit.reserve:,} for the reply' if fit.reserve else ''}, and {model.name} "
            f"takes {fit.limit:,}. Attach less (a smaller file or fewer rows), or pick a model with a larger window."]


def _refuse(key: str, text: str, problems: list[str]) -> None:
    """Nothing is sent: the problems are shown and the prompt goes back into the box (a rerun of the fragment)."""
    st.session_state[f"{key}_problems"] = [*problems, "Nothing was sent" + (": your text is back in the box; attach "
                                                                            "the files again." if text else ".")]
    if text:
        st.session_state[f"{key}_kept"] = text
    _rerun_fragment()


def restore_prompt(key: str) -> None:
    """Call before drawing the chat_input: puts back a prompt that was not sent."""
    if (kept := st.session_state.pop(f"{key}_kept", None)) is not None:
        st.session_state[key] = kept


def _ask_vision(pending: tuple[str, list[Attachment]], model: ModelRecord, models: Mapping[str, ModelRecord], *,
                key: str) -> tuple[str, list[Attachment], bool] | None:
    text, attachments = pending
    if st.session_state.pop(f"{key}_pending_send", False):
        st.session_state.pop(f"{key}_pending", None)
        return text, attachments, model.supports_vision is not False
    vision = next((m for m in models.values() if m.supports_vision), None)
    st.warning(f"{plain(model.name)} has no vision support: send the text only, or pick a vision model.",
               icon=":material/visibility_off:")
    text_col, vision_col, cancel_col = st.columns(3)
    if text_col.button("Send the text only", key=f"{key}_text_only", icon=":material/text_fields:", width="stretch"):
        st.session_state.pop(f"{key}_pending", None)
        return text, attachments, False
    if vision is not None and vision_col.button(f"Send to {plain(vision.name)}", key=f"{key}_to_vision",
                                                width="stretch", icon=":material/visibility:", on_click=_switch,
                                                args=(key, vision)):
        st.rerun()  # the whole page: the model picker shows the vision model, then the prompt is sent to it
    if cancel_col.button("Cancel", key=f"{key}_cancel", icon=":material/close:", width="stretch"):
        st.session_state.pop(f"{key}_pending", None)
        st.session_state[f"{key}_kept"] = text
        _rerun_fragment()
    return None


def _rerun_fragment() -> None:
    """Rerun the fragment the chat_input is in (the whole page when this run is the whole page's)."""
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:  # scope="fragment" is only allowed during a fragment's own rerun
        st.rerun()


def _switch(key: str, model: ModelRecord) -> None:
    st.session_state["chat_model"] = model.key
    st.query_params["model"] = model.key
    st.session_state[f"{key}_pending_send"] = True


def compare_files(prompt: Any, comparison: Conversation, settings: Settings, *,
                  key: str) -> tuple[str | None, list[Attachment]]:
    """The compare page's prompt and its files, prepared (the same files go to every model); a problem sends
    nothing and puts the prompt back."""
    for problem in st.session_state.pop(f"{key}_problems", ()):
        st.error(plain(problem), icon=":material/attach_file_off:")
    if not prompt:
        return None, []
    text, files = prompt.text or "", list(getattr(prompt, "files", None) or ())
    attachments, problems = prepare_message(((f.name, f.getvalue()) for f in files), Limits.from_settings(settings),
                                            comparison.attachment_bytes)
    if problems:
        _refuse(key, text, problems)
    return (text.strip() or None) if text.strip() or attachments else None, attachments


def draw_file_names(attachments: Sequence[Attachment], model: ModelRecord, *, name: str | None = None) -> None:
    """A compare panel's line under a prompt: its files, and when this model has no vision, that it got none
    (calling the model `name` when given: blind mode's "Model A")."""
    if not attachments:
        return
    st.caption(":material/attach_file: " + " · ".join(plain(a.facts) for a in attachments))
    if model.supports_vision is False and any(a.kind == "image" for a in attachments):
        st.caption(f":material/visibility_off: {plain(name or model.name)} has no vision support: it got the text "
                   "only, each image named instead of sent.")
