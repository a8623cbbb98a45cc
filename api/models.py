"""The model list over HTTP, in two shapes, and its refresh.

- `GET /api/models`: the integration guide's answer, unchanged, for the scripts and frontends written to it: a bare
  JSON array of `{"id", "name", "provider", "contextWindow"}`, the models a request can use, `provider` being
  `"litellm"` for the proxy's models (the guide's chat route branches on it) and `openai` / `anthropic` for the
  built-in direct ones. Where the list came from and how old it is travel in `X-Models-*` response headers.
- `GET /api/models/catalogue`: ours: every model with all we know of it (the upstream providers, prices, limits,
  capabilities, whether it can be used and why not) and the list's source, age, status and error in the body.
- `POST /api/models`: refresh now; the guide's `{"success": true, "message": "Model cache refreshed", "count": N}`.

Both GETs read `gateway.fetch_models`: the same cache (MODELS_CACHE_TTL) and the same last good list during an
outage as the pages, and take the same filters.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

import gateway
from api.http import ApiError, Call, computing, dumps, error_object, guard, json_response
from gateway import Catalogue, ModelRecord, Settings
from gateway.cache import Cache
from gateway.table import filter_models

CAPABILITIES = ("vision", "tools", "reasoning")
# Where a list came from, by the catalogue's status (`live` is split into live and cached by the fetch time).
SOURCES = {"live": "live", "stale": "last_good", "unavailable": "builtin_only", "disabled": "builtin_only",
           "misconfigured": "builtin_only"}


def guide_json(model: ModelRecord) -> dict[str, Any]:
    """One model as the integration guide shows it: how a client names it, shows it and reaches it."""
    return {
        "id": model.id,  # the name sent in requests
        "name": model.name,
        "provider": "litellm" if model.route == "litellm" else model.provider,  # through the proxy, or whose API
        "contextWindow": model.context_window,
    }


def model_json(model: ModelRecord) -> dict[str, Any]:
    """One model as the catalogue shows it. Prices are USD per million tokens; null means unknown."""
    return {
        "id": model.id,  # the name sent in requests
        "key": model.key,  # unique in the catalogue: what POST /api/compare takes
        "name": model.name,
        "provider": model.provider,
        "contextWindow": model.context_window,
        "route": model.route,
        "providers": list(model.providers),
        "contextSource": model.context_source,
        "maxOutputTokens": model.max_output_tokens,
        "inputPricePerMillion": model.input_price,
        "outputPricePerMillion": model.output_price,
        "mode": model.mode,
        "capabilities": list(model.capabilities),
        "deployments": model.deployments,
        "available": model.available,
        "unavailableReason": model.unavailable_reason or None,
    }


def source_of(catalogue: Catalogue, asked_at: float) -> str:
    """`live` (fetched from the proxy for this request), `cached` (the proxy's list from the cache), `last_good`
    (the proxy is not answering: its last good list) or `builtin_only`."""
    source = SOURCES[catalogue.status]
    if source == "live" and catalogue.fetched_at is not None and catalogue.fetched_at < asked_at:
        return "cached"
    return source


def source_json(catalogue: Catalogue, asked_at: float) -> dict[str, Any]:
    """Where the list came from, how old it is (whole seconds) and why the proxy's list could not be fetched."""
    error = catalogue.error
    return {
        "source": source_of(catalogue, asked_at),
        "status": catalogue.status,
        "ageSeconds": None if catalogue.age is None else int(catalogue.age),
        "fetchedAt": _iso(catalogue.fetched_at),
        "endpoint": catalogue.endpoint,
        "proxyModels": len(catalogue.litellm_models),
        "error": error_object(error.message, error.hint, error.kind) if error is not None else None,
    }


HEADERS = {"source": "X-Models-Source", "status": "X-Models-Status", "ageSeconds": "X-Models-Age",
           "fetchedAt": "X-Models-Fetched-At"}  # the catalogue's fields that GET /api/models sends as headers


def source_headers(catalogue: Catalogue, asked_at: float) -> dict[str, str]:
    """What the catalogue's body says of the list (`source_json`) as `X-Models-*` response headers: its source,
    status, age and fetch time when known, and the error's kind when the proxy's list could not be read (its words
    are on /api/models/catalogue)."""
    found = source_json(catalogue, asked_at)
    headers = {header: str(found[field]) for field, header in HEADERS.items() if found[field] is not None}
    if found["error"] is not None:
        headers["X-Models-Error"] = found["error"]["kind"]
    return headers


@dataclass(frozen=True)
class _Listing:
    """One GET's catalogue and filters, and the keys its answers are kept under."""

    catalogue: Catalogue
    asked_at: float
    filters: tuple
    list_key: tuple  # the list and filters: what the models part of an answer depends on
    key: tuple  # that, and the source and age (in whole seconds): what a catalogue answer depends on


async def _listing(call: Call) -> _Listing:
    query = call.request.query_params
    wanted = tuple(p.strip() for value in query.getlist("provider") for p in value.split(",") if p.strip())
    capabilities = tuple(c.strip() for value in query.getlist("capability") for c in value.split(",") if c.strip())
    if unknown := sorted(set(capabilities) - set(CAPABILITIES)):
        raise ApiError(400, f"Unknown capability {', '.join(unknown)}: use {', '.join(CAPABILITIES)}.")
    filters = (query.get("q", ""), wanted, _count(query.get("min_context", ""), "min_context"), capabilities)
    asked_at = time.time()
    catalogue = await shared_fetch(call.settings)
    list_key = (call.settings.litellm_base_url, hash(call.settings.litellm_api_key), catalogue.fetched_at,
                bool(call.settings.openai_api_key), bool(call.settings.anthropic_api_key), filters)
    age = None if catalogue.age is None else int(catalogue.age)
    key = (list_key, source_of(catalogue, asked_at), catalogue.status, age,
           catalogue.error.message if catalogue.error is not None else None)
    return _Listing(catalogue, asked_at, filters, list_key, key)


async def list_models(call: Call) -> Response:
    """GET /api/models[?provider=…&min_context=…&q=…&capability=…]: the guide's array."""
    listing = await _listing(call)
    body = _guides.get(listing.list_key)
    if body is None:  # a new list or new filters: made in a worker thread
        body = await computing(_guide_answer, listing, call.settings)
    return await _send(call, ("guide", listing.list_key), body, source_headers(listing.catalogue, listing.asked_at))


async def catalogue_models(call: Call) -> Response:
    """GET /api/models/catalogue[?provider=…&min_context=…&q=…&capability=…]: every model, and the list's source."""
    listing = await _listing(call)
    body = _answers.get(listing.key)
    if body is None:  # a new list, new filters, or the next second of its age: made in a worker thread
        body = await computing(_answer, listing, call.settings)
    return await _send(call, ("catalogue", listing.key), body)


async def _send(call: Call, key: tuple, body: bytes, headers: dict[str, str] | None = None) -> Response:
    """The answer, gzipped (once per answer) for a client that takes it."""
    if accepts_gzip(call.request.headers.get("accept-encoding", "")):
        packed = _packed.get(key) or await computing(lambda: _packed.put(key, gzip.compress(body, 5, mtime=0)))
        return Response(packed, media_type="application/json",
                        headers={**(headers or {}), "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(body, media_type="application/json", headers=headers)  # (Streamlit's gzip middleware adds Vary)


# GETs close together share one catalogue read: a GET that arrives while `gateway.fetch_models` is running for the
# same settings, or up to READ_REUSE seconds after it answered, takes that answer instead of reading again (each warm
# read unpickles the whole list, holding the interpreter lock the pages' scripts need). POST /api/models forgets it.
READ_REUSE = 1.0
_reading: dict[Settings, asyncio.Future[Catalogue]] = {}
_read: dict[Settings, tuple[float, Catalogue]] = {}
_refreshes = [0]  # POST /api/models so far: a read begun before a refresh is not kept after it


async def shared_fetch(settings: Settings) -> Catalogue:
    """`gateway.fetch_models(settings)`, or the answer of the same call under way or just made."""
    if (recent := _read.get(settings)) is not None and time.monotonic() - recent[0] < READ_REUSE:
        return recent[1]
    if (under_way := _reading.get(settings)) is not None:
        return await asyncio.shield(under_way)
    _reading[settings] = future = asyncio.get_running_loop().create_future()
    future.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved, even with no waiter
    refreshes = _refreshes[0]
    try:
        catalogue = await computing(gateway.fetch_models, settings)
    except BaseException as error:
        future.set_exception(error)
        raise
    else:
        future.set_result(catalogue)
        if refreshes == _refreshes[0]:
            _read.clear()  # one entry: the settings rarely change, and an old one must not linger
            _read[settings] = (time.monotonic(), catalogue)
        return catalogue
    finally:
        del _reading[settings]


# What a warm GET reuses. A list is known by its proxy and key, when it was fetched (each fetch is a new list), which
# direct models' keys are set, and the filters: its models are filtered and turned into JSON once per shape. The
# guide's answer is that JSON alone (its source and age are headers); a catalogue answer adds where the list came from
# and its age in whole seconds: a burst of GETs within a second is one answer (and, for the clients that take gzip,
# one compression).
_shown: Cache[tuple, tuple[ModelRecord, ...]] = Cache(64)
_guides: Cache[tuple, bytes] = Cache(32)
_parts: Cache[tuple, tuple[int, str]] = Cache(64)
_answers: Cache[tuple, bytes] = Cache(32)
_packed: Cache[tuple, bytes] = Cache(64)


def _filtered(listing: _Listing) -> tuple[ModelRecord, ...]:
    shown = _shown.get(listing.list_key)
    if shown is None:

        search, providers, min_context, capabilities = listing.filters
        shown = _shown.put(listing.list_key, tuple(filter_models(
            listing.catalogue.models, search=search, providers=providers, min_context=min_context,
            capabilities=capabilities)))
    return shown


def usable(models: tuple[ModelRecord, ...]) -> list[ModelRecord]:
    """What the guide lists: the models a request can use now (a direct model without its provider's key is not)."""
    return [m for m in models if m.available]


def _guide_answer(listing: _Listing, settings: Settings) -> bytes:
    models = usable(_filtered(listing))
    return _guides.put(listing.list_key, guard(dumps([guide_json(m) for m in models]), settings).encode())


def _answer(listing: _Listing, settings: Settings) -> bytes:
    part = _parts.get(listing.list_key)
    if part is None:
        shown = _filtered(listing)
        part = _parts.put(listing.list_key, (len(shown), guard(dumps([model_json(m) for m in shown]), settings)))
    count, models = part
    catalogue = listing.catalogue
    head = guard(dumps({**source_json(catalogue, listing.asked_at), "count": count, "total": len(catalogue.models)}),
                 settings)
    return _answers.put(listing.key, f'{head[:-1]},"models":{models}}}'.encode())


def accepts_gzip(header: str) -> bool:
    """The client's Accept-Encoding allows gzip (`gzip`, `gzip;q=0.8`, `*`; not `gzip;q=0`)."""
    for item in header.lower().split(","):
        name, _, params = item.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return True
    return False


def refresh_models(call: Call) -> Response:
    """POST /api/models: ask the proxy again now. 503 (and the last good list kept) when it cannot be read."""
    catalogue = gateway.refresh(call.settings)
    _refreshes[0] += 1
    _read.clear()  # a GET after this answer reads the refreshed list
    answer = {"count": len(usable(catalogue.models)), "total": len(catalogue.models), **source_json(catalogue, 0.0)}
    if catalogue.status == "live":
        return json_response({"success": True, "message": "Model cache refreshed", **answer}, settings=call.settings)
    if catalogue.status == "disabled":
        message = "LiteLLM is switched off (LITELLM_ENABLED is not true): there is no proxy list to refresh."
        hint = "Set LITELLM_ENABLED=true and LITELLM_BASE_URL where the app runs, then restart it."
        kind = "configuration"
    else:
        assert catalogue.error is not None
        message, hint, kind = catalogue.error.message, catalogue.error.hint, catalogue.error.kind
    kept = ("the last good list is still served" if catalogue.status == "stale"
            else "only the built-in models are listed")
    return json_response({"success": False, "message": f"{message.rstrip('.')}: {kept}.", **answer,
                          "error": error_object(message, hint, kind, 503)}, 503, settings=call.settings)


def _count(value: str, name: str) -> int:
    if not value:
        return 0
    try:
        number = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        number = -1
    if number < 0:
        raise ApiError(400, f"{name}={value[:40]!r} is not a whole number of tokens ≥ 0.", hint=f"e.g. {name}=128000")
    return number


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
