"""Who is asking: the analyst a session belongs to, decided from what the sign-in gave (no Streamlit here).

`AUTH_MODE` says where identity comes from:
- `none`: nobody signs in; everyone is the one local analyst (`LOCAL`), as on a laptop.
- `oidc`: Streamlit's own sign-in (`st.login()`); `from_claims` reads the ID token's claims (`st.user`).
- `header`: an SSO reverse proxy (oauth2-proxy, a cloud IAP) puts the e-mail in a header (`AUTH_HEADER`);
  `from_headers` reads it from the session's request headers (`st.context.headers`) and from an API request's,
  by one rule (`normalize_email`), optionally only with the proxy's shared secret (AUTH_PROXY_SECRET).

An analyst's id is their e-mail, lower-cased: it owns their saved work, names them to the proxy (the OpenAI `user`
field) and keys `[analyst_keys]` / `[analyst_budgets]`. `ADMIN_EMAILS` marks admins (they see the team's usage).
"""

from __future__ import annotations

import hmac
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import idna

from gateway.config import DEFAULT_SESSION_HOURS, Settings
from gateway.store import LOCAL_OWNER

MAX_EMAIL = 320  # the owner column's width
# The part before the @: RFC 5322's dot-atom characters in ASCII, less the quote and backquote (nothing that could
# smuggle markup, a second address or a look-alike letter).
_LOCAL = re.compile(r"[A-Za-z0-9.!#$%&*+/=?^_{|}~-]{1,64}")
# The domain as sent: no space, no character that separates addresses or carries markup (IDNA checks the rest).
_DOMAIN_TEXT = re.compile(r"[^\s@<>()\[\],;:\"'`\\/]+")
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


