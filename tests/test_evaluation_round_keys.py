"""A vote on a comparison's round names the round by its key, so it stays with that round when another tab or
replica adds a round before it (rounds move down one place then: gateway/store/queries.py). The page's side of this
is in tests/test_evaluation_pages.py; old subjects by place are rewritten by migration 0009
(tests/test_store_migrations.py).

Every test runs on SQLite and on PostgreSQL (`store` / `database_url`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.compare import CompareRun
from gateway.conversation import Conversation, Round
from gateway.evaluation.votes import Verdict, Vote, compare_subject
from gateway.reply import Outcome, Reply
from gateway.store import Store
from gateway.store.evaluation import Evaluations

ANA = "ana@example.com"
MODELS = ("m-a", "m-b")


def answered(round_: Round) -> Round:
    for model in MODELS:
        round_.add(Reply(model, f"{model} on {round_.prompt}", Outcome.COMPLETE))
    return round_


@pytest.fixture
def other(database_url: str, store: Store) -> Iterator[Store]:
    """A second replica on the same database."""
    opened = Store.open(database_url)
    yield opened
    opened.close()


def test_a_vote_stays_on_its_round_when_another_tabs_round_goes_before_it(store: Store, other: Store) -> None:
    conv = Conversation("compare", models=list(MODELS))
    answered(conv.add_prompt("one")).created_at = 100.0
    store.save_round(conv, 0, ANA)
    assert store.flush()
    tab_a, tab_b = store.load(conv.id, ANA), other.load(conv.id, ANA)  # one comparison open in two tabs

    slow = tab_a.add_prompt("sent first, answered slowly")  # tab A sends; its replies are still streaming
    slow.created_at = 110.0
    fast = answered(tab_b.add_prompt("sent second, answered at once"))  # tab B sends after, its round ends first
    fast.created_at = 120.0
    other.save_round(tab_b, 1, ANA)
    assert other.flush()
    # Tab B votes on the round on its screen, its latest (ui.vote.vote_on_round), the comparison's second round.
    subject = compare_subject(tab_b.id, tab_b.rounds[1].key)
    assert Evaluations(other).vote(Vote(subject, MODELS, Verdict.BEST, "m-b", comment="B's answer"), ANA) is True

    answered(slow)  # tab A's round ends: it was sent first, so it goes before tab B's, which moves down
    store.save_round(tab_a, 1, ANA)
    assert store.flush()

    reopened = store.load(conv.id, ANA)
    assert [r.prompt for r in reopened.rounds] == ["one", "sent first, answered slowly",
                                                   "sent second, answered at once"]
    named = [r for r in reopened.rounds if compare_subject(reopened.id, r.key) == subject]
    assert [(r.prompt, r.reply("m-b").text) for r in named] == [
        ("sent second, answered at once", "m-b on sent second, answered at once")]
    evaluations = Evaluations(store)
    on_latest = evaluations.my_vote(compare_subject(reopened.id, reopened.latest.key), ANA)
    assert on_latest is not None and on_latest.comment == "B's answer"  # the page finds it on the round it was cast on
    assert evaluations.my_vote(compare_subject(reopened.id, reopened.rounds[1].key), ANA) is None  # tab A's: no vote


def test_the_round_sent_keeps_the_key_the_page_chose_before_sending() -> None:
    """The page chooses the round's key before the models answer: the blind order on screen while it streams, and the
    vote after, are by that key (pages/compare.py)."""
    comparison = Conversation("compare", models=list(MODELS))
    run = CompareRun([], settings=None)  # nothing sent: only what it records
    assert run.record(comparison, "hello", {}, key="0123456789abcdef0123456789abcdef").key == \
        "0123456789abcdef0123456789abcdef" == comparison.latest.key
    assert run.record(comparison, "again", {}).key not in {"", "0123456789abcdef0123456789abcdef"}  # a key of its own
