"""Share links: read-only snapshots of a chat, a comparison or an evaluation run behind an unguessable token.

Revision ID: 0014
Revises: 0015 (merged after the judge passes and the prompt library: the chain, not the numbers, orders
migrations)
Create Date: 2026-12-06

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("pk", Key, primary_key=True, autoincrement=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("snapshot", Json, nullable=False),
        sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("expires_at", sa.Double, nullable=True),
        sa.Column("revoked_at", sa.Double, nullable=True),
        sa.Column("views", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_viewed_at", sa.Double, nullable=True),
        sa.PrimaryKeyConstraint("pk", name="pk_shares"),
        sa.UniqueConstraint("token", name="uq_shares_token"),
    )
    op.create_index("ix_shares_owner_created_at", "shares", ["owner", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_shares_owner_created_at", table_name="shares")
    op.drop_table("shares")
