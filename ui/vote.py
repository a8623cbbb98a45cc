"""Votes and blind mode on the compare page: the toggle, how the round on screen is shown, and the vote on it.

`blind_mode` draws the toggle (remembered for the session) and says how the round is shown (`gateway.evaluation.
blind.Blind`): a round sent blind (`Round.blind`, saved with it) stays hidden until the vote however it is opened
again (a reload, its link, the history, another tab), and the toggle stays on while it is. `vote_on_round` draws
the vote once every reply of the latest round has ended. A vote is saved at once, one per round per analyst (voting
again changes it), with its tag, comment and whether it was cast blind; casting it reveals the names. A round is
named by its key (`gateway.evaluation.votes.compare_subject`), never by its place: another tab's round can move it
down.
"""

from __future__ import annotations

import streamlit as st

from gateway import ModelRecord
from gateway.conversation import Conversation
from gateway.evaluation.blind import SHOWN, Blind, of_round, shuffled
from gateway.evaluation.votes import COMMENT_LENGTH, TAG_LENGTH, Verdict, Vote, clean_tag, compare_subject
from gateway.store import Store, Unavailable
from gateway.store.evaluation import Evaluations
from ui.markdown import plain

TEAM_SEES = (":material/group: Your vote counts in the team's leaderboard (not under your name), and your tag is "
             "listed there for everyone as a filter. Your comment, prompts and replies stay yours.")
REMEMBERED = "blind_mode"  # session key that outlives the widget (pages drop the state of widgets they do not draw)


def blind_mode(store: Store, owner: str, comparison: Conversation, models: list[ModelRecord],
               sending_key: str | None) -> Blind:
    """The blind-mode toggle, and how this page run shows the comparison's latest round, or the round being sent
    now (`sending_key`: the key it will have; None when nothing is sent). A latest round sent blind and not voted on
    stays hidden whatever the toggle said in this session (a reload or a link starts a new one): the toggle is on
    and cannot be turned off until the vote."""
    latest = comparison.latest
    names = tuple(n for m in models for n in (m.key, m.id, m.name))
    unvoted = (not sending_key and latest is not None and latest.blind
               and not _voted(store, owner, comparison, latest.key))
    if unvoted:
        st.session_state["compare_blind"] = True
    st.session_state.setdefault("compare_blind", st.session_state.get(REMEMBERED, False))
    on = st.toggle("Blind mode", key="compare_blind", disabled=unvoted,
                   help="Vote on this round to see the names (the toggle is on until you do)." if unvoted else
                   "Hide model names, providers and costs, and shuffle the panels, until you have voted on the "
                   "round. Votes remember whether they were cast blind.")
    st.session_state[REMEMBERED] = on
    if sending_key:
        if not on:
            return SHOWN
        blind = Blind(tuple(shuffled([m.key for m in models], comparison.id, sending_key)), True, names)
    elif latest is not None and latest.blind:
        blind = of_round(comparison, latest, unvoted, names)
    elif on and latest is None:
        blind = Blind((), True, names)
    else:
        return SHOWN
    if blind.hidden:
        st.caption(":material/visibility_off: Names, providers and costs are hidden and the panels shuffled "
                   "until you vote on this round.")
    return blind


def _voted(store: Store, owner: str, comparison: Conversation, round_key: str) -> bool:
    """Whether the owner has voted on the round. When votes cannot be read, a blind round stays blind."""
    found = Evaluations(store).my_vote(compare_subject(comparison.id, round_key), owner)
    return isinstance(found, Vote)


def still_blind(store: Store, owner: str, comparison: Conversation) -> set[str]:
    """The keys of the comparison's rounds whose names are withheld everywhere, exports included (`gateway.
    evaluation.blind.withheld`): while the latest round is blind and not voted on, every round sent blind and not
    voted on. The page shows the earlier rounds again, names and all, once the latest is voted on: so do the exports."""
    latest = comparison.latest
    if latest is None or not latest.blind or _voted(store, owner, comparison, latest.key):
        return set()
    return {r.key for r in comparison.rounds
            if r.blind and (r is latest or not _voted(store, owner, comparison, r.key))}


