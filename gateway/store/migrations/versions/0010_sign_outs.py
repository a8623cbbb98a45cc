"""When each analyst last signed out: identity cookies issued before it are refused (gateway/analyst.py
`session_end`), so a copied cookie stops working when its analyst signs out.

Revision ID: 0010
Revises: 0011 (merged before it: the chain, not the numbers, orders migrations)
Create Date: 2026-12-06

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_outs",
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("signed_out_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("owner", name="pk_sign_outs"),
    )


def downgrade() -> None:
    op.drop_table("sign_outs")
