"""Share links on the pages: who is reading a link and what they are told, the Share controls on /chat, /compare and
an evaluation run, and the "Shared links" list. The rules are gateway/sharing's; the snapshot itself is drawn by
ui/shared_view.py.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pandas as pd
import streamlit as st

from gateway.analyst import Analyst
from gateway.config import Settings
from gateway.conversation import Conversation
from gateway.sharing import links
from gateway.sharing.access import MESSAGES, Denied
from gateway.store import Store, Unavailable
from gateway.store.shares import ShareRow
from ui import analyst as analysts
from ui.downloads import download_button
from ui.format import ago
from ui.markdown import plain
from ui.shared_view import KIND_WORDS

WHO = {False: "Signed-in analysts", True: "Anyone with the link"}


# --- Who is reading ---------------------------------------------------------------------------------------------------

def reader(settings: Settings) -> Analyst | None:
    """The signed-in analyst reading (the local analyst with sign-in off), else None. Draws nothing."""
    who = analysts.current(settings)
    return who if isinstance(who, Analyst) else None


def client(who: Analyst | None) -> str:
    """Who is asking, for the throttle on misses: the analyst, else the browser's address."""
    return who.id if who is not None else f"address:{st.context.ip_address or 'unknown'}"


def link_url(token: str) -> str:
    """The full address of a link, on the server this page was opened from."""
    here = (st.context.url or "").split("?")[0].split("#")[0]
    base = here.rsplit("/", 1)[0] if "/" in here.split("://", 1)[-1] else here
    return f"{base}/shared?s={token}"


def say_denied(denied: Denied) -> None:
    """Why a link does not open, in words."""
    if denied in (Denied.REVOKED, Denied.GONE):
        st.error(MESSAGES[denied], icon=":material/link_off:")
    elif denied is Denied.EXPIRED:
        st.warning(MESSAGES[denied], icon=":material/timer_off:")
    else:
        st.info(MESSAGES[denied], icon=":material/lock:")


# --- Share controls on /chat, /compare and an evaluation run ----------------------------------------------------------

def share_controls(store: Store, owner: str, settings: Settings, source_id: str, kind: str,
                   take: Any, *, key: str) -> None:
    """A "Share" popover: make a read-only link to this work (who may open it, when it expires), and for each link
    already made of it: its address, views, Update (a new snapshot), Revoke. `take()` makes the snapshot now (a dict,
    or Unavailable)."""
    if not settings.sharing_enabled:
        return
    with st.popover("Share", icon=":material/share:"):
        st.caption(f"A read-only link to this {KIND_WORDS[kind]} as it is now: replies, files and numbers. Update "
                   "it to show later rounds; revoke it at any time.")
        public = False
        if settings.sharing_public_links:
            public = st.radio("Who can open it", (False, True), format_func=WHO.get, key=f"{key}_who",
                              horizontal=True) is True
        expiry = st.selectbox("Expires", list(links.EXPIRIES), key=f"{key}_expiry")
        if st.button("Create link", icon=":material/add_link:", key=f"{key}_create"):
            data = take()
            made = data if isinstance(data, Unavailable) else links.create(
                store, owner, data, source_id, enabled=True, expires_in=links.EXPIRIES[expiry], public=public)
            if isinstance(made, Unavailable):
                st.error(f"No link was made: {plain(made)}", icon=":material/cloud_off:")
        found = links.listed(store, owner, source_id=source_id)
        if isinstance(found, Unavailable):
            st.caption(f"Links cannot be listed now: {plain(found)}")
            return
        for row in (r for r in found if r.revoked_at is None):
            st.code(link_url(row.token), language=None)
            st.caption(describe(row))
            update_col, revoke_col = st.columns(2)
            if update_col.button("Update", key=f"{key}_update_{row.token}", icon=":material/sync:",
                                 help="Show the work as it is now at this link"):
                data = take()
                if not isinstance(data, Unavailable):
                    links.update(store, owner, row.token, data, enabled=True)
                    st.toast("The link shows the work as it is now.")
            if revoke_col.button("Revoke", key=f"{key}_revoke_{row.token}", icon=":material/link_off:"):
                links.revoke(store, owner, row.token)
                st.toast("Revoked: the link no longer opens.")
                st.rerun()


def share_conversation(store: Store, owner: str, settings: Settings, conversation: Conversation,
                       names: tuple[str, ...] = ()) -> None:
    """The Share popover of a chat or a comparison (once it has a round); `names`: other spellings of its models,
    masked in a blind round its owner has not voted on."""
    if conversation.rounds:
        share_controls(store, owner, settings, conversation.id, conversation.kind,
                       lambda: links.conversation_snapshot(store, owner, conversation, names),
                       key=f"share_{conversation.kind}")


