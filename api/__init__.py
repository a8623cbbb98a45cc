"""The HTTP API beside the pages, for scripts, notebooks and monitors.

`ROUTES` are Starlette routes that `streamlit_app.py` hands to `st.App`, so one `streamlit run` serves the pages and
the API on one port, behind `MIDDLEWARE` (`policy`: the Host, no cross-site writes, JSON bodies, headers on every
answer). One concern a module: `access` (who is calling), `http` (JSON in and out, errors, the body limit),
`validation` (every request against the OpenAPI document), `models`, `health`, `usage`, `compare`, `judge`, `runs`,
`sharing` and `openapi`
(the endpoints). Every decision is the gateway's; nothing here draws.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import Route

from api.account import export_mine
from api.compare import compare
from api.health import health
from api.http import ApiError, Call, endpoint
from api.judge import judge
from api.models import catalogue_models, list_models, refresh_models
from api.openapi import openapi
from api.policy import RequestPolicy
from api.prompts import copy_prompt, create_prompt, delete_prompt, list_prompts, update_prompt
from api.runs import compare_runs, list_runs, run_results
from api.sharing import create_share, list_shares, read_shared, revoke_share
from api.usage import usage_endpoint

SERVED: dict[str, dict[str, Route]] = {}  # path → method → route
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _route(path: str, method: str, handler, *, threaded: bool = True, nobody: bool = False) -> Route:
    route = Route(path, endpoint(handler, threaded=threaded, operation=(path, method), nobody=nobody),
                  methods=[method])
    SERVED.setdefault(path, {})[method] = route
    return route


async def _elsewhere(call: Call) -> Response:
    """Any other /api/… request: a JSON 404 or 405 (not the pages' HTML)."""
    path, method = call.request.url.path, call.request.method
    allowed = SERVED.get(path.rstrip("/") or path) or next(
        (methods for methods in SERVED.values() for route in methods.values()
         if route.path_regex.match(path.rstrip("/") or path)), None)  # a path with a parameter (/api/prompts/7)
    if allowed:
        methods = sorted({*allowed, *("HEAD" for m in allowed if m == "GET")})
        raise ApiError(405, f"{path} does not take {method}: use {' or '.join(methods)}.", kind="method_not_allowed",
                       headers={"Allow": ", ".join(methods)})
    raise ApiError(404, f"There is no {path} in the API.", kind="not_found",
                   hint=f"The API serves {', '.join(sorted(SERVED))}; /api/openapi.json describes them.")


ROUTES = [
    _route("/api/models", "GET", list_models, threaded=False),
    _route("/api/models", "POST", refresh_models),
    _route("/api/models/catalogue", "GET", catalogue_models, threaded=False),
    _route("/api/health", "GET", health),
    _route("/api/usage", "GET", usage_endpoint),
    _route("/api/compare", "POST", compare, threaded=False),
    _route("/api/judge", "POST", judge),
    _route("/api/runs", "GET", list_runs),
    _route("/api/runs/results", "GET", run_results),
    _route("/api/runs/compare", "GET", compare_runs),
    _route("/api/prompts", "GET", list_prompts),
    _route("/api/prompts", "POST", create_prompt),
    _route("/api/prompts/{prompt_id}", "PATCH", update_prompt),
    _route("/api/prompts/{prompt_id}", "DELETE", delete_prompt),
    _route("/api/prompts/{prompt_id}/copy", "POST", copy_prompt),
    _route("/api/export", "GET", export_mine),
    _route("/api/shares", "GET", list_shares),
    _route("/api/shares", "POST", create_share),
    _route("/api/shares/revoke", "POST", revoke_share),
    _route("/api/shared", "GET", read_shared, nobody=True),  # a link for anyone opens without signing in
    _route("/api/openapi.json", "GET", openapi),
    Route("/api", endpoint(_elsewhere, threaded=False), methods=ANY_METHOD),
    Route("/api/{rest:path}", endpoint(_elsewhere, threaded=False), methods=ANY_METHOD),
]

# Before Streamlit's own middleware, for every request (pages, their websocket, the API): api/policy.py.
MIDDLEWARE = [Middleware(RequestPolicy)]

__all__ = ["MIDDLEWARE", "ROUTES", "SERVED"]
