"""The usage ledger: every reply the app sent is counted once, for its analyst, and stays counted when saved work is
cleared, regenerated or deleted. On SQLite and on the suite's PostgreSQL (`database_url` is parametrised)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import sqlalchemy as sa
from alembic import command

from gateway.conversation import Conversation
from gateway.reply import Metrics, Outcome, Reply, ReplyError
from gateway.store import Store
from gateway.store import usage as ledger
from gateway.store.migrate import alembic_config
from gateway.store.rows import Snapshot, header, round_rows, usage_rows

ANA, BEN = "ana@example.com", "ben@example.com"
ALL_TIME = {"since": 0.0, "until": time.time() + 3600}


def sent(model: str, cost: float | None, *, run: int = 1, source: str = "proxy", outcome=Outcome.COMPLETE,
         tokens: tuple[int, int] = (10, 20), ttft: float = 0.2, total: float | None = None) -> Reply:
    total = total if total is not None else 1.0 + cost if cost else 1.0 + run / 7
    return Reply(model, "text", outcome, Metrics(ttft=ttft, total=total, prompt_tokens=tokens[0],
                                                 completion_tokens=tokens[1], cost=cost,
                                                 cost_source=source if cost is not None else None), run=run)


def chat_turn(store: Store, conversation: Conversation, owner: str, reply: Reply, prompt: str = "hi") -> None:
    conversation.add_prompt(prompt).add(reply)
    store.save_round(conversation, len(conversation.rounds) - 1, owner)


def saved_cost(store: Store, owner: str) -> float:
    """What the owner's saved replies cost, as the history list adds it up."""
    found = store.history(owner, limit=1000)
    assert isinstance(found, list)
    return sum(summary.cost for summary in found)


def test_the_ledger_adds_up_to_the_saved_replies_per_analyst_and_for_the_team(store):
    ana_chat, ben_compare = Conversation("chat"), Conversation("compare")
    chat_turn(store, ana_chat, ANA, sent("gpt-x", 0.0125))
    chat_turn(store, ana_chat, ANA, sent("gpt-x", 0.0031, source="catalogue"))
    round_ = ben_compare.add_prompt("Which?")
    for run in (1, 2):
        round_.add(sent("gpt-x", 0.002 * run, run=run))
        round_.add(sent("claude-y", 0.004 * run, run=run))
    store.save_round(ben_compare, 0, BEN)
    store.flush()

    ana = store.usage(ANA, **ALL_TIME)
    assert sum(g.replies for g in ana) == 2
    assert ledger.total_cost(ana) == pytest.approx(saved_cost(store, ANA)) == pytest.approx(0.0156)
    assert sum(g.estimated_cost for g in ana) == pytest.approx(0.0031)  # marked as estimated on the page
    team = store.usage(None, **ALL_TIME)
    assert {g.owner for g in team} == {ANA, BEN}
    assert ledger.total_cost(team) == pytest.approx(saved_cost(store, ANA) + saved_cost(store, BEN))
    assert store.spent(BEN, **ALL_TIME) == pytest.approx(0.018)
    by_model = {g.model: g for g in store.usage(BEN, **ALL_TIME)}
    assert by_model["claude-y"].replies == 2 and by_model["claude-y"].tokens == 60


def test_saving_a_round_again_does_not_count_it_twice(store):
    conversation = Conversation("chat")
    chat_turn(store, conversation, ANA, sent("gpt-x", 0.01))
    store.save_round(conversation, 0, ANA)
    store.save_round(conversation, 0, ANA)
    store.flush()
    assert store.spent(ANA, **ALL_TIME) == pytest.approx(0.01)


def test_spend_stays_when_work_is_regenerated_cleared_or_deleted(store):
    conversation = Conversation("chat")
    chat_turn(store, conversation, ANA, sent("gpt-x", 0.01))
    conversation.regenerate()  # the same round answered again: a new reply, in the same place
    conversation.rounds[0].add(sent("gpt-x", 0.02))
    store.save_round(conversation, 0, ANA)
    store.flush()
    assert saved_cost(store, ANA) == pytest.approx(0.02)  # the saved work keeps the new reply only…
    assert store.spent(ANA, **ALL_TIME) == pytest.approx(0.03)  # …the ledger both: both were paid for
    conversation.clear()
    store.save_conversation(conversation, ANA)
    assert store.delete(conversation.id, ANA) is True
    store.flush()
    assert saved_cost(store, ANA) == 0
    assert store.spent(ANA, **ALL_TIME) == pytest.approx(0.03)


