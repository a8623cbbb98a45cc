"""`GET /api/openapi.json`: the OpenAPI 3.1 document of the API, written by hand (tests check real answers against
its schemas, and that it names exactly the routes served)."""

from __future__ import annotations

import functools
from typing import Any

from starlette.responses import Response

import gateway
from api.http import MAX_BODY_BYTES, Call, json_response
from api.validation import MAX_DEPTH, MAX_NUMBER_CHARS
from gateway import prompt_library as library
from gateway.compare import MAX_MODELS, MIN_MODELS
from gateway.config import DEFAULT_MAX_OUTPUT_TOKENS
from gateway.params import EFFORTS, MIN_THINKING_BUDGET
from gateway.usage import PERIOD_KEYS

_NULLABLE_STR = {"type": ["string", "null"]}
_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_NUM = {"type": ["number", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("ErrorAnswer"), description)


_REFUSED = {"401": _error("Refused: sign-in is on and the request names no analyst (AUTH_MODE=header: no usable "
                          "AUTH_HEADER, or AUTH_PROXY_SECRET's header missing; AUTH_MODE=oidc: no personal API token, "
                          "or one that was revoked or never issued). Always with a `WWW-Authenticate` challenge."),
            "403": _error("Refused: sign-in is off, the caller is not on this machine and API_ALLOW_REMOTE is not "
                          "true (kind `forbidden`); or, for a POST, a web page of another site sent it (kind "
                          "`cross_site`: its `Origin` or `Sec-Fetch-Site` says so).")}
# What every operation may answer besides its own: refusals, a name the app does not answer to, a body over the
# limit, a request the document does not allow, and the one unexpected failure.
_EVERY = {
    "400": _error("The request is not what this document allows: an unknown or repeated query parameter, a value "
                  "not of its type or range, a body that is not UTF-8 JSON, nests deeper than "
                  f"{MAX_DEPTH} levels, has a number longer than {MAX_NUMBER_CHARS} characters or a lone surrogate "
                  "(kind `invalid_unicode`), or a field outside its schema. The message names the field."),
    **_REFUSED,
    "413": _error(f"The request body is over {MAX_BODY_BYTES:,} bytes (kind `too_large`)."),
    "421": _error("The request's `Host` is not a name the app answers to (kind `wrong_host`): sign-in is off and it "
                  "is neither an IP address, `localhost`, nor listed in ALLOWED_HOSTS (a page rebinding its name)."),
    "500": _error("The dashboard failed unexpectedly (kind `internal`). The message says whether anything had been "
                  "sent to a model and what was recorded; when nothing was, the request can be retried."),
}
_WRITES = {"415": _error("The body is not `Content-Type: application/json` (kind `unsupported_media_type`).")}


def _responses(own: dict[str, Any], *, writes: bool = False) -> dict[str, Any]:
    """An operation's responses: its own, and every status the server may answer it with, in order."""
    merged = {**_EVERY, **(_WRITES if writes else {}), **own}
    return dict(sorted(merged.items()))


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["message", "hint", "kind"],
        "properties": {
            "message": {"type": "string", "description": "What went wrong, in plain words (keys removed)."},
            "hint": {"type": "string", "description": "What to do about it."},
            "kind": {"type": "string", "description": "A short stable name for the cause, e.g. `unreachable`, "
                     "`model_not_found`, `too_large`, `forbidden`."},
            "status": {"type": "integer", "description": "The HTTP status of this answer, when it is an error."},
        },
    },
    "ErrorAnswer": {"type": "object", "required": ["error"], "properties": {"error": _ref("Error")}},
    "BudgetRefusal": {
        "type": "object", "required": ["error", "budget"], "properties": {
            "error": _ref("Error"),
            "budget": {"type": "object", "required": ["limit", "spent", "reserved", "unpriced"], "properties": {
                "limit": {"type": ["number", "null"], "description": "The caller's monthly budget (USD)."},
                "spent": {"type": ["number", "null"], "description": "Spent this calendar month (UTC), replies "
                          "without a price counted at `unpriced.usdPer1kTokens`."},
                "reserved": {"type": ["number", "null"], "description": "Held for the caller's requests still on "
                             "their way (this app process)."},
                "left": {"type": "number", "description": "What a new request may still cost."},
                "unpricedSpent": {"type": "number", "description": "The part of `spent` assumed for replies "
                                  "without a price."},
                "unpriced": {"type": "object", "required": ["usdPer1kTokens", "rule"], "properties": {
                    "usdPer1kTokens": {"type": "number"}, "rule": {"type": "string"}}},
            }},
        },
    },
    "GuideModel": {
        "type": "object", "required": ["id", "name", "provider", "contextWindow"], "additionalProperties": False,
        "description": "A model as the integration guide lists it.",
        "properties": {
            "id": {"type": "string", "description": "The model name sent in requests."},
            "name": {"type": "string", "description": "The display name."},
            "provider": {"type": "string", "description": "`litellm` for the proxy's models (reached through "
                         "LiteLLM); `openai` or `anthropic` for the built-in direct ones."},
            "contextWindow": {**_NULLABLE_INT, "description": "Input tokens the model takes (null: unknown)."},
        },
    },
    "GuideModelList": {"type": "array", "items": _ref("GuideModel")},
    "Model": {
        "type": "object",
        "required": ["id", "key", "name", "provider", "contextWindow", "route", "providers", "contextSource",
                     "maxOutputTokens", "inputPricePerMillion", "outputPricePerMillion", "mode", "capabilities",
                     "deployments", "available", "unavailableReason"],
        "properties": {
            "id": {"type": "string", "description": "The model name sent in requests."},
            "key": {"type": "string", "description": "Unique in the catalogue: the proxy's name for proxy models, "
                    "`openai:<id>` / `anthropic:<id>` for the built-in direct ones. What POST /api/compare takes."},
            "name": {"type": "string", "description": "The display name."},
            "provider": {"type": "string", "description": "The vendors behind it, comma-separated, or `unknown` "
                         "(the guide's list says `litellm` instead for the proxy's models: see `route`)."},
            "contextWindow": {**_NULLABLE_INT, "description": "Input tokens the model takes (null: unknown)."},
            "route": {"enum": ["litellm", "openai", "anthropic"], "description": "How the app reaches it."},
            "providers": {"type": "array", "items": {"type": "string"}},
            "contextSource": {"enum": ["proxy", "estimated", "unknown"],
                              "description": "`estimated`: guessed from the model's name."},
            "maxOutputTokens": _NULLABLE_INT,
            "inputPricePerMillion": {**_NULLABLE_NUM, "description": "USD per million input tokens."},
            "outputPricePerMillion": {**_NULLABLE_NUM, "description": "USD per million output tokens."},
            "mode": _NULLABLE_STR,
            "capabilities": {"type": "array", "items": {"enum": ["vision", "tools", "reasoning"]}},
            "deployments": {"type": "integer", "description": "Deployments the proxy balances under this name."},
            "available": {"type": "boolean"},
            "unavailableReason": _NULLABLE_STR,
        },
    },
    "Source": {
        "type": "object",
        "required": ["source", "status", "ageSeconds", "fetchedAt", "endpoint", "proxyModels", "error"],
        "properties": {
            "source": {"enum": ["live", "cached", "last_good", "builtin_only"], "description":
                       "`live`: fetched from the proxy for this request; `cached`: the proxy's list from the cache "
                       "(MODELS_CACHE_TTL); `last_good`: the proxy is not answering, its last good list is served; "
                       "`builtin_only`: only the built-in direct models (no proxy list yet, or LiteLLM off)."},
            "status": {"enum": ["live", "stale", "unavailable", "disabled", "misconfigured"],
                       "description": "The catalogue's own status, as the pages' banner shows it."},
            "ageSeconds": {**_NULLABLE_NUM, "description": "Seconds since the proxy's list was fetched."},
            "fetchedAt": {**_NULLABLE_STR, "format": "date-time"},
            "endpoint": {**_NULLABLE_STR, "description": "`/model/info` or `/v1/models`."},
            "proxyModels": {"type": "integer", "description": "Models from the proxy in the catalogue."},
            "error": {"oneOf": [_ref("Error"), {"type": "null"}],
                      "description": "Why the proxy's list could not be fetched, when it could not."},
        },
    },
    "ModelList": {"allOf": [_ref("Source"), {
        "type": "object", "required": ["count", "total", "models"],
        "properties": {"count": {"type": "integer", "description": "Models in this answer (after the filters)."},
                       "total": {"type": "integer", "description": "Models in the catalogue."},
                       "models": {"type": "array", "items": _ref("Model")}}}]},
    "Refreshed": {"allOf": [_ref("Source"), {
        "type": "object", "required": ["success", "message", "count", "total"],
        "properties": {"success": {"type": "boolean"}, "message": {"type": "string"},
                       "count": {"type": "integer", "description": "Models GET /api/models lists after the refresh "
                                 "(those a request can use); unchanged when the refresh failed."},
                       "total": {"type": "integer", "description": "Models in the catalogue (an unfiltered GET "
                                 "/api/models/catalogue's `total`)."}}}]},
    "RefreshFailed": {"allOf": [_ref("Refreshed"), {"type": "object", "required": ["error"],
                                                     "properties": {"error": _ref("Error")}}]},
    "Probe": {
        "type": "object", "required": ["name", "path", "ok", "httpStatus", "latencyMs", "detail", "kind", "hint"],
        "properties": {"name": {"type": "string"}, "path": {"type": "string"}, "ok": {"type": "boolean"},
                       "httpStatus": _NULLABLE_INT, "latencyMs": _NULLABLE_NUM, "detail": {"type": "string"},
                       "needsKey": {"type": "boolean"}, "kind": _NULLABLE_STR, "hint": _NULLABLE_STR},
    },
    "Health": {
        "type": "object",
        "required": ["status", "label", "healthy", "summary", "version", "models", "deployments", "database",
                     "checkedAt", "elapsedMs", "latenciesMs", "probes"],
        "properties": {
            "status": {"enum": ["healthy", "degraded", "unreachable", "not_configured"]},
            "label": {"type": "string"}, "healthy": {"type": "boolean"},
            "summary": {"type": "string", "description": "One sentence: what the probes found."},
            "version": {**_NULLABLE_STR, "description": "The LiteLLM version the proxy reports."},
            "models": _NULLABLE_INT, "deployments": _NULLABLE_INT, "database": _NULLABLE_STR,
            "checkedAt": {"type": "string", "format": "date-time"}, "elapsedMs": {"type": "number"},
            "latenciesMs": {"type": "object", "additionalProperties": _NULLABLE_NUM,
                            "description": "Each probe's latency (until its answer or its failure)."},
            "probes": {"type": "array", "items": _ref("Probe")},
        },
    },
    "CompareRequest": {
        "type": "object", "required": ["models", "prompt"], "additionalProperties": False,
        "properties": {
            "models": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 256,
                                                  "title": "model key"},
                       "minItems": MIN_MODELS, "maxItems": MAX_MODELS, "uniqueItems": True,
                       "description": "Model keys (or ids) from GET /api/models, each once."},
            "prompt": {"type": "string", "minLength": 1},
            "system_prompt": {"type": "string"},
            "temperature": {"type": "number", "minimum": 0, "maximum": 2},
            "top_p": {"type": "number", "minimum": 0, "maximum": 1},
            "max_tokens": {"type": "integer", "minimum": 1, "maximum": DEFAULT_MAX_OUTPUT_TOKENS,
                           "description": "At most MAX_OUTPUT_TOKENS where the app runs."},
            "reasoning_effort": {"enum": list(EFFORTS),
                                 "description": "How hard a reasoning model thinks, sent as LiteLLM's "
                                                "`reasoning_effort` (`off` as `none`). Left out: the model's default."},
            "thinking_budget": {"type": "integer", "minimum": MIN_THINKING_BUDGET,
                                "description": "Tokens a reasoning model may think, sent as "
                                               "`thinking: {type: enabled, budget_tokens}` (not with effort `off`)."},
            "repeats": {"type": "integer", "minimum": 1, "maximum": 20,
                        "description": "Send the prompt this many times to every model (Run ×N)."},
            "stream": {"type": "boolean", "description": "Answer with Server-Sent Events (also `?stream=true`)."},
        },
    },
    "Metrics": {
        "type": "object",
        "properties": {"ttft": _NULLABLE_NUM, "total": _NULLABLE_NUM, "prompt_tokens": _NULLABLE_INT,
                       "completion_tokens": _NULLABLE_INT, "cost": _NULLABLE_NUM, "cost_source": _NULLABLE_STR,
                       "overhead_ms": _NULLABLE_NUM, "finish_reason": _NULLABLE_STR, "call_id": _NULLABLE_STR,
                       "first_thought": _NULLABLE_NUM, "thinking_time": _NULLABLE_NUM,
                       "reasoning_tokens": _NULLABLE_INT, "answer_tokens": _NULLABLE_INT,
                       "tokens_per_second": _NULLABLE_NUM},
        "description": "Seconds (ttft: to the first text of the answer, a reasoning model's thinking excluded; "
                       "first_thought: to the first text of the thinking; thinking_time: from the first thought to "
                       "the answer; total: to the end), tokens (reasoning_tokens: null when the provider did not "
                       "report them; answer_tokens: the completion less the reasoning; tokens_per_second: answer "
                       "tokens over the answer's time), USD cost (reasoning billed as output; `cost_source`: "
                       "`proxy` or `catalogue`).",
    },
    "Reply": {
        "type": "object", "required": ["model", "run", "outcome", "text", "metrics", "error"],
        "properties": {
            "model": {"type": "string"}, "run": {"type": "integer", "minimum": 1},
            "outcome": {"enum": ["waiting", "streaming", "complete", "stopped", "cut", "failed"]},
            "text": {"type": "string", "description": "The reply (partial unless complete)."},
            "thinking": {"type": "string", "description": "What a reasoning model showed of its thinking before "
                                                          "the answer (empty when none)."},
            "metrics": _ref("Metrics"),
            "error": {"oneOf": [{"type": "object", "required": ["message", "hint", "kind"],
                                 "properties": {"message": {"type": "string"}, "hint": {"type": "string"},
                                                "kind": {"type": "string"}}}, {"type": "null"}]},
        },
    },
    "CompareStarted": {
        "type": "object", "required": ["id", "url", "models", "prompt", "params", "repeats"],
        "properties": {"id": {"type": "string", "description": "The saved comparison's id."},
                       "url": {"type": "string", "description": "Where it opens on the pages."},
                       "models": {"type": "array", "items": {"type": "string"}}, "prompt": {"type": "string"},
                       "params": {"type": "object"}, "repeats": {"type": "integer"}},
    },
    "Comparison": {"allOf": [_ref("CompareStarted"), {
        "type": "object", "required": ["replies"],
        "properties": {"replies": {"type": "array", "items": _ref("Reply"),
                                   "description": "Every run of every model, model by model."}}}]},
    "JudgeRequest": {
        "type": "object", "additionalProperties": False,
        "description": "Either `comparison` (one of your saved comparisons; its latest round unless `round` names "
                       "one) or `prompt` with two `replies`.",
        "properties": {
            "judge": {"type": "string", "minLength": 1, "maxLength": 256, "description": "The judge model's key "
                      "(GET /api/models); left out: the team's default judge (JUDGE_MODEL)."},
            "comparison": {"type": "string", "minLength": 1, "maxLength": 64,
                           "description": "A saved comparison's id (POST /api/compare's `id`, a link's `?c=`)."},
            "round": {"type": "string", "minLength": 1, "maxLength": 64, "description": "The round's key (default: "
                      "the latest round)."},
            "prompt": {"type": "string", "minLength": 1, "description": "The question both replies answer."},
            "replies": {"type": "array", "minItems": 2, "maxItems": 2, "items": {
                "type": "object", "required": ["text"], "additionalProperties": False, "title": "reply",
                "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 256,
                                        "description": "What the verdict calls it (default `first`, `second`)."},
                               "text": {"type": "string"}}}},
            "template": {"type": "string", "minLength": 1, "description": "The judge's prompt, with `{question}`, "
                         "`{first}` and `{second}` (default: the pairwise prompt /compare shows)."},
        },
    },
    "PairVerdict": {
        "type": "object", "required": ["first", "second", "forward", "backward", "flagged", "readable", "winner",
                                       "reasons"],
        "properties": {
            "first": {"type": "string"}, "second": {"type": "string"},
            "forward": {**_NULLABLE_STR, "description": "What the judge chose shown `first` first: a name, `tie`, "
                        "or null (unreadable)."},
            "backward": {**_NULLABLE_STR, "description": "The same with the two swapped."},
            "flagged": {"type": "boolean", "description": "The two orders disagreed: counted as a tie."},
            "readable": {"type": "boolean"},
            "winner": {**_NULLABLE_STR, "description": "The winner both orders agree on (null: a tie or none)."},
            "reasons": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Judgement": {
        "type": "object", "required": ["judge", "comparison", "round", "verdict", "winner", "flagged", "saved",
                                       "pairs", "calls", "quote", "cost", "refused"],
        "properties": {
            "judge": {"type": "string"},
            "comparison": {**_NULLABLE_STR, "description": "The judged comparison (null for two texts)."},
            "round": {**_NULLABLE_STR, "description": "The judged round's key."},
            "verdict": {"enum": ["best", "tie", None], "description": "`best` (see `winner`), `tie`, or null when "
                        "an answer was unreadable (no verdict is guessed)."},
            "winner": _NULLABLE_STR,
            "flagged": {"type": "boolean", "description": "A tie because a verdict changed when the replies swapped "
                        "places."},
            "saved": {"type": "boolean", "description": "Saved as the judge's vote on the round (the leaderboard's "
                      "Verdicts: Judge)."},
            "pairs": {"type": "array", "items": _ref("PairVerdict")},
            "calls": {"type": "integer", "description": "Calls made to the judge (two per pair)."},
            "quote": {"type": "number", "description": "The expected cost quoted before sending (USD, an upper "
                      "bound)."},
            "cost": {"type": "number", "description": "What the judge's calls cost (USD; in your usage)."},
            "refused": {**_NULLABLE_STR, "description": "Why a call was not sent (e.g. the judge's context "
                        "window), when one was not."},
        },
    },
    "RunSummary": {
        "type": "object", "required": ["id", "set", "models", "rows", "status", "cellsDone", "cellsTotal", "quote",
                                       "cost", "createdAt", "url"],
        "properties": {
            "id": {"type": "string"}, "set": {"type": "object", "required": ["id", "name"], "properties": {
                "id": {"type": "string"}, "name": {"type": "string"}}},
            "models": {"type": "array", "items": {"type": "string"}}, "rows": {"type": "integer"},
            "status": {"enum": ["running", "stopped", "finished", "interrupted"]},
            "cellsDone": {"type": "integer"}, "cellsTotal": {"type": "integer"}, "quote": _NULLABLE_NUM,
            "cost": {"type": "number"}, "createdAt": {"type": "number", "description": "Epoch seconds."},
            "url": {"type": "string", "description": "Where it opens on the pages."},
        },
    },
    "RunList": {"type": "object", "required": ["runs"], "properties": {
        "runs": {"type": "array", "items": _ref("RunSummary"), "description": "Your latest 50 runs, newest first."}}},
    "RunResults": {
        "type": "object", "required": ["format", "id", "models", "rows", "cells", "run", "summary", "judged", "scores"],
        "description": "The page's JSON export of the run, with its summary and the judge's verdicts.",
        "properties": {
            "format": {"type": "string"}, "id": {"type": "string"}, "models": {"type": "array"},
            "rows": {"type": "array", "description": "The prompts as run (prompt, system_prompt, expected, tag)."},
            "cells": {"type": "array", "items": {"type": "object", "required": ["row", "passed", "calls", "reply"],
                                                 "properties": {"row": {"type": "integer"},
                                                                "passed": {"type": ["boolean", "null"]},
                                                                "calls": {"type": "integer"},
                                                                "reply": _ref("Reply")}}},
            "run": _ref("RunSummary"),
            "summary": {"type": "array", "items": {"type": "object", "required": ["model", "passRate"],
                                                   "properties": {"model": {"type": "string"},
                                                                  "passRate": _NULLABLE_NUM}},
                        "description": "Per model: cells, complete, failed, checked, passed, passRate (of the "
                                       "checked rows), medianTtft, totalCost."},
            "judged": {"type": "array", "items": {"type": "object", "required": ["row", "judge", "verdict",
                                                                                 "winner", "flagged"]},
                       "description": "Your judge passes' verdicts on the rows (row from 0)."},
            "scores": {"type": "array", "items": {"type": "object", "required": ["row", "model", "judge", "mode",
                                                                                 "score", "reason"],
                                                  "properties": {"score": {"type": "number", "minimum": 0,
                                                                           "maximum": 1}}},
                       "description": "Your rubric and reference passes' scores of the replies (row from 0)."},
        },
    },
    "RunComparison": {
        "type": "object",
        "required": ["a", "b", "summary", "mcnemar", "total_time_difference", "judge_score_difference", "rows"],
        "properties": {
            "a": {"type": "object", "required": ["run", "model"]},
            "b": {"type": "object", "required": ["run", "model"]},
            "summary": {"type": "array", "items": {"type": "string"}, "description": "The verdicts in words; "
                        "\"no clear difference\" when p ≥ 0.05 or the interval holds 0."},
            "mcnemar": {"type": "object", "required": ["fail_to_pass", "pass_to_fail", "compared", "p_value"],
                        "properties": {"fail_to_pass": {"type": "integer"}, "pass_to_fail": {"type": "integer"},
                                       "compared": {"type": "integer"}, "p_value": {"type": "number"}}},
            "total_time_difference": {"oneOf": [{"type": "object", "required": ["mean", "low", "high", "rows"]},
                                                {"type": "null"}],
                                      "description": "B − A seconds per reply: the mean and its paired-bootstrap "
                                                     "95 % interval."},
            "judge_score_difference": {"type": "object", "additionalProperties": {"oneOf": [
                {"type": "object", "required": ["mean", "low", "high", "rows"]}, {"type": "null"}]},
                "description": "Per judge and mode (`judge · mode`) both sides were scored by: B − A mean score "
                               "and its paired-bootstrap 95 % interval (null: too few rows scored on both)."},
            "rows": {"type": "array", "items": {"type": "object"}},
        },
    },
    "UsageRow": {
        "type": "object", "required": ["replies", "failed", "tokens", "promptTokens", "completionTokens", "cost",
                                       "estimatedCost", "costPerReply", "meanTtft", "meanTotal", "unpriced"],
        "properties": {
            "model": {"type": "string"}, "day": {"type": "string", "format": "date"},
            "analyst": {"type": "string", "description": "The analyst's id (e-mail); team answers only."},
            "replies": {"type": "integer"}, "failed": {"type": "integer"}, "tokens": {"type": "integer"},
            "promptTokens": {"type": "integer"}, "completionTokens": {"type": "integer"},
            "cost": {"type": "number", "description": "USD: LiteLLM's own costs and those estimated from catalogue "
                     "prices."},
            "estimatedCost": {"type": "number", "description": "The part of `cost` estimated from catalogue prices."},
            "costPerReply": _NULLABLE_NUM,
            "meanTtft": {**_NULLABLE_NUM, "description": "Mean seconds to the first token."},
            "meanTotal": {**_NULLABLE_NUM, "description": "Mean seconds to the end of the reply."},
            "unpriced": {"type": "integer", "description": "Replies whose cost nobody knew (counted as $0)."},
            "monthlyBudget": {**_NULLABLE_NUM, "description": "The analyst's monthly budget (USD); team answers."},
        },
    },
    "Share": {
        "type": "object",
        "required": ["token", "url", "kind", "sourceId", "title", "public", "createdAt", "updatedAt", "expiresAt",
                     "revokedAt", "views", "owner"],
        "properties": {
            "token": {"type": "string", "description": "The link's secret (192 random bits)."},
            "url": {"type": "string", "description": "The read-only page's address."},
            "kind": {"enum": ["chat", "compare", "evaluation"]},
            "sourceId": {"type": "string", "description": "The shared conversation's or run's id."},
            "title": {"type": "string"},
            "public": {"type": "boolean", "description": "Anyone with the link may open it (when the app allows)."},
            "createdAt": {"type": "number", "description": "Epoch seconds."},
            "updatedAt": {"type": "number", "description": "When the snapshot was taken (epoch seconds)."},
            "expiresAt": _NULLABLE_NUM, "revokedAt": _NULLABLE_NUM,
            "views": {"type": "integer", "description": "Opened by someone other than its owner."},
            "owner": {"type": "string", "description": "Who shared it (empty for a caller not signed in)."},
        },
    },
    "ShareList": {"type": "object", "required": ["shares"],
                  "properties": {"shares": {"type": "array", "items": _ref("Share")}}},
    "ShareRequest": {
        "type": "object", "required": ["kind", "id"], "additionalProperties": False,
        "properties": {
            "kind": {"enum": ["chat", "compare", "evaluation"]},
            "id": {"type": "string", "minLength": 1, "maxLength": 64,
                   "description": "The id in the page's link (?c=… or ?run=…)."},
            "expiresInDays": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 3650},
            "public": {"type": "boolean", "description": "Anyone with the link (only where SHARING_PUBLIC_LINKS)."},
        },
    },
    "RevokeRequest": {"type": "object", "required": ["token"], "additionalProperties": False,
                      "properties": {"token": {"type": "string", "minLength": 1, "maxLength": 64}}},
    "SharedSnapshot": {"allOf": [_ref("Share"), {"type": "object", "required": ["snapshot"], "properties": {
        "snapshot": {"type": "object", "description": "The work as shared: `kind`, `title`, and `conversation` (a "
                     "conversation export, with the owner's `votes` by round) or `run` (an evaluation export)."}}}]},
    "Usage": {
        "type": "object", "required": ["scope", "analyst", "period", "totals", "models", "days"],
        "properties": {
            "scope": {"enum": ["me", "team"]},
            "analyst": {"type": "string", "description": "Who asked (`local` while sign-in is off)."},
            "period": {"type": "object", "required": ["key", "label", "firstDay", "since", "until", "timeZone"],
                       "properties": {"key": {"enum": list(PERIOD_KEYS)}, "label": {"type": "string"},
                                      "firstDay": {"type": "string", "format": "date"},
                                      "since": {"type": "string", "format": "date-time"},
                                      "until": {"type": "string", "format": "date-time"},
                                      "timeZone": {"type": "string"}}},
            "totals": {"type": "object", "required": ["cost", "estimatedCost", "tokens", "replies", "failed",
                                                      "unpriced"],
                       "properties": {"cost": {"type": "number"}, "estimatedCost": {"type": "number"},
                                      "tokens": {"type": "integer"}, "replies": {"type": "integer"},
                                      "failed": {"type": "integer"}, "unpriced": {"type": "integer"}}},
            "models": {"type": "array", "items": _ref("UsageRow"), "description": "Per model, costliest first."},
            "days": {"type": "array", "items": _ref("UsageRow"), "description": "Per day (in `timeZone`), oldest "
                     "first."},
            "analysts": {"type": "array", "items": _ref("UsageRow"),
                         "description": "Per analyst, costliest first (scope=team only)."},
            "budget": {"oneOf": [{"type": "object", "required": ["limit", "spent", "exempt"], "properties": {
                "limit": {"type": "number"}, "spent": _NULLABLE_NUM, "exempt": {"type": "boolean"}}},
                {"type": "null"}], "description": "scope=me: the caller's monthly budget (USD, calendar month in "
                "UTC) and its spend so far (null: unreadable now); null when they have none."},
        },
    },
}

