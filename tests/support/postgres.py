"""A real, throwaway PostgreSQL server for the tests and benchmarks, and the store's database fixtures.

`start_postgres()` runs Debian's `postgresql` binaries (/usr/lib/postgresql/<version>/bin): `initdb` a cluster in a
temporary folder, `pg_ctl start` it on a free loopback port (as the `postgres` user when we are root: PostgreSQL
refuses to run as root), trust authentication on loopback only. `stop()` / `start()` again keep the data (the
"database stopped mid-session" test); `destroy()` stops it and deletes the folder.

Fixtures (import them into a test module): `postgres_server` (one per test session), and `database_url`,
parametrised over ["sqlite", "postgres"]: a new, empty database for each test (a file in tmp_path, or a new database
on the session's server), the postgres one marked `postgres`; `store`, an opened store on it, migrated (SQLite: a copy
of `migrated_sqlite`, one database migrated per session).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from gateway.store import Store
from tests.support.proxy import free_port

USER = "postgres"  # the OS user that runs the server when we are root, and the database superuser


def binaries() -> Path:
    """The newest installed PostgreSQL's bin folder."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (Debian's package; "
                           ".ci/run installs it)")
    return found[-1].parent


def _as_server_user(command: list[str], **kwargs: object) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        command = ["runuser", "-u", USER, "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]


class PostgresServer:
    """One throwaway cluster on 127.0.0.1:`port`."""

    def __init__(self, root: Path, port: int, *, durable: bool = False) -> None:
        self.root, self.port, self.durable = root, port, durable
        self.data, self.log = root / "data", root / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """For psycopg itself."""
        return f"host=127.0.0.1 port={self.port} user={USER} dbname={database}"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
        if not self.durable:  # a test cluster need not survive a power cut
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _as_server_user([str(binaries() / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                         "-w", "-t", "60", "start"])

    def stop(self, mode: str = "fast") -> None:
        _as_server_user([str(binaries() / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        if self.running:
            try:
                self.stop("immediate")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres(*, durable: bool = False) -> PostgresServer:
    """initdb a new cluster in a temporary folder and start it on a free loopback port."""
    root = Path(tempfile.mkdtemp(prefix="dashboard-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, USER, USER)
    server = PostgresServer(root, free_port(), durable=durable)
    try:
        _as_server_user([str(binaries() / "initdb"), "-D", str(server.data), "-U", USER, "--auth=trust",
                         "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
        server.start()
    except BaseException:
        log = server.log.read_text(errors="replace")[-2000:] if server.log.exists() else ""
        server.destroy()
        raise RuntimeError(f"PostgreSQL did not start. {log}") from None
    deadline = time.monotonic() + 30
    while True:  # pg_ctl -w waits for the server; make sure it takes connections on the port too
        try:
            psycopg.connect(server.dsn(), connect_timeout=2).close()
            atexit.register(server.destroy)  # also when a run is interrupted (destroy() twice is harmless)
            return server
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                server.destroy()
                raise


# --- fixtures ----------------------------------------------------------------------------------------------------

_session_server: PostgresServer | None = None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole test session (shared by every module that imports this fixture)."""
    global _session_server
    if _session_server is None or not _session_server.running:
        _session_server = start_postgres()
    yield _session_server
    if _session_server is not None:
        _session_server.destroy()
        _session_server = None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database: a SQLite file, or a database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to the newest schema, once per session, to be copied: a copy takes well under a
    millisecond, migrating an empty database ~0.15 s. (Migrating empty databases is tests/test_store_migrations.py's
    subject.)"""
    path = tmp_path_factory.mktemp("migrated") / "store.db"
    assert Store.open(f"sqlite:///{path}").close()
    return path


@pytest.fixture
def store(database_url: str, migrated_sqlite: Path) -> Iterator[Store]:
    """An opened, migrated store on that database (SQLite: a copy of the migrated one), closed after the test."""
    if database_url.startswith("sqlite:///"):
        shutil.copyfile(migrated_sqlite, database_url.removeprefix("sqlite:///"))
    opened = Store.open(database_url)
    assert opened.status().ok, opened.status()
    yield opened
    opened.close()
