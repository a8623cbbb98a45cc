"""Saved work: conversations, their rounds and replies, probe samples, and full-text search.

Revision ID: 0001
Revises:
Create Date: 2026-05-20

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
LIVE = sa.text("deleted_at IS NULL")

# SQLite FTS5 tables (external content: the text stays in its table, the index points at its pk) and their columns.
FTS = {"conversations_fts": ("conversations", ("title", "auto_title")),
       "rounds_fts": ("rounds", ("prompt",)),
       "replies_fts": ("replies", ("text",))}
# PostgreSQL: what the generated `search` column of each table indexes (words as written: the 'simple' config).
SEARCH = {"conversations": "coalesce(title, '') || ' ' || coalesce(auto_title, '')",
          "rounds": "prompt",
          "replies": "text"}
SEARCH_INDEXED_CHARS = 200_000  # a tsvector must stay under 1 MB


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("pk", Key, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("auto_title", sa.Text, nullable=False, server_default=""),
        sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("models", Json, nullable=False),
        sa.Column("params", Json, nullable=False),
        sa.Column("turns", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cost", sa.Double, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("deleted_at", sa.Double, nullable=True),
        sa.PrimaryKeyConstraint("pk", name="pk_conversations"),
        sa.UniqueConstraint("owner", "id", name="uq_conversations_owner_id"),
    )
    op.create_index("ix_conversations_history", "conversations",
                    ["owner", sa.text("pinned DESC"), sa.text("updated_at DESC")],
                    sqlite_where=LIVE, postgresql_where=LIVE)
    op.create_index("ix_conversations_history_kind", "conversations",
                    ["owner", "kind", sa.text("pinned DESC"), sa.text("updated_at DESC")],
                    sqlite_where=LIVE, postgresql_where=LIVE)
    op.create_index("ix_conversations_deleted_at", "conversations", ["deleted_at"],
                    sqlite_where=sa.text("deleted_at IS NOT NULL"), postgresql_where=sa.text("deleted_at IS NOT NULL"))

    op.create_table(
        "rounds",
        sa.Column("pk", Key, primary_key=True, autoincrement=True),
        sa.Column("conversation_pk", Key, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("params", Json, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_rounds"),
        sa.ForeignKeyConstraint(["conversation_pk"], ["conversations.pk"], ondelete="CASCADE",
                                name="fk_rounds_conversation_pk_conversations"),
        sa.UniqueConstraint("conversation_pk", "position", name="uq_rounds_conversation_pk_position"),
    )

    op.create_table(
        "replies",
        sa.Column("pk", Key, primary_key=True, autoincrement=True),
        sa.Column("round_pk", Key, nullable=False),
        sa.Column("conversation_pk", Key, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("run", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
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
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_replies"),
        sa.ForeignKeyConstraint(["round_pk"], ["rounds.pk"], ondelete="CASCADE", name="fk_replies_round_pk_rounds"),
        sa.ForeignKeyConstraint(["conversation_pk"], ["conversations.pk"], ondelete="CASCADE",
                                name="fk_replies_conversation_pk_conversations"),
        sa.UniqueConstraint("round_pk", "model", "run", name="uq_replies_round_pk_model_run"),
    )
    op.create_index("ix_replies_conversation_pk", "replies", ["conversation_pk"])

    op.create_table(
        "probe_samples",
        sa.Column("pk", Key, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("base_url", sa.Text, nullable=False),
        sa.Column("probe", sa.String(64), nullable=False),
        sa.Column("latency_ms", sa.Double),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_probe_samples"),
    )
    op.create_index("ix_probe_samples_base_url_at", "probe_samples", ["base_url", "at"])
    op.create_index("ix_probe_samples_at", "probe_samples", ["at"])

    if op.get_bind().dialect.name == "postgresql":
        _postgres_search()
    else:
        _sqlite_search()


def _postgres_search() -> None:
    for table, text in SEARCH.items():
        op.execute(f"ALTER TABLE {table} ADD COLUMN search tsvector GENERATED ALWAYS AS "
                   f"(to_tsvector('simple', left({text}, {SEARCH_INDEXED_CHARS}))) STORED")
        op.execute(f"CREATE INDEX ix_{table}_search ON {table} USING gin (search)")


def _sqlite_search() -> None:
    for fts, (table, columns) in FTS.items():
        names = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in columns)
        op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', content_rowid='pk', "
                   f"tokenize='unicode61 remove_diacritics 0')")
        op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
                   f"INSERT INTO {fts}(rowid, {names}) VALUES (new.pk, {new}); END")
        op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
                   f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.pk, {old}); END")
        op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {names} ON {table} WHEN {changed} BEGIN "
                   f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.pk, {old}); "
                   f"INSERT INTO {fts}(rowid, {names}) VALUES (new.pk, {new}); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for fts in FTS:
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    for table in ("probe_samples", "replies", "rounds", "conversations"):
        op.drop_table(table)
