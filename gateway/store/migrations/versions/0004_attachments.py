"""Attachments: the files sent with a prompt (gateway.attachments), kept with their round.

An image's bytes (as sent: downscaled and re-encoded) or a table's/document's text, in the database on SQLite and
PostgreSQL alike; the page limits their size (MAX_ATTACHMENT_MB, MAX_CONVERSATION_ATTACHMENTS_MB). Deleting a round
or purging a conversation deletes its files (ON DELETE CASCADE).

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-27

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Bytes = sa.LargeBinary().with_variant(postgresql.BYTEA(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("pk", Key, primary_key=True, autoincrement=True),
        sa.Column("round_pk", Key, nullable=False),
        sa.Column("conversation_pk", Key, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("mime", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("facts", Json, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("data", Bytes, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_attachments"),
        sa.ForeignKeyConstraint(["round_pk"], ["rounds.pk"], name="fk_attachments_round_pk_rounds",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_pk"], ["conversations.pk"],
                                name="fk_attachments_conversation_pk_conversations", ondelete="CASCADE"),
        sa.UniqueConstraint("round_pk", "position", name="uq_attachments_round_pk_position"),
    )
    op.create_index("ix_attachments_conversation_pk", "attachments", ["conversation_pk"])


def downgrade() -> None:
    op.drop_index("ix_attachments_conversation_pk", "attachments")
    op.drop_table("attachments")
