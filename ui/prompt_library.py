"""The prompt library on the pages: the compact picker and "Save to library" beside /chat's and /compare's input,
and the library's own page (pages/prompts.py). What may be seen, changed and filled is decided by the gateway
(gateway/prompt_library.py, gateway/store/prompts.py); this module draws.

Using a prompt never sends it: the picker puts the filled text in the page's prompt box (through the same
"kept prompt" the pages restore before drawing their chat input, ui/attachments.py `restore_prompt`) or in its
system prompt, and the analyst sends as usual, through the one sending door (gateway/sending.py).

Names, tags and texts are other analysts' input: every one is drawn with ui/markdown.py's `plain` (labels,
captions) or as a code block (texts), never as Markdown.
"""

from __future__ import annotations

import streamlit as st

from gateway import prompt_library as library
from gateway.prompt_library import KIND_LABELS, SavedPrompt
from gateway.store import Store, Unavailable
from gateway.store.prompts import PromptLibrary
from ui import pages
from ui.downloads import download_button
from ui.markdown import inline_code, plain

PREVIEW = 1_500  # characters of a prompt the picker shows


def _label(prompt: SavedPrompt, me: str) -> str:
    """A select box's option (drawn as text, not Markdown)."""
    who = "yours" if prompt.mine(me) else f"team · {prompt.owner}"
    shared = ", shared" if prompt.shared and prompt.mine(me) else ""
    return f"{prompt.name} · {KIND_LABELS[prompt.kind]} · {who}{shared}"


def _say(found: object, failed: str) -> bool:
    """Show why a change was not made; True when it was."""
    if isinstance(found, Unavailable):
        st.error(f"{failed}: {plain(found)}", icon=":material/cloud_off:")
        return False
    if found is None or found is False:
        st.error(f"{failed}: it is not yours (or no longer there).", icon=":material/block:")
        return False
    return True


# --- The picker beside a page's input ---------------------------------------------------------------------------------

def picker(store: Store, owner: str, *, key: str, prompt_key: str, system_key: str, last_prompt: str = "") -> None:
    """"Prompt library" (choose a prompt, fill its variables, put it in the input or the system prompt) and "Save to
    library" (the last prompt sent, or the system prompt), side by side. `prompt_key`: the page's chat input (its
    text cannot be read back before it is sent); `system_key`: its system prompt's text area."""
    use_col, save_col, _ = st.columns([1, 1, 3])
    with use_col.popover("Prompt library", icon=":material/library_books:", width="stretch"):
        _use(store, owner, key=key, prompt_key=prompt_key, system_key=system_key)
    with save_col.popover("Save to library", icon=":material/bookmark_add:", width="stretch"):
        _save(store, owner, key=key, system_key=system_key, last_prompt=last_prompt)
    if (message := st.session_state.pop(f"{key}_library_said", None)) is not None:
        text, icon = message
        st.toast(text, icon=icon)


def _use(store: Store, owner: str, *, key: str, prompt_key: str, system_key: str) -> None:
    found = PromptLibrary(store).listed(owner)
    if isinstance(found, Unavailable):
        st.error(f"The prompt library cannot be read now: {plain(found)}", icon=":material/cloud_off:")
        return
    if not found:
        st.caption("No saved prompts yet: save one with *Save to library*, or on the Prompt library page.")
        st.page_link(pages.PROMPTS.path, label=pages.PROMPTS.label, icon=pages.PROMPTS.icon)
        return
    by_id = {p.id: p for p in found}
    chosen = st.selectbox("Saved prompt", list(by_id), key=f"{key}_library_choice",
                          format_func=lambda i: _label(by_id[i], owner) if i in by_id else "(gone)")
    prompt = by_id.get(chosen) if chosen is not None else None
    if prompt is None:
        return
    st.code(prompt.text[:PREVIEW] + ("\n…" if len(prompt.text) > PREVIEW else ""), language=None, wrap_lines=True)
    if len(prompt.text) > PREVIEW:
        st.caption(f"The first {PREVIEW:,} of {len(prompt.text):,} characters; all of them go in.")
    if prompt.tags:
        st.caption("Tags: " + ", ".join(plain(t) for t in prompt.tags))
    for name in prompt.variables:
        st.text_input(f"{{{{{name}}}}}", key=f"{key}_library_var_{prompt.id}_{name}",
                      placeholder=f"the value of {name}")
    if (problem := st.session_state.pop(f"{key}_library_problem", None)) is not None:
        st.error(plain(problem), icon=":material/error:")
    target = "the system prompt" if prompt.kind == "system" else "the prompt box"
    st.button(f"Put in {target}", key=f"{key}_library_use", icon=":material/input:", type="primary",
              on_click=_fill, args=(prompt, key, system_key if prompt.kind == "system" else f"{prompt_key}_kept"))
    if not prompt.mine(owner):
        st.button("Copy to mine", key=f"{key}_library_copy", icon=":material/content_copy:",
                  on_click=_copy, args=(store, owner, prompt.id, key))


