"""Personal API tokens: what lets a script call the API as an analyst when the pages sign in with OpenID Connect
(`AUTH_MODE=oidc`, where no header names the analyst and a browser cookie is no use to a script).

An analyst creates one on the Usage page and sees it once: `dash_` and 43 random URL-safe characters
(`secrets.token_urlsafe(32)`, 256 bits). The store keeps only its SHA-256 (`digest`, what a request's token is looked
up by) and its first `PREFIX_CHARS` characters (to tell tokens apart in the list); nobody, the app included, can show
a token again. A script sends it as `Authorization: Bearer dash_…`; `api/access.py` turns it into the analyst. A
revoked token is refused at once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.store import Store, Unavailable
from gateway.store.api_tokens import ApiToken, ApiTokens

SCHEME = "dash_"  # every token starts with it (a secret scanner can look for it)
PREFIX_CHARS = 12  # "dash_" and 7 random characters, kept in clear
MAX_NAME = 100  # the name column's width
MAX_TOKEN = 200  # a bearer value longer than this is not one of ours (refused without hashing it)


@dataclass(frozen=True)
class Issued:
    """A token just created: `token` is shown this once, then forgotten."""

    token: str
    record: ApiToken

    def __repr__(self) -> str:  # never in a log line or a traceback's locals
        return f"Issued(record={self.record!r})"


class NameRefused(ValueError):
    """The name cannot be used (empty or too long); the message says why, in plain words."""


def new_token() -> str:
    return SCHEME + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the store keeps and looks a token up by: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def prefix(token: str) -> str:
    return token[:PREFIX_CHARS]


def clean_name(name: str) -> str:
    """The name as it is kept (spaces around it removed); raises NameRefused for an empty or a too long one."""
    name = " ".join(name.split())
    if not name:
        raise NameRefused("Give the token a name (what it is for, e.g. “notebook on my laptop”), so you know which "
                          "one to revoke later.")
    if len(name) > MAX_NAME:
        raise NameRefused(f"The name is {len(name)} characters long; keep it to {MAX_NAME}.")
    return name


def issue(store: Store, owner: str, name: str) -> Issued | Unavailable:
    """Create a token for `owner` named `name`; raises NameRefused for a name that cannot be used."""
    name = clean_name(name)
    token = new_token()
    record = ApiTokens(store).add(owner, name=name, prefix=prefix(token), digest=digest(token))
    if isinstance(record, Unavailable):
        return record
    return Issued(token, record)


def bearer(values: Sequence[str]) -> str | None:
    """The token of an `Authorization: Bearer …` header (every value the request sent), else None: missing, another
    scheme, empty, sent twice, or too long to be a token."""
    if len(values) != 1:
        return None
    scheme, _, token = values[0].strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN or " " in token:
        return None
    return token


def owner_of(store: Store, token: str) -> str | None | Unavailable:
    """Whose live token this is (None: nobody's, or revoked)."""
    return ApiTokens(store).owner_of(digest(token))


def listed(store: Store, owner: str) -> list[ApiToken] | Unavailable:
    """The owner's live tokens, newest first (prefixes only)."""
    return ApiTokens(store).listed(owner)


def revoke(store: Store, owner: str, token_id: int) -> bool | Unavailable:
    """True when the owner's token is revoked now; False when they have no such live token."""
    return ApiTokens(store).revoke(owner, token_id)
