"""The Usage page's "API tokens" section (AUTH_MODE=oidc): the analyst creates a personal token for the API, sees it
once, lists theirs (name, first characters, created, last used) and revokes them. Decisions are
gateway/api_tokens.py's; names are the analyst's own text and shown through `plain`."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from gateway import api_tokens
from gateway.analyst import Analyst
from gateway.store import Store, Unavailable
from gateway.store.api_tokens import ApiToken
from gateway.usage import zone
from ui.markdown import inline_code, plain


def _when(at: float | None) -> str:
    if at is None:
        return "never"
    return dt.datetime.fromtimestamp(at, zone(st.context.timezone)).strftime("%d %b %Y %H:%M")


def api_tokens_section(store: Store, me: Analyst) -> None:
    st.divider()
    st.header("API tokens")
    st.caption("For scripts and notebooks: the API (/api/…, see /api/openapi.json) acts as you for a request that "
               "sends one of your tokens as `Authorization: Bearer <token>`. A token is shown once, when it is "
               "created, and kept only as a hash; revoke one you no longer use, or that may have been seen.")
    with st.form("api_token_form", clear_on_submit=True, border=False):
        name = st.text_input("Token name", max_chars=api_tokens.MAX_NAME, key="api_token_name",
                             placeholder="What it is for, e.g. notebook on my laptop")
        create = st.form_submit_button("Create token", icon=":material/key:", key="api_token_create")
    if create:
        _create(store, me, name)
    _list(store, me)


def _create(store: Store, me: Analyst, name: str) -> None:
    try:
        issued = api_tokens.issue(store, me.owner(), name)
    except api_tokens.NameRefused as refused:
        st.warning(plain(refused), icon=":material/edit:")
        return
    if isinstance(issued, Unavailable):
        st.error(f"The token was not created: {plain(issued)}", icon=":material/cloud_off:")
        return
    st.success(f"Token “{plain(issued.record.name)}” created. Copy it now: it is not shown again.",
               icon=":material/key:")
    st.code(issued.token, language=None)  # this run only: nothing keeps it


def _list(store: Store, me: Analyst) -> None:
    found = api_tokens.listed(store, me.owner())
    if isinstance(found, Unavailable):
        st.error(f"Your tokens cannot be read now: {plain(found)}", icon=":material/cloud_off:")
        return
    if not found:
        st.caption("You have no API tokens.")
        return
    for token in found:
        _row(store, me, token)


def _row(store: Store, me: Analyst, token: ApiToken) -> None:
    name_col, when_col, revoke_col = st.columns([4, 4, 1], vertical_alignment="center")
    name_col.markdown(f"**{plain(token.name)}** {inline_code(token.prefix + '…')}")
    when_col.caption(f"Created {_when(token.created_at)} · last used {_when(token.last_used_at)}")
    if revoke_col.button("Revoke", key=f"api_token_revoke_{token.id}", icon=":material/block:",
                         help=f"Revoke “{plain(token.name)}”: calls with it are refused from now on"):
        done = api_tokens.revoke(store, me.owner(), token.id)
        if isinstance(done, Unavailable):
            st.error(f"The token was not revoked: {plain(done)}", icon=":material/cloud_off:")
            return
        st.rerun()
