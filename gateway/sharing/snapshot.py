"""What a share link shows: a snapshot of the owner's work as it was when shared (or last updated), as plain data.

A snapshot is a JSON-able dict, stored with the link (gateway/store/shares.py) and served as it is by the API:
- a chat or a comparison: `{"kind", "title", "conversation": Conversation.to_dict(), "votes"}`: every round, every run
  of every reply with its numbers, the attached files (their bytes: a reader sees the previews, a copy keeps them);
- a comparison's `votes` are its owner's own verdicts, by round key (`{"verdict", "winner"}`): never who else voted,
  and no comment or tag. A round sent blind that its owner has not voted on stays blind in the snapshot
  (`gateway.evaluation.blind.withheld`: "Model A"…, no costs, no names in the text);
- an evaluation run: `{"kind", "title", "run": the run's JSON export (gateway/evaluation/results.py)}`.
`conversation_of` and `run_of` read a snapshot back; `copy_for_reader` is "Make a copy": a new conversation of the
reader's, with a new id (and new round keys), that they continue.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from gateway.conversation import Conversation, new_id
from gateway.evaluation import results
from gateway.evaluation.blind import withheld
from gateway.evaluation.prompt_sets import PromptRow
from gateway.evaluation.runs import Cell, EvalRun, RunStatus
from gateway.evaluation.votes import Verdict, Vote, compare_subject
from gateway.params import ChatParams
from gateway.reply import Reply

Kind = Literal["chat", "compare", "evaluation"]
KINDS: tuple[Kind, ...] = ("chat", "compare", "evaluation")


def of_conversation(conversation: Conversation, owner_votes: Mapping[str, Vote] | None = None,
                    names: Sequence[str] = ()) -> dict[str, Any]:
    """A chat's or a comparison's snapshot. `owner_votes`: the owner's votes on its rounds, by subject
    (`compare_subject`); a blind round without one is withheld (`names`: other spellings of the models to mask)."""
    votes = dict(owner_votes or {})
    voted = {round_.key: votes[subject] for round_ in conversation.rounds
             if (subject := compare_subject(conversation.id, round_.key)) in votes}
    still_blind = {r.key for r in conversation.rounds if r.blind and r.key not in voted}
    shown = withheld(conversation, still_blind, names)
    return {"kind": conversation.kind, "title": conversation.display_title,
            "conversation": shown.to_dict(),
            "votes": {key: {"verdict": vote.verdict.value, "winner": vote.winner} for key, vote in voted.items()
                      if key not in still_blind}}


def of_run(run: EvalRun, cells: Sequence[Cell]) -> dict[str, Any]:
    """An evaluation run's snapshot: its rows, models, parameters and every cell (as its JSON export)."""
    return {"kind": "evaluation", "title": run.set_name, "run": json.loads(results.to_json(run, cells))}


def kind_of(snapshot: Mapping[str, Any]) -> Kind:
    kind = snapshot.get("kind")
    if kind not in KINDS:
        raise ValueError(f"not a share snapshot (kind {kind!r})")
    return kind


def conversation_of(snapshot: Mapping[str, Any]) -> Conversation:
    """The chat or comparison a snapshot shows (its id is the owner's: never save it as it is)."""
    return Conversation.from_dict(snapshot["conversation"])


def verdicts(snapshot: Mapping[str, Any]) -> dict[str, str]:
    """The owner's vote result on each round shown, by round key, in words: `demo-fast best`, `tie`, `all bad`."""
    found: dict[str, str] = {}
    for key, vote in (snapshot.get("votes") or {}).items():
        try:
            verdict = Verdict(vote.get("verdict"))
        except ValueError:
            continue
        found[key] = f"{vote.get('winner')} best" if verdict is Verdict.BEST else verdict.label
    return found


def run_of(snapshot: Mapping[str, Any]) -> tuple[EvalRun, list[Cell]]:
    """The evaluation run a snapshot shows, and its cells."""
    data = snapshot["run"]
    run = EvalRun(set_id=str(data["set"]["id"]), set_name=str(data["set"]["name"]),
                  rows=tuple(PromptRow.from_dict(r) for r in data.get("rows") or ()),
                  models=tuple(str(m) for m in data.get("models") or ()),
                  params=ChatParams.from_dict(data.get("params")), status=RunStatus(data.get("status") or "finished"),
                  id=str(data["id"]), created_at=float(data.get("created_at") or 0.0))
    cells = [Cell(int(c["row"]), Reply.from_dict(c["reply"]), c.get("passed"), int(c.get("calls") or 1))
             for c in data.get("cells") or ()]
    return run, cells


def copy_for_reader(snapshot: Mapping[str, Any]) -> Conversation:
    """"Make a copy": the snapshot's chat or comparison as a new conversation (new id, new round keys, files
    included) for the reader to save as their own and continue. Its title says where it came from."""
    copy = conversation_of(snapshot)
    copy.id, copy.pinned, copy.removed = new_id(), False, set()
    for round_ in copy.rounds:
        round_.key = new_id()
        round_.blind = False  # the copy's reader never voted: what they see is what the snapshot showed
    copy.title = f"Copy of {snapshot.get('title') or copy.display_title}"[:200]
    if copy.kind == "compare" and not copy.models:  # a snapshot with withheld rounds names no model
        copy.models = [key for key in copy.used_models() if not key.startswith("Model ")]
    return copy
