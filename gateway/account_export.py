"""Everything an analyst keeps in the app, as one JSON document: their data export.

What the app holds *for* an analyst is theirs to take away: every saved chat and comparison (each exactly as its
own JSON export, which imports back on the chat or compare page), their prompt sets, evaluation runs with every cell,
their votes (and the judge's verdicts they asked for), their prompt library and their share links with the
snapshots behind them. Nothing of another analyst's is in it: a team prompt of a colleague's, a colleague's vote on
the same comparison, a link someone else shared with them.

Like the other JSON exports it is the exact record: data for a program, nothing rewritten (the CSV and Markdown
exports are the ones made inert for the programs that open those). No key is in it: the records hold none, and
their error messages were redacted when they were made (gateway/errors.py).

Everything is read first; when the database does not answer any of it, the result is `Unavailable` (never half an
export that looks whole).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from gateway.evaluation import results
from gateway.evaluation.votes import Vote
from gateway.sharing import links
from gateway.store import Store, Unavailable
from gateway.store.evaluation import Evaluations
from gateway.store.prompts import PromptLibrary

FORMAT = "llm-dashboard.account/1"
PAGE = 200  # conversations read per history query
MAX_RUNS = 100_000  # every run: the store's list takes a limit


class _Missing(Exception):
    """The database did not answer one of the reads."""

    def __init__(self, unavailable: Unavailable) -> None:
        super().__init__(str(unavailable))
        self.unavailable = unavailable


def _got(found: Any) -> Any:
    if isinstance(found, Unavailable):
        raise _Missing(found)
    return found


def export(store: Store, owner: str, *, now: float | None = None) -> dict[str, Any] | Unavailable:
    """The owner's data as a dict (see the module's docstring), or Unavailable."""
    try:
        return {"format": FORMAT, "owner": owner,
                "exported_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds") if now is not None
                else datetime.now(UTC).isoformat(timespec="seconds"),
                "conversations": _conversations(store, owner),
                "prompt_sets": _prompt_sets(store, owner),
                "evaluation_runs": _runs(store, owner),
                "votes": _votes(store, owner),
                "prompt_library": [p.to_dict() for p in _got(PromptLibrary(store).listed(owner, scope="mine"))
                                   if p.owner == owner],
                "shares": _got(links.exported(store, owner))}
    except _Missing as missing:
        return missing.unavailable


def export_json(store: Store, owner: str) -> str | Unavailable:
    """`export` as a JSON document."""
    found = export(store, owner)
    return found if isinstance(found, Unavailable) else json.dumps(found, ensure_ascii=False, indent=1)


def _conversations(store: Store, owner: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = _got(store.history(owner, limit=PAGE, offset=offset))
        for summary in page:
            conversation = _got(store.load(summary.id, owner))
            if conversation is not None:  # deleted between the two reads
                found.append({**conversation.to_dict(), "title": summary.title, "pinned": summary.pinned})
        if len(page) < PAGE:
            return found
        offset += PAGE


def _prompt_sets(store: Store, owner: str) -> list[dict[str, Any]]:
    return [{"id": s.id, "name": s.name, "created_at": s.created_at, "rows": [row.to_dict() for row in s.rows]}
            for s in _got(Evaluations(store).sets(owner))]


def _runs(store: Store, owner: str) -> list[dict[str, Any]]:
    evaluations = Evaluations(store)
    return [results.to_dict(run, _got(evaluations.cells(run.id, owner)))
            for run in _got(evaluations.runs(owner, limit=MAX_RUNS))]


def _votes(store: Store, owner: str) -> list[dict[str, Any]]:
    evaluations = Evaluations(store)
    mine = list(_got(evaluations.my_votes("", owner)).values()) + list(_got(evaluations.judge_votes_any("", owner)))
    return [_vote(vote) for vote in sorted(mine, key=lambda v: v.at)]


def _vote(vote: Vote) -> dict[str, Any]:
    data = asdict(vote)
    data["verdict"] = vote.verdict.value
    data["models"] = list(vote.models)
    data.pop("pk", None)
    return data
