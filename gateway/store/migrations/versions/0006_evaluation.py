"""Evaluation: votes on comparisons and evaluation rows, prompt sets, evaluation runs and their cells.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-27

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "votes",
        sa.Column("pk", Key, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("models", Json, nullable=False),
        sa.Column("models_key", sa.Text, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("winner", sa.String(200)),
        sa.Column("tag", sa.String(64), nullable=False, server_default=""),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("blind", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_votes"),
        sa.UniqueConstraint("owner", "subject", name="uq_votes_owner_subject"),
    )
    op.create_index("ix_votes_updated_at", "votes", ["updated_at"])

    op.create_table(
        "prompt_sets",
        sa.Column("pk", Key, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("rows", Json, nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_prompt_sets"),
        sa.UniqueConstraint("owner", "id", name="uq_prompt_sets_owner_id"),
        sa.UniqueConstraint("owner", "name", name="uq_prompt_sets_owner_name"),
    )

    op.create_table(
        "eval_runs",
        sa.Column("pk", Key, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("set_id", sa.String(64), nullable=False),
        sa.Column("set_name", sa.String(200), nullable=False),
        sa.Column("rows", Json, nullable=False),
        sa.Column("models", Json, nullable=False),
        sa.Column("params", Json, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("quote", sa.Double),
        sa.Column("cost", sa.Double, nullable=False, server_default="0"),
        sa.Column("cells_total", sa.Integer, nullable=False),
        sa.Column("cells_done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("heartbeat_at", sa.Double),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_eval_runs"),
        sa.UniqueConstraint("owner", "id", name="uq_eval_runs_owner_id"),
    )
    op.create_index("ix_eval_runs_owner_created_at", "eval_runs", ["owner", "created_at"])

    op.create_table(
        "eval_cells",
        sa.Column("pk", Key, primary_key=True, autoincrement=True),
        sa.Column("run_pk", Key, nullable=False),
        sa.Column("row_index", sa.Integer, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("ttft", sa.Double),
        sa.Column("total", sa.Double),
        sa.Column("prompt_tokens", sa.Integer),
        sa.Column("completion_tokens", sa.Integer),
        sa.Column("cost", sa.Double),
        sa.Column("cost_source", sa.String(16)),
        sa.Column("overhead_ms", sa.Double),
        sa.Column("finish_reason", sa.String(64)),
        sa.Column("call_id", sa.String(128)),
        sa.Column("error_message", sa.Text),
        sa.Column("error_hint", sa.Text),
        sa.Column("error_kind", sa.String(64)),
        sa.Column("passed", sa.Boolean),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_eval_cells"),
        sa.ForeignKeyConstraint(["run_pk"], ["eval_runs.pk"], ondelete="CASCADE",
                                name="fk_eval_cells_run_pk_eval_runs"),
        sa.UniqueConstraint("run_pk", "row_index", "model", name="uq_eval_cells_run_pk_row_index_model"),
    )


def downgrade() -> None:
    for table in ("eval_cells", "eval_runs", "prompt_sets", "votes"):
        op.drop_table(table)
