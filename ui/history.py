"""Saved work in the sidebar of the chat and compare pages: a new conversation, search, the list (pinned first,
then newest), rename, pin, delete with undo, and import of a JSON export
(the banner when work is not being saved is ui/saving.py).

Every entry is a link to `?c=<id>` on its page, so a saved conversation opens the same way from the list, a
bookmark or another browser.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from gateway import exports
from gateway.conversation import Conversation, Kind
from gateway.store import Store, Summary, Unavailable
from ui.format import count, usd
from ui.markdown import plain
from ui.pages import Page

NOUN = {"chat": ("chat", "chats"), "compare": ("comparison", "comparisons")}
LISTED = 30  # entries shown; search finds the rest


def open_linked(store: Store, owner: str, kind: Kind, current: Conversation) -> Conversation | None:
    """The conversation `?c=` names, when it is not the one on screen: loaded from the store, or None with a
    message (not found reads the same whether the id does not exist or belongs to someone else)."""
    wanted = st.query_params.get("c")
    if not wanted or wanted == current.id:
        return None
    found = store.load(wanted, owner)
    if isinstance(found, Unavailable):
        st.error(f"That {NOUN[kind][0]} could not be opened: {plain(found)}", icon=":material/cloud_off:")
        return None
    if found is None or found.kind != kind:
        st.warning(f"No saved {NOUN[kind][0]} has that link: it may have been deleted, or the link is incomplete.",
                   icon=":material/link_off:")
        del st.query_params["c"]
        return None
    return found


@dataclass(frozen=True)
class NewEntry:
    """The place in the history list (first after the pinned entries) of a conversation started since the page
    drew the list, and the empty list's words, which that entry replaces.

    The chat page sends prompts from a fragment and draws the list in its own run, so a new chat would wait for the
    next full page run (many turns later) to be listed. Instead the fragment calls `draw` on every one of its runs,
    the page's own included (that is how Streamlit keeps a fragment's place in a container outside it: it must
    write there on the page's run too), and a new chat is listed the moment its first reply ends, at the cost of
    one entry, not a page run. Pages without such a fragment have `history_sidebar` draw it at once.
    """

    store: Store
    owner: str
    kind: Kind
    page: Page
    listed: frozenset[str] | None  # the ids the list shows; None: it lists no new ones (a search, or unreadable)
    note: str | None  # what the list says when it has nothing to show
    slot: DeltaGenerator
    on_new: Callable[[], None]  # starts a new conversation (deleting the open one from its entry does)
    in_fragment: bool  # drawn by the page's fragment (the chat's conversation), not by the page

    def draw(self, current: Conversation) -> None:
        with self.slot:
            if (self.listed is not None and current.rounds and current.id not in self.listed
                    and self.store.status().ok):  # not saved when the database is failing: not listed either
                entry = _entry if self.in_fragment else _listed_entry  # in a fragment: its menu reruns that one
                entry(self.store, self.owner, self.kind, self.page, _summary(current), True, self.on_new)
            elif self.note:
                st.caption(self.note)
            else:
                st.empty()  # nothing, but the place is kept for the fragment's next runs


def history_sidebar(store: Store, owner: str, kind: Kind, page: Page, current: Conversation, *,
                    on_new: Callable[[], None], new_in_fragment: bool = False) -> NewEntry:
    """The saved-work panel. `on_new` starts a new conversation (a callback: it runs before the next page run).
    With `new_in_fragment`, the page's fragment calls the returned entry's `draw` on each of its runs (see
    `NewEntry`); otherwise it is drawn here."""
    one, many = NOUN[kind]
    with st.sidebar:
        st.subheader(f"Saved {many}")
        st.button(f"New {one}", icon=":material/add:", key=f"{kind}_new", width="stretch", on_click=on_new)
        query = st.text_input("Search", key=f"{kind}_search", placeholder="words in titles, prompts and replies",
                              label_visibility="collapsed")
        found = store.history(owner, kind=kind, search=query.strip() or None, limit=LISTED)
        note, listed = None, None
        if isinstance(found, Unavailable):
            st.caption(f":material/cloud_off: The list cannot be read now: {plain(found)}")
            found = []
        else:
            if not found:
                note = f"No {many} match." if query.strip() else f"Your {many} appear here once sent."
            if not query.strip():  # a search lists only what matches it
                listed = frozenset(summary.id for summary in found)
        pinned = sum(summary.pinned for summary in found)  # the list has them first
        for summary in found[:pinned]:
            _listed_entry(store, owner, kind, page, summary, summary.id == current.id, on_new)
        new = NewEntry(store, owner, kind, page, listed, note, st.container(), on_new, new_in_fragment)
        for summary in found[pinned:]:
            _listed_entry(store, owner, kind, page, summary, summary.id == current.id, on_new)
        _undo(store, owner, kind)
        _import(store, owner, kind, page)
    if not new_in_fragment:
        new.draw(current)
    return new


def _summary(conversation: Conversation) -> Summary:
    """A conversation as the list shows it, from the record in memory (the store's copy may still be queued)."""
    now = time.time()
    return Summary(id=conversation.id, kind=conversation.kind, title=conversation.display_title,
                   models=tuple(conversation.models or conversation.used_models()), created_at=conversation.created_at,
                   updated_at=now, cost=conversation.cost, pinned=conversation.pinned, turns=len(conversation.rounds))


def _entry(store: Store, owner: str, kind: Kind, page: Page, summary: Summary, current: bool,
           on_new: Callable[[], None]) -> None:
    # One row (a horizontal container: one block, where columns are three), as every entry is in the agent API's
    # snapshot after each reply and is drawn again on every page run.
    row = st.container(horizontal=True, vertical_alignment="center", wrap=False, gap="small")
    label = ("📌 " if summary.pinned else "") + plain(summary.title)
    when = dt.datetime.fromtimestamp(summary.updated_at).strftime("%d %b %H:%M")
    models = plain(", ".join(summary.models))
    row.page_link(page.path, label=f"**{label}**" if current else label, query_params={"c": summary.id},
                  width="stretch", help=f"{models} · {when} · {count(summary.turns, 'turn')}"  # a cost of 0 may be
                  + (f" · {usd(summary.cost)}" if summary.cost else ""))  # unknown: (the store sums known costs)
    # Its contents are drawn only while it is open (opening it reruns what drew it): a closed menu is one element,
    # not five, on every run that draws the list, and in the snapshot the agent API builds after each reply.
    menu = row.popover("", icon=":material/more_vert:", key=f"{kind}_menu_{summary.id}", on_change="rerun")
    if not menu.open:
        return
    with menu:
        title = st.text_input("Title", summary.title, key=f"{kind}_title_{summary.id}")
        if st.button("Rename", key=f"{kind}_rename_{summary.id}", icon=":material/edit:"):
            _report(store.rename(summary.id, owner, title))
            st.rerun()
        if st.button("Unpin" if summary.pinned else "Pin", key=f"{kind}_pin_{summary.id}", icon=":material/push_pin:"):
            _report(store.pin(summary.id, owner, not summary.pinned))
            st.rerun()
        if st.button("Delete", key=f"{kind}_delete_{summary.id}", icon=":material/delete:", type="primary"):
            if _report(store.delete(summary.id, owner)):
                st.session_state[f"{kind}_deleted"] = (summary.id, summary.title, current)
                if current:  # the one on screen: the page starts anew, so nothing is answered into a deleted one
                    on_new()
            st.rerun()


# An entry the page draws is a fragment of its own: opening its menu (a rerun, see `_entry`) reruns only the entry,
# which waits for a reply streaming in the chat's conversation fragment; a page rerun would stop that reply.
_listed_entry = st.fragment(_entry)


def _undo(store: Store, owner: str, kind: Kind) -> None:
    deleted = st.session_state.get(f"{kind}_deleted")
    if deleted is None:
        return
    conversation_id, title, was_open = deleted
    st.caption(f"Deleted “{plain(title)}”." + (f" It was open: the page started a new {NOUN[kind][0]}."
                                                 if was_open else ""))
    if st.button("Undo delete", key=f"{kind}_undo", icon=":material/undo:"):
        if _report(store.restore(conversation_id, owner)) and was_open:
            st.query_params["c"] = conversation_id  # reopened where it was
        del st.session_state[f"{kind}_deleted"]
        st.rerun()


def _import(store: Store, owner: str, kind: Kind, page: Page) -> None:
    with st.expander("Import a JSON export", icon=":material/upload:"):
        upload = st.file_uploader("JSON export", type=["json"], key=f"{kind}_import", label_visibility="collapsed")
        if upload is None:
            return
        try:
            conversation = exports.import_json(upload.getvalue())
        except ValueError as problem:
            st.error(f"{plain(upload.name)} cannot be imported: {plain(problem)}", icon=":material/error:")
            return
        if conversation.kind != kind:
            st.error(f"{plain(upload.name)} is a {NOUN[conversation.kind][0]}: import it on that page.")
            return
        store.save_conversation(conversation, owner)
        store.flush(2.0)
        st.switch_page(page.path, query_params={"c": conversation.id})


def _report(result: bool | Unavailable) -> bool:
    if isinstance(result, Unavailable):
        st.toast(f"Not changed: {plain(result)}", icon="⚠️")
        return False
    return result