def share_run(store: Store, owner: str, settings: Settings, run_id: str) -> None:
    """The Share popover of an evaluation run."""
    def take() -> dict[str, Any] | Unavailable:
        found = links.run_snapshot(store, owner, run_id)
        return Unavailable("the run is not saved") if found is None else found

    share_controls(store, owner, settings, run_id, "evaluation", take, key=f"share_run_{run_id}")


def describe(row: ShareRow, now: float | None = None) -> str:
    """`Signed-in analysts · 3 views · shared 2 hours ago · expires in 7 days`."""
    now = time.time() if now is None else now
    parts = [WHO[row.public], f"{row.views} view{'s' * (row.views != 1)}", f"shared {ago(now - row.created_at)}"]
    if row.updated_at > row.created_at + 1:
        parts.append(f"updated {ago(now - row.updated_at)}")
    parts.append(state(row, now))
    return " · ".join(parts)


def state(row: ShareRow, now: float) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is None:
        return "never expires"
    if row.expires_at <= now:
        return "expired"
    return f"expires in {_days(row.expires_at - now)}"


def _export(store: Store, owner: str) -> str:
    found = links.export_json(store, owner)
    return json.dumps({"error": f"Your links cannot be read now: {found}"}) if isinstance(found, Unavailable) \
        else found


def _days(seconds: float) -> str:
    if seconds < 3600 * 24:
        hours = max(1, round(seconds / 3600))
        return f"{hours} hour{'s' * (hours != 1)}"
    days = round(seconds / 86_400)
    return f"{days} day{'s' * (days != 1)}"


# --- The "Shared links" list ------------------------------------------------------------------------------------------

def shared_links(store: Store, who: Analyst, settings: Settings) -> None:
    """The analyst's links (an admin may show every analyst's): what, who may open, views, expiry; revoke."""
    st.title("Shared links")
    if not settings.sharing_enabled:
        st.info(MESSAGES[Denied.OFF], icon=":material/lock:")
        return
    st.caption("Read-only links to your chats, comparisons and evaluation runs. Share from the page of the work "
               "(the Share button).")
    every = who.admin and st.toggle("Every analyst's links", key="shared_every",
                                    help="Admins may see and revoke every link.")
    found = links.listed(store, who.id, admin=who.admin, every=every)
    if isinstance(found, Unavailable):
        st.error(f"Links cannot be listed now: {plain(found)}", icon=":material/cloud_off:")
        return
    if not found:
        st.caption("No links yet.")
        return
    download_button(st, "Download my links (JSON)", lambda: _export(store, who.id), "shared-links.json",
                    "application/json", key="shared_export",
                    help="Every link of yours, revoked ones too, with the snapshot each shows.")
    now = time.time()
    st.dataframe(pd.DataFrame([{"Title": row.title, "What": KIND_WORDS.get(row.kind, row.kind),
                                **({"Owner": row.owner} if every else {}), "Who can open": WHO[row.public],
                                "Views": row.views, "State": state(row, now), "Shared": ago(now - row.created_at)}
                               for row in found]), hide_index=True)
    live = [row for row in found if row.revoked_at is None]
    if not live:
        return
    # Options by token, each label unique (the link's first characters): Streamlit matches a selectbox's value by
    # its label, so two links to the same work would otherwise be one option.
    by_token = {row.token: row for row in live}
    chosen = st.selectbox("A link", list(by_token), key="shared_pick",
                          format_func=lambda t: f"{plain(by_token[t].title[:60])} · {t[:6]}… · "
                                                f"{state(by_token[t], now)}")
    row = by_token[chosen or live[0].token]
    st.code(link_url(row.token), language=None)
    expiry_col, revoke_col = st.columns([3, 1], vertical_alignment="bottom")
    expiry = expiry_col.selectbox("Expires", ["(keep)", *links.EXPIRIES], key=f"shared_expiry_{row.token}")
    if expiry != "(keep)" and row.owner == who.id:
        links.set_expiry(store, who.id, row.token, links.EXPIRIES[expiry])
        st.session_state.pop(f"shared_expiry_{row.token}", None)
        st.rerun()
    if revoke_col.button("Revoke", key=f"shared_revoke_{row.token}", icon=":material/link_off:", width="stretch"):
        links.revoke(store, who.id, row.token, admin=who.admin)
        st.rerun()
