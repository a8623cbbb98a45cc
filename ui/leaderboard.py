"""The leaderboard page's parts: the filters, the board (cached until a vote changes), the table with speed and
cost beside each rating, the pairwise heatmap, the explanation and the download."""

from __future__ import annotations

import time
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from gateway.evaluation import judge as judging
from gateway.evaluation import ratings
from gateway.evaluation.ratings import Board, Col
from gateway.store import Store, Unavailable
from gateway.store.evaluation import Evaluations, VoteFilter, VoteStamp
from ui.markdown import plain

PERIODS = {"All time": None, "Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90}
TEAM, MINE = "Team", "My votes"
SOURCES = {"People": "people", "Judge": "judge", "Both": "both"}  # whose verdicts count
DAY = 24 * 3600


@dataclass(frozen=True)
class Choice:
    """What the filters ask for (hashable: part of the cache key)."""

    period: str
    tag: str | None
    blind_only: bool
    mine: bool
    source: str = "people"

    def votes(self, owner: str, now: float) -> VoteFilter:
        days = PERIODS[self.period]
        return VoteFilter(since=None if days is None else _day_start(now) - (days - 1) * DAY, tag=self.tag,
                          blind_only=self.blind_only, owner=owner if self.mine else None, source=self.source)


def _day_start(now: float) -> float:
    return now - now % DAY  # (UTC days: the cache key changes once a day, not every second)


def filters(store: Store) -> Choice:
    """Period, tag, blind votes only, whose votes, and whether people's votes, a judge's verdicts or both count."""
    tags = Evaluations(store).tags()
    period_col, tag_col, blind_col, whose_col, source_col = st.columns([2, 2, 2, 2, 3], vertical_alignment="bottom")
    period = period_col.selectbox("Period", list(PERIODS), key="board_period")
    tag = tag_col.selectbox("Tag", ["All tags", *([] if isinstance(tags, Unavailable) else tags)], key="board_tag")
    blind_only = blind_col.toggle("Blind votes only", key="board_blind")
    whose = whose_col.segmented_control("Votes", [TEAM, MINE], default=TEAM, key="board_whose")
    source = source_col.segmented_control("Verdicts", list(SOURCES), default="People", key="board_source",
                                          help="People's votes, a judge model's verdicts, or both counted together")
    return Choice(period, None if tag == "All tags" else tag, blind_only, whose == MINE,
                  SOURCES.get(source or "People", "people"))


def judge_quality(store: Store, choice: Choice, owner: str) -> None:
    """Where a judge model and people judged the same rounds: how often they agree (and Cohen's κ), and how often
    the judge's verdict survived the replies swapping places."""
    found = Evaluations(store).judged(choice.votes(owner, time.time()))
    if isinstance(found, Unavailable) or not found:
        return
    people = [v for v in found if not v.judge]
    verdicts = [v for v in found if v.judge]
    together = judging.agreement(people, verdicts)
    consistent = 1 - sum(v.flagged for v in verdicts) / len(verdicts)
    words = [f"Judge verdicts: {len(verdicts):,}; position consistency {consistent:.0%} (the verdict did not change "
             f"when the replies swapped places; the rest counted as ties)."]
    if together.subjects:
        kappa = "—" if together.kappa is None else f"{together.kappa:.2f}"
        words.append(f"Judge–human agreement on {together.subjects:,} {'vote' if together.subjects == 1 else 'votes'} "
                     f"both made: {together.agree:.0%} (Cohen's κ {kappa}: 1 perfect, 0 no better than chance).")
    else:
        words.append("No round was judged by both a person and the judge yet: no agreement to show.")
    st.caption(" ".join(words))


@st.cache_data(show_spinner="Fitting the ratings…", max_entries=64)
def _board(database: str, which: VoteFilter, stamp: VoteStamp, _store: Store) -> Board | str:
    """The board for these votes: recomputed only when a vote is cast or changed (`stamp`). A string on failure
    (never cached as an exception)."""
    votes = Evaluations(_store).votes(which)
    if isinstance(votes, Unavailable):
        return str(votes)
    return ratings.leaderboard(votes)


@st.cache_data(show_spinner=False, max_entries=64, ttl=300)
def _ledger(database: str, models: tuple[str, ...], owner: str | None, since: float | None,
            _store: Store) -> pd.DataFrame | str:
    """Median TTFT (to the first answer token), median answer tokens/s (a reasoning model's thinking is neither in
    the tokens nor in the time) and mean cost per reply of each model, from the saved replies."""
    found = Evaluations(_store).ledger(models, owner, since)
    if isinstance(found, Unavailable):
        return str(found)
    generating = found["total"] - found["ttft"]
    found["tokens_per_s"] = np.where(generating > 0, found["answer_tokens"] / generating.where(generating > 0),
                                     np.nan)
    summary = found.groupby("model").agg(ttft=("ttft", "median"), tps=("tokens_per_s", "median"),
                                         cost=("cost", "mean"), replies=("model", "size"))
    return summary.rename(columns={"ttft": Col.TTFT, "tps": Col.TOKENS_PER_S, "cost": Col.COST,
                                   "replies": Col.REPLIES})


def board(store: Store, choice: Choice, owner: str) -> tuple[Board, pd.DataFrame] | None:
    """The board and the table to show (ratings with the ledger's numbers beside them); None (with a message) when
    the votes cannot be read."""
    evaluations = Evaluations(store)
    stamp = evaluations.vote_stamp()
    if isinstance(stamp, Unavailable):
        st.error(f"The votes cannot be read now: {plain(stamp)}", icon=":material/cloud_off:")
        return None
    which = choice.votes(owner, time.time())
    found = _board(store.database, which, stamp, store)
    if isinstance(found, str):
        st.error(f"The votes cannot be read now: {plain(found)}", icon=":material/cloud_off:")
        return None
    table = found.table
    if not table.empty:
        ledger = _ledger(store.database, tuple(table[Col.MODEL]), which.owner, which.since, store)
        if isinstance(ledger, str):
            st.caption(f":material/cloud_off: Speed and cost cannot be read now: {plain(ledger)}")
        else:
            table = table.join(ledger, on=Col.MODEL)
    return found, table


def show_table(table: pd.DataFrame) -> None:
    number = st.column_config.NumberColumn
    st.dataframe(table, hide_index=True, placeholder="—", column_config={
        Col.RANK: st.column_config.TextColumn(help="A range when the 95 % intervals overlap: the data cannot tell "
                                                   "those models apart"),
        Col.RATING: number(format="%.0f", help="Bradley–Terry rating on the Elo scale (1000 = average)"),
        Col.LOWER: number(format="%.0f", help="95 % interval, low end (wide when the votes are few)"),
        Col.UPPER: number(format="%.0f", help="95 % interval, high end"),
        Col.PROVISIONAL: st.column_config.CheckboxColumn(
            help=f"In fewer than {ratings.PROVISIONAL_VOTES} votes: the rating can still move a long way"),
        Col.ALL_BAD: number(help="Votes that found every reply bad (counted as ties in the rating)"),
        Col.TTFT: number(format="%.3f", help="Median time to first token of its saved replies"),
        Col.TOKENS_PER_S: number(format="%.0f"),
        Col.COST: number(format="$%.6g"),
        Col.REPLIES: number(help="Saved complete replies the speed and cost come from"),
    })


def interval_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Each model's rating with its interval, best on top."""
    order = list(table[Col.MODEL])
    base = alt.Chart(table).encode(y=alt.Y(f"{Col.MODEL}:N", sort=order, title=None))
    rules = base.mark_rule(strokeWidth=3, color="#a0a4ab").encode(
        x=alt.X(f"{Col.LOWER}:Q", title="Rating (95 % interval)", scale=alt.Scale(zero=False)), x2=f"{Col.UPPER}:Q")
    points = base.mark_point(filled=True, size=80, color="#1f77b4").encode(
        x=f"{Col.RATING}:Q", tooltip=[Col.MODEL, Col.RANK, alt.Tooltip(f"{Col.RATING}:Q", format=".0f"),
                                      alt.Tooltip(f"{Col.LOWER}:Q", format=".0f"),
                                      alt.Tooltip(f"{Col.UPPER}:Q", format=".0f"), Col.VOTES])
    return (rules + points).properties(height=alt.Step(30))  # (a number is squashed by st.altair_chart: a step is not)


def heatmap(found: Board) -> alt.LayerChart:
    """Pairwise win rate of the row model against the column model (ties half), with the votes of each pair."""
    order = list(found.table[Col.MODEL])
    pairs = found.pairs.assign(Label=lambda f: (f["Win rate"] * 100).round().astype(int).astype(str) + "%")
    base = alt.Chart(pairs).encode(
        x=alt.X("Opponent:N", sort=order, title="against"), y=alt.Y("Model:N", sort=order, title="Model"))
    cells = base.mark_rect().encode(
        color=alt.Color("Win rate:Q", scale=alt.Scale(domain=[0, 1], scheme="redblue"), title="Win rate"),
        tooltip=["Model", "Opponent", alt.Tooltip("Win rate:Q", format=".0%"), "Votes"])
    text = base.mark_text(fontSize=11).encode(text="Label:N")
    return (cells + text).properties(width=alt.Step(46), height=alt.Step(46))


def counts_table(found: Board) -> pd.DataFrame:
    order = list(found.table[Col.MODEL])
    pivot = found.pairs.pivot(index="Model", columns="Opponent", values="Votes")
    return pivot.reindex(index=order, columns=order).astype("Int64")


EXPLANATION = """
**How the ratings are computed.** Every vote compares the replies of two or more models to the same prompt. A vote
for the best model counts as a win of that model over each of the others; a tie, and an "all bad" vote, count as a
tie between every pair (half a win each way, as Chatbot Arena counts "both bad": neither was better — the *All bad*
column keeps how often a model was in such a vote).

From all those wins and ties the board fits a **Bradley–Terry** model: each model gets a strength, and the chance
that one model's reply is preferred to another's depends only on the difference of their strengths. The strengths
are the ones that make the votes most likely; they are shown on the Elo scale, where 1000 is the average, a model
100 points above another is preferred about 64 % of the time, and 400 points means 10 to 1. A weak pull toward the
average keeps a model that won every one of a handful of votes from an infinite rating.

**How sure is it?** Each rating has a 95 % interval: the range of ratings the votes cannot rule out. It is read
off the fit itself — how much less likely the votes become as a rating moves — and made wider where the votes are
less independent than the model assumes (a vote on three models is one vote, not two separate wins), so it stays
honest with a handful of votes: six votes all for one of two models say it is probably the better one, but not by
how much, and the interval is hundreds of points wide. When two models' intervals overlap the votes cannot tell
them apart, so the rank is shown as a range (1–3: somewhere from first to third). More votes narrow the intervals.
A model in fewer than {provisional} votes is marked **provisional**.

**Speed and cost** beside each model come from the team's saved replies (comparisons, chats and evaluation runs,
complete replies only, the latest 50,000): the median time to the first token, the median output speed, and the
mean cost per reply — so quality, speed and price sit in one row.
""".replace("{provisional}", str(ratings.PROVISIONAL_VOTES))
