"""Model discovery: ask a LiteLLM proxy what it serves and turn the answer into compact model records.

`/model/info` is rich (provider, context window, prices, capabilities) but heavy; `/v1/models` is the fallback
when it is refused or missing. Several deployments under one name become one record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from gateway.config import Settings
from gateway.errors import BadResponse, GatewayError, error_text, from_status, map_error
from gateway.http import read_json, shared_client
from gateway.models import ContextSource, ModelRecord, estimate_context_window, infer_provider

_FALLBACK_STATUSES = {401, 403, 404, 405, 501}


@dataclass(frozen=True)
class Discovery:
    """What one discovery call found."""

    models: tuple[ModelRecord, ...]
    endpoint: str  # "/model/info" or "/v1/models"


def http_client(settings: Settings, *, read_timeout: float | None = None,
                connect_timeout: float | None = None) -> httpx.Client:
    """The shared pooled client for the proxy's metadata endpoints: the key, short timeouts, answers bounded by
    MAX_RESPONSE_MB (see gateway.http). Shared by every session: do not close it or change its timeouts."""
    return shared_client(settings.litellm_base_url, settings.litellm_api_key,
                         connect=connect_timeout or settings.connect_timeout,
                         read=read_timeout or max(10.0, settings.connect_timeout),
                         max_bytes=settings.max_response_bytes)


def discover(settings: Settings, client: httpx.Client | None = None) -> Discovery:
    """Fetch the proxy's models. Raises a GatewayError when the proxy cannot be read."""
    client = client or http_client(settings)
    try:
        response = client.get("/model/info")
        if response.status_code in _FALLBACK_STATUSES or _not_json(response) and response.is_success:
            fallback = client.get("/v1/models")
            _raise_for_status(fallback)
            return Discovery(parse_models_list(read_json(fallback)), "/v1/models")
        _raise_for_status(response)
        return Discovery(parse_model_info(read_json(response)), "/model/info")
    except GatewayError:
        raise
    except Exception as exc:
        raise map_error(exc, secrets=settings.secrets) from None


def parse_model_info(payload: object) -> tuple[ModelRecord, ...]:
    """Records from a `/model/info` answer: `{"data": [{"model_name", "litellm_params", "model_info"}, ...]}`."""
    groups: dict[str, list[tuple[dict, dict]]] = {}
    for entry in _data(payload):
        name = entry.get("model_name")
        if not isinstance(name, str) or not name:
            continue
        params, info = entry.get("litellm_params"), entry.get("model_info")
        groups.setdefault(name, []).append((params if isinstance(params, dict) else {},
                                            info if isinstance(info, dict) else {}))
    return tuple(_record(name, deployments) for name, deployments in groups.items())


def parse_models_list(payload: object) -> tuple[ModelRecord, ...]:
    """Records from a `/v1/models` answer: `{"data": [{"id", "owned_by", maybe "max_input_tokens"...}]}`."""
    seen: dict[str, ModelRecord] = {}
    for entry in _data(payload):
        name = entry.get("id")
        if not isinstance(name, str) or not name or name in seen:
            continue
        provider = _provider_from_model(name) or _str(entry.get("owned_by"))
        seen[name] = _with_context(name, dict(
            providers=(provider,) if provider else (),
            max_input_tokens=_int(entry.get("max_input_tokens")),
            max_output_tokens=_int(entry.get("max_output_tokens")),
            mode=_str(entry.get("mode")),
        ))
    return tuple(seen.values())


def _record(name: str, deployments: list[tuple[dict, dict]]) -> ModelRecord:
    """One record for every deployment of a name: the smallest window and output limit (what every request is sure
    to get), the highest prices (the most a request can cost), and the other end of each range."""
    infos = [info for _, info in deployments]
    providers = _unique(_str(info.get("litellm_provider")) or _provider_from_model(_str(params.get("model")) or name)
                        for params, info in deployments)

    def first(field: str) -> object:
        return next((info[field] for info in infos if info.get(field) is not None), None)

    def known(read) -> list:
        return [value for value in map(read, infos) if value is not None]

    windows = known(lambda info: _int(info.get("max_input_tokens")) or _int(info.get("max_tokens")))
    outputs = known(lambda info: _int(info.get("max_output_tokens")))
    input_prices = known(lambda info: _price(info, "input_cost_per_token"))
    output_prices = known(lambda info: _price(info, "output_cost_per_token"))
    underlying = _str(deployments[0][0].get("model")) or name
    return _with_context(underlying, dict(
        id=name,
        providers=providers,
        max_input_tokens=min(windows, default=None),
        context_window_max=max(windows, default=None),
        max_output_tokens=min(outputs, default=None),
        input_price=max(input_prices, default=None),
        input_price_min=min(input_prices, default=None),
        output_price=max(output_prices, default=None),
        output_price_min=min(output_prices, default=None),
        mode=_str(first("mode")),
        supports_vision=_bool(first("supports_vision")),
        supports_function_calling=_bool(first("supports_function_calling")),
        supports_reasoning=_bool(first("supports_reasoning")),
        deployments=len(deployments),
    ), alias=name)


def _with_context(underlying: str, fields: dict, alias: str | None = None) -> ModelRecord:
    """Fill the context window from the proxy when it knows it, else estimate it from the names."""
    fields.setdefault("id", underlying)
    known = fields.pop("max_input_tokens")
    source: ContextSource
    if known:
        window, source = known, "proxy"
    else:
        window = estimate_context_window(underlying) or (estimate_context_window(alias) if alias else None)
        source = "estimated" if window else "unknown"
    return ModelRecord(route="litellm", context_window=window, context_source=source, **fields)


def _provider_from_model(model: str | None) -> str | None:
    if not model:
        return None
    if "/" in model:
        return model.split("/", 1)[0].lower() or None
    return infer_provider(model)


def _data(payload: object) -> list[dict]:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        raise BadResponse("The answer has no 'data' list: this does not look like a LiteLLM proxy.")
    return [entry for entry in data if isinstance(entry, dict)]


def _raise_for_status(response: httpx.Response) -> None:
    if not response.is_success:
        raise from_status(response.status_code, error_text(response))


def _not_json(response: httpx.Response) -> bool:
    return "json" not in response.headers.get("content-type", "")


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v}))


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and value > 0:
        return int(value)
    return None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _price(info: dict, field: str) -> float | None:
    """USD per 1M tokens. LiteLLM 1.53.1 answers 0 for a model it does not know (newer releases leave the field
    out): a zero price on a deployment it knows no window for is unknown, not free."""
    cost = _float(info.get(field))
    if cost is None or cost == 0 and not (_int(info.get("max_input_tokens")) or _int(info.get("max_tokens"))):
        return None
    return round(cost * 1_000_000, 6)


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None