def _fill(prompt: SavedPrompt, key: str, target: str) -> None:
    """On click (before the page runs again, so the input can still be set): the filled text where it goes."""
    values = {name: st.session_state.get(f"{key}_library_var_{prompt.id}_{name}", "") for name in prompt.variables}
    try:
        st.session_state[target] = library.fill(prompt.text, values)
    except library.MissingValues as missing:
        st.session_state[f"{key}_library_problem"] = str(missing)
        return
    st.session_state[f"{key}_library_said"] = (f"{plain(prompt.name)} is in the "
                                               f"{'system prompt' if prompt.kind == 'system' else 'prompt box'}: "
                                               "check it and send.", "✅")


def _copy(store: Store, owner: str, prompt_id: int, key: str) -> None:
    copied = PromptLibrary(store).copy(prompt_id, owner)
    if isinstance(copied, SavedPrompt):
        st.session_state[f"{key}_library_said"] = (f"Copied to your library: {plain(copied.name)}.", "✅")
        st.session_state[f"{key}_library_choice"] = copied.id
    else:
        st.session_state[f"{key}_library_said"] = (f"Not copied: {plain(copied or 'it is no longer shared')}", "⚠️")


def _save(store: Store, owner: str, *, key: str, system_key: str, last_prompt: str) -> None:
    kind = st.radio("Save", library.KINDS, key=f"{key}_save_kind", horizontal=True,
                    format_func=lambda k: "The last prompt" if k == "prompt" else "The system prompt")
    default = (st.session_state.get(system_key) or "") if kind == "system" else last_prompt
    with st.form(f"{key}_save_form", clear_on_submit=True, border=False):
        name = st.text_input("Name", max_chars=library.MAX_NAME, key=f"{key}_save_name")
        text = st.text_area("Text (`{{name}}` marks a variable, filled in when the prompt is used)", value=default,
                            key=f"{key}_save_text_{kind}_{hash(default)}", height=120)
        tags = st.text_input("Tags (comma-separated)", key=f"{key}_save_tags")
        shared = st.checkbox("Share with the team (they can use and copy it; only you can change it)",
                             key=f"{key}_save_shared")
        if not st.form_submit_button("Save", icon=":material/save:", key=f"{key}_save_submit"):
            return
    save(store, owner, name, text, kind=kind, tags=tags, shared=shared)


def save(store: Store, owner: str, name: str, text: str, **fields) -> SavedPrompt | None:
    try:
        made = library.draft(name, text, **fields)
    except library.PromptInvalid as problem:
        st.error(f"Not saved: {plain(problem)}", icon=":material/error:")
        return None
    saved = PromptLibrary(store).add(owner, made)
    if not _say(saved, "Not saved"):
        return None
    assert isinstance(saved, SavedPrompt)
    st.toast(f"Saved to your library: {plain(saved.name)}"
             f"{' (shared with the team)' if saved.shared else ''}.", icon="✅")
    return saved


# --- A prompt set from a library prompt (the Evaluate page) -----------------------------------------------------------

def for_a_set(store: Store, owner: str) -> tuple[str | None, str]:
    """Optional library prompts for a new prompt set: one whose `{{variables}}` the set's columns fill (its text, or
    None), and a system prompt for every row without one (its text, or "")."""
    found = PromptLibrary(store).listed(owner)
    if isinstance(found, Unavailable):
        st.caption(f"The prompt library cannot be read now: {plain(found)}")
        return None, ""
    templates = {p.id: p for p in found if p.kind == "prompt" and p.variables}
    systems = {p.id: p for p in found if p.kind == "system"}
    if not templates and not systems:
        return None, ""
    left, right = st.columns(2)
    chosen = left.selectbox("Prompt from the library (optional)", list(templates), index=None,
                            key="eval_library_template", disabled=not templates,
                            format_func=lambda i: _label(templates[i], owner),
                            placeholder="the set's own prompt column" if templates else "none with variables",
                            help="Each row's prompt is this prompt with its {{variables}} filled from the row's "
                                 "columns of the same names (a `prompt` column is then not needed; plain lines fill "
                                 "a prompt with one variable).")
    system = right.selectbox("System prompt from the library (optional)", list(systems), index=None,
                             key="eval_library_system", disabled=not systems,
                             format_func=lambda i: _label(systems[i], owner), placeholder="none",
                             help="The system prompt of every row that has no system_prompt of its own.")
    template = templates.get(chosen) if chosen is not None else None
    if template is not None:
        st.caption("Columns to fill: " + ", ".join(inline_code(v.lower()) for v in template.variables))
    return (template.text if template else None), (systems[system].text if system in systems else "")


