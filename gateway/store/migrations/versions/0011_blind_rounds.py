"""Blind is a property of the round: `rounds.blind` says it was sent in blind mode.

Until the analyst's vote on it, such a round withholds which model wrote which reply on every path that shows it:
the page after a reload, the link, the history, another tab, the exports (gateway/evaluation/blind.py). Before, the
blind state of an unvoted round lived only in the browser session, so a reload showed the names. Rounds saved before
this revision were not known to be blind: they stay shown (false).

Revision ID: 0011
Revises: 0012 (the head when this was written; 0010, another change in flight, goes wherever it merges)
Create Date: 2026-12-06

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rounds", sa.Column("blind", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("rounds", "blind")
