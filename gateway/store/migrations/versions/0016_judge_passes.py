"""Judge passes: which judge model, mode and prompt (as the analyst edited it) each judge pass used, on an evaluation
run or a comparison's round, saved with it.

Revision ID: 0016
Revises: 0010
Create Date: 2026-12-06

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "judge_passes",
        sa.Column("pk", Key, autoincrement=True),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("about", sa.String(200), nullable=False),
        sa.Column("judge", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("template", sa.Text, nullable=False),
        sa.Column("models", Json, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_judge_passes"),
    )
    op.create_index("ix_judge_passes_owner_about", "judge_passes", ["owner", "about", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_judge_passes_owner_about", table_name="judge_passes")
    op.drop_table("judge_passes")