# --- The library's page -----------------------------------------------------------------------------------------------

def library_page(store: Store, owner: str) -> None:
    """Every prompt the analyst can see: theirs to change or delete, the team's to copy; a new one; their export."""
    prompts = PromptLibrary(store)
    with st.expander("New prompt", icon=":material/add:"), st.form("library_new", clear_on_submit=True, border=False):
        kind = st.radio("Kind", library.KINDS, horizontal=True, key="library_new_kind",
                        format_func=KIND_LABELS.__getitem__)
        name = st.text_input("Name", max_chars=library.MAX_NAME, key="library_new_name")
        text = st.text_area("Text (`{{name}}` marks a variable, filled in when the prompt is used)",
                            key="library_new_text", height=140)
        tags = st.text_input("Tags (comma-separated)", key="library_new_tags")
        shared = st.checkbox("Share with the team", key="library_new_shared")
        if st.form_submit_button("Save", icon=":material/save:", key="library_new_save"):
            save(store, owner, name, text, kind=kind, tags=tags, shared=shared)
    found = prompts.listed(owner)
    if isinstance(found, Unavailable):
        st.error(f"The prompt library cannot be read now: {plain(found)}", icon=":material/cloud_off:")
        return
    search_col, scope_col, export_col = st.columns([3, 2, 1], vertical_alignment="bottom")
    search = search_col.text_input("Search", key="library_search", placeholder="words in the name, tags or text")
    scope = scope_col.segmented_control("Show", ["All", "Mine", "Team"], default="All", key="library_scope")
    with export_col:
        download_button(st, "My prompts", lambda: library.export_json(found, owner), "prompt-library.json",
                        "application/json", key="library_export", help="Your own prompts, private and shared, as "
                                                                       "JSON")
    shown = [p for p in found if (scope != "Mine" or p.mine(owner)) and (scope != "Team" or p.shared)
             and (not search or library.matches(p, search))]
    if not found:
        st.info("No saved prompts yet. Save one above, or with *Save to library* on Chat or Compare.",
                icon=":material/library_books:")
    elif not shown:
        st.caption("No prompt matches.")
    for prompt in shown:
        _entry(prompts, owner, prompt)


def _entry(prompts: PromptLibrary, owner: str, prompt: SavedPrompt) -> None:
    mine = prompt.mine(owner)
    who = ("yours, shared with the team" if prompt.shared else "yours, private") if mine \
        else f"shared by {prompt.owner}"
    with st.expander(f"{plain(prompt.name)} · {KIND_LABELS[prompt.kind]} · {plain(who)}"):
        st.code(prompt.text, language=None, wrap_lines=True)
        facts = [f"Variables: {', '.join(plain('{{' + v + '}}') for v in prompt.variables)}"] if prompt.variables \
            else []
        if prompt.tags:
            facts.append("Tags: " + ", ".join(plain(t) for t in prompt.tags))
        if facts:
            st.caption(" · ".join(facts))
        if not mine:
            if st.button("Copy to mine", key=f"library_copy_{prompt.id}", icon=":material/content_copy:") and _say(
                    prompts.copy(prompt.id, owner), "Not copied"):
                st.toast(f"Copied to your library: {plain(prompt.name)}.", icon="✅")
                st.rerun()
            return
        with st.form(f"library_edit_{prompt.id}", border=False):
            kind = st.radio("Kind", library.KINDS, index=library.KINDS.index(prompt.kind), horizontal=True,
                            format_func=KIND_LABELS.__getitem__, key=f"library_edit_kind_{prompt.id}")
            name = st.text_input("Name", value=prompt.name, max_chars=library.MAX_NAME,
                                 key=f"library_edit_name_{prompt.id}")
            text = st.text_area("Text", value=prompt.text, height=140, key=f"library_edit_text_{prompt.id}")
            tags = st.text_input("Tags (comma-separated)", value=", ".join(prompt.tags),
                                 key=f"library_edit_tags_{prompt.id}")
            shared = st.checkbox("Share with the team", value=prompt.shared, key=f"library_edit_shared_{prompt.id}")
            if st.form_submit_button("Save changes", icon=":material/save:", key=f"library_edit_save_{prompt.id}"):
                try:
                    changed = library.draft(name, text, kind=kind, tags=tags, shared=shared)
                except library.PromptInvalid as problem:
                    st.error(f"Not saved: {plain(problem)}", icon=":material/error:")
                else:
                    if _say(prompts.update(prompt.id, owner, changed), "Not saved"):
                        st.toast(f"Saved {plain(changed.name)}.", icon="✅")
                        st.rerun()
        if st.button("Delete", key=f"library_delete_{prompt.id}", icon=":material/delete:") and _say(
                prompts.delete(prompt.id, owner), "Not deleted"):
            st.toast(f"Deleted {plain(prompt.name)}.", icon="🗑️")
            st.rerun()