# --- The prompt library (api/prompts.py) ---------------------------------------------------------------------------

_PROMPT_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": library.MAX_NAME},
    "text": {"type": "string", "minLength": 1, "maxLength": library.MAX_TEXT,
             "description": "The prompt, with `{{variables}}` filled in when it is used."},
    "kind": {"enum": list(library.KINDS), "description": "prompt (goes in the input) or system (a system prompt)."},
    "tags": {"type": "array", "maxItems": library.MAX_TAGS,
             "items": {"type": "string", "maxLength": library.MAX_TAG}},
    "shared": {"type": "boolean", "description": "Seen (and usable, copyable) by the whole team; private when false."},
}
_ACCOUNT_SCHEMAS: dict[str, Any] = {
    "AccountExport": {
        "type": "object",
        "required": ["format", "owner", "exported_at", "conversations", "prompt_sets", "evaluation_runs", "votes",
                     "prompt_library", "shares"],
        "properties": {
            "format": {"const": "llm-dashboard.account/1"},
            "owner": {"type": "string"}, "exported_at": {"type": "string", "format": "date-time"},
            **{name: {"type": "array", "items": {"type": "object"}} for name in (
                "conversations", "prompt_sets", "evaluation_runs", "votes", "prompt_library", "shares")},
        },
    },
}
_PROMPT_SCHEMAS: dict[str, Any] = {
    "SavedPrompt": {
        "type": "object",
        "required": ["id", "name", "text", "kind", "tags", "shared", "owner", "variables", "createdAt", "updatedAt"],
        "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}, "text": {"type": "string"},
            "kind": {"enum": list(library.KINDS)}, "tags": {"type": "array", "items": {"type": "string"}},
            "shared": {"type": "boolean"},
            "owner": {"type": "string", "description": "Who saved it: only they can change or delete it."},
            "variables": {"type": "array", "items": {"type": "string"},
                          "description": "The names of its `{{variables}}`, in order."},
            "createdAt": {"type": "string", "format": "date-time"},
            "updatedAt": {"type": "string", "format": "date-time"},
        },
    },
    "PromptList": {
        "type": "object", "required": ["scope", "count", "prompts"],
        "properties": {"scope": {"enum": ["all", "mine", "team"]}, "count": {"type": "integer"},
                       "prompts": {"type": "array", "items": _ref("SavedPrompt"),
                                   "description": "The caller's own first, then the team's, by name."}},
    },
    "NewPrompt": {"type": "object", "required": ["name", "text"], "additionalProperties": False,
                  "properties": _PROMPT_FIELDS},
    "PromptChange": {"type": "object", "minProperties": 1, "additionalProperties": False,
                     "properties": _PROMPT_FIELDS},
    "PromptDeleted": {"type": "object", "required": ["deleted", "id"],
                      "properties": {"deleted": {"const": True}, "id": {"type": "integer"}}},
}
_PROMPT_ID = {"name": "prompt_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 40},
              "description": "The prompt's `id`."}
