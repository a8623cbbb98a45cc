"""When the database is down, locked or read-only: pages keep working, nothing raises, the status says why (without
secrets), and the turns saved meanwhile are written when the database is back."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config import load_settings
from gateway.conversation import Conversation
from gateway.reply import Metrics, Outcome, Reply
from gateway.store import Store, Unavailable, get_store
from gateway.store.engine import APP_ROOT, resolve_url
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.proxy import free_port

ANA = "ana@example.com"


def turn(conv: Conversation, prompt: str) -> int:
    conv.add_prompt(prompt).add(Reply("m", f"reply to {prompt}", Outcome.COMPLETE, Metrics(cost=0.01)))
    return len(conv.rounds) - 1


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A server of this test's own (it is stopped and started again)."""
    server = start_postgres()
    yield server
    server.destroy()


@pytest.mark.postgres
def test_postgres_stopped_mid_session_then_back(own_postgres: PostgresServer) -> None:
    store = Store.open(own_postgres.create_database("work"))
    try:
        conv = Conversation("chat", models=["m"])
        for i in range(3):
            store.save_round(conv, turn(conv, f"before {i}"), ANA)
        assert store.flush(10)

        own_postgres.stop()
        for i in range(3):
            started = time.monotonic()
            store.save_round(conv, turn(conv, f"while down {i}"), ANA)  # the page's reply ends as usual
            assert time.monotonic() - started < 0.5, "saving waited for the database"
        deadline = time.monotonic() + 20
        while store.status().ok and time.monotonic() < deadline:
            time.sleep(0.05)
        status = store.status()
        assert not status.ok and status.pending == 1
        assert status.message.startswith("Your work is not being saved: postgresql+psycopg://postgres@127.0.0.1:")
        assert "1 unsaved change will be written when it is back." in status.message
        assert isinstance(store.load(conv.id, ANA), Unavailable)
        assert isinstance(store.history(ANA), Unavailable)
        assert isinstance(store.rename(conv.id, ANA, "new"), Unavailable)
        assert isinstance(store.probe_history("http://proxy", 0), Unavailable)

        own_postgres.start()
        assert store.flush(30), store.status()
        assert store.status().ok
        loaded = store.load(conv.id, ANA)
        assert [r.prompt for r in loaded.rounds] == [f"before {i}" for i in range(3)] + \
            [f"while down {i}" for i in range(3)]
        assert loaded.to_dict() == conv.to_dict()
    finally:
        store.close(timeout=1)


def test_an_unreachable_database_at_start_up_is_reported_without_its_password() -> None:
    url = f"postgresql+psycopg://dash:sk-supersecret-password-123@127.0.0.1:{free_port()}/work"
    started = time.monotonic()
    store = Store.open(url)
    try:
        status = store.status()
        assert not status.ok
        assert "sk-supersecret-password-123" not in status.message + status.database
        assert status.database.startswith("postgresql+psycopg://dash:***@127.0.0.1:")
        assert "Connection refused" in status.message or "connection failed" in status.message
        conv = Conversation("chat")
        store.save_round(conv, turn(conv, "hello"), ANA)  # nothing raises
        found = store.history(ANA)
        assert isinstance(found, Unavailable) and "sk-supersecret" not in found.message
        assert isinstance(store.load(conv.id, ANA), Unavailable)
        assert time.monotonic() - started < 10
    finally:
        store.close(timeout=0.5)


@pytest.fixture
def read_only() -> Iterator:
    """Makes a file read-only for this process, root included (root ignores file modes: it gets the immutable
    attribute instead); undone at the end."""
    made: list[Path] = []

    def make(path: Path) -> None:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "+i", str(path)], check=True)
        else:
            path.chmod(0o444)
        made.append(path)

    yield make
    for path in made:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=False)


@pytest.mark.processes  # chattr, as root
def test_a_read_only_sqlite_file_says_so_and_still_reads(tmp_path: Path, read_only) -> None:
    url = f"sqlite:///{tmp_path / 'work.db'}"
    store = Store.open(url)
    conv = Conversation("chat")
    store.save_round(conv, turn(conv, "saved earlier"), ANA)
    assert store.close()
    read_only(tmp_path / "work.db")
    with pytest.raises(OSError):
        (tmp_path / "work.db").open("ab")

    store = Store.open(url)  # the app starts on a read-only database
    try:
        assert store.status().ok  # already migrated: opening only reads
        assert store.load(conv.id, ANA).to_dict() == conv.to_dict()  # reading still works
        later = Conversation("chat")
        store.save_round(later, turn(later, "new turn"), ANA)  # nothing raises
        assert not store.flush(2)
        status = store.status()
        assert not status.ok and status.pending == 1
        assert status.message.startswith("Your work is not being saved: sqlite:///")
        assert "attempt to write a readonly database" in status.message
        renamed = store.rename(conv.id, ANA, "new title")
        assert isinstance(renamed, Unavailable) and "readonly database" in renamed.message
        assert [s.id for s in store.history(ANA)] == [conv.id]
    finally:
        store.close(timeout=0.2)


def test_a_url_that_is_not_a_supported_database_is_refused() -> None:
    for url in ("mysql://u:p@h/db", "not a url", "sqlite+aiosqlite:///x.db", "postgresql+asyncpg://h/db"):
        with pytest.raises(ValueError):
            Store.open(url)


def test_the_default_database_is_a_file_under_the_app_and_its_folder_is_created(tmp_path: Path) -> None:
    assert resolve_url("sqlite:///data/dashboard.db").database == str(APP_ROOT / "data" / "dashboard.db")
    assert resolve_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    store = Store.open(f"sqlite:///{tmp_path / 'a' / 'b' / 'work.db'}")
    try:
        assert store.status().ok and (tmp_path / "a" / "b" / "work.db").is_file()
    finally:
        store.close()


def test_get_store_is_one_store_per_database_and_hides_the_password(tmp_path: Path) -> None:
    settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path / 'one.db'}"}, secrets={}, dotenv_path=None)
    store = get_store(settings)
    assert get_store(settings) is store
    assert store.status().ok
    bad = load_settings({"DATABASE_URL": "mysql://u:hunter2@h/db"}, secrets={}, dotenv_path=None)
    assert [p.variable for p in bad.problems] == ["DATABASE_URL"]
    assert "hunter2" not in str(bad.problems[0]) and "hunter2" not in repr(bad)
    assert bad.database_url == "sqlite:///data/dashboard.db"
    with_password = load_settings({"DATABASE_URL": "postgresql+psycopg://u:hunter2@db/work"}, secrets={},
                                  dotenv_path=None)
    assert with_password.public()["DATABASE_URL"] == "postgresql+psycopg://u:***@db/work"
    assert "hunter2" in with_password.secrets  # so redact() removes it from any message
