"""The notice that work is not being saved (database down, locked, read-only), on the page the analyst is on.

A page shows it from the store's state when it runs (gateway/store/availability.py has the state and the words).
After a reply, the chat page waits a moment (`SETTLE`) for that turn's write: when it lands, nothing more happens, so
the reply path costs no rerun. When it does not (the database is down and the write is being retried, or slow), a
small fragment re-checks every `WATCH_EVERY` seconds: the notice appears within about that long of the failed write,
and goes when the work is written. The fragment is dropped (and its timer stopped) at the next reply that is saved
at once.
"""

from __future__ import annotations

import streamlit as st

from gateway.store import Store

SETTLE = 0.25  # seconds a page waits after a reply for its write, before deciding whether to watch
WATCH_EVERY = 1.0  # seconds between checks while a write is waiting or failing
ICON = ":material/cloud_off:"


def saving_banner(store: Store, owner: str | None = None, *, settle: float = 0.0) -> None:
    """A warning when work is not being saved; nothing when all is well. With `owner` and `settle` (after a reply):
    wait up to `settle` s for that analyst's writes, and keep watching while they are not written."""
    written = store.settled(owner, settle) if owner is not None and settle else True
    status = store.status()
    if status.ok and written:
        return  # all written: no watch (one drawn before is dropped, its timer with it)
    _watched(store)


@st.fragment(run_every=WATCH_EVERY)
def _watched(store: Store) -> None:
    status = store.status()
    if not status.ok:
        st.warning(status.message, icon=ICON)
