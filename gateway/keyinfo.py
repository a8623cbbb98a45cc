"""An analyst's own LiteLLM virtual key, as the proxy accounts for it: `GET /key/info` (spend, budget, reset).

Only proxies with a database answer it; others fail, and the usage page then says the proxy does not track keys.
The key itself is never part of the result (the proxy echoes it back in `key`: that field is dropped), and error
messages are redacted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import httpx

from gateway.config import Settings
from gateway.discovery import http_client
from gateway.errors import AuthenticationFailed, BadResponse, GatewayError, error_text, from_status, map_error
from gateway.http import read_json

TIMEOUT = 5.0
NO_DATABASE = "Spend per key is kept by a LiteLLM proxy with a database; without one, only the app's own ledger counts."


@dataclass(frozen=True)
class KeyInfo:
    """What the proxy knows about a key: no key material."""

    alias: str | None
    spend: float  # USD; in the current budget window when the key has one
    max_budget: float | None  # USD; None: no budget on the key
    budget_duration: str | None  # e.g. "30d"
    budget_reset_at: dt.datetime | None
    models: tuple[str, ...]  # empty: every model
    status: str | None  # "active", "expired", "revoked", "deleted"

    @property
    def fraction(self) -> float | None:
        return self.spend / self.max_budget if self.max_budget else None


def fetch_key_info(settings: Settings, client: httpx.Client | None = None) -> KeyInfo | GatewayError:
    """The proxy's record of the key these settings call with (an analyst's own, after `for_analyst`). The client
    is the shared pooled one (gateway.http): never closed here."""
    client = client or http_client(settings, read_timeout=TIMEOUT)
    try:
        response = client.get("/key/info")
        if not response.is_success:
            error = from_status(response.status_code, error_text(response))
            if isinstance(error, AuthenticationFailed) and "db" not in error.message.lower():
                raise error
            # A proxy without a database answers 500 (or "No connected db."): it keeps no spend per key.
            raise GatewayError(f"The proxy did not give this key's spend ({error.message})", hint=NO_DATABASE,
                               status=response.status_code)
        return parse_key_info(read_json(response))
    except Exception as exc:  # noqa: BLE001 - the page shows the error in words
        return map_error(exc, secrets=settings.secrets)


def parse_key_info(payload: object) -> KeyInfo:
    info = payload.get("info") if isinstance(payload, dict) else None
    if not isinstance(info, dict):
        raise BadResponse("/key/info answered without an 'info' record.")
    models = info.get("models")
    return KeyInfo(alias=_str(info.get("key_alias")), spend=_number(info.get("spend")) or 0.0,
                   max_budget=_number(info.get("max_budget")), budget_duration=_str(info.get("budget_duration")),
                   budget_reset_at=_time(info.get("budget_reset_at")),
                   models=tuple(m for m in models if isinstance(m, str)) if isinstance(models, list) else (),
                   status=_str(info.get("status")))


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        found = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=dt.UTC)
