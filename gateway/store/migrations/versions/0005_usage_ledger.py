"""The usage ledger: one row per reply the app sent, kept when saved work is cleared or deleted (backfilled from the
replies saved so far).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "usage",
        sa.Column("pk", Key, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("run", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("prompt_tokens", sa.Integer),
        sa.Column("completion_tokens", sa.Integer),
        sa.Column("cost", sa.Double),
        sa.Column("cost_source", sa.String(16)),
        sa.Column("ttft", sa.Double),
        sa.Column("total", sa.Double),
        sa.Column("call_id", sa.String(128)),
        sa.Column("reply_key", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_usage"),
        sa.UniqueConstraint("owner", "reply_key", name="uq_usage_owner_reply_key"),
    )
    op.create_index("ix_usage_owner_at", "usage", ["owner", "at"])
    op.create_index("ix_usage_at", "usage", ["at"])
    # What was spent before the ledger existed: every saved reply that was sent (it has a total time).
    op.execute(
        "INSERT INTO usage (owner, at, kind, conversation_id, model, run, outcome, prompt_tokens, completion_tokens, "
        "cost, cost_source, ttft, total, call_id, reply_key) "
        "SELECT c.owner, r.created_at, c.kind, c.id, r.model, r.run, r.outcome, r.prompt_tokens, r.completion_tokens, "
        "r.cost, r.cost_source, r.ttft, r.total, r.call_id, 'saved:' || CAST(r.pk AS VARCHAR(20)) "
        "FROM replies r JOIN conversations c ON c.pk = r.conversation_pk WHERE r.total IS NOT NULL")


def downgrade() -> None:
    op.drop_table("usage")
