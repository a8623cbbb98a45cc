"""The Usage page's "Your data" section: everything the app keeps for the analyst, as one JSON download."""

from __future__ import annotations

import json
import time

import streamlit as st

from gateway import account_export
from gateway.analyst import Analyst
from gateway.store import Store, Unavailable
from ui.downloads import download_button


def my_data_section(store: Store, me: Analyst) -> None:
    st.subheader("Your data")
    st.caption("Every saved chat and comparison, prompt set, evaluation run, vote, library prompt and share link of "
               "yours, in one JSON file (each conversation in it imports back on the chat or compare page). Nothing "
               "of another analyst's is in it.")
    if not store.ok:
        st.caption(":material/cloud_off: The app's database is not answering: your data cannot be exported now.")
        return
    download_button(st, "Download all my data (JSON)", lambda: _built(store, me.id),
                    f"my-data-{time.strftime('%Y%m%d')}.json", "application/json", key="my_data_download")


def _built(store: Store, owner: str) -> str:
    found = account_export.export_json(store, owner)
    if isinstance(found, Unavailable):  # the file then says so, instead of looking whole
        return json.dumps({"format": account_export.FORMAT, "owner": owner,
                           "error": f"The app's database stopped answering during the export: {found}"})
    return found
