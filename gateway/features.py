"""LiteLLM features the dashboard uses when the connected proxy has them, and what it does without each.

Worked out from what discovery saw (no `/model/info`, or not for this key: it fell back to `/v1/models`) and one
cheap probe of the token counter: a GET on that POST-only route answers 405 when the route is there, 404 when not.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from gateway.cache import cached
from gateway.catalogue import Catalogue
from gateway.config import Settings
from gateway.errors import BadResponse
from gateway.http import shared_client

PROBE_TIMEOUT = 1.5  # seconds; the answer is cached, so a page waits for it at most once per TTL
TTL = 300
PROBE_MAX_BYTES = 64 * 1024  # the answer is a status; its body is never read


@dataclass(frozen=True)
class Feature:
    endpoint: str
    without: str  # what the dashboard does without it


MODEL_INFO = Feature("/model/info", "names only: no prices, context windows estimated from the names")
TOKEN_COUNTER = Feature("/utils/token_counter", "token counts are estimates, marked as such")


def lacking(catalogue: Catalogue, settings: Settings) -> tuple[Feature, ...]:
    """The features the proxy behind a live catalogue lacks (nothing is claimed about a proxy not answering)."""
    if catalogue.status != "live" or not settings.litellm_usable:
        return ()
    missing = []
    if catalogue.endpoint == "/v1/models":
        missing.append(MODEL_INFO)
    if has_token_counter(settings.litellm_base_url) is False:
        missing.append(TOKEN_COUNTER)
    return tuple(missing)


def caption(missing: tuple[Feature, ...]) -> str:
    """`The proxy lacks /model/info (names only: …) and /utils/token_counter (…).`; empty when it lacks none."""
    if not missing:
        return ""
    return "The proxy lacks " + " and ".join(f"`{f.endpoint}` ({f.without})" for f in missing) + "."


@cached(size=16, ttl=TTL)
def has_token_counter(base_url: str) -> bool | None:
    """True when the proxy serves `/utils/token_counter`, False when it answers 404, None when it cannot tell.
    No key is sent: the method is refused before the key is looked at."""
    client = shared_client(base_url, None, connect=PROBE_TIMEOUT, read=PROBE_TIMEOUT, max_bytes=PROBE_MAX_BYTES)
    try:
        status = client.get("/utils/token_counter").status_code
    except (httpx.HTTPError, BadResponse):
        return None
    return {405: True, 404: False}.get(status)