_PROMPT_UNAVAILABLE = {"503": _error("The app's database cannot be reached now (kind `unavailable`).")}
_PROMPT_MISSING = {"404": _error("No prompt with that id that the caller can see (another analyst's private prompt "
                                 "answers the same; kind `not_found`).")}
_PROMPT_BAD = {"400": _error("The request is not what this document allows, or the prompt cannot be saved as given "
                             "(kind `invalid_prompt`: the message says what to fix).")}


def _prompt_paths() -> dict[str, Any]:
    return {
        "/api/prompts": {
            "get": {
                "summary": "The prompt library: the caller's own prompts and the team's shared ones",
                "parameters": [
                    {"name": "scope", "in": "query", "schema": {"enum": ["all", "mine", "team"], "default": "all"},
                     "description": "all (own and shared), mine (own, private and shared), team (every shared one)."},
                    {"name": "kind", "in": "query", "schema": {"enum": list(library.KINDS)},
                     "description": "Only prompts, or only system prompts."},
                    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 500},
                     "description": "Words that must all appear in the name, tags or text."}],
                "responses": _responses({"200": _json(_ref("PromptList"), "What the caller may see."),
                                         **_PROMPT_UNAVAILABLE}),
            },
            "post": {
                "summary": "Save a prompt or system prompt to the caller's library (private unless `shared`)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewPrompt")}}},
                "responses": _responses({"201": _json(_ref("SavedPrompt"), "Saved."), **_PROMPT_BAD,
                                         **_PROMPT_UNAVAILABLE}, writes=True),
            },
        },
        "/api/prompts/{prompt_id}": {
            "patch": {
                "summary": "Change one of the caller's own prompts (only the fields given)",
                "parameters": [_PROMPT_ID],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("PromptChange")}}},
                "responses": _responses({
                    "200": _json(_ref("SavedPrompt"), "Changed."), **_PROMPT_BAD, **_PROMPT_MISSING,
                    **_PROMPT_UNAVAILABLE,
                    "403": _error("A team prompt someone else saved (kind `not_owner`: copy it instead), or refused: "
                                  "sign-in is off and the caller is not on this machine, or a cross-site write.")},
                    writes=True),
            },
            "delete": {
                "summary": "Delete one of the caller's own prompts",
                "parameters": [_PROMPT_ID],
                "responses": _responses({
                    "200": _json(_ref("PromptDeleted"), "Deleted."), **_PROMPT_MISSING, **_PROMPT_UNAVAILABLE,
                    "403": _error("A team prompt someone else saved (kind `not_owner`), or refused: sign-in is off "
                                  "and the caller is not on this machine, or a cross-site write.")}, writes=True),
            },
        },
        "/api/prompts/{prompt_id}/copy": {
            "post": {
                "summary": "Copy a prompt the caller can see (theirs or the team's) into their library, private",
                "parameters": [_PROMPT_ID],
                "responses": _responses({"201": _json(_ref("SavedPrompt"), "The copy, now the caller's."),
                                         **_PROMPT_MISSING, **_PROMPT_UNAVAILABLE}, writes=True),
            },
        },
    }


