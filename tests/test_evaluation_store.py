"""Evaluation in the store, on SQLite and a real PostgreSQL: votes (one per subject per analyst, changeable, filtered
for the leaderboard), prompt sets and runs owned by their analyst, cells saved once, the claim that keeps two
workers off one run, and the ledger of saved replies."""

from __future__ import annotations

import time

import pytest

from gateway.conversation import Conversation, new_id
from gateway.evaluation.prompt_sets import PromptRow, PromptSet
from gateway.evaluation.runs import Cell, EvalRun, RunStatus
from gateway.evaluation.votes import Verdict, Vote, compare_subject, eval_subject
from gateway.reply import Metrics, Outcome, Reply, ReplyError
from gateway.store import Store, Unavailable
from gateway.store.evaluation import Evaluations, VoteFilter
from tests.support.proxy import free_port

ANA, BEN = "ana@example.com", "ben@example.com"


def test_one_vote_per_subject_and_analyst_changed_in_place(store):
    ev = Evaluations(store)
    subject = compare_subject("c1", new_id())
    assert ev.vote(Vote(subject, ("a", "b"), Verdict.BEST, "a", "sql", "good", blind=True), ANA) is True
    assert ev.vote(Vote(subject, ("a", "b"), Verdict.TIE, tag="sql"), ANA) is True  # changed
    assert ev.vote(Vote(subject, ("a", "b"), Verdict.BEST, "b"), BEN) is True  # Ben's own
    mine = ev.my_vote(subject, ANA)
    assert mine.verdict is Verdict.TIE and mine.winner is None and mine.comment == "" and mine.owner == ANA
    assert ev.my_vote(subject, "carl") is None
    team = ev.votes(VoteFilter())
    assert len(team) == 2 and sorted(team["verdict"]) == ["best", "tie"]
    assert list(ev.votes(VoteFilter(owner=BEN))["winner"]) == ["b"]
    assert ev.vote_stamp().count == 2


def test_leaderboard_filters_by_period_tag_and_blind(store):
    ev = Evaluations(store)
    ev.vote(Vote(eval_subject("r", 0), ("a", "b"), Verdict.BEST, "a", "sql", blind=True), ANA)
    ev.vote(Vote(eval_subject("r", 1), ("a", "b", "c"), Verdict.ALL_BAD, tag="prose"), ANA)
    assert len(ev.votes(VoteFilter(tag="sql"))) == 1
    assert list(ev.votes(VoteFilter(blind_only=True))["models"]) == [("a", "b")]
    assert len(ev.votes(VoteFilter(since=time.time() + 60))) == 0
    assert ev.tags() == ["prose", "sql"]
    assert set(ev.my_votes("eval:r:", ANA)) == {"eval:r:0", "eval:r:1"} and ev.my_votes("eval:r:", BEN) == {}
    assert ev.my_votes("eval:r_", ANA) == {}  # LIKE wildcards in a prefix are plain characters


def test_prompt_sets_and_runs_belong_to_their_analyst(store):
    ev = Evaluations(store)
    rows = (PromptRow("6 * 7?", expected="42"), PromptRow("Hi", "Be brief.", tag="chat"))
    first = PromptSet("checks", rows)
    assert ev.save_set(first, ANA) is True
    assert ev.save_set(PromptSet("checks", rows[:1]), ANA) is True  # the same name: replaced
    [kept] = ev.sets(ANA)
    assert kept.rows == rows[:1] and kept.id == first.id and ev.sets(BEN) == []
    assert ev.delete_set(kept.id, BEN) is False and ev.delete_set(kept.id, ANA) is True

    run = EvalRun.of(first, ["a", "b"], quote=0.5)
    assert ev.create_run(run, ANA) is True
    assert ev.load_run(run.id, BEN) is None and ev.runs(BEN) == [] and ev.cells(run.id, BEN) == []
    loaded = ev.load_run(run.id, ANA)
    assert loaded.rows == rows and loaded.models == ("a", "b") and loaded.quote == 0.5 and loaded.cells_total == 4
    assert ev.save_cell(run.id, BEN, Cell(0, Reply("a", "42", Outcome.COMPLETE))) is False  # not Ben's run


def test_a_cell_is_saved_once_with_every_reply_field(store):
    ev = Evaluations(store)
    run = EvalRun.of(PromptSet("s", (PromptRow("p", expected="x"),)), ["a", "b"])
    ev.create_run(run, ANA)
    reply = Reply("a", "x marks it \x00", Outcome.COMPLETE,
                  Metrics(ttft=0.1, total=0.5, prompt_tokens=3, completion_tokens=4, cost=0.002, cost_source="proxy",
                          overhead_ms=2.0, finish_reason="stop", call_id="call-1"))
    failed = Reply("b", "", Outcome.FAILED, Metrics(total=0.2), ReplyError("Rate limited", "wait", "rate_limited"))
    assert ev.save_cell(run.id, ANA, Cell(0, reply, True)) is True
    assert ev.save_cell(run.id, ANA, Cell(0, failed, False, attempts=3)) is True
    assert ev.save_cell(run.id, ANA, Cell(0, Reply("a", "again", Outcome.COMPLETE), False)) is True  # kept: first
    cells = ev.cells(run.id, ANA)
    assert [(c.model, c.passed, c.attempts) for c in cells] == [("a", True, 1), ("b", False, 3)]
    assert cells[0].reply.text == "x marks it \ufffd" and cells[0].reply.metrics == reply.metrics
    assert cells[1].reply.error == failed.error
    loaded = ev.load_run(run.id, ANA)
    assert loaded.cells_done == 2 and loaded.cost == pytest.approx(0.002)


