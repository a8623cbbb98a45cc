"""Saved work: what the store keeps, gives back, finds and hides, on SQLite and on a real PostgreSQL server.

Every test runs twice (`database_url` is parametrised): against a SQLite file and against a new database on the
PostgreSQL server the suite starts (tests/support/postgres.py, marker `postgres`).
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
import sqlalchemy as sa

from gateway.conversation import Conversation
from gateway.health import LatencySample
from gateway.params import ChatParams
from gateway.reply import Metrics, Outcome, Reply, ReplyError
from gateway.store import Store, Summary, queries
from gateway.store.rows import METRIC_COLUMNS
from gateway.store.store import DELETED_RETENTION, PROBE_RETENTION

ANA, BEN = "ana@example.com", "ben@example.com"


def full_metrics(seed: float) -> Metrics:
    return Metrics(ttft=0.25 + seed, total=1.5 + seed, prompt_tokens=12, completion_tokens=34, cost=0.000123 + seed,
                   cost_source="proxy", overhead_ms=3.5, finish_reason="stop", call_id=f"call-{seed}")


def comparison() -> Conversation:
    """A comparison with every outcome, Run ×N, per-model parameters, errors and unusual text."""
    conv = Conversation("compare", params=ChatParams("Be brief.", 0.2, 0.9, 256), models=["gpt-x", "claude-y"])
    first = conv.add_prompt("Résumé of 日本語 text, with emoji 🚀👩‍💻 and\nnew lines")
    first.add(Reply("gpt-x", "Run one ✓", Outcome.COMPLETE, full_metrics(0.0)), ChatParams("Be brief.", 0.2))
    first.add(Reply("gpt-x", "Run two", Outcome.COMPLETE, full_metrics(0.5), run=2))
    first.add(Reply("claude-y", "Partial te", Outcome.STOPPED, Metrics(ttft=0.4)), ChatParams("Be long.", 1.0, None, 9))
    second = conv.add_prompt("Second prompt")
    second.add(Reply("gpt-x", "Cut at the limit…", Outcome.CUT, Metrics(total=9.0, completion_tokens=4096)))
    second.add(Reply("claude-y", "", Outcome.FAILED, Metrics(total=0.1),
                     ReplyError("The provider refused: quota", "Try later.", "rate_limited")))
    third = conv.add_prompt("Waiting for answers")
    third.params["gpt-x"] = ChatParams(temperature=0.0)  # parameters for a model that has not answered yet
    return conv


def chat(*prompts: str, model: str = "m", cost: float = 0.01) -> Conversation:
    conv = Conversation("chat", models=[model])
    for prompt in prompts:
        conv.add_prompt(prompt).add(Reply(model, f"reply to {prompt}", Outcome.COMPLETE, Metrics(cost=cost)))
    return conv


def save(store: Store, conv: Conversation, owner: str = ANA) -> None:
    for index in range(len(conv.rounds)):
        store.save_round(conv, index, owner)


def rows_in(store: Store, table: str) -> int:
    with store._engine.connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


# --- what is kept ------------------------------------------------------------------------------------------------

def test_every_field_of_a_comparison_comes_back(store: Store) -> None:
    conv = comparison()
    save(store, conv)
    loaded = store.load(conv.id, ANA)
    assert isinstance(loaded, Conversation)
    assert loaded.to_dict() == conv.to_dict()
    assert loaded.rounds[0].runs["gpt-x"][1].metrics == full_metrics(0.5)
    assert loaded.rounds[1].replies["claude-y"].error == ReplyError("The provider refused: quota", "Try later.",
                                                                   "rate_limited")


def test_every_metric_has_a_column() -> None:
    from gateway.store.schema import replies

    assert set(METRIC_COLUMNS) <= set(replies.c.keys())


def test_a_whole_conversation_keeps_its_title_pin_and_times(store: Store) -> None:
    conv = chat("one", "two")
    conv.title, conv.pinned, conv.created_at = "My title", True, 1_700_000_000.125
    store.save_conversation(conv, ANA)
    loaded = store.load(conv.id, ANA)
    assert loaded.to_dict() == conv.to_dict()
    (summary,) = store.history(ANA)
    assert (summary.title, summary.pinned, summary.created_at) == ("My title", True, 1_700_000_000.125)


def test_the_diff_pair_picked_is_kept_with_the_comparison(store: Store, database_url: str) -> None:
    conv = comparison()
    save(store, conv)
    assert store.load(conv.id, ANA).diff is None  # nothing picked: the page shows the first two
    (before,) = store.history(ANA)
    conv.diff = ("claude-y", "gpt-x")
    store.save_view(conv, ANA)
    assert store.load(conv.id, ANA).diff == ("claude-y", "gpt-x")
    assert store.history(ANA) == [before]  # picking replies to diff does not move it up the history
    other = Store.open(database_url)  # another tab on another replica saves a round: the pair stays
    try:
        tab = other.load(conv.id, ANA)
        tab.diff = None
        tab.rounds[-1].add(Reply("gpt-x", "now answered", Outcome.COMPLETE))
        other.save_round(tab, 2, ANA)
        assert other.flush()
    finally:
        other.close()
    loaded = store.load(conv.id, ANA)
    assert loaded.diff == ("claude-y", "gpt-x") and loaded.rounds[2].reply("gpt-x").text == "now answered"
    conv.diff = None  # picked again, the same reply twice: nothing to keep
    store.save_view(conv, ANA)
    assert store.load(conv.id, ANA).diff is None
    imported = Conversation.from_dict({**conv.to_dict(), "diff": ["gpt-x", "claude-y"]})
    imported.id = "imported"
    store.save_conversation(imported, ANA)  # a whole save carries it
    assert store.load("imported", ANA).diff == ("gpt-x", "claude-y")


def test_text_a_database_cannot_hold_is_replaced_the_same_way_on_both(store: Store) -> None:
    conv = Conversation("chat", params=ChatParams("system\x00prompt"), models=["m"])
    conv.add_prompt("NUL\x00here and a lone surrogate \ud800!").add(
        Reply("m", "reply\x00with NUL", Outcome.FAILED, error=ReplyError("bad\x00error", "hint\x00")),
        ChatParams("per-model\x00system"))
    conv.title = "title\x00"
    store.save_conversation(conv, ANA)
    loaded = store.load(conv.id, ANA)
    assert loaded.rounds[0].prompt == "NUL\ufffdhere and a lone surrogate \ufffd!"
    reply = loaded.rounds[0].reply()
    assert reply.text == "reply\ufffdwith NUL"
    assert (reply.error.message, reply.error.hint) == ("bad\ufffderror", "hint\ufffd")
    assert loaded.params.system_prompt == "system\ufffdprompt"
    assert loaded.rounds[0].params["m"].system_prompt == "per-model\ufffdsystem"
    assert loaded.title == "title\ufffd"
    assert store.status().ok


# --- saving again --------------------------------------------------------------------------------------------------

def test_saving_a_round_again_never_duplicates_it(store: Store) -> None:
    conv = Conversation("compare", models=["a", "b"])
    round_ = conv.add_prompt("p")
    round_.add(Reply("a", "a1", Outcome.COMPLETE, Metrics(cost=1.0)))
    store.save_round(conv, 0, ANA)
    store.save_round(conv, 0, ANA)
    round_.add(Reply("a", "a2", Outcome.COMPLETE, Metrics(cost=2.0), run=2))
    round_.add(Reply("b", "b1", Outcome.COMPLETE, Metrics(cost=4.0)))
    store.save_round(conv, 0, ANA)
    store.flush()
    assert (rows_in(store, "rounds"), rows_in(store, "replies")) == (1, 3)
    assert store.load(conv.id, ANA).to_dict() == conv.to_dict()
    assert store.history(ANA)[0].cost == 7.0

    conv.regenerate()  # the round's replies are dropped and answered again
    round_.add(Reply("b", "b again", Outcome.STOPPED, Metrics(cost=0.5)))
    store.save_round(conv, 0, ANA)
    loaded = store.load(conv.id, ANA)
    assert loaded.to_dict() == conv.to_dict()
    assert rows_in(store, "replies") == 1
    (summary,) = store.history(ANA)
    assert (summary.cost, summary.turns) == (0.5, 1)


def test_an_edited_last_prompt_replaces_the_round(store: Store) -> None:
    conv = chat("first", "typo")
    save(store, conv)
    conv.edit_last_prompt("fixed").add(Reply("m", "better", Outcome.COMPLETE))
    store.save_round(conv, 1, ANA)
    assert [r.prompt for r in store.load(conv.id, ANA).rounds] == ["first", "fixed"]
    assert store.load(conv.id, ANA).to_dict() == conv.to_dict()


def test_rounds_this_process_has_not_saved_are_saved_with_a_later_one(store: Store) -> None:
    conv = chat("one", "two", "three")
    store.save_round(conv, 2, ANA)  # rounds 0 and 1 were never handed over
    assert store.load(conv.id, ANA).to_dict() == conv.to_dict()


def test_a_conversation_opened_from_the_store_is_continued_without_rewriting_it(store: Store,
                                                                               database_url: str) -> None:
    conv = chat("one", "two")
    save(store, conv)
    store.flush()
    other = Store.open(database_url)  # another process (or after a restart)
    try:
        continued = other.load(conv.id, ANA)
        continued.add_prompt("three").add(Reply("m", "reply to three", Outcome.COMPLETE))
        other.save_round(continued, 2, ANA)
        assert other._writer.wait(timeout=5)
        assert [r.prompt for r in store.load(conv.id, ANA).rounds] == ["one", "two", "three"]
    finally:
        other.close()


def test_saving_a_whole_conversation_drops_rounds_it_no_longer_has(store: Store) -> None:
    conv = chat("one", "two", "three")
    save(store, conv)
    conv.clear()
    conv.add_prompt("fresh start")
    store.save_conversation(conv, ANA)
    loaded = store.load(conv.id, ANA)
    assert [r.prompt for r in loaded.rounds] == ["fresh start"]
    assert store.history(ANA)[0].turns == 1
    store.flush()
    assert rows_in(store, "replies") == 0


def test_a_page_sees_what_it_just_saved(store: Store) -> None:
    conv = chat("saved a moment ago")
    store.save_round(conv, 0, ANA)  # queued, not yet written
    assert [s.id for s in store.history(ANA)] == [conv.id]


def test_a_round_being_written_is_never_seen_half_written(store: Store, database_url: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    conv = chat("one")
    save(store, conv)
    store.flush()
    inside, release = threading.Event(), threading.Event()
    write_round = queries._write_round

    def slow_write_round(*args, **kwargs):  # the round and its replies are written, the transaction not committed
        write_round(*args, **kwargs)
        inside.set()
        release.wait(10)

    monkeypatch.setattr(queries, "_write_round", slow_write_round)
    conv.add_prompt("two").add(Reply("m", "a long reply " * 100, Outcome.COMPLETE, Metrics(cost=5.0)))
    store.save_round(conv, 1, ANA)
    assert inside.wait(10)
    reader = Store.open(database_url)  # another process reading meanwhile
    try:
        seen = reader.load(conv.id, ANA)
        assert [r.prompt for r in seen.rounds] == ["one"]
        assert reader.history(ANA)[0].turns == 1
        release.set()
        assert store.flush()
        seen = reader.load(conv.id, ANA)
        assert [r.prompt for r in seen.rounds] == ["one", "two"]
        assert seen.rounds[1].reply().text == "a long reply " * 100
    finally:
        release.set()
        reader.close()


# --- owners ------------------------------------------------------------------------------------------------------

def test_one_analyst_never_sees_another_analysts_work(store: Store) -> None:
    mine = chat("Ana's secret plan")
    mine.title = "Ana's"
    save(store, mine, ANA)
    assert store.load(mine.id, BEN) is None
    assert store.load(mine.id, BEN) == store.load("no-such-id", BEN)
    assert store.history(BEN) == []
    assert store.history(BEN, search="secret") == []
    for change in (lambda: store.rename(mine.id, BEN, "mine now"), lambda: store.pin(mine.id, BEN),
                   lambda: store.delete(mine.id, BEN), lambda: store.restore(mine.id, BEN)):
        assert change() is False
    assert [s.title for s in store.history(ANA)] == ["Ana's"]
    assert store.load(mine.id, ANA).to_dict() == mine.to_dict()


def test_the_same_id_under_two_owners_is_two_conversations(store: Store) -> None:
    ana = chat("ana's words")
    ben = chat("ben's words")
    ben.id = ana.id  # e.g. Ben imports an export of Ana's conversation
    save(store, ana, ANA)
    save(store, ben, BEN)
    assert store.load(ana.id, ANA).rounds[0].prompt == "ana's words"
    assert store.load(ana.id, BEN).rounds[0].prompt == "ben's words"
    assert store.delete(ana.id, BEN) is True
    assert store.load(ana.id, ANA) is not None


# --- history -------------------------------------------------------------------------------------------------------

def test_history_is_pinned_first_then_newest_first(store: Store) -> None:
    convs = [chat(f"conversation {i}", cost=0.25) for i in range(4)]
    for conv in convs:
        save(store, conv)
        time.sleep(0.002)
    assert [s.title for s in store.history(ANA)] == [f"conversation {i}" for i in (3, 2, 1, 0)]
    assert store.pin(convs[1].id, ANA) is True
    assert [s.title for s in store.history(ANA)] == [f"conversation {i}" for i in (1, 3, 2, 0)]
    assert [s.title for s in store.history(ANA, limit=2, offset=1)] == ["conversation 3", "conversation 2"]
    convs[0].add_prompt("more").add(Reply("m", "x", Outcome.COMPLETE, Metrics(cost=0.5)))
    store.save_round(convs[0], 1, ANA)  # a new turn moves it up
    summaries = store.history(ANA)
    assert [s.title for s in summaries] == [f"conversation {i}" for i in (1, 0, 3, 2)]
    assert summaries[1] == Summary(id=convs[0].id, kind="chat", title="conversation 0", models=("m",),
                                   created_at=convs[0].created_at, updated_at=summaries[1].updated_at, cost=0.75,
                                   pinned=False, turns=2)


def test_history_by_kind_and_titles(store: Store) -> None:
    long_prompt = "word " * 40
    save(store, chat(long_prompt))
    save(store, comparison())
    untitled = Conversation("chat")
    untitled.add_prompt("")
    store.save_round(untitled, 0, ANA)
    assert [s.kind for s in store.history(ANA, kind="compare")] == ["compare"]
    titles = [s.title for s in store.history(ANA, kind="chat")]
    assert titles == ["New conversation", chat(long_prompt).display_title]
    assert store.history(ANA, kind="compare")[0].models == ("gpt-x", "claude-y")


def test_search_finds_titles_prompts_and_replies_newest_first(store: Store) -> None:
    titled = chat("nothing to see")
    titled.title = "Quarterly budget review"
    store.save_conversation(titled, ANA)
    time.sleep(0.002)
    prompt = chat("How do I tune PostgreSQL autovacuum?")
    save(store, prompt)
    time.sleep(0.002)
    reply = Conversation("compare", models=["a", "b"])
    reply.add_prompt("explain").add(Reply("b", "The budget for autovacuum_work_mem is…", Outcome.COMPLETE))
    save(store, reply)

    def found(text: str) -> list[str]:
        return [s.id for s in store.history(ANA, search=text)]

    assert found("budget") == [reply.id, titled.id]  # a reply and a title; newest first
    assert found("autovac") == [reply.id, prompt.id]  # word prefixes
    assert found("QUARTERLY Review") == [titled.id]  # every word, any case
    assert found("budget postgresql") == []
    assert found("tune, postgres!") == [prompt.id]  # punctuation is not syntax
    assert found('"') == found("") == [reply.id, prompt.id, titled.id]  # no words: the whole history
    assert found("nowhere") == []
    assert [s.id for s in store.history(ANA, kind="chat", search="budget")] == [titled.id]


def test_search_follows_renames_new_text_and_deletes(store: Store) -> None:
    conv = chat("original words")
    save(store, conv)
    assert store.rename(conv.id, ANA, "Renamed thing") is True
    assert [s.title for s in store.history(ANA, search="renamed")] == ["Renamed thing"]
    conv.regenerate()
    conv.rounds[0].add(Reply("m", "replacement answer", Outcome.COMPLETE))
    store.save_round(conv, 0, ANA)
    assert store.history(ANA, search="reply") == []  # the old reply text is gone from the index
    assert len(store.history(ANA, search="replacement")) == 1
    assert store.delete(conv.id, ANA) is True
    assert store.history(ANA, search="replacement") == []


# --- rename, pin, delete, undo -----------------------------------------------------------------------------------

def test_rename_pin_delete_and_undo(store: Store) -> None:
    conv = chat("the first prompt")
    save(store, conv)
    assert store.rename(conv.id, ANA, "  Better name ") is True
    assert store.history(ANA)[0].title == "Better name"
    assert store.load(conv.id, ANA).title == "Better name"
    assert store.rename(conv.id, ANA, "") is True  # back to the first prompt
    assert store.history(ANA)[0].title == "the first prompt"
    assert store.pin(conv.id, ANA) is True and store.history(ANA)[0].pinned
    assert store.pin(conv.id, ANA, False) is True and not store.history(ANA)[0].pinned

    assert store.restore(conv.id, ANA) is False  # not deleted
    assert store.delete(conv.id, ANA) is True
    assert store.load(conv.id, ANA) is None and store.history(ANA) == []
    assert store.rename(conv.id, ANA, "x") is False  # a deleted conversation is not found
    assert store.restore(conv.id, ANA) is True  # undo
    assert store.load(conv.id, ANA).to_dict() == conv.to_dict()
    assert store.delete("no-such-id", ANA) is False


def test_deleted_conversations_are_purged_after_the_undo_window(store: Store) -> None:
    conv = chat("to be purged")
    save(store, conv)
    assert store.delete(conv.id, ANA) is True
    store.housekeep(now=time.time() + DELETED_RETENTION - 60)
    store.flush()
    assert rows_in(store, "conversations") == 1
    store.housekeep(now=time.time() + DELETED_RETENTION + 60)
    store.flush()
    assert store.restore(conv.id, ANA) is False
    assert (rows_in(store, "conversations"), rows_in(store, "rounds"), rows_in(store, "replies")) == (0, 0, 0)
    assert store.history(ANA, search="purged") == []


# --- probe samples -------------------------------------------------------------------------------------------------

def test_probe_history_is_kept_per_proxy_and_pruned(store: Store) -> None:
    now = time.time()
    old = LatencySample(now - PROBE_RETENTION - 60, "http://a:4000", "liveliness", 3.0, True)
    samples = [old, LatencySample(now - 10, "http://a:4000", "liveliness", 4.5, True),
               LatencySample(now - 5, "http://a:4000", "models", None, False),
               LatencySample(now - 5, "http://b:4000", "models", 9.0, True)]
    store.record_probes(samples)
    assert store.probe_history("http://a:4000", since=0) == samples[:3]
    assert store.probe_history("http://a:4000", since=now - 7) == samples[2:3]
    store.housekeep(now=now)
    store.flush()
    assert store.probe_history("http://a:4000", since=0) == samples[1:3]
    assert store.probe_history("http://b:4000", since=0) == samples[3:]


def test_the_postgres_database_really_is_postgres(store: Store, database_url: str) -> None:
    """Guards the parametrisation itself: the postgres run talks to the suite's server."""
    if database_url.startswith("postgresql"):
        dsn = sa.make_url(database_url)
        with psycopg.connect(host=dsn.host, port=dsn.port, user=dsn.username, dbname=dsn.database) as connection:
            assert connection.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    else:
        assert store._engine.dialect.name == "sqlite"
        with store._engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
