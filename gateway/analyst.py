"""Who is asking: the analyst a session belongs to, decided from what the sign-in gave (no Streamlit here).

`AUTH_MODE` says where identity comes from:
- `none`: nobody signs in; everyone is the one local analyst (`LOCAL`), as on a laptop.
- `oidc`: Streamlit's own sign-in (`st.login()`); `from_claims` reads the ID token's claims (`st.user`).
- `header`: an SSO reverse proxy (oauth2-proxy, a cloud IAP) puts the e-mail in a header (`AUTH_HEADER`);
  `from_headers` reads it from the session's request headers (`st.context.headers`).

An analyst's id is their e-mail, lower-cased: it owns their saved work, names them to the proxy (the OpenAI `user`
field) and keys `[analyst_keys]` / `[analyst_budgets]`. `ADMIN_EMAILS` marks admins (they see the team's usage).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.config import Settings
from gateway.store import LOCAL_OWNER

MAX_EMAIL = 320  # the owner column's width
# One @, something before it, a dotted domain after it, nothing that could smuggle markup or a second address.
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"'`\\]+@[^\s@<>()\[\],;:\"'`\\]+\.[^\s@<>()\[\],;:\"'`\\]+")
# Headers that reverse proxies send beside the e-mail, for a display name (first found wins).
NAME_HEADERS = ("X-Forwarded-Preferred-Username", "X-Forwarded-User", "X-Auth-Request-Preferred-Username")


@dataclass(frozen=True)
class Analyst:
    """One person using the app."""

    id: str  # lower-cased e-mail; LOCAL_OWNER when sign-in is off
    name: str  # how the sidebar greets them
    admin: bool = False

    @property
    def email(self) -> str | None:
        return None if self.id == LOCAL_OWNER else self.id

    def owner(self) -> str:
        """The owner of what they save (the store filters every read by it)."""
        return self.id


LOCAL = Analyst(LOCAL_OWNER, "Local analyst")


@dataclass(frozen=True)
class Refused:
    """A sign-in that happened but cannot be used, and why (safe to show)."""

    reason: str


def normalize_email(value: object, *, namespaced: bool = False) -> str | None:
    """The analyst id for an e-mail as a provider or a proxy sends it, or None when it is not one (lower-cased,
    stripped). `namespaced`: a Google IAP style header value (`accounts.google.com:ana@example.com`) gives the address
    after the last colon."""
    if not isinstance(value, str):
        return None
    email = value.strip()
    if namespaced:
        email = email.rsplit(":", 1)[-1].strip()
    email = email.lower()
    if len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email):
        return None
    return email


def is_admin(analyst_id: str, settings: Settings) -> bool:
    return analyst_id in settings.admin_emails


def from_claims(claims: Mapping[str, object], settings: Settings) -> Analyst | Refused | None:
    """The analyst an OpenID Connect sign-in names (`st.user`'s claims), None when nobody is signed in, `Refused`
    when the account has no usable e-mail or the provider says it is not verified.

    The e-mail is the `email` claim; without one, `preferred_username` when it is an address (Entra ID puts the
    sign-in address there)."""
    if not claims.get("is_logged_in"):
        return None
    given = claims.get("email") if claims.get("email") is not None else claims.get("preferred_username")
    email = normalize_email(given)
    if email is None:
        return Refused("Your account did not give this app an e-mail address, which is how the app tells analysts "
                       "apart. Ask whoever runs the sign-in to include the “email” claim (scope “email”).")
    if claims.get("email_verified") is False:
        return Refused(f"The sign-in provider says {email} is not verified. Verify it with the provider, then sign "
                       "in again.")
    name = claims.get("name") or claims.get("given_name") or email
    return Analyst(email, str(name), is_admin(email, settings))


def from_headers(headers: Mapping[str, Sequence[str]], settings: Settings) -> Analyst | None:
    """The analyst a reverse proxy names in `settings.auth_header`, else None: missing, not an e-mail, or sent more
    than once with different values. `headers`: every value of each header, names in any case."""
    values = {name.lower(): [v for v in found if v.strip()] for name, found in headers.items()}
    given = set(values.get(settings.auth_header.lower(), ()))
    if len(given) != 1:
        return None
    email = normalize_email(given.pop(), namespaced=True)
    if email is None:
        return None
    name = next((found[0].strip() for header in NAME_HEADERS
                 if (found := values.get(header.lower())) and "@" not in found[0]), email)
    return Analyst(email, name, is_admin(email, settings))
