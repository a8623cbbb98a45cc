"""Judge passes: which judge model, mode and prompt (as the analyst edited it) each judge pass used, on an evaluation
run or a comparison's round, saved with it; and judge scores: a rubric or reference judge's 0–1 score of each reply
of a run, with its reason.

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
    op.create_table(
        "judge_scores",
        sa.Column("pk", Key, autoincrement=True),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("judge", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("score", sa.Double, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_judge_scores"),
        sa.UniqueConstraint("owner", "run_id", "row", "model", "judge", "mode",
                            name="uq_judge_scores_owner_run_id_row_model_judge_mode"),
    )


def downgrade() -> None:
    op.drop_table("judge_scores")
    op.drop_index("ix_judge_passes_owner_about", table_name="judge_passes")
    op.drop_table("judge_passes")
