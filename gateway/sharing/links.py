"""The one door for share links: make one, update its snapshot, set its expiry, revoke it, list them, open one.
The read-only page, the share controls and the API all call these; none of them reads the `shares` table itself.

A link's token is `secrets.token_urlsafe(TOKEN_BYTES)`: 192 random bits, URL-safe. A link is made by its owner from
their own saved work (the caller loads it as that owner: nobody shares what is not theirs). Changing a link names its
owner; an admin (`admin=True`) may list and revoke anyone's. Opening a link goes through `access.decide`, counts a
view when someone other than the owner opens it, and slows a client that keeps missing (`throttle`).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.sharing import access, snapshot
from gateway.sharing.throttle import MISSES, Misses
from gateway.store.records import Unavailable
from gateway.store.shares import ShareRow, Shares
from gateway.store.store import Store

TOKEN_BYTES = 24  # 192 bits (≥ 128 asked)
DAY = 86_400.0
# What an owner may choose as a link's lifetime: label → seconds (None: until revoked).
EXPIRIES: dict[str, float | None] = {"Never": None, "1 day": DAY, "7 days": 7 * DAY, "30 days": 30 * DAY}


@dataclass(frozen=True)
class Shared:
    """A link just made: its token (the page builds the URL) and its row."""

    token: str
    row: ShareRow


class SharingOff(Exception):
    """Sharing is switched off on this app (SHARING_ENABLED=false)."""

    def __init__(self) -> None:
        super().__init__(access.MESSAGES[access.Denied.OFF])


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def create(store: Store, owner: str, data: Mapping[str, Any], source_id: str, *, enabled: bool,
           expires_in: float | None = None, public: bool = False, now: float | None = None) -> Shared | Unavailable:
    """Share `data` (a snapshot: gateway/sharing/snapshot.py) of the owner's work `source_id`. Raises SharingOff."""
    if not enabled:
        raise SharingOff()
    now = time.time() if now is None else now
    kind = snapshot.kind_of(data)
    row = ShareRow(new_token(), owner, kind, source_id, str(data.get("title") or ""), public, now, now,
                   None if expires_in is None else now + expires_in, None, 0, None, dict(data))
    done = Shares(store).add(owner, row)
    return done if isinstance(done, Unavailable) else Shared(row.token, row)


def update(store: Store, owner: str, token: str, data: Mapping[str, Any], *, enabled: bool,
           now: float | None = None) -> bool | Unavailable:
    """Replace the snapshot of the owner's link with `data` (the same work, as it is now). Raises SharingOff."""
    if not enabled:
        raise SharingOff()
    return Shares(store).change(token, owner, snapshot=dict(data), title=str(data.get("title") or ""),
                                updated_at=time.time() if now is None else now)


def set_expiry(store: Store, owner: str, token: str, expires_in: float | None, *,
               now: float | None = None) -> bool | Unavailable:
    """The owner's link expires `expires_in` seconds from now (None: never)."""
    now = time.time() if now is None else now
    return Shares(store).change(token, owner, expires_at=None if expires_in is None else now + expires_in)


def set_public(store: Store, owner: str, token: str, public: bool) -> bool | Unavailable:
    return Shares(store).change(token, owner, public=public)


def revoke(store: Store, owner: str, token: str, *, admin: bool = False,
           now: float | None = None) -> bool | Unavailable:
    """Revoke the owner's link (anyone's, for an admin): it says so at once, to everyone. False: no such link."""
    return Shares(store).change(token, None if admin else owner, revoked_at=time.time() if now is None else now)


def listed(store: Store, owner: str, *, admin: bool = False, every: bool = False,
           source_id: str | None = None) -> list[ShareRow] | Unavailable:
    """The owner's links, newest first; with `every` (admins only) every analyst's."""
    return Shares(store).listed(None if (admin and every) else owner, source_id=source_id)


def open_link(store: Store, token: str, reader: str | None, client: str, *, enabled: bool, public_allowed: bool,
              misses: Misses = MISSES, sleep: Callable[[float], None] = time.sleep, count_view: bool = True,
              now: float | None = None) -> access.Answer | Unavailable:
    """What `reader` (None: nobody signed in) gets for `token`. `client` names who is asking for the throttle (the
    reader, or their address). A miss (an unknown or someone else's revoked token) counts against the client; a
    client with repeated misses waits before every answer. `count_view`: False when this reader already opened it
    (a page's rerun is not another view)."""
    if not enabled:
        return access.Denied.OFF
    if (wait := misses.delay(client)) > 0:
        sleep(wait)
    found = Shares(store).find(token) if _plausible(token) else None
    if isinstance(found, Unavailable):
        return found
    now = time.time() if now is None else now
    answer = access.decide(found, reader, enabled=enabled, public_allowed=public_allowed, now=now)
    if answer in (access.Denied.GONE, access.Denied.SIGN_IN) and (found is None or answer is access.Denied.GONE):
        misses.missed(client)
    if isinstance(answer, access.Opened) and not answer.own and count_view:
        Shares(store).viewed(token, now)  # (a failure to count a view does not stop the reader)
    return answer


EXPORT_FORMAT = "llm-dashboard.shares/1"


def exported(store: Store, owner: str) -> list[dict[str, Any]] | Unavailable:
    """The owner's links for their data export: every link, revoked and expired ones too, with its snapshot, who may
    open it, its dates and views."""
    found = Shares(store).exported(owner)
    if isinstance(found, Unavailable):
        return found
    return [{"token": row.token, "kind": row.kind, "sourceId": row.source_id, "title": row.title, "public": row.public,
             "createdAt": row.created_at, "updatedAt": row.updated_at, "expiresAt": row.expires_at,
             "revokedAt": row.revoked_at, "views": row.views, "lastViewedAt": row.last_viewed_at,
             "snapshot": row.snapshot} for row in found]


def export_json(store: Store, owner: str) -> str | Unavailable:
    """`exported` as a JSON document (the Shared links list's download)."""
    found = exported(store, owner)
    if isinstance(found, Unavailable):
        return found
    return json.dumps({"format": EXPORT_FORMAT, "owner": owner, "shares": found}, ensure_ascii=False, indent=1)


def _plausible(token: str) -> bool:
    """A token as `new_token` makes them (anything else is not looked up)."""
    return 16 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token) and token.isascii()


def conversation_snapshot(store: Store, owner: str, conversation: Any,
                          names: tuple[str, ...] = ()) -> dict[str, Any] | Unavailable:
    """The snapshot of the owner's chat or comparison now: with the owner's own votes on its rounds (a blind round
    they have not voted on stays blind; `names`: other spellings of the models to mask there)."""
    from gateway.store.evaluation import Evaluations

    votes: Mapping[str, Any] = {}
    if conversation.kind == "compare":
        found = Evaluations(store).my_votes(f"compare:{conversation.id}:", owner)
        if isinstance(found, Unavailable):
            return found
        votes = found
    return snapshot.of_conversation(conversation, votes, names)


def run_snapshot(store: Store, owner: str, run_id: str) -> dict[str, Any] | None | Unavailable:
    """The snapshot of the owner's evaluation run now; None when they have no such run."""
    from gateway.store.evaluation import Evaluations

    evaluations = Evaluations(store)
    run = evaluations.load_run(run_id, owner)
    if run is None or isinstance(run, Unavailable):
        return run
    cells = evaluations.cells(run_id, owner)
    if isinstance(cells, Unavailable):
        return cells
    return snapshot.of_run(run, cells)