def normalize_email(value: object, *, prefix: str = "") -> str | None:
    """The analyst id for an e-mail as a provider or a proxy sends it, or None when it is not exactly one address.

    The one rule for every way in (OIDC claims, the sign-in header on the pages and the API):
    - surrounding spaces are trimmed; `prefix` (AUTH_HEADER_PREFIX, e.g. Google IAP's `accounts.google.com:`) must
      begin the value and is removed, and nothing else is ever cut off (`evil:x:boss@example.com` is not an address);
    - one `@`; the part before it plain ASCII (letters, digits, ``.!#$%&*+/=?^_{|}~-``), lower-cased, so a look-alike
      letter from another script (Cyrillic `о` for `o`) is refused, never a second spelling of someone;
    - the domain lower-cased, one trailing dot dropped (`example.com.` is `example.com`) and written in its ASCII
      (IDNA, UTS 46) form: `bücher.example` is `xn--bcher-kva.example`, whichever way it was sent, so a look-alike
      domain reads as `xn--…`, never as the domain it imitates. It needs at least two labels.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if prefix:
        if not text.lower().startswith(prefix.lower()):
            return None
        text = text[len(prefix):]
    if len(text) > MAX_EMAIL:
        return None
    local, at, domain = text.partition("@")
    if not at or not _LOCAL.fullmatch(local) or ".." in local or local.startswith(".") or local.endswith("."):
        return None
    domain = domain.removesuffix(".")
    if not domain or domain.endswith(".") or "." not in domain or not _DOMAIN_TEXT.fullmatch(domain):
        return None
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None
    email = f"{local.lower()}@{ascii_domain}"
    return email if len(email) <= MAX_EMAIL else None


def header_text(value: str) -> str | None:
    """A header's value as text: HTTP servers hand over its bytes as Latin-1 characters; the sign-in proxy sends
    UTF-8, so they are decoded as UTF-8 (None when they are not UTF-8). Text that is already decoded (a character
    past U+00FF) is kept."""
    if value.isascii() or any(ord(c) > 0xFF for c in value):
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return None


def is_admin(analyst_id: str, settings: Settings) -> bool:
    """The analyst is listed in ADMIN_EMAILS (each entry read by `normalize_email`, as the analyst's own id)."""
    return analyst_id in settings.admin_emails or \
        any(normalize_email(entry) == analyst_id for entry in settings.admin_emails)


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


def from_headers(headers: Mapping[str, Sequence[str]], settings: Settings) -> Analyst | Refused | None:
    """The analyst a reverse proxy names in `settings.auth_header`; None when the header is missing, `Refused` (with
    a reason safe to show, never repeating the value) when it cannot be used: sent more than once with different
    values, not exactly one address (`normalize_email`, after AUTH_HEADER_PREFIX), or, with AUTH_PROXY_SECRET set,
    without that secret in AUTH_PROXY_SECRET_HEADER, which only the sign-in proxy knows (so a caller that reaches
    the app's port directly cannot name anyone). `headers`: every value of each header, names in any case, as the
    server decoded them (Latin-1)."""
    values = {name.lower(): [v for v in found if v.strip()] for name, found in headers.items()}
    if settings.auth_proxy_secret and not _carries_secret(values.get(settings.auth_proxy_secret_header.lower(), []),
                                                          settings.auth_proxy_secret):
        return Refused(f"The request did not come through the sign-in proxy: its {settings.auth_proxy_secret_header} "
                       "header is missing or wrong (AUTH_PROXY_SECRET).")
    given = set(values.get(settings.auth_header.lower(), ()))
    if not given:
        return None
    if len(given) != 1:
        return Refused(f"The {settings.auth_header} header was sent more than once with different values.")
    text = header_text(given.pop())
    email = normalize_email(text, prefix=settings.auth_header_prefix) if text is not None else None
    if email is None:
        expected = f"{settings.auth_header_prefix}name@example.com" if settings.auth_header_prefix \
            else "name@example.com (set AUTH_HEADER_PREFIX if your proxy puts a prefix before it)"
        return Refused(f"The {settings.auth_header} header is not exactly one e-mail address of the form {expected}.")
    name = next((plain_name for header in NAME_HEADERS
                 if (found := values.get(header.lower())) and "@" not in found[0]
                 and (plain_name := header_text(found[0].strip()))), email)
    return Analyst(email, name, is_admin(email, settings))


def _carries_secret(given: Sequence[str], secret: str) -> bool:
    """Exactly one value, equal to the secret (compared in constant time)."""
    return len(given) == 1 and hmac.compare_digest(given[0].strip().encode("latin-1", "replace"),
                                                   secret.strip().encode("latin-1", "replace"))


# --- How long a sign-in lasts ---------------------------------------------------------------------------------------
# Kept apart from the parsing above: these rules decide whether a sign-in that names an analyst is still good.

@dataclass(frozen=True)
class Ended:
    """A sign-in that named an analyst but is over: they signed out since, or it is older than a session lasts.
    `reason` is safe to show; `analyst` is who it named (for the log, never for access)."""

    reason: str
    analyst: str


def issued_at(claims: Mapping[str, object]) -> float | None:
    """When the provider issued the ID token behind a sign-in (its `iat` claim, epoch seconds), else None."""
    return _seconds(claims.get("iat"))


def session_hours(claims: Mapping[str, object], settings: Settings) -> float:
    """How long a session lasts, in hours: `SESSION_MAX_HOURS` when set; else, for an OpenID Connect sign-in, the
    lifetime the provider gave its ID token (`exp` − `iat`); else DEFAULT_SESSION_HOURS."""
    if settings.session_max_hours is not None:
        return settings.session_max_hours
    issued, expires = issued_at(claims), _seconds(claims.get("exp"))
    if issued is not None and expires is not None and expires > issued:
        return (expires - issued) / 3600
    return DEFAULT_SESSION_HOURS


def session_end(analyst: Analyst, claims: Mapping[str, object], settings: Settings, *,
                signed_out_at: float | None, now: float) -> Ended | None:
    """Why an OpenID Connect sign-in of `analyst` (the ID token's `claims`, as the identity cookie keeps them) no
    longer opens the app, or None while it does: it was issued before the analyst's last sign-out (`signed_out_at`),
    or more than `session_hours` ago, or it does not say when it was issued."""
    issued = issued_at(claims)
    if issued is None:
        return Ended("Your sign-in does not say when it was made (the provider's token has no “iat”), so this app "
                     "cannot tell whether it is still good. Sign in again.", analyst.id)
    if signed_out_at is not None and issued <= signed_out_at:
        return Ended("You signed out. Sign in again to continue.", analyst.id)
    hours = session_hours(claims, settings)
    if now >= issued + hours * 3600:
        return Ended(f"Your session ended: a sign-in lasts {describe_hours(hours)}. Sign in again to continue.",
                     analyst.id)
    return None


def header_session_end(analyst: Analyst, connected_at: float, settings: Settings, *, now: float) -> Ended | None:
    """Why a page opened through the sign-in proxy (`AUTH_MODE=header`) must be opened through it again, or None:
    it has been open longer than a session lasts (`SESSION_MAX_HOURS`, else DEFAULT_SESSION_HOURS). The proxy checks
    its own session (and its own sign-out) when the page is loaded again; an open page would never ask it."""
    hours = settings.session_max_hours if settings.session_max_hours is not None else DEFAULT_SESSION_HOURS
    if now >= connected_at + hours * 3600:
        return Ended(f"This page has been open longer than a session lasts ({describe_hours(hours)}). Reload it: "
                     "your company's sign-in checks that you are still signed in.", analyst.id)
    return None


def sign_out_time(claims: Mapping[str, object], now: float) -> float:
    """The time to keep as an analyst's sign-out: now, or the sign-in's own issue time when the provider's clock is
    ahead of this one (so the sign-in being ended is refused whatever the clocks say)."""
    issued = issued_at(claims)
    return now if issued is None else max(now, issued)


def describe_hours(hours: float) -> str:
    if hours < 1:
        minutes = max(1, round(hours * 60))
        return f"{minutes} minute{'s' * (minutes != 1)}"
    whole = round(hours, 1)
    text = f"{whole:g}"
    return f"{text} hour{'s' * (text != '1')}"


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
