"""Bring a database to the newest schema with Alembic, safely when several app processes start at once.

The upgrade runs inside one transaction that first takes a lock every other starting process waits for:
PostgreSQL `pg_advisory_xact_lock` (released by the commit, or by the server if the process dies), SQLite
`BEGIN IMMEDIATE` (the database's write lock; both databases have transactional DDL, so a failed upgrade leaves
nothing half-done). The process that gets the lock second finds the schema current and does nothing.
A database already at the newest revision is only read (so a read-only SQLite file can still be opened).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from gateway.store.engine import writer

HERE = Path(__file__).resolve().parent
LOCK_KEY = 0x11_D45_B0A2D  # pg_advisory_xact_lock key: "dashboard" migrations (any constant shared by all processes)
LOCK_WAIT_S = 120  # SQLite: how long a starting process waits for another one's upgrade
_alembic_lock = threading.Lock()  # Alembic's command API is not thread-safe


def alembic_config() -> Config:
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE / "migrations"))
    return config


def head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current(engine: Engine) -> tuple[str, ...]:
    """The revisions the database is at (empty for a new database)."""
    with engine.connect() as connection:
        return tuple(MigrationContext.configure(connection).get_current_heads())


def upgrade(engine: Engine) -> bool:
    """Migrate to the newest revision. True when this process applied something. Raises on database errors."""
    if current(engine) == (head(),):
        return False
    with _alembic_lock, locked(engine) as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        before = tuple(MigrationContext.configure(connection).get_current_heads())
        command.upgrade(config, "head")
        return before != (head(),)


@contextmanager
def locked(engine: Engine) -> Iterator[sa.Connection]:
    """A connection in a transaction that holds the migration lock; committed at the end of the block."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection, connection.begin():
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))
            yield connection
        return
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:  # BEGIN IMMEDIATE waits busy_timeout for the lock; keep waiting while another upgrade runs
        connection = writer(engine).connect()
        try:
            transaction = connection.begin()
        except sa.exc.OperationalError as exc:
            connection.close()
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            continue
        try:
            yield connection
            transaction.commit()
        finally:
            connection.close()
        return