def test_imports_and_handoffs_are_not_spending(store):
    imported = Conversation("chat")
    imported.add_prompt("old").add(sent("gpt-x", 0.5))
    store.save_conversation(imported, ANA)  # an import: someone else's (or an earlier) spend
    compared = Conversation("compare")
    compared.add_prompt("q").add(sent("gpt-x", 0.01))
    store.save_round(compared, 0, ANA)
    store.save_conversation(compared.handoff("gpt-x"), ANA)  # "Continue in chat" copies the reply
    store.flush()
    assert store.spent(ANA, **ALL_TIME) == pytest.approx(0.01)


def test_a_request_never_sent_is_not_usage(store):
    conversation = Conversation("chat")
    refused = Reply("gpt-x", outcome=Outcome.FAILED, error=ReplyError("Not sent: too long", kind="context_window"))
    chat_turn(store, conversation, ANA, refused)
    failed = sent("gpt-x", None, outcome=Outcome.FAILED, tokens=(0, 0), total=0.05)
    chat_turn(store, conversation, ANA, failed)
    store.flush()
    [group] = store.usage(ANA, **ALL_TIME)
    assert (group.replies, group.failed, group.unpriced, group.cost) == (1, 1, 1, 0.0)


def test_pending_usage_survives_a_clear_queued_after_it():
    conversation = Conversation("chat")
    conversation.add_prompt("hi").add(sent("gpt-x", 0.01))
    now = time.time()
    turn = Snapshot(header(conversation, ANA, now),
                    {conversation.rounds[0].key: round_rows(conversation.rounds[0], 0, now)},
                    usage=usage_rows(conversation, conversation.rounds[0], now))
    conversation.clear()
    cleared = Snapshot(header(conversation, ANA, now), {}, whole=True, drop=frozenset(conversation.removed))
    merged = turn.then(cleared)
    assert merged.whole and not merged.rounds and len(merged.usage) == 1


def test_days_are_counted_in_the_readers_time_zone(store):
    conversation = Conversation("chat")
    chat_turn(store, conversation, ANA, sent("gpt-x", 0.01))
    store.flush()
    at = time.time()
    for offset in (-11 * 3600, 0, 13 * 3600):
        [group] = store.usage(ANA, **ALL_TIME, offset=offset)
        assert group.day == dt.datetime.fromtimestamp(at, dt.timezone(dt.timedelta(seconds=offset))).date()


def test_a_period_excludes_what_is_outside_it(store):
    conversation = Conversation("chat")
    chat_turn(store, conversation, ANA, sent("gpt-x", 0.01))
    store.flush()
    now = time.time()
    assert store.usage(ANA, since=now + 60, until=now + 120) == []
    assert store.spent(ANA, since=0, until=now - 3600) == 0


def test_the_migration_backfills_the_ledger_from_saved_replies(database_url):
    """A database saved before the ledger existed: its replies (sent ones, deleted conversations too) become usage."""
    url = database_url
    migrated = Store.open(url)  # migrated to head; go back to 0004 (main before the ledger) and save work there
    engine = sa.create_engine(migrated.url)
    migrated.close()
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    with engine.begin() as connection:
        pk = connection.execute(sa.text(
            "INSERT INTO conversations (id, owner, kind, models, params, created_at, updated_at, deleted_at) "
            "VALUES ('c1', :owner, 'chat', '[]', '{}', 1, 2, 3) RETURNING pk"), {"owner": ANA}).scalar_one()
        round_pk = connection.execute(sa.text(
            "INSERT INTO rounds (conversation_pk, position, prompt, params, created_at) "
            "VALUES (:pk, 0, 'p', '{}', 1) RETURNING pk"), {"pk": pk}).scalar_one()
        for run, total, cost in ((1, 1.5, 0.25), (2, None, None)):
            connection.execute(sa.text(
                "INSERT INTO replies (round_pk, conversation_pk, model, run, position, outcome, text, total, cost, "
                "cost_source, created_at) VALUES (:r, :c, 'gpt-x', :run, 0, 'complete', 't', :total, :cost, "
                "'proxy', 100)"), {"r": round_pk, "c": pk, "run": run, "total": total, "cost": cost})
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()
    reopened = Store.open(url)
    try:
        assert reopened.spent(ANA, since=0, until=200) == pytest.approx(0.25)
        [group] = reopened.usage(ANA, since=0, until=200)
        assert group.replies == 1 and group.day == dt.date(1970, 1, 1)
    finally:
        reopened.close()
