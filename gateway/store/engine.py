"""One SQLAlchemy engine per database URL, set up the way the store needs it.

SQLite (the default, a file under the app's root): WAL so readers never wait for the writer, a busy timeout so
writers queue instead of failing, `synchronous=NORMAL` (safe with WAL: a crash of the app loses nothing, a power cut
at most the last transactions), foreign keys on, and SQLAlchemy emits BEGIN itself (`BEGIN IMMEDIATE` for writes) so
that a transaction really covers every statement in it (see SQLAlchemy's "Transactions with SQLite and the sqlite3
driver": the sqlite3 module's legacy mode does not BEGIN before a SELECT or DDL).

PostgreSQL (`postgresql+psycopg://`, psycopg 3): connections checked before use (a restarted server is picked up),
a short connect timeout so a down database fails fast, and a statement timeout so nothing waits forever.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from gateway.config import DEFAULT_DATABASE_URL

APP_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_URL = DEFAULT_DATABASE_URL
BUSY_TIMEOUT_MS = 5_000  # SQLite: how long a writer waits for another one
CONNECT_TIMEOUT_S = 3  # PostgreSQL
STATEMENT_TIMEOUT_MS = 30_000  # PostgreSQL
IMMEDIATE = "store_immediate"  # execution option: on SQLite, begin with BEGIN IMMEDIATE (take the write lock now)


def resolve_url(url: str | URL) -> URL:
    """The URL to connect to: a relative SQLite path is under the app's root; `postgresql://` means psycopg 3.

    Raises ValueError for a URL SQLAlchemy cannot read or a database the store does not support.
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ValueError(f"not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.drivername not in ("sqlite", "sqlite+pysqlite"):
            raise ValueError(f"unsupported SQLite driver {parsed.drivername!r}; use sqlite:///path/to/file.db")
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:") \
                and not Path(database).is_absolute():
            parsed = parsed.set(database=str(APP_ROOT / database))
        return parsed
    if backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
            return parsed.set(drivername="postgresql+psycopg")
        raise ValueError(f"unsupported PostgreSQL driver {parsed.drivername!r}; use postgresql+psycopg://")
    raise ValueError(f"unsupported database {backend!r}: use sqlite:///… or postgresql+psycopg://…")


def describe(url: URL) -> str:
    """The URL as it may be shown: no password."""
    return url.render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL (None for in-memory databases and other backends)."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.database.startswith("file:"):
        return Path(url.database[len("file:"):].split("?", 1)[0])
    return Path(url.database)


def create_engine(url: URL) -> Engine:
    """An engine for `url` (from `resolve_url`). Connects lazily: a down database fails on first use, not here."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return sa.create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=5, pool_timeout=10,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "llm-dashboard",
                      "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"})


def _sqlite_engine(url: URL) -> Engine:
    path = sqlite_path(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass  # connecting will fail and say so ("unable to open database file")
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
    if (url.database or "").startswith("file:"):
        connect_args["uri"] = True
    engine = sa.create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (below), sqlite3 does not
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = NORMAL")
            try:
                cursor.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError:
                pass  # a read-only file: reads still work, writes will fail and the status will say why
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        immediate = connection.get_execution_options().get(IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine (same pool), for transactions that write: on SQLite they take the write lock at BEGIN, so a
    transaction that reads before it writes cannot fail half-way on another process's commit."""
    return engine.execution_options(**{IMMEDIATE: True})


def reader(engine: Engine) -> Engine:
    """The same engine, for reads that span several statements: on PostgreSQL they see one snapshot."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return engine
