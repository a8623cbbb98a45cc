"""`GET /api/models` (the catalogue the pages show, filtered) and `POST /api/models` (refresh it now).

The catalogue is `gateway.fetch_models`: the same cache (MODELS_CACHE_TTL) and the same last good list during an
outage as the pages. Each model has the original guide's fields (`id`, `name`, `provider`, `contextWindow`) and
ours; the answer says where the list came from (`source`).
"""

from __future__ import annotations

import asyncio
import gzip
import time
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


def model_json(model: ModelRecord) -> dict[str, Any]:
    """One model as the API shows it. Prices are USD per million tokens; null means unknown."""
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


async def list_models(call: Call) -> Response:
    """GET /api/models[?provider=…&min_context=…&q=…&capability=…]"""
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
    body = _answers.get(key)
    if body is None:  # a new list, new filters, or the next second of its age: made in a worker thread
        body = await computing(_answer, key, list_key, catalogue, asked_at, call.settings, filters)
    if accepts_gzip(call.request.headers.get("accept-encoding", "")):
        packed = _packed.get(key) or await computing(lambda: _packed.put(key, gzip.compress(body, 5, mtime=0)))
        return Response(packed, media_type="application/json",
                        headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(body, media_type="application/json")  # (Streamlit's gzip middleware adds the Vary)


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
# direct models' keys are set, and the filters: its models are turned into JSON once. An answer adds where the list
# came from and its age in whole seconds: a burst of GETs within a second is one answer (and, for the clients that
# take gzip, one compression).
_parts: Cache[tuple, tuple[int, str]] = Cache(64)
_answers: Cache[tuple, bytes] = Cache(32)
_packed: Cache[tuple, bytes] = Cache(32)


def _answer(key: tuple, list_key: tuple, catalogue: Catalogue, asked_at: float, settings: Settings,
            filters: tuple) -> bytes:
    part = _parts.get(list_key)
    if part is None:
        search, providers, min_context, capabilities = filters
        shown = filter_models(catalogue.models, search=search, providers=providers, min_context=min_context,
                              capabilities=capabilities)
        part = _parts.put(list_key, (len(shown), guard(dumps([model_json(m) for m in shown]), settings)))
    count, models = part
    head = guard(dumps({**source_json(catalogue, asked_at), "count": count, "total": len(catalogue.models)}), settings)
    return _answers.put(key, f'{head[:-1]},"models":{models}}}'.encode())


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
    answer = {"count": len(catalogue.models), **source_json(catalogue, 0.0)}
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