_FILTERS = [  # the filters both model lists take
    {"name": "provider", "in": "query", "style": "form", "explode": True,
     "schema": {"type": "array", "items": {"type": "string", "maxLength": 200}},
     "description": "Only models from these upstream providers (comma-separated, or repeated), e.g. `anthropic`."},
    {"name": "min_context", "in": "query",
     "schema": {"type": "integer", "minimum": 0, "maximum": 10 ** 12},
     "description": "Only models whose context window is at least this many tokens."},
    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 500},
     "description": "Words that must all appear in the name, provider, mode or route."},
    {"name": "capability", "in": "query", "style": "form", "explode": True,
     "schema": {"type": "array", "items": {"enum": ["vision", "tools", "reasoning"]}},
     "description": "Only models with these capabilities (comma-separated, or repeated)."},
]


def _header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or {"type": "string"}}


_SOURCE_HEADERS = {
    "X-Models-Source": _header("`live`, `cached`, `last_good` or `builtin_only`: the catalogue's `source`.",
                               {"enum": ["live", "cached", "last_good", "builtin_only"]}),
    "X-Models-Status": _header("The catalogue's `status`.",
                               {"enum": ["live", "stale", "unavailable", "disabled", "misconfigured"]}),
    "X-Models-Age": _header("Whole seconds since the proxy's list was fetched (absent: never fetched).",
                            {"type": "integer"}),
    "X-Models-Fetched-At": _header("When the proxy's list was fetched (ISO 8601, UTC; absent: never)."),
    "X-Models-Error": _header("Why the proxy's list could not be read, by kind (e.g. `unreachable`); its words are "
                              "on /api/models/catalogue. Absent when it was read."),
}

