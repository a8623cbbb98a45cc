"""Migrations: the schema they build is the one the queries are written against, applying them is idempotent, and
several processes starting at once on an empty database migrate it exactly once."""

from __future__ import annotations

import json
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

from gateway.store import Store, migrate
from gateway.store.engine import create_engine, resolve_url
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
        assert {"conversations", "rounds", "replies", "probe_samples", "api_tokens", "alembic_version"} <= tables
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


def test_the_revisions_form_one_chain_ending_at_the_api_tokens() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert script.get_heads() == ["0007"]
    assert [r.revision for r in reversed(list(script.walk_revisions()))] == [
        "0001", "0002", "0004", "0005", "0006", "0007"]