def vote_on_round(store: Store, owner: str, comparison: Conversation, blind: Blind) -> None:
    """The vote on the latest round, once all its replies have ended: best model, tie or all bad, a tag, a comment.
    The vote is on the round by its key, so it stays with it when another tab's round moves it down."""
    latest = comparison.latest
    if latest is None or len(latest.runs) < 2 or not all(r.finished for r in latest.replies.values()):
        return
    with st.container(border=True):
        vote_form(store, owner, compare_subject(comparison.id, latest.key), blind.arrange(latest.models), blind,
                  what="this prompt")


def vote_form(store: Store, owner: str, subject: str, keys: list[str], blind: Blind = SHOWN, *,
              what: str = "this prompt") -> None:
    """The vote on one subject (a round, a row of an evaluation run) between `keys`, in the order shown."""
    evaluations = Evaluations(store)
    existing = evaluations.my_vote(subject, owner)
    if isinstance(existing, Unavailable):
        st.caption(f":material/cloud_off: Votes cannot be read now: {plain(existing)}")
        existing = None
    st.markdown(f"**Your vote** on {what}" + (f" · you voted: _{plain(_said(existing, blind))}_" if existing else ""))
    options = _options(keys)
    with st.form(f"vote_{subject}", border=False):
        choice = st.radio("Which reply is best?", options, horizontal=True, key=f"vote_choice_{subject}",
                          index=options.index(_option(existing)) if existing and _option(existing) in options
                          else None, format_func=lambda option: _describe(option, keys, blind))
        tag_col, comment_col = st.columns([1, 3])
        tag = tag_col.text_input("Tag (optional)", existing.tag if existing else st.session_state.get(
            "vote_last_tag", ""), max_chars=TAG_LENGTH, placeholder="e.g. sql, summaries", key=f"vote_tag_{subject}")
        comment = comment_col.text_input("Comment (optional)", existing.comment if existing else "",
                                         max_chars=COMMENT_LENGTH, key=f"vote_comment_{subject}")
        st.caption(TEAM_SEES)
        submitted = st.form_submit_button("Change vote" if existing else "Vote", icon=":material/how_to_vote:")
    if not submitted:
        return
    if choice is None:
        st.warning("Pick the best reply, a tie, or all bad first.", icon=":material/how_to_vote:")
        return
    verdict, _, winner = choice.partition(":")
    vote = Vote(subject, tuple(keys), Verdict(verdict), winner or None, clean_tag(tag), comment.strip(),
                blind=blind.hidden or bool(existing and existing.blind))
    saved = evaluations.vote(vote, owner)
    if isinstance(saved, Unavailable):
        st.error(f"The vote was not saved: {plain(saved)}", icon=":material/cloud_off:")
        return
    st.session_state["vote_last_tag"] = vote.tag
    st.session_state["_toast"] = ("Vote saved." + (" Names revealed." if blind.hidden else ""), "🗳️")
    st.rerun()


def _options(keys: list[str]) -> list[str]:
    return [f"{Verdict.BEST.value}:{key}" for key in keys] + [Verdict.TIE.value, Verdict.ALL_BAD.value]


def _option(vote: Vote) -> str:
    return f"{vote.verdict.value}:{vote.winner}" if vote.verdict is Verdict.BEST else vote.verdict.value


def _describe(option: str, keys: list[str], blind: Blind) -> str:
    verdict, _, key = option.partition(":")
    if verdict == Verdict.TIE.value:
        return "Tie"
    if verdict == Verdict.ALL_BAD.value:
        return "Both bad" if len(keys) == 2 else "All bad"
    if len(keys) == 2:
        return f"{'Left' if keys.index(key) == 0 else 'Right'} ({plain(blind.label(key))}) is better"
    return f"{plain(blind.label(key))} is best"


def _said(vote: Vote, blind: Blind) -> str:
    return f"{blind.label(vote.winner)} best" if vote.winner else vote.verdict.label