_RUN_PARAMETER = {"name": "run", "in": "query", "required": True, "schema": {"type": "string", "maxLength": 64},
                  "description": "The run's id (GET /api/runs)."}

_SSE = ("Server-Sent Events (`stream=true`): `start` (CompareStarted), one `chunk` per piece of text a model sends "
        "(`{\"model\", \"run\", \"text\"}`; a reasoning model's thinking first, as `thinking` events of the same "
        "shape), one `reply` (Reply) as each reply ends, then `done` (Comparison). "
        "Comment lines keep a quiet stream open.")


@functools.cache
def document(max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS) -> dict[str, Any]:
    """The OpenAPI document (one object per MAX_OUTPUT_TOKENS, made once: requests are checked against it, so it is
    never changed after)."""
    schemas = {**SCHEMAS, "CompareRequest": _compare_request(max_output_tokens), **_PROMPT_SCHEMAS, **_ACCOUNT_SCHEMAS}
    return {
        "openapi": "3.1.0",
        "info": {"title": "LLM Gateway Dashboard API", "version": gateway.__version__, "description":
                 "The dashboard's catalogue, proxy health, usage, comparisons, a judge model and evaluation runs "
                 "over HTTP, served by the same process "
                 "as the pages, with the pages' sign-in (AUTH_MODE): `none` answers loopback clients only unless "
                 "API_ALLOW_REMOTE=true; `header` takes the analyst from the same AUTH_HEADER as the pages; `oidc` "
                 "takes a personal API token (`Authorization: Bearer <token>`) the analyst created on the Usage page. "
                 "Errors are JSON: "
                 "`{\"error\": {\"message\", \"hint\", \"kind\", "
                 f"\"status\"}}`. Request bodies are limited to {MAX_BODY_BYTES:,} bytes (413). Every request is "
                 "checked against this document before anything is sent (400, naming the field). A POST must be "
                 "`Content-Type: application/json` (415) and not sent by a page of another site (403). Any other "
                 "path under /api answers 404 and any other method 405 (`Allow` names the ones it takes), both as "
                 "ErrorAnswer. Every answer has `X-Content-Type-Options: nosniff`; every answer but this document "
                 "`Cache-Control: no-store`."},
        "paths": {
            "/api/models": {
                "get": {
                    "summary": "The models a request can use, in the integration guide's shape",
                    "description": "A bare array, as the guide answers: a client written to it works unchanged. "
                                   "`provider` is `litellm` for every model reached through the proxy. The list's "
                                   "source and age are in the headers; every field we know of each model is on GET "
                                   "/api/models/catalogue.",
                    "parameters": _FILTERS,
                    "responses": _responses({"200": {**_json(_ref("GuideModelList"), "The models, filtered."),
                                                     "headers": _SOURCE_HEADERS}}),
                },
                "post": {
                    "summary": "Refresh the model cache now (no body, or `{}`)",
                    "responses": _responses({
                        "200": _json(_ref("Refreshed"), "Refreshed from the proxy."),
                        "503": _json(_ref("RefreshFailed"), "The proxy could not be read (or LiteLLM is off): the "
                                     "last good list is kept.")}, writes=True),
                },
            },
            "/api/models/catalogue": {
                "get": {
                    "summary": "The model catalogue the pages show (same cache, same last good list)",
                    "description": "Every model, usable or not, with prices, limits, capabilities and the upstream "
                                   "providers, and where the list came from, in the body.",
                    "parameters": _FILTERS,
                    "responses": _responses({"200": _json(_ref("ModelList"), "The catalogue, filtered.")}),
                },
            },
            "/api/health": {
                "get": {
                    "summary": "The proxy's health: the health page's probes",
                    "responses": _responses({"200": _json(_ref("Health"), "Healthy."),
                                             "503": _json(_ref("Health"), "Degraded, unreachable or not configured.")}),
                },
            },
            "/api/usage": {
                "get": {
                    "summary": "What the caller's replies cost and used (the Usage page's numbers); the team's for "
                               "admins",
                    "parameters": [
                        {"name": "period", "in": "query", "schema": {"enum": list(PERIOD_KEYS),
                                                                     "default": "month"},
                         "description": "day (today), week (from Monday), month (this calendar month), 7d, 30d, "
                                        "90d (the last N days, today included)."},
                        {"name": "tz", "in": "query", "schema": {"type": "string", "maxLength": 100,
                                                                 "default": "UTC"},
                         "description": "The IANA time zone days and periods are counted in, e.g. Europe/Paris."},
                        {"name": "scope", "in": "query", "schema": {"enum": ["me", "team"], "default": "me"},
                         "description": "team: every analyst's usage (admins only)."},
                    ],
                    "responses": _responses({
                        "200": _json(_ref("Usage"), "The period's usage."),
                        "400": _error("The period, time zone or scope is not one, or the request is not what this "
                                      "document allows."),
                        "503": _error("The app's database cannot be read now."),
                        "403": _error("scope=team asked by someone who is not an admin (kind `forbidden`), or "
                                      "refused: sign-in is off and the caller is not on this machine.")}),
                },
            },
            "/api/compare": {
                "post": {
                    "summary": "One prompt to 2–6 models at once; saved as a comparison",
                    "parameters": [{"name": "stream", "in": "query", "schema": {"type": "boolean"},
                                    "description": "Answer with Server-Sent Events (`true` or `false`, exactly)."}],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": _ref("CompareRequest")}}},
                    "responses": _responses({
                        "200": {"description": "Every reply, once all have ended. " + _SSE, "content": {
                            "application/json": {"schema": _ref("Comparison")},
                            "text/event-stream": {"schema": {"type": "string"}}}},
                        "400": _error("The request is not valid (models, prompt or parameters: the message names the "
                                      "field), a model is not in the catalogue (kind `model_not_found`), or the "
                                      "prompt is longer than MAX_PROMPT_CHARS (kind `prompt_too_long`) or has no "
                                      "visible character (kind `empty_prompt`). Nothing is sent."),
                        "402": _json(_ref("BudgetRefusal"), "Not sent: the caller's monthly budget is spent, or "
                                     "this request's expected cost does not fit what is left of it beside the "
                                     "requests on their way (kind `budget_exceeded`)."),
                    }, writes=True),
                },
            },
            "/api/judge": {
                "post": {
                    "summary": "A judge model compares replies in both orders: a round of your comparison (the "
                               "verdict saved as the judge's vote on it) or two texts",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": _ref("JudgeRequest")}}},
                    "responses": _responses({
                        "200": _json(_ref("Judgement"), "The verdict, every pair in both orders, the quote and the "
                                     "cost."),
                        "400": _error("The request is not valid, the judge is not in the catalogue (kind "
                                      "`model_not_found`), the prompt lacks a field, or there are not two complete "
                                      "replies to judge. Nothing is sent."),
                        "402": _json(_ref("BudgetRefusal"), "Not sent: the quote does not fit what is left of your "
                                     "monthly budget (kind `budget_exceeded`). Or, as ErrorAnswer, the budget ran "
                                     "out part-way (the calls made are counted; nothing saved)."),
                        "404": _error("No comparison of yours with that id, or no round with that key (kind "
                                      "`not_found`)."),
                        "409": _error("The round was sent blind and you have not voted on it (kind `blind`): "
                                      "the verdict would name the models."),
                        "503": _error("The app's database is not answering."),
                    }, writes=True),
                },
            },
            "/api/runs": {
                "get": {
                    "summary": "Your evaluation runs, newest first",
                    "responses": _responses({"200": _json(_ref("RunList"), "Your runs."),
                                             "503": _error("The app's database is not answering.")}),
                },
            },
            "/api/runs/results": {
                "get": {
                    "summary": "One of your runs: every row and cell, the per-model summary, the judge's verdicts",
                    "parameters": [_RUN_PARAMETER],
                    "responses": _responses({"200": _json(_ref("RunResults"), "The run's results."),
                                             "404": _error("No run of yours with that id (kind `not_found`)."),
                                             "503": _error("The app's database is not answering.")}),
                },
            },
            "/api/runs/compare": {
                "get": {
                    "summary": "One model of a run against a model of another run of the same prompts (or of the "
                               "same run): changed rows, McNemar's exact test, a paired bootstrap of the time",
                    "parameters": [_RUN_PARAMETER,
                                   {"name": "model", "in": "query", "schema": {"type": "string", "maxLength": 256},
                                    "description": "A's model (one of the run's)."},
                                   {"name": "other_run", "in": "query", "schema": {"type": "string",
                                                                                   "maxLength": 64},
                                    "description": "B's run (default: the same run)."},
                                   {"name": "other_model", "in": "query", "schema": {"type": "string",
                                                                                     "maxLength": 256},
                                    "description": "B's model."}],
                    "responses": _responses({"200": _json(_ref("RunComparison"), "The comparison."),
                                             "404": _error("No run of yours with that id (kind `not_found`)."),
                                             "503": _error("The app's database is not answering.")}),
                },
            },
            **_prompt_paths(),
            "/api/export": {
                "get": {
                    "summary": "Everything the app keeps for the caller, as one JSON document (their data export)",
                    "description": "Every saved chat and comparison (each as its own JSON export, which imports back), "
                                   "prompt set, evaluation run with its cells, vote, library prompt and share link of "
                                   "the caller's; nothing of another analyst's.",
                    "responses": _responses({"200": _json(_ref("AccountExport"), "The caller's data."),
                                             "503": _error("The app's database cannot be read now (kind "
                                                           "`unavailable`); nothing is exported by halves.")}),
                },
            },
            "/api/shares": {
                "get": {
                    "summary": "The caller's share links (an admin's scope=all: everyone's), newest first",
                    "parameters": [{"name": "scope", "in": "query", "schema": {"enum": ["me", "all"],
                                                                               "default": "me"}}],
                    "responses": _responses({"200": _json(_ref("ShareList"), "The links."),
                                             "503": _error("The app's database cannot be read now.")}),
                },
                "post": {
                    "summary": "Share the caller's own chat, comparison or evaluation run as a read-only link",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": _ref("ShareRequest")}}},
                    "responses": _responses({
                        "201": _json(_ref("Share"), "The link."),
                        "404": _error("The caller has no such work."),
                        "503": _error("The app's database cannot be read now.")}, writes=True),
                },
            },
            "/api/shares/revoke": {
                "post": {
                    "summary": "Revoke one of the caller's links (an admin: anyone's); it stops opening at once",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": _ref("RevokeRequest")}}},
                    "responses": _responses({
                        "200": _json({"type": "object", "required": ["revoked"],
                                      "properties": {"revoked": {"const": True}}}, "Revoked."),
                        "404": _error("The caller has no link with that token."),
                        "503": _error("The app's database cannot be read now.")}, writes=True),
                },
            },
            "/api/shared": {
                "get": {
                    "summary": "A shared link's snapshot, as the read-only page shows it",
                    "parameters": [{"name": "token", "in": "query", "required": True,
                                    "schema": {"type": "string", "maxLength": 64}}],
                    "responses": _responses({
                        "200": _json(_ref("SharedSnapshot"), "The snapshot."),
                        "401": _error("The caller is not signed in (as for every operation), and the token is not "
                                      "a live link its owner made for anyone where SHARING_PUBLIC_LINKS allows "
                                      "it: such a link alone answers without sign-in. With a `WWW-Authenticate` "
                                      "challenge."),
                        "404": _error("No such link, or it was revoked (the same answer for both)."),
                        "410": _error("The link expired."),
                        "503": _error("The app's database cannot be read now.")}),
                },
            },
            "/api/openapi.json": {
                "get": {"summary": "This document",
                        "responses": _responses({"200": {"description": "OpenAPI 3.1",
                                                         "content": {"application/json": {}}}})},
            },
        },
        "security": [{}, {"apiToken": []}],
        "components": {"schemas": schemas, "securitySchemes": {"apiToken": {
            "type": "http", "scheme": "bearer", "description": "AUTH_MODE=oidc: a personal API token (`dash_…`), "
            "created and revoked on the Usage page. Not used in the other modes."}}},
    }


def _compare_request(max_output_tokens: int) -> dict[str, Any]:
    request = {**SCHEMAS["CompareRequest"], "properties": dict(SCHEMAS["CompareRequest"]["properties"])}
    request["properties"]["max_tokens"] = {**request["properties"]["max_tokens"], "maximum": max_output_tokens}
    return request


def openapi(call: Call) -> Response:
    """GET /api/openapi.json"""
    return json_response(document(call.settings.max_output_tokens), settings=call.settings)
