"""Migrations: the schema they build is the one the queries are written against, applying them is idempotent, and
several processes starting at once on an empty database migrate it exactly once."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from gateway.conversation import new_id
from gateway.evaluation.votes import Verdict, compare_subject
from gateway.reply import Outcome, Reply
from gateway.store import Store, migrate
from gateway.store.engine import create_engine, resolve_url
from gateway.store.evaluation import Evaluations
from gateway.store.schema import SQLITE_FTS_TABLES, include_object, metadata

ROOT = Path(__file__).resolve().parent.parent


def engine_for(url: str) -> sa.Engine:
    return create_engine(resolve_url(url))


def test_the_migrated_schema_is_the_one_the_queries_use(database_url: str) -> None:
    engine = engine_for(database_url)
    try:
        assert migrate.upgrade(engine) is True
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_object": include_object,
                                                                   "compare_type": True})
            assert compare_metadata(context, metadata) == []
            tables = set(sa.inspect(connection).get_table_names())
        assert {"conversations", "rounds", "replies", "probe_samples", "api_tokens", "prompt_library",
                "alembic_version"} <= tables
        if engine.dialect.name == "sqlite":
            assert set(SQLITE_FTS_TABLES) <= tables
        else:
            columns = {t: {c["name"] for c in sa.inspect(engine).get_columns(t)} for t in ("conversations", "rounds",
                                                                                          "replies")}
            assert all("search" in names for names in columns.values())
    finally:
        engine.dispose()


def test_migrating_again_changes_nothing(database_url: str) -> None:
    engine = engine_for(database_url)
    try:
        assert migrate.upgrade(engine) is True
        assert migrate.upgrade(engine) is False
        assert migrate.current(engine) == (migrate.head(),)
    finally:
        engine.dispose()


def test_downgrade_removes_everything_and_upgrade_rebuilds_it(database_url: str) -> None:
    engine = engine_for(database_url)
    try:
        migrate.upgrade(engine)
        with migrate.locked(engine) as connection:
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
        assert migrate.upgrade(engine) is True
    finally:
        engine.dispose()
    store = Store.open(database_url)
    try:
        assert store.status().ok and store.history("anyone") == []
    finally:
        store.close()


CHILD = """
import json, sys, time
from gateway.store import migrate, Store
from gateway.store.engine import create_engine, resolve_url
url, start = sys.argv[1], float(sys.argv[2])
engine = create_engine(resolve_url(url))
time.sleep(max(0.0, start - time.time()))
applied = migrate.upgrade(engine)
store = Store.open(url)
print(json.dumps({"applied": applied, "ok": store.status().ok, "message": store.status().message}))
store.close()
"""


@pytest.mark.processes
def test_processes_starting_at_once_migrate_an_empty_database_once(database_url: str) -> None:
    start = time.time() + 3.0  # every process is imported and connected by then; they go at the same instant
    children = [subprocess.Popen([sys.executable, "-c", CHILD, database_url, str(start)], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["applied"] for r in results) == [False, False, True], results
    assert all(r["ok"] for r in results), results
    engine = engine_for(database_url)
    try:
        assert migrate.current(engine) == (migrate.head(),)
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_database_of_an_older_revision_is_upgraded_with_its_data(database_url: str) -> None:
    engine = engine_for(database_url)
    try:
        with migrate.locked(engine) as connection:
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO conversations (id, owner, kind, title, auto_title, pinned, models, params, turns, cost, "
                "created_at, updated_at) VALUES ('old', 'ana', 'chat', 'From before', '', false, '[]', '{}', 0, 0, "
                "1.0, 2.0)"))
        assert migrate.current(engine) == ("0001",)
    finally:
        engine.dispose()
    store = Store.open(database_url)
    try:
        assert store.status().ok
        assert [s.title for s in store.history("ana")] == ["From before"]
        assert store.load("old", "ana").title == "From before"
    finally:
        store.close()
    engine = engine_for(database_url)
    try:
        assert migrate.current(engine) == (migrate.head(),)
    finally:
        engine.dispose()


def test_rounds_saved_before_round_keys_get_one_each_and_are_saved_in_place_after(database_url: str) -> None:
    engine = engine_for(database_url)
    try:
        with migrate.locked(engine) as connection:
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0007")
        with engine.begin() as connection:
            pk = connection.execute(sa.text(
                "INSERT INTO conversations (id, owner, kind, title, auto_title, pinned, models, params, turns, cost, "
                "created_at, updated_at) VALUES ('old', 'ana', 'chat', '', 'one', false, '[\"m\"]', '{}', 2, 0, "
                "1.0, 2.0) RETURNING pk")).scalar_one()
            for position, prompt in enumerate(("one", "two")):
                connection.execute(sa.text(
                    "INSERT INTO rounds (conversation_pk, position, prompt, params, created_at) "
                    "VALUES (:pk, :position, :prompt, '{}', :at)"),
                    {"pk": pk, "position": position, "prompt": prompt, "at": 1.0 + position})
    finally:
        engine.dispose()
    store = Store.open(database_url)
    try:
        old = store.load("old", "ana")
        keys = [r.key for r in old.rounds]
        assert len(set(keys)) == 2 and all(re.fullmatch("[0-9a-f]{32}", key) for key in keys)
        assert old.diff is None
        old.rounds[1].add(Reply("m", "now answered", Outcome.COMPLETE))
        old.add_prompt("three")
        store.save_round(old, 2, "ana")
        assert [(r.key, r.prompt) for r in store.load("old", "ana").rounds] == \
            [(keys[0], "one"), (keys[1], "two"), (old.rounds[2].key, "three")]
        store.save_round(old, 1, "ana")  # saved again: found by the key it was given
        assert store.load("old", "ana").rounds[1].reply().text == "now answered"
        assert store.history("ana")[0].turns == 3
    finally:
        store.close()


def test_votes_on_a_round_by_its_place_are_moved_to_its_key(database_url: str) -> None:
    engine = engine_for(database_url)
    keys: dict[tuple[str, int], str] = {}  # (owner, place) -> key of that owner's round in conversation "c1"
    try:
        with migrate.locked(engine) as connection:
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0008")
        with engine.begin() as connection:
            for owner in ("ana", "ben"):  # the same conversation id for two analysts: ids are unique per owner
                pk = connection.execute(sa.text(
                    "INSERT INTO conversations (id, owner, kind, title, auto_title, pinned, models, params, turns, "
                    "cost, created_at, updated_at) VALUES ('c1', :owner, 'compare', '', 'one', false, "
                    "'[\"a\", \"b\"]', '{}', 2, 0, 1.0, 2.0) RETURNING pk"), {"owner": owner}).scalar_one()
                for position in range(2):
                    keys[owner, position] = new_id()
                    connection.execute(sa.text(
                        "INSERT INTO rounds (conversation_pk, position, prompt, params, created_at, \"key\") "
                        "VALUES (:pk, :position, :prompt, '{}', 1.0, :key)"),
                        {"pk": pk, "position": position, "prompt": f"{owner} {position}",
                         "key": keys[owner, position]})
            for owner, subject in VOTES_BEFORE:
                connection.execute(sa.text(
                    "INSERT INTO votes (owner, subject, models, models_key, verdict, winner, tag, comment, blind, "
                    "created_at, updated_at) VALUES (:owner, :subject, '[\"a\", \"b\"]', 'a\nb', 'tie', NULL, "
                    "'', '', false, 1.0, 1.0)"), {"owner": owner, "subject": subject})
        assert migrate.upgrade(engine) is True
        assert subjects(engine) == {
            ("ana", f"compare:c1:{keys['ana', 1]}"),  # ana's round at place 1
            ("ben", f"compare:c1:{keys['ben', 0]}"),  # ben's own conversation "c1", not ana's
            ("carl", "compare:c1:0"),  # carl has no conversation "c1": nothing to name, kept as it was
            ("ana", "compare:c1:7"),  # no round at that place any more: kept
            ("ana", "compare:gone:0"),  # the conversation was purged: kept
            ("ana", "eval:run1:1"),  # a row of an evaluation run: untouched
        }

        with migrate.locked(engine) as connection:  # and back: keys become places again
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0008")
        assert subjects(engine) == set(VOTES_BEFORE)
    finally:
        engine.dispose()
    store = Store.open(database_url)  # upgraded again at start-up: the vote is found by the page's subject
    try:
        vote = Evaluations(store).my_vote(compare_subject("c1", store.load("c1", "ana").rounds[1].key), "ana")
        assert vote is not None and vote.verdict is Verdict.TIE
    finally:
        store.close()


VOTES_BEFORE = [("ana", "compare:c1:1"), ("ben", "compare:c1:0"), ("carl", "compare:c1:0"), ("ana", "compare:c1:7"),
                ("ana", "compare:gone:0"), ("ana", "eval:run1:1")]


def subjects(engine: sa.Engine) -> set[tuple[str, str]]:
    with engine.connect() as connection:
        return {(row[0], row[1]) for row in connection.execute(sa.text("SELECT owner, subject FROM votes"))}


def test_the_revisions_form_one_chain_ending_at_the_reasoning_columns() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert script.get_heads() == ["0013"]
    assert [r.revision for r in reversed(list(script.walk_revisions()))] == [
        "0001", "0002", "0004", "0005", "0006", "0007", "0008", "0009", "0012", "0011", "0010", "0016", "0015", "0014",
        "0013"]
