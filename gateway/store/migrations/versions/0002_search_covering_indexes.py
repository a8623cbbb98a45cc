"""Search: covering indexes from a matching prompt or reply to its conversation.

A search for a common word matches tens of thousands of messages; each match is looked up by its pk to find its
conversation. With (pk, conversation_pk) indexes SQLite answers that from the index alone instead of reading every
matching row's page (measured on 200,000 messages: 366 → 119 ms for a word in a third of the replies).

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-20

"""
from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_rounds_pk_conversation_pk", "rounds", ["pk", "conversation_pk"])
    op.create_index("ix_replies_pk_conversation_pk", "replies", ["pk", "conversation_pk"])


def downgrade() -> None:
    op.drop_index("ix_replies_pk_conversation_pk", "replies")
    op.drop_index("ix_rounds_pk_conversation_pk", "rounds")
