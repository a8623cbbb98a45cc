"""A vote: which model answered one prompt best, as an analyst judged it after seeing the replies side by side — or
as a judge model did, run by an analyst (`judge` names the model: its own kind of vote, which the leaderboard counts
only when asked to).

A vote is about one *subject*: a round of a saved comparison (`compare:<conversation id>:<round key>`, by the
round's own key, not its place: another tab's round can move it down, gateway/store/queries.py) or a row of an
evaluation run (`eval:<run id>:<row>`). Each analyst has at most one vote per subject and may change it (and one
verdict per judge model on it). The verdict is a model (the best one), `tie` (about as good as each other) or
`all_bad` (none was acceptable).

What a vote says about pairs of models (`pair_outcomes`), which is all the leaderboard uses:
- a best model beat each of the others (the others are not ordered among themselves: no information);
- a tie, and an all-bad verdict, are a tie between every pair (as Chatbot Arena counts "both bad": neither was
  better). All-bad is also counted on its own per model, since a tie cannot say that both were poor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

TAG_LENGTH = 40
COMMENT_LENGTH = 2_000


class Verdict(StrEnum):
    BEST = "best"  # `winner` names the model
    TIE = "tie"
    ALL_BAD = "all_bad"

    @property
    def label(self) -> str:
        return {"best": "best model", "tie": "tie", "all_bad": "all bad"}[self.value]


@dataclass(frozen=True)
class Vote:
    """One analyst's verdict on one subject."""

    subject: str  # see `compare_subject` / `eval_subject`
    models: tuple[str, ...]  # the models judged (catalogue keys), in the order they were shown
    verdict: Verdict
    winner: str | None = None  # the best model's key when verdict is BEST
    tag: str = ""  # e.g. "sql", "summaries": a filter on the leaderboard
    comment: str = ""
    blind: bool = False  # names were hidden until this vote was cast
    owner: str = ""  # the analyst who voted (set by the store); for a judge's verdict, who ran the judge
    judge: str = ""  # the judge model's key for a judge's verdict (gateway.evaluation.judge); "" for a person's vote
    flagged: bool = False  # a judge's verdict that changed when the replies swapped places (so counted as a tie)
    at: float = field(default_factory=time.time)
    pk: int | None = None  # the store's key (set when read back)

    def __post_init__(self) -> None:
        if self.verdict is Verdict.BEST and self.winner not in self.models:
            raise ValueError(f"the winner {self.winner!r} is not one of the models voted on")
        if self.verdict is not Verdict.BEST and self.winner is not None:
            raise ValueError("only a best-model vote has a winner")
        if len(set(self.models)) != len(self.models) or len(self.models) < 2:
            raise ValueError("a vote needs two or more different models")

    @property
    def label(self) -> str:
        """`demo-quick best`, `tie`, `all bad`."""
        return f"{self.winner} best" if self.verdict is Verdict.BEST else self.verdict.label


def compare_subject(conversation_id: str, round_key: str) -> str:
    """A comparison's round, by its key (Round.key): the same round wherever it moves in the conversation."""
    return f"compare:{conversation_id}:{round_key}"


def eval_subject(run_id: str, row: int) -> str:
    return f"eval:{run_id}:{row}"


def clean_tag(tag: str) -> str:
    """A tag as stored: trimmed, lower case, inner spaces collapsed, at most `TAG_LENGTH` characters."""
    return " ".join(tag.lower().split())[:TAG_LENGTH]


def pair_outcomes(vote: Vote) -> list[tuple[str, str, float]]:
    """What the vote says about pairs: `(a, b, score of a)` with 1 a win of a, 0.5 a tie (see the module docs)."""
    if vote.verdict is Verdict.BEST:
        assert vote.winner is not None
        return [(vote.winner, other, 1.0) for other in vote.models if other != vote.winner]
    return [(a, b, 0.5) for i, a in enumerate(vote.models) for b in vote.models[i + 1:]]
