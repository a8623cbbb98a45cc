"""`/api/prompts`: the team prompt library over HTTP (gateway/prompt_library.py, gateway/store/prompts.py).

- `GET /api/prompts[?scope=all|mine|team&kind=prompt|system&q=words]`: what the caller may see (their own, and the
  team's shared ones), never another analyst's private prompt;
- `POST /api/prompts`: save one (`name`, `text`, optional `kind`, `tags`, `shared`), 201;
- `PATCH /api/prompts/{id}`: change the caller's own (only the fields given);
- `DELETE /api/prompts/{id}`: delete the caller's own;
- `POST /api/prompts/{id}/copy`: a private copy of one the caller can see, now theirs.
A prompt the caller cannot see answers 404, whether it is someone's private one or none at all (the same answer,
so ids cannot be probed); a team prompt that is not theirs to change answers 403 (copy it instead).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from api.http import ApiError, Call, json_response
from gateway import prompt_library as library
from gateway.store import Unavailable, get_store
from gateway.store.prompts import PromptLibrary

SCOPES = ("all", "mine", "team")


def _library(call: Call) -> PromptLibrary:
    return PromptLibrary(get_store(call.settings))


def _answered(found: Any) -> Any:
    if isinstance(found, Unavailable):
        raise ApiError(503, f"The prompt library cannot be reached now: {found}", kind="unavailable",
                       hint="The app's database is not answering; try again in a moment.")
    return found


def _id(call: Call) -> int:
    raw = str(call.request.path_params.get("prompt_id", ""))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise _not_found(raw)
    return int(raw)


def _not_found(raw: object) -> ApiError:
    return ApiError(404, f"There is no prompt {str(raw)[:40]!r} in the library for you.", kind="not_found",
                    hint="GET /api/prompts lists the ones you can see.")


def _draft(fields: dict[str, Any]) -> library.Draft:
    try:
        return library.draft(fields["name"], fields["text"], kind=fields.get("kind", "prompt"),
                             tags=fields.get("tags", ()), shared=fields.get("shared", False))
    except library.PromptInvalid as problem:
        raise ApiError(400, str(problem), kind="invalid_prompt",
                       hint="name (1–100 characters), text, kind (prompt or system), up to 10 tags.") from None


def list_prompts(call: Call) -> Response:
    """GET /api/prompts"""
    query = call.request.query_params
    scope = query.get("scope") or "all"
    found: list[library.SavedPrompt] = _answered(_library(call).listed(call.analyst.id, scope=scope))
    if kind := query.get("kind"):
        found = [p for p in found if p.kind == kind]
    if words := query.get("q"):
        found = [p for p in found if library.matches(p, words)]
    return json_response({"scope": scope, "count": len(found), "prompts": [p.to_dict() for p in found]},
                         settings=call.settings)


def create_prompt(call: Call) -> Response:
    """POST /api/prompts"""
    saved = _answered(_library(call).add(call.analyst.id, _draft(call.body)))
    return json_response(saved.to_dict(), 201, settings=call.settings)


def update_prompt(call: Call) -> Response:
    """PATCH /api/prompts/{id}"""
    prompt_id, me, prompts = _id(call), call.analyst.id, _library(call)
    current = _owned(prompts, prompt_id, me)
    fields = {"name": current.name, "text": current.text, "kind": current.kind, "tags": current.tags,
              "shared": current.shared, **(call.body or {})}
    changed = _answered(prompts.update(prompt_id, me, _draft(fields)))
    if changed is None:  # deleted meanwhile
        raise _not_found(prompt_id)
    return json_response(changed.to_dict(), settings=call.settings)


def delete_prompt(call: Call) -> Response:
    """DELETE /api/prompts/{id}"""
    prompt_id, me, prompts = _id(call), call.analyst.id, _library(call)
    _owned(prompts, prompt_id, me)
    if not _answered(prompts.delete(prompt_id, me)):
        raise _not_found(prompt_id)
    return json_response({"deleted": True, "id": prompt_id}, settings=call.settings)


def copy_prompt(call: Call) -> Response:
    """POST /api/prompts/{id}/copy"""
    prompt_id = _id(call)
    copied = _answered(_library(call).copy(prompt_id, call.analyst.id))
    if copied is None:
        raise _not_found(prompt_id)
    return json_response(copied.to_dict(), 201, settings=call.settings)


def _owned(prompts: PromptLibrary, prompt_id: int, me: str) -> library.SavedPrompt:
    """The caller's own prompt; 404 when they cannot see it, 403 when it is a team prompt someone else owns."""
    found = _answered(prompts.get(prompt_id, me))
    if found is None:
        raise _not_found(prompt_id)
    if not found.mine(me):
        raise ApiError(403, "This team prompt is not yours: only the analyst who saved it can change or delete it.",
                       kind="not_owner", hint=f"Copy it to yours first: POST /api/prompts/{prompt_id}/copy.")
    return found
