"""Read-only share links: a snapshot of a chat, a comparison or an evaluation run, taken when it is shared, behind an
unguessable token (no Streamlit here; the pages and the API call the same functions).

- `snapshot`: what a link shows, made from the owner's record (a comparison's unvoted blind rounds stay blind; the
  owner's own vote, never anyone else's), and the reader's own copy of it ("Make a copy").
- `access`: who may open a link, and what everyone else is told (an unknown link and one revoked look alike).
- `throttle`: repeated misses from one client are slowed.
- `links`: the one door pages and the API go through: share, update, expire, revoke, list, open.
The rows live in the `shares` table (gateway/store/shares.py).
"""

from gateway.sharing.access import Answer, Denied, Opened
from gateway.sharing.links import (
    EXPIRIES,
    Shared,
    create,
    listed,
    open_link,
    revoke,
    set_expiry,
    update,
)

__all__ = ["EXPIRIES", "Answer", "Denied", "Opened", "Shared", "create", "listed", "open_link", "revoke",
           "set_expiry", "update"]
