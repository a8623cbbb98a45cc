"""Leaderboard: which model the team prefers, from the votes on comparisons and evaluation rows, with how sure the
ratings are, and each model's real speed and cost beside its rating."""

import streamlit as st

from gateway.safe_csv import frame_csv
from gateway.store import get_store
from ui import analyst, pages
from ui.downloads import download_button
from ui.format import count
from ui.layout import page_setup
from ui.leaderboard import EXPLANATION, board, counts_table, filters, heatmap, interval_chart, judge_quality, show_table
from ui.saving import saving_banner

settings, catalogue = page_setup(pages.LEADERBOARD)
store, owner = get_store(settings), analyst.owner()
st.title("Leaderboard")
st.caption("Ratings from the team's votes (Bradley–Terry, with 95 % intervals), with each model's median "
           "speed and mean cost per reply from its saved calls.")
saving_banner(store)

choice = filters(store)
found = board(store, choice, owner)
if found is None:
    st.stop()
votes, table = found
if votes.votes == 0:
    st.info("No votes match yet. Vote on a round on the Compare page (after the replies end), or on the rows of an "
            "evaluation run: each vote appears here.", icon=":material/how_to_vote:")
    st.markdown(EXPLANATION)
    st.stop()

st.caption(f"{count(votes.votes, 'vote')} · {count(len(table), 'model')}")
show_table(table)
judge_quality(store, choice, owner)
download_button(st, "Download CSV", lambda: frame_csv(table), "leaderboard.csv", "text/csv")
st.altair_chart(interval_chart(table))

st.subheader("Head to head")
st.caption("How often the row's model was preferred to the column's (ties count half), and how many votes each pair "
           "had.")
chart_col, counts_col = st.columns([3, 2])
chart_col.altair_chart(heatmap(votes))
counts_col.dataframe(counts_table(votes), placeholder="—")

with st.expander("How the ratings are computed", icon=":material/info:", expanded=False):
    st.markdown(EXPLANATION)
