"""Who may open a share link, and what everyone else is told: one rule for the read-only page and the API.

- Sharing switched off (SHARING_ENABLED=false): no link opens, for anyone, and none can be made.
- By default a link opens for any signed-in analyst (with sign-in off: for the one local analyst).
- "Anyone with the link": only when the app allows it (SHARING_PUBLIC_LINKS, off by default) **and** the owner chose
  it for that link. Allowed later and chosen earlier is fine; switched off again, such links go back to signed-in only.
- A reader who is not signed in learns nothing about a link that is not public: they are asked to sign in, whether
  the token exists or not.
- For everyone but its owner, an unknown token and a revoked link get the same answer (`GONE`), word for word: a
  token cannot be confirmed by guessing. An expired link says it expired (its owner set the date); its owner is
  told that they revoked it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.store.shares import ShareRow


class Denied(StrEnum):
    """Why a link does not open, as the page and the API say it."""

    OFF = "off"  # sharing is switched off on this app
    SIGN_IN = "sign_in"  # sign in first (nothing is said about the link itself)
    GONE = "gone"  # unknown, or revoked (the same for both, for everyone but the owner)
    REVOKED = "revoked"  # the owner's own revoked link
    EXPIRED = "expired"


MESSAGES = {
    Denied.OFF: "Sharing is switched off on this app, so shared links do not open. Ask whoever runs it.",
    Denied.SIGN_IN: "Sign in to open this shared link.",
    Denied.GONE: "This shared link does not open: it was revoked by whoever shared it, or it never existed. Ask "
                 "them for a new link.",
    Denied.REVOKED: "You revoked this link: it no longer opens for anyone. Share the work again for a new link.",
    Denied.EXPIRED: "This shared link has expired. Ask whoever shared it for a new link.",
}


@dataclass(frozen=True)
class Opened:
    """A link that opens: its row (snapshot included) and whether the reader is its owner."""

    share: ShareRow
    own: bool


Answer = Opened | Denied


def decide(share: ShareRow | None, reader: str | None, *, enabled: bool, public_allowed: bool,
           now: float) -> Answer:
    """What a reader (`reader`: their analyst id, None when nobody is signed in) gets for a token whose row is
    `share` (None: no such token)."""
    if not enabled:
        return Denied.OFF
    if reader is None and not (share is not None and share.public and public_allowed and share.revoked_at is None
                               and not _expired(share, now)):
        return Denied.SIGN_IN
    if share is None:
        return Denied.GONE
    own = reader is not None and reader == share.owner
    if share.revoked_at is not None:
        return Denied.REVOKED if own else Denied.GONE
    if _expired(share, now):
        return Denied.EXPIRED
    return Opened(share, own)


def _expired(share: ShareRow, now: float) -> bool:
    return share.expires_at is not None and now >= share.expires_at
