"""Judge verdicts are their own kind of vote: `votes.judge` names the judge model ("" for a person's vote) and
`votes.flagged` says the judge's two orders disagreed; one vote per (analyst, subject, judge).

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-06

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("votes") as batch:
        batch.add_column(sa.Column("judge", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("flagged", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.drop_constraint("uq_votes_owner_subject", type_="unique")
        batch.create_unique_constraint("uq_votes_owner_subject_judge", ["owner", "subject", "judge"])


def downgrade() -> None:
    op.execute("DELETE FROM votes WHERE judge <> ''")  # judge verdicts have no place in the older schema
    with op.batch_alter_table("votes") as batch:
        batch.drop_constraint("uq_votes_owner_subject_judge", type_="unique")
        batch.create_unique_constraint("uq_votes_owner_subject", ["owner", "subject"])
        batch.drop_column("flagged")
        batch.drop_column("judge")
