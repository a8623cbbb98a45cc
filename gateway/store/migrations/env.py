"""Alembic's entry point. The app hands it a connection that already holds the migration lock
(gateway/store/migrate.py); `alembic -c gateway/store/alembic.ini upgrade head` run by hand takes the same lock,
on the database the app's settings name (DATABASE_URL from the environment or `.env`, read by gateway/config.py as the
app reads it; a malformed one stops the command instead of migrating the default database)."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from gateway.config import load_settings
from gateway.store.engine import create_engine, resolve_url
from gateway.store.schema import include_object, metadata

config = context.config


def run(connection) -> None:  # noqa: ANN001
    context.configure(connection=connection, target_metadata=metadata, include_object=include_object,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:  # the command line
    from gateway.store.migrate import locked

    if config.config_file_name is not None:
        fileConfig(config.config_file_name)
    settings = load_settings()
    if problems := [str(p) for p in settings.problems if p.variable == "DATABASE_URL"]:
        raise SystemExit(f"Not migrated: {problems[0]}")
    engine = create_engine(resolve_url(settings.database_url))
    with locked(engine) as locked_connection:
        run(locked_connection)
    engine.dispose()
