"""Stop ends in a finished state: the page runs once more after the analyst pressed Stop.

`st.chat_input(submit_mode="stop")` stops the script run at its next `st.*` call, and every later call of that run
raises too: the page keeps what it had drawn (a partial reply with its typing cursor, no "stopped" label, no numbers,
no buttons, no `?c=` link) until the analyst does something else. The page's own `finally` already keeps the
partial reply; `after_stop()` asks Streamlit for one more run of the same page once the stopped one has ended, as
Streamlit itself does for "run on save" (`AppSession.request_rerun` with the session's last client state), so the
page draws the finished state at once. Streamlit has no public call for this: the few private names used are here
only, and when they are missing (another Streamlit, AppTest) nothing happens beyond what happened before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime.scriptrunner_utils.exceptions import StopException
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

_LOGGER = logging.getLogger(__name__)
POLL = 0.02  # seconds between looks at whether the stopped run has ended (on the server's event loop)
PATIENCE = 250  # looks before giving up (5 s)


@contextmanager
def finished_after_stop() -> Iterator[None]:
    """Around the part of a page run that Stop can end: when it is stopped, the page runs again at once."""
    try:
        yield
    except StopException:
        after_stop()
        raise


def after_stop() -> None:
    """Run the current page again once this (stopped) run has ended."""
    try:
        from streamlit.runtime import Runtime

        ctx = get_script_run_ctx()
        if ctx is None or not Runtime.exists():
            return
        info = Runtime.instance()._session_mgr.get_active_session_info(ctx.session_id)
        if info is None:
            return
        session = info.session
        loop = session._event_loop
    except Exception:  # another Streamlit: the page simply stays as the stopped run left it
        _LOGGER.warning("Cannot rerun the page after a stop with this Streamlit", exc_info=True)
        return

    def attempt(left: int) -> None:
        if session._scriptrunner is not None and left:  # the stopped run is still ending
            loop.call_later(POLL, attempt, left - 1)
            return
        state = ClientState()
        state.CopyFrom(session._client_state)
        state.fragment_id = ""  # the whole page: its link and its sidebar too, not only a fragment that streamed
        session.request_rerun(state)

    loop.call_soon_threadsafe(attempt, PATIENCE)
