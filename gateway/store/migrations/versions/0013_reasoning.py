"""A reasoning model's thinking and its numbers, on every stored reply (saved work and evaluation cells).

`thinking` is the text the model showed before its answer (kept and shown, never sent back to a model); the metrics
`first_thought` (seconds to the first thought), `reasoning_tokens` (NULL: not reported) and `answer_tokens` (the
completion tokens of the answer alone: what tokens/s counts). Replies saved before this revision had no thinking
(empty) and their answer tokens unknown (NULL: their tokens/s stays the completion's, as it was).

Revision ID: 0013
Revises: 0014 (the head after rebasing on the share links; written after 0010: the chain, not the numbers, orders
migrations)
Create Date: 2026-12-06

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("replies", "eval_cells")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("first_thought", sa.Double))
        op.add_column(table, sa.Column("reasoning_tokens", sa.Integer))
        op.add_column(table, sa.Column("answer_tokens", sa.Integer))
        op.add_column(table, sa.Column("thinking", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    for table in TABLES:
        for column in ("thinking", "answer_tokens", "reasoning_tokens", "first_thought"):
            op.drop_column(table, column)
