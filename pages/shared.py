"""Shared: a read-only link to someone's chat, comparison or evaluation run (`/shared?s=<token>`), and without a
token the reader's own "Shared links" list.

Who may open a link is gateway/sharing/access.py's rule: signed-in analysts (with sign-in off, the local analyst);
nobody signed in sees only the sign-in screen, unless the app allows links for anyone and the owner chose that.
There is no chat box: "Make a copy" saves the work as the reader's own, to continue on /chat or /compare.
"""

import streamlit as st

import gateway
from gateway.sharing import links
from gateway.sharing.access import Denied, Opened
from gateway.store import Unavailable, get_store
from ui import pages, shared_view
from ui import sharing as sharing_ui
from ui.layout import page_setup
from ui.markdown import plain

settings = gateway.load_settings()
token = st.query_params.get("s", "")
who = sharing_ui.reader(settings)
store = get_store(settings)

seen = st.session_state.setdefault("shared_seen", set())  # a rerun of this page is not another view
answer = links.open_link(store, token, who.id if who else None, sharing_ui.client(who),
                         enabled=settings.sharing_enabled, public_allowed=settings.sharing_public_links,
                         count_view=token not in seen) if token else None
if isinstance(answer, Opened):
    seen.add(token)
if who is None and isinstance(answer, Opened):  # a link for anyone, chosen by its owner and allowed here
    st.set_page_config(page_title="Shared · LLM Gateway Dashboard", page_icon=pages.FAVICON, layout="wide")
    shared_view.draw_shared(answer, settings.reply_image_hosts, name_owner=False)
    st.caption("Sign in to make a copy you can continue.")
    st.stop()

settings, catalogue = page_setup(pages.SHARED, settings)  # nobody signed in: the sign-in screen, and nothing else
who = sharing_ui.reader(settings)
assert who is not None

if not token:
    sharing_ui.shared_links(store, who, settings)
elif isinstance(answer, Unavailable):
    st.title("Shared")
    st.error(f"This link cannot be opened now: {plain(answer)}", icon=":material/cloud_off:")
elif isinstance(answer, Denied):
    st.title("Shared")
    sharing_ui.say_denied(answer)
elif isinstance(answer, Opened):
    shared_view.make_a_copy(store, who.owner(), answer)
    shared_view.draw_shared(answer, settings.reply_image_hosts)
