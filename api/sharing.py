"""Share links over HTTP, with the pages' rules (gateway/sharing/): `GET /api/shares` (the caller's links; an
admin's `scope=all`: everyone's), `POST /api/shares` (share the caller's own chat, comparison or evaluation run),
`POST /api/shares/revoke`, and `GET /api/shared?token=…` (a link's snapshot as JSON, as the read-only page shows it).

`GET /api/shared` alone also answers a caller the sign-in does not name, for a link its owner made for anyone where
SHARING_PUBLIC_LINKS allows it; for any other token such a caller gets the API's usual 401. An unknown token and a
revoked one answer alike (404, the same words) to everyone but the owner; an expired link answers 410; repeated
misses by one client (the analyst, or the address) are slowed as on the page.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from api.http import ApiError, Call, json_response, refused
from gateway.conversation import Conversation
from gateway.sharing import links
from gateway.sharing.access import MESSAGES, Denied, Opened
from gateway.store import Unavailable, get_store
from gateway.store.shares import ShareRow

_DENIED_STATUS = {Denied.OFF: 403, Denied.SIGN_IN: 401, Denied.GONE: 404, Denied.REVOKED: 404,
                  Denied.EXPIRED: 410}


def share_json(row: ShareRow, call: Call) -> dict[str, Any]:
    return {"token": row.token, "url": f"{str(call.request.base_url).rstrip('/')}/shared?s={row.token}",
            "kind": row.kind, "sourceId": row.source_id, "title": row.title, "public": row.public,
            "createdAt": row.created_at, "updatedAt": row.updated_at, "expiresAt": row.expires_at,
            "revokedAt": row.revoked_at, "views": row.views, "owner": row.owner}


def _unavailable(found: Unavailable) -> ApiError:
    return ApiError(503, f"Share links cannot be read now: {found}", kind="unavailable",
                    hint="The app's database is not answering; try again in a moment.")


def _off() -> ApiError:
    return ApiError(403, MESSAGES[Denied.OFF], kind="sharing_off", hint="SHARING_ENABLED=true where the app runs.")


def list_shares(call: Call) -> Response:
    """GET /api/shares[?scope=me|all]"""
    every = call.request.query_params.get("scope") == "all"
    if every and not call.analyst.admin:
        raise ApiError(403, "Every analyst's links are for admins only.", kind="forbidden",
                       hint="Leave scope out for your own links; admins are listed in ADMIN_EMAILS.")
    found = links.listed(get_store(call.settings), call.analyst.id, admin=call.analyst.admin, every=every)
    if isinstance(found, Unavailable):
        raise _unavailable(found)
    return json_response({"shares": [share_json(row, call) for row in found]}, settings=call.settings)


def create_share(call: Call) -> Response:
    """POST /api/shares {"kind", "id", "expiresInDays"?, "public"?}"""
    if not call.settings.sharing_enabled:
        raise _off()
    body, store, owner = call.body, get_store(call.settings), call.analyst.id
    public = bool(body.get("public"))
    if public and not call.settings.sharing_public_links:
        raise ApiError(400, "Links for anyone are not allowed on this app.", kind="public_not_allowed",
                       hint="Leave `public` out (signed-in analysts only), or ask an admin for SHARING_PUBLIC_LINKS.")
    data: dict[str, Any] | Unavailable | None
    if body["kind"] == "evaluation":
        data = links.run_snapshot(store, owner, body["id"])
    else:
        found = store.load(body["id"], owner)
        if isinstance(found, Conversation) and found.kind != body["kind"]:
            found = None
        data = found if not isinstance(found, Conversation) else links.conversation_snapshot(store, owner, found)
    if isinstance(data, Unavailable):
        raise _unavailable(data)
    if data is None:
        raise ApiError(404, f"You have no {body['kind']} with that id.", kind="not_found",
                       hint="Use the id in the page's link (?c=… for a chat or comparison, ?run=… for a run).")
    days = body.get("expiresInDays")
    made = links.create(store, owner, data, body["id"], enabled=True, public=public,
                        expires_in=None if days is None else days * links.DAY)
    if isinstance(made, Unavailable):
        raise _unavailable(made)
    return json_response(share_json(made.row, call), 201, settings=call.settings)


def revoke_share(call: Call) -> Response:
    """POST /api/shares/revoke {"token"}"""
    done = links.revoke(get_store(call.settings), call.analyst.id, call.body["token"], admin=call.analyst.admin)
    if isinstance(done, Unavailable):
        raise _unavailable(done)
    if not done:
        raise ApiError(404, "You have no link with that token.", kind="not_found")
    return json_response({"revoked": True}, settings=call.settings)


def read_shared(call: Call) -> Response:
    """GET /api/shared?token=…"""
    token = call.request.query_params.get("token") or ""
    named = call.refusal is None
    client = call.analyst.id if named else f"address:{call.request.client.host if call.request.client else ''}"
    answer = links.open_link(get_store(call.settings), token, call.analyst.id if named else None, client,
                             enabled=call.settings.sharing_enabled, public_allowed=call.settings.sharing_public_links)
    if isinstance(answer, Unavailable):
        raise _unavailable(answer)
    if answer is Denied.SIGN_IN and call.refusal is not None:
        raise refused(call.refusal)  # exactly the API's own answer to a caller it does not know
    if isinstance(answer, Denied):
        raise ApiError(_DENIED_STATUS[answer], MESSAGES[answer], kind=f"share_{answer.value}")
    assert isinstance(answer, Opened)
    shown = share_json(answer.share, call)
    if not named:  # a link for anyone does not hand out its owner's e-mail address
        shown["owner"] = ""
    return json_response({**shown, "snapshot": answer.share.snapshot}, settings=call.settings)
