"""`GET /api/models` (the catalogue the pages show, filtered) and `POST /api/models` (refresh it now).

The catalogue is `gateway.fetch_models`: the same cache (MODELS_CACHE_TTL) and the same last good list during an
outage as the pages. Each model has the original guide's fields (`id`, `name`, `provider`, `contextWindow`) and
ours; the answer says where the list came from (`source`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

import gateway
from api.http import ApiError, Call, blocking, dumps, error_object, guard, json_response
from gateway import Catalogue, ModelRecord, Settings

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


def source_json(catalogue: Catalogue, asked_at: float) -> dict[str, Any]:
    """Where the list came from: `live` (fetched from the proxy for this request), `cached` (the proxy's list from
    the cache), `last_good` (the proxy is not answering: its last good list) or `builtin_only`; with its age."""
    source = SOURCES[catalogue.status]
    if source == "live" and catalogue.fetched_at is not None and catalogue.fetched_at < asked_at:
        source = "cached"
    error = catalogue.error
    return {
        "source": source,
        "status": catalogue.status,
        "ageSeconds": None if catalogue.age is None else round(catalogue.age, 1),
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
    key = _part_key(catalogue, call.settings, filters)
    part = _kept_part(key)
    if part is None:  # a new list, or new filters: made once, in a worker thread
        part = await blocking(_models_part, key, catalogue, call.settings, filters)
    count, models = part
    head = guard(dumps({**source_json(catalogue, asked_at), "count": count, "total": len(catalogue.models)}),
                 call.settings)
    return Response(f'{head[:-1]},"models":{models}}}', media_type="application/json")


# A burst of GETs shares one catalogue read: a GET that arrives while `gateway.fetch_models` is running for the same
# settings waits for that call's answer instead of making its own (each warm read unpickles the whole list).
_reading: dict[Settings, asyncio.Future[Catalogue]] = {}


async def shared_fetch(settings: Settings) -> Catalogue:
    """`gateway.fetch_models(settings)`, or the answer of the same call already under way."""
    if (under_way := _reading.get(settings)) is not None:
        return await asyncio.shield(under_way)
    _reading[settings] = future = asyncio.get_running_loop().create_future()
    future.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved, even with no waiter
    try:
        catalogue = await blocking(gateway.fetch_models, settings)
    except BaseException as error:
        future.set_exception(error)
        raise
    else:
        future.set_result(catalogue)
        return catalogue
    finally:
        del _reading[settings]


# The "models" part of an answer, kept per list and filters: a warm GET then costs the catalogue's cache hit and
# a lookup, not 250 records turned into JSON again. A list is known by its proxy and key, when it was fetched (each
# fetch is a new list) and which direct models' keys are set.
_parts: OrderedDict[tuple, tuple[int, str]] = OrderedDict()
_parts_lock = threading.Lock()
PARTS_KEPT = 64


def _part_key(catalogue: Catalogue, settings: Settings, filters: tuple) -> tuple:
    return (settings.litellm_base_url, hash(settings.litellm_api_key), catalogue.fetched_at,
            bool(settings.openai_api_key), bool(settings.anthropic_api_key), filters)


def _kept_part(key: tuple) -> tuple[int, str] | None:
    with _parts_lock:
        if (found := _parts.get(key)) is not None:
            _parts.move_to_end(key)
        return found


def _models_part(key: tuple, catalogue: Catalogue, settings: Settings, filters: tuple) -> tuple[int, str]:
    # gateway.table is imported here, once the server runs: its page cache (st.cache_data) warns when it is
    # declared before Streamlit's runtime exists, which is when streamlit_app.py imports this module.
    from gateway.table import filter_models

    search, providers, min_context, capabilities = filters
    shown = filter_models(catalogue.models, search=search, providers=providers, min_context=min_context,
                          capabilities=capabilities)
    made = len(shown), guard(dumps([model_json(m) for m in shown]), settings)
    with _parts_lock:
        _parts[key] = made
        while len(_parts) > PARTS_KEPT:
            _parts.popitem(last=False)
    return made


def refresh_models(call: Call) -> Response:
    """POST /api/models: ask the proxy again now. 503 (and the last good list kept) when it cannot be read."""
    catalogue = gateway.refresh(call.settings)
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
