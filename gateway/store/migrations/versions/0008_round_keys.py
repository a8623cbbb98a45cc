"""Round keys and the conversation's view: saving a round by its identity, and the compare page's diff selection.

`rounds.key` is the round's own key (gateway.conversation.Round.key): a round saved again is found by it, so two tabs
or replicas adding rounds to one conversation at once never overwrite each other's (gateway/store/queries.py). Rounds
saved before get a random key here. `conversations.view` holds what the analyst chose to look at ({"diff": [first,
second]} on the compare page); NULL when nothing was chosen.

On SQLite a NOT NULL column can only be added with a default: `key` gets '' (then every row its key); nothing ever
writes a round without one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# A random 32-digit hex key per row, as uuid.uuid4().hex makes them.
RANDOM_KEY = {"postgresql": "replace(gen_random_uuid()::text, '-', '')", "sqlite": "lower(hex(randomblob(16)))"}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.add_column("rounds", sa.Column("key", sa.String(32), nullable=True))
    else:
        op.add_column("rounds", sa.Column("key", sa.String(32), nullable=False, server_default=""))
    op.execute(f'UPDATE rounds SET "key" = {RANDOM_KEY[dialect]}')
    if dialect == "postgresql":
        op.alter_column("rounds", "key", nullable=False)
    op.create_index("uq_rounds_conversation_pk_key", "rounds", ["conversation_pk", "key"], unique=True)
    op.add_column("conversations", sa.Column("view", Json, nullable=True))


def downgrade() -> None:
    op.drop_column("conversations", "view")
    op.drop_index("uq_rounds_conversation_pk_key", "rounds")
    op.drop_column("rounds", "key")
