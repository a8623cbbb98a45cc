"""The team prompt library: saved prompts and system prompts, private or shared with the team.

Revision ID: 0015
Revises: 0016 (re-chained after the judge passes, merged first: the chain, not the numbers, orders migrations)
Create Date: 2026-12-06

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "prompt_library",
        sa.Column("pk", Key, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tags", Json, nullable=False),
        sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_prompt_library"),
    )
    op.create_index("ix_prompt_library_owner", "prompt_library", ["owner"])
    op.create_index("ix_prompt_library_shared", "prompt_library", ["shared"],
                    sqlite_where=sa.text("shared"), postgresql_where=sa.text("shared"))


def downgrade() -> None:
    op.drop_table("prompt_library")
