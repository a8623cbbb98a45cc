"""`GET /api/export`: everything the app keeps for the caller, as one JSON document (gateway/account_export.py)."""

from __future__ import annotations

from starlette.responses import Response

from api.http import ApiError, Call, json_response
from gateway import account_export
from gateway.store import Unavailable, get_store


def export_mine(call: Call) -> Response:
    """GET /api/export"""
    found = account_export.export(get_store(call.settings), call.analyst.id)
    if isinstance(found, Unavailable):
        raise ApiError(503, f"Your data cannot be exported now: {found}", kind="unavailable",
                       hint="The app's database is not answering; try again in a moment.")
    return json_response(found, settings=call.settings)
