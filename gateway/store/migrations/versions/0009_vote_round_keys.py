"""Votes name a comparison's round by its key: `compare:<conversation id>:<round index>` becomes
`compare:<conversation id>:<round key>`.

Since 0008 a round can move down one place when another tab or replica adds a round to the same conversation at once
(gateway/store/queries.py): a vote naming the round by its place would then name another round. Each existing
subject is rewritten to the key of the round at that place now, in the voter's own conversation (a conversation id
is unique per owner, and an analyst votes on their own comparisons). A subject whose round no longer exists stays as
it is (it names nothing, as before); `eval:<run id>:<row>` subjects are not touched. The downgrade turns keys back
into places.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28

"""
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX = "compare:"
CHUNK = 500  # conversations looked up per query

# The columns used, as they are at this revision (not the app's schema module, which moves on).
votes = sa.table("votes", sa.column("pk", sa.Integer), sa.column("owner", sa.String),
                 sa.column("subject", sa.String))
conversations = sa.table("conversations", sa.column("pk", sa.Integer), sa.column("id", sa.String),
                         sa.column("owner", sa.String))
rounds = sa.table("rounds", sa.column("conversation_pk", sa.Integer), sa.column("position", sa.Integer),
                  sa.column("key", sa.String))

Tails = dict[tuple[str, str], dict[str, str]]  # (owner, conversation id) -> {a subject's tail now: its new tail}


def upgrade() -> None:
    _rewrite(lambda position, key: (str(position), key))  # place -> key


def downgrade() -> None:
    _rewrite(lambda position, key: (key, str(position)))  # key -> place


def _rewrite(tails: Callable[[int, str], tuple[str, str]]) -> None:
    """Rewrite every `compare:<id>:<tail>` subject whose round is found (`tails`: a round's place and key to the tail
    that names it now and the one that will); leave the others."""
    connection = op.get_bind()
    subjects: Any = connection.execute(sa.select(votes.c.pk, votes.c.owner, votes.c.subject).where(
        votes.c.subject.like(PREFIX + "%"))).all()
    parsed = []
    for pk, owner, subject in subjects:
        conversation_id, colon, tail = subject[len(PREFIX):].rpartition(":")
        if colon:
            parsed.append((pk, owner, conversation_id, tail))
    found = _rounds(connection, sorted({(owner, conversation_id) for _, owner, conversation_id, _ in parsed}), tails)
    taken = {(owner, subject) for _, owner, subject in subjects}
    changes = []
    for pk, owner, conversation_id, tail in parsed:
        tail_now = found.get((owner, conversation_id), {}).get(tail)
        subject = f"{PREFIX}{conversation_id}:{tail_now}"
        if tail_now is not None and (owner, subject) not in taken:  # (never taken going up: keys are not places)
            taken.add((owner, subject))
            changes.append({"vote_pk": pk, "new_subject": subject})
    if changes:
        connection.execute(sa.update(votes).where(votes.c.pk == sa.bindparam("vote_pk")).values(
            subject=sa.bindparam("new_subject")), changes)


def _rounds(connection: sa.Connection, wanted: list[tuple[str, str]], tails: Callable[[int, str], tuple[str, str]],
            ) -> Tails:
    """The rounds of these conversations, as `tails` maps them, by (owner, conversation id)."""
    found: Tails = {}
    for start in range(0, len(wanted), CHUNK):
        rows: Any = connection.execute(
            sa.select(conversations.c.owner, conversations.c.id, rounds.c.position, rounds.c.key)
            .join(rounds, rounds.c.conversation_pk == conversations.c.pk)
            .where(sa.tuple_(conversations.c.owner, conversations.c.id).in_(wanted[start:start + CHUNK])))
        for owner, conversation_id, position, key in rows:
            old, new = tails(int(position), str(key))
            found.setdefault((owner, conversation_id), {})[old] = new
    return found
