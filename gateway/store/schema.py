"""The tables of saved work, as SQLAlchemy Core sees them.

Migrations (gateway/store/migrations) create them; this module is what the queries are written against, and
tests/test_store_migrations.py checks that the two agree on SQLite and PostgreSQL.

Not here, because they differ by database and only the search queries touch them: the full-text indexes.
SQLite has FTS5 tables `conversations_fts`, `rounds_fts` and `replies_fts` (external content, kept by triggers);
PostgreSQL has a generated `search` tsvector column with a GIN index on `conversations`, `rounds` and `replies`.

Times are epoch seconds (floats), as in the records. Every conversation belongs to one `owner` (an analyst id); its
`id` (the one in URLs) is unique per owner, and everything else hangs off the integer `pk`.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

# An integer key: BIGINT on PostgreSQL, and on SQLite exactly INTEGER (so it is the rowid the FTS tables point at).
Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# JSON: jsonb on PostgreSQL, text on SQLite.
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

conversations = sa.Table(
    "conversations", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False),  # Conversation.id, in URLs
    sa.Column("owner", sa.String(320), nullable=False),  # the analyst's id ("local" without sign-in)
    sa.Column("kind", sa.String(16), nullable=False),  # "chat" | "compare"
    sa.Column("title", sa.Text, nullable=False, server_default=""),  # set by the analyst; "" = auto_title
    sa.Column("auto_title", sa.Text, nullable=False, server_default=""),  # from the first prompt
    sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("models", Json, nullable=False),  # list of model keys
    sa.Column("params", Json, nullable=False),  # ChatParams.to_dict(): the shared parameters last used
    sa.Column("turns", sa.Integer, nullable=False, server_default="0"),  # rounds saved
    sa.Column("cost", sa.Double, nullable=False, server_default="0"),  # USD, every run of every reply
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.Column("deleted_at", sa.Double, nullable=True),  # set by delete(), cleared by restore(); purged later
    sa.Column("view", Json, nullable=True),  # what the analyst chose to look at: {"diff": [key, key]} (migration 0008)
    sa.UniqueConstraint("owner", "id"),
)
# The history list: one owner's live conversations, pinned first, newest first (with and without a kind).
sa.Index("ix_conversations_history", conversations.c.owner, conversations.c.pinned.desc(),
         conversations.c.updated_at.desc(), sqlite_where=conversations.c.deleted_at.is_(None),
         postgresql_where=conversations.c.deleted_at.is_(None))
sa.Index("ix_conversations_history_kind", conversations.c.owner, conversations.c.kind, conversations.c.pinned.desc(),
         conversations.c.updated_at.desc(), sqlite_where=conversations.c.deleted_at.is_(None),
         postgresql_where=conversations.c.deleted_at.is_(None))
sa.Index("ix_conversations_deleted_at", conversations.c.deleted_at,
         sqlite_where=conversations.c.deleted_at.is_not(None),
         postgresql_where=conversations.c.deleted_at.is_not(None))

rounds = sa.Table(
    "rounds", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("conversation_pk", Key, sa.ForeignKey("conversations.pk", ondelete="CASCADE"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),  # the round's place (the order Conversation.rounds loads in)
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("params", Json, nullable=False),  # {model key: ChatParams.to_dict()}
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("key", sa.String(32), nullable=False),  # Round.key: what a round is saved again by (migration 0008)
    # Round.blind: sent in blind mode; its names are withheld until the owner's vote on it (migration 0011)
    sa.Column("blind", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("conversation_pk", "position"),
)
sa.Index("uq_rounds_conversation_pk_key", rounds.c.conversation_pk, rounds.c.key, unique=True)

replies = sa.Table(
    "replies", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("round_pk", Key, sa.ForeignKey("rounds.pk", ondelete="CASCADE"), nullable=False),
    sa.Column("conversation_pk", Key, sa.ForeignKey("conversations.pk", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("run", sa.Integer, nullable=False),  # Reply.run, from 1
    sa.Column("position", sa.Integer, nullable=False),  # the model's place in the round (panel order)
    sa.Column("outcome", sa.String(16), nullable=False),  # Outcome value
    sa.Column("text", sa.Text, nullable=False),
    # Metrics
    sa.Column("ttft", sa.Double),
    sa.Column("total", sa.Double),
    sa.Column("prompt_tokens", sa.Integer),
    sa.Column("completion_tokens", sa.Integer),
    sa.Column("cost", sa.Double),
    sa.Column("cost_source", sa.String(16)),
    sa.Column("overhead_ms", sa.Double),
    sa.Column("finish_reason", sa.String(64)),
    sa.Column("call_id", sa.String(128)),
    # A reasoning model's thinking and its numbers (migration 0013)
    sa.Column("first_thought", sa.Double),
    sa.Column("reasoning_tokens", sa.Integer),
    sa.Column("answer_tokens", sa.Integer),
    sa.Column("thinking", sa.Text, nullable=False, server_default=""),
    # ReplyError
    sa.Column("error_message", sa.Text),
    sa.Column("error_hint", sa.Text),
    sa.Column("error_kind", sa.String(64)),
    sa.Column("created_at", sa.Double, nullable=False),  # when this run was first saved
    sa.UniqueConstraint("round_pk", "model", "run"),
)

# The files sent with a prompt (gateway.attachments.Attachment; migration 0004): an image's bytes as sent, or a
# table's/document's text; the numbers shown (pixels, rows × columns, pages) in `facts`.
Bytes = sa.LargeBinary().with_variant(postgresql.BYTEA(), "postgresql")
attachments = sa.Table(
    "attachments", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("round_pk", Key, sa.ForeignKey("rounds.pk", ondelete="CASCADE"), nullable=False),
    sa.Column("conversation_pk", Key, sa.ForeignKey("conversations.pk", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("position", sa.Integer, nullable=False),  # the file's place under its prompt
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # image | table | document | text
    sa.Column("mime", sa.String(128), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),  # bytes as uploaded
    sa.Column("facts", Json, nullable=False),  # width, height, rows, cols, pages… (Attachment's other fields)
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("data", Bytes, nullable=False),
    sa.UniqueConstraint("round_pk", "position"),
)

# A search match (a prompt's or reply's pk) to its conversation, from the index alone (migration 0002).
sa.Index("ix_rounds_pk_conversation_pk", rounds.c.pk, rounds.c.conversation_pk)
sa.Index("ix_replies_pk_conversation_pk", replies.c.pk, replies.c.conversation_pk)

# The usage ledger: one row per reply the app sent (every run, every evaluation cell), written with the round (or
# the cell) it ends. Not cascaded from the conversation: clearing, regenerating or deleting saved work does not take
# back what was spent. `reply_key` identifies the reply (saving its round again does not count it twice). Read by
# gateway/store/usage.py.
usage = sa.Table(
    "usage", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(320), nullable=False),  # the analyst's id
    sa.Column("at", sa.Double, nullable=False),  # when the reply's round was saved (epoch seconds)
    sa.Column("kind", sa.String(16), nullable=False),  # the page: "chat" | "compare" | "evaluate" (a run's cell)
    sa.Column("conversation_id", sa.String(64), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("run", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("prompt_tokens", sa.Integer),
    sa.Column("completion_tokens", sa.Integer),
    sa.Column("cost", sa.Double),  # USD; None when neither the proxy nor the catalogue knew it
    sa.Column("cost_source", sa.String(16)),  # "proxy" | "catalogue" (estimated)
    sa.Column("ttft", sa.Double),
    sa.Column("total", sa.Double),
    sa.Column("call_id", sa.String(128)),
    sa.Column("reply_key", sa.String(64), nullable=False),
    sa.UniqueConstraint("owner", "reply_key"),
)
sa.Index("ix_usage_owner_at", usage.c.owner, usage.c.at)
sa.Index("ix_usage_at", usage.c.at)

probe_samples = sa.Table(
    "probe_samples", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Double, nullable=False),
    sa.Column("base_url", sa.Text, nullable=False),
    sa.Column("probe", sa.String(64), nullable=False),
    sa.Column("latency_ms", sa.Double),
    sa.Column("ok", sa.Boolean, nullable=False),
)
sa.Index("ix_probe_samples_base_url_at", probe_samples.c.base_url, probe_samples.c.at)
sa.Index("ix_probe_samples_at", probe_samples.c.at)

# The full-text objects the migrations add outside this metadata (see the module docstring).
SQLITE_FTS_TABLES = {"conversations_fts": ("conversations", ("title", "auto_title")),
                     "rounds_fts": ("rounds", ("prompt",)),
                     "replies_fts": ("replies", ("text",))}
POSTGRES_SEARCH_COLUMN = "search"
SEARCH_CONFIG = "simple"  # PostgreSQL text search configuration: words as written, no stemming (as FTS5 unicode61)
SEARCH_INDEXED_CHARS = 200_000  # PostgreSQL indexes this much of each text (a tsvector must stay under 1 MB)


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """For Alembic's autogenerate: compare the plain tables only (the full-text objects are the migrations' own)."""
    name = name or ""
    return not ((type_ == "table" and "_fts" in name) or (type_ == "column" and name == POSTGRES_SEARCH_COLUMN)
                or (type_ == "index" and name.endswith(f"_{POSTGRES_SEARCH_COLUMN}")))


# --- Evaluation (migration 0006; queries in gateway/store/evaluation.py) -------------------------------------------

votes = sa.Table(
    "votes", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(320), nullable=False),  # the analyst who voted
    # "compare:<conversation id>:<round key>" (rounds.key; by key since migration 0009) | "eval:<run id>:<row>"
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("models", Json, nullable=False),  # the model keys judged, in the order shown
    sa.Column("models_key", sa.Text, nullable=False),  # the same keys sorted, one a line: the leaderboard groups by it
    sa.Column("verdict", sa.String(16), nullable=False),  # Verdict: "best" | "tie" | "all_bad"
    sa.Column("winner", sa.String(200)),  # the best model's key (verdict "best")
    sa.Column("tag", sa.String(64), nullable=False, server_default=""),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("blind", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),  # when last changed: the leaderboard's period filter
    # (migration 0012) the judge model's key for a judge's verdict, "" for a person's vote; and whether the judge's
    # two orders disagreed (the verdict is then a tie)
    sa.Column("judge", sa.String(200), nullable=False, server_default=""),
    sa.Column("flagged", sa.Boolean, nullable=False, server_default=sa.false()),
    # one vote per subject per analyst, and one verdict per judge model per analyst (changed in place)
    sa.UniqueConstraint("owner", "subject", "judge"),
)
sa.Index("ix_votes_updated_at", votes.c.updated_at)

prompt_sets = sa.Table(
    "prompt_sets", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("owner", sa.String(320), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("rows", Json, nullable=False),  # [PromptRow.to_dict()]
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.UniqueConstraint("owner", "id"),
    sa.UniqueConstraint("owner", "name"),
)

eval_runs = sa.Table(
    "eval_runs", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False),  # in URLs (?run=)
    sa.Column("owner", sa.String(320), nullable=False),
    sa.Column("set_id", sa.String(64), nullable=False),
    sa.Column("set_name", sa.String(200), nullable=False),
    sa.Column("rows", Json, nullable=False),  # the prompts as run (the set may change later)
    sa.Column("models", Json, nullable=False),  # model keys, in column order
    sa.Column("params", Json, nullable=False),  # ChatParams.to_dict(): sampling shared by every call
    sa.Column("status", sa.String(16), nullable=False),  # RunStatus
    sa.Column("quote", sa.Double),  # USD estimated before it started
    sa.Column("cost", sa.Double, nullable=False, server_default="0"),  # USD spent so far
    sa.Column("cells_total", sa.Integer, nullable=False),
    sa.Column("cells_done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("heartbeat_at", sa.Double),  # the worker running it says it is alive (several replicas, restarts)
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.UniqueConstraint("owner", "id"),
)
sa.Index("ix_eval_runs_owner_created_at", eval_runs.c.owner, eval_runs.c.created_at)

eval_cells = sa.Table(
    "eval_cells", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("run_pk", Key, sa.ForeignKey("eval_runs.pk", ondelete="CASCADE"), nullable=False),
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
    sa.Column("first_thought", sa.Double),  # a reasoning model's thinking and its numbers (migration 0013)
    sa.Column("reasoning_tokens", sa.Integer),
    sa.Column("answer_tokens", sa.Integer),
    sa.Column("thinking", sa.Text, nullable=False, server_default=""),
    sa.Column("error_message", sa.Text),
    sa.Column("error_hint", sa.Text),
    sa.Column("error_kind", sa.String(64)),
    sa.Column("passed", sa.Boolean),  # the row's check; NULL when it has none
    sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),  # calls made (rate-limit retries)
    sa.Column("created_at", sa.Double, nullable=False),
    sa.UniqueConstraint("run_pk", "row_index", "model"),
)

# --- Personal API tokens (migration 0007; queries in gateway/store/api_tokens.py) ------------------------------------

# A token an analyst created for the API (AUTH_MODE=oidc). The token itself is never stored: only its SHA-256
# (`digest`, what a request's token is looked up by) and its first characters (`prefix`, to tell tokens apart).
api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(320), nullable=False),  # the analyst it acts for
    sa.Column("name", sa.String(100), nullable=False),  # the analyst's name for it
    sa.Column("prefix", sa.String(16), nullable=False),  # the token's first characters, in clear
    sa.Column("digest", sa.String(64), nullable=False),  # sha256 of the whole token, hex
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("last_used_at", sa.Double),  # updated at most once a minute
    sa.Column("revoked_at", sa.Double),  # a revoked token is refused and no longer listed
    sa.UniqueConstraint("digest"),
)
sa.Index("ix_api_tokens_owner_created_at", api_tokens.c.owner, api_tokens.c.created_at)

# --- Sign-outs (migration 0010; queries in gateway/store/sign_outs.py) -----------------------------------------------
# One row per analyst who ever signed out: when they last did. Identity cookies issued before it are refused.
sign_outs = sa.Table(
    "sign_outs", metadata,
    sa.Column("owner", sa.String(320), primary_key=True),
    sa.Column("signed_out_at", sa.Double, nullable=False),
)

# --- Judge passes (migration 0016; queries in gateway/store/judge_passes.py) -----------------------------------------
# One row per judge pass an analyst ran: on what (an evaluation run, or a comparison's round), with which judge model,
# mode and prompt — the prompt as edited, saved with the run so the verdicts can be read against it and the next pass
# starts from it.
judge_passes = sa.Table(
    "judge_passes", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(320), nullable=False),
    sa.Column("about", sa.String(200), nullable=False),  # "eval:<run id>" | "compare:<conversation id>:<round key>"
    sa.Column("judge", sa.String(200), nullable=False),  # the judge model's key
    sa.Column("mode", sa.String(16), nullable=False),  # gateway.evaluation.judge.Mode
    sa.Column("template", sa.Text, nullable=False),  # the judge's prompt as sent
    sa.Column("models", Json, nullable=False),  # the models judged
    sa.Column("created_at", sa.Double, nullable=False),
)
sa.Index("ix_judge_passes_owner_about", judge_passes.c.owner, judge_passes.c.about, judge_passes.c.created_at)
# A rubric or reference judge's score of one reply of an evaluation run (0–1, with its reason): one per analyst, run,
# row, model, judge and mode (a new pass replaces it).
judge_scores = sa.Table(
    "judge_scores", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(320), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("row", sa.Integer, nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("judge", sa.String(200), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),  # "rubric" | "reference"
    sa.Column("score", sa.Double, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.UniqueConstraint("owner", "run_id", "row", "model", "judge", "mode"),
)

# --- The team prompt library (migration 0015; queries in gateway/store/prompts.py) -----------------------------------
# A saved prompt or system prompt. Private ones (`shared` false) are read only by their owner; shared ones by every
# analyst; only the owner changes or deletes one (gateway/prompt_library.py).
prompt_library = sa.Table(
    "prompt_library", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(320), nullable=False),  # the analyst who saved it
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("text", sa.Text, nullable=False),  # with its {{variables}} as written
    sa.Column("kind", sa.String(16), nullable=False),  # "prompt" | "system"
    sa.Column("tags", Json, nullable=False),  # list of tags, lower-case
    sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.false()),  # seen by the whole team
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
)
sa.Index("ix_prompt_library_owner", prompt_library.c.owner)
sa.Index("ix_prompt_library_shared", prompt_library.c.shared, sqlite_where=prompt_library.c.shared,
         postgresql_where=prompt_library.c.shared)

# --- Share links (migration 0014; queries in gateway/store/shares.py) -------------------------------------------------
# A read-only link to a snapshot of an analyst's chat, comparison or evaluation run (gateway/sharing/). `token` is the
# link's secret (secrets.token_urlsafe, ≥ 128 bits); `snapshot` the work as it was when shared or last updated.
shares = sa.Table(
    "shares", metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("token", sa.String(64), nullable=False, unique=True),
    sa.Column("owner", sa.String(320), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # "chat" | "compare" | "evaluation"
    sa.Column("source_id", sa.String(64), nullable=False),  # the conversation's or the run's id
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("snapshot", Json, nullable=False),
    sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()),  # "anyone with the link" chosen
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),  # when the snapshot was taken
    sa.Column("expires_at", sa.Double, nullable=True),
    sa.Column("revoked_at", sa.Double, nullable=True),
    sa.Column("views", sa.Integer, nullable=False, server_default="0"),  # opened by someone other than the owner
    sa.Column("last_viewed_at", sa.Double, nullable=True),
)
sa.Index("ix_shares_owner_created_at", shares.c.owner, shares.c.created_at)
