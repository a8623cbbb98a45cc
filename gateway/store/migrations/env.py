"""Alembic's entry point. The app hands it a connection that already holds the migration lock
(gateway/store/migrate.py); `alembic -c gateway/store/alembic.ini upgrade head` run by hand takes the same lock,
on the database named by DATABASE_URL."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context

from gateway.store.engine import DEFAULT_URL, create_engine, resolve_url
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
    engine = create_engine(resolve_url(os.environ.get("DATABASE_URL") or DEFAULT_URL))
    with locked(engine) as locked_connection:
        run(locked_connection)
    engine.dispose()