def test_a_sent_cell_is_in_the_usage_ledger_once_and_a_refused_one_is_not(store):
    """Evaluation cells count in /usage and against budgets like any reply (kind "evaluate", the run's id)."""
    ev = Evaluations(store)
    run = EvalRun.of(PromptSet("s", (PromptRow("p"), PromptRow("q"))), ["a", "unpriced"])
    ev.create_run(run, ANA)
    sent = Reply("a", "x", Outcome.COMPLETE, Metrics(total=0.5, prompt_tokens=3, completion_tokens=4, cost=0.002,
                                                     cost_source="proxy"))
    unpriced = Reply("unpriced", "y", Outcome.COMPLETE, Metrics(total=0.5, prompt_tokens=30, completion_tokens=70))
    refused = Reply("a", "", Outcome.FAILED, error=ReplyError("Not sent: …", "", "prompt_too_long"))  # no total
    for cell in (Cell(0, sent), Cell(0, sent), Cell(0, unpriced), Cell(1, refused)):  # the first one twice
        assert ev.save_cell(run.id, ANA, cell) is True
    assert store.spending(ANA, since=0, until=time.time() + 1) == (pytest.approx(0.002), 100)
    assert store.spending(BEN, since=0, until=time.time() + 1) == (0.0, 0)
    groups = store.usage(ANA, since=0, until=time.time() + 1)
    assert sorted((g.model, g.replies, g.unpriced) for g in groups) == [("a", 1, 0), ("unpriced", 1, 1)]


def test_a_run_is_claimed_by_one_worker_until_its_heartbeat_goes_stale(store):
    ev = Evaluations(store)
    run = EvalRun.of(PromptSet("s", (PromptRow("p"),)), ["a", "b"])
    ev.create_run(run, ANA)
    now = time.time()
    assert ev.claim(run.id, ANA, now, now - 15) is True  # no heartbeat yet
    assert ev.claim(run.id, ANA, now + 1, now + 1 - 15) is False  # another worker, while the first beats
    assert ev.claim(run.id, ANA, now + 30, now + 30 - 15) is True  # the first one went quiet
    assert ev.set_status(run.id, ANA, RunStatus.STOPPED) is True
    assert ev.load_run(run.id, ANA).state() is RunStatus.STOPPED
    assert ev.claim(run.id, ANA, now + 31, now + 31 - 15) is True  # resumed
    assert ev.claim(run.id, BEN, now + 99, now + 99) is False


def test_the_ledger_has_the_replies_and_cells_of_the_models_asked_for(store):
    ev = Evaluations(store)
    conversation = Conversation("compare", models=["a", "b"])
    round_ = conversation.add_prompt("hello")
    round_.add(Reply("a", "hi", Outcome.COMPLETE, Metrics(ttft=0.2, total=1.0, completion_tokens=8, cost=0.01)))
    round_.add(Reply("b", "", Outcome.FAILED, Metrics(total=0.1)))
    store.save_round(conversation, 0, ANA)
    assert store.flush(5)
    run = EvalRun.of(PromptSet("s", (PromptRow("p"),)), ["a", "b"])
    ev.create_run(run, BEN)
    ev.save_cell(run.id, BEN, Cell(0, Reply("a", "yo", Outcome.COMPLETE, Metrics(ttft=0.4, total=2.0, cost=0.03))))
    team = ev.ledger(["a", "b"])
    assert sorted(team["ttft"]) == [0.2, 0.4] and set(team["model"]) == {"a"}  # failed replies left out
    assert list(ev.ledger(["a"], owner=ANA)["cost"]) == [0.01]
    assert ev.ledger([]).empty


def test_a_database_that_is_down_answers_unavailable_and_pages_go_on():
    store = Store.open(f"postgresql+psycopg://dash:pw-secret-123@127.0.0.1:{free_port()}/work")  # nothing listens
    try:
        ev = Evaluations(store)
        for answer in (ev.votes(VoteFilter()), ev.vote(Vote("s", ("a", "b"), Verdict.TIE), ANA), ev.sets(ANA),
                       ev.save_cell("r", ANA, Cell(0, Reply("a"))), ev.claim("r", ANA, 1.0, 0.0), ev.ledger(["a"])):
            assert isinstance(answer, Unavailable), answer
            assert "pw-secret-123" not in str(answer)
    finally:
        store.close()
