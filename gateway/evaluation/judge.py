"""A judge model: another model of the catalogue asked to grade replies, with the corrections its known biases ask for.

Three modes:
- **pairwise**: which of two replies to one prompt is better. Judges favour a position (GPT-4 judging pairs: 12.9 %
  of verdicts flipped when the two replies swapped places), so every pair is asked in **both orders**; when the two
  verdicts disagree, the pair counts as a tie and is *flagged* (`PairJudgement`). How often the swap changed nothing
  is the judge's **position consistency**.
- **rubric**: one reply scored from 0 to 1, with a reason, against a rubric (a column of the prompt set, or a text);
- **reference**: whether one reply gives the expected answer, beyond what a substring or regular expression sees.

The judge's prompt is a template the analyst sees and may edit (saved with the run): `{question}`, `{first}`,
`{second}`, `{reply}`, `{rubric}` and `{expected}` are filled in once, by one pass, so a reply holding `{second}` or
any other brace text is inserted as it is and never expanded. The judge answers in JSON (`{"winner": "A" | "B" |
"tie", "reason": …}` or `{"score": 0–1, "reason": …}`); a line `Winner: A` / `Score: 0.7` is accepted too, and an
answer that says neither is *unreadable* (a failed judgement, never a guess).

Agreement with people: where a person and the judge both judged the same subject, the share of subjects on which
they agree and **Cohen's κ** (agreement beyond what their own rates of each answer give by chance: 1 is perfect, 0 is
chance). Verdicts are compared position-free, by the winner's name, or a tie (a round's person's vote may name more
models than the judge's, when a reply failed or the analyst judged only some: the winner is still the same model).

Nothing here calls a model: the caller sends the messages (through the one sending path, attributed and budgeted
like every call) and hands back the texts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from gateway.evaluation.votes import Verdict, Vote


class Mode(StrEnum):
    PAIRWISE = "pairwise"
    RUBRIC = "rubric"
    REFERENCE = "reference"


class Choice(StrEnum):
    """What one pairwise answer says, by position."""

    FIRST = "A"
    SECOND = "B"
    TIE = "tie"


SYSTEM = ("You are an impartial judge of answers written by AI assistants. Judge only what the answers say; ignore "
          "their length, their style and the order they are shown in. Answer with JSON only.")

TEMPLATES: dict[Mode, str] = {
    Mode.PAIRWISE: """Which answer to the question is better: more correct first, then more helpful?

[Question]
{question}

[Answer A]
{first}

[Answer B]
{second}

Reply with JSON only: {"winner": "A" or "B" or "tie", "reason": "one sentence"}""",
    Mode.RUBRIC: """Score the answer against the rubric, from 0 (fails it) to 1 (meets it fully).

[Question]
{question}

[Rubric]
{rubric}

[Answer]
{reply}

Reply with JSON only: {"score": a number from 0 to 1, "reason": "one sentence"}""",
    Mode.REFERENCE: """Does the answer give the expected answer (the same fact, value or conclusion; wording may
differ)? Score 1 if it does, 0 if it does not or contradicts it, in between if partly.

[Question]
{question}

[Expected]
{expected}

[Answer]
{reply}

Reply with JSON only: {"score": a number from 0 to 1, "reason": "one sentence"}""",
}

FIELDS: dict[Mode, tuple[str, ...]] = {
    Mode.PAIRWISE: ("question", "first", "second"),
    Mode.RUBRIC: ("question", "rubric", "reply"),
    Mode.REFERENCE: ("question", "expected", "reply"),
}
_FIELD = re.compile(r"\{(question|first|second|reply|rubric|expected)\}")


class TemplateError(ValueError):
    """A judge prompt that cannot be used: it lacks a field its mode needs."""


def check_template(mode: Mode, template: str) -> None:
    missing = [name for name in FIELDS[mode] if "{" + name + "}" not in template]
    if missing:
        raise TemplateError(f"The {mode.value} judge prompt needs " + ", ".join("{" + m + "}" for m in missing)
                            + " (where the text goes).")


def render(template: str, values: Mapping[str, str]) -> str:
    """The template with each known field replaced by its value, in one pass (values are never expanded)."""
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def messages(mode: Mode, template: str, **values: str) -> list[dict[str, str]]:
    check_template(mode, template)
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": render(template, values)}]


def pair_messages(template: str, question: str, first: str, second: str) -> tuple[list[dict[str, str]], ...]:
    """The two requests of a pairwise judgement: `first` shown first, then the two swapped."""
    return (messages(Mode.PAIRWISE, template, question=question, first=first, second=second),
            messages(Mode.PAIRWISE, template, question=question, first=second, second=first))


def default_judge(keys: Sequence[str], configured: str = "") -> str | None:
    """The judge a pass starts with: the team's default (JUDGE_MODEL) when it is one of `keys`, else the first key
    with "judge" in it; None when neither is there."""
    if configured and configured in keys:
        return configured
    return next((key for key in keys if "judge" in key.lower()), None)


# --- Reading the judge's answer ----------------------------------------------------------------------------------

def _json_object(text: str) -> Mapping[str, object] | None:
    """The last JSON object in the text (judges wrap it in prose or a code fence)."""
    decoder = json.JSONDecoder()
    found = None
    for start in [m.start() for m in re.finditer(r"\{", text)]:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(value, dict):
            found = value
    return found


def read_choice(text: str) -> Choice | None:
    """A pairwise answer's choice, or None when it is unreadable."""
    data = _json_object(text)
    said = data.get("winner") if data is not None else None
    if said is None:
        line = re.search(r"(?im)^\W*(?:winner|verdict)\W*[:=]\W*(A|B|tie)\b", text)
        said = line.group(1) if line else None
    if not isinstance(said, str):
        return None
    said = said.strip().strip('"*').lower()
    return {"a": Choice.FIRST, "b": Choice.SECOND, "tie": Choice.TIE}.get(said)


@dataclass(frozen=True)
class Score:
    value: float  # 0–1
    reason: str


def read_score(text: str) -> Score | None:
    """A rubric or reference answer's score and reason, or None when it is unreadable or out of 0–1."""
    data = _json_object(text)
    value: object = data.get("score") if data is not None else None
    reason = str(data.get("reason") or "") if data is not None else ""
    if value is None:
        line = re.search(r"(?im)^\W*score\W*[:=]\s*([0-9.]+)", text)
        value = line.group(1) if line else None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return Score(number, reason) if 0.0 <= number <= 1.0 else None


def read_reason(text: str) -> str:
    data = _json_object(text)
    return str(data.get("reason") or "") if data is not None else ""


# --- Both orders -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PairJudgement:
    """A pairwise judgement asked in both orders: `forward` shows `first` first, `backward` the two swapped."""

    first: str  # model keys
    second: str
    forward: Choice | None
    backward: Choice | None
    reasons: tuple[str, str] = ("", "")

    @property
    def readable(self) -> bool:
        return self.forward is not None and self.backward is not None

    def _winner(self, choice: Choice | None, shown_first: str, shown_second: str) -> str | None:
        if choice is None or choice is Choice.TIE:
            return None
        return shown_first if choice is Choice.FIRST else shown_second

    @property
    def winners(self) -> tuple[str | None, str | None]:
        """The model each order chose (None: a tie)."""
        return (self._winner(self.forward, self.first, self.second),
                self._winner(self.backward, self.second, self.first))

    @property
    def consistent(self) -> bool:
        """Both orders gave the same verdict about the models."""
        return self.readable and self.winners[0] == self.winners[1]

    @property
    def flagged(self) -> bool:
        """The verdict changed with the order: counted as a tie."""
        return self.readable and not self.consistent

    @property
    def verdict(self) -> tuple[Verdict, str | None] | None:
        """(verdict, winner) as a vote records it; None when an answer was unreadable."""
        if not self.readable:
            return None
        winner = self.winners[0] if self.consistent else None
        return (Verdict.BEST, winner) if winner is not None else (Verdict.TIE, None)

    def vote(self, subject: str) -> Vote | None:
        found = self.verdict
        if found is None:
            return None
        return Vote(subject, (self.first, self.second), found[0], found[1],
                    comment="; ".join(r for r in self.reasons if r))


def judge_pair(first: str, second: str, forward_text: str, backward_text: str) -> PairJudgement:
    """The judgement of a pair from the judge's two answers (see `pair_messages`)."""
    return PairJudgement(first, second, read_choice(forward_text), read_choice(backward_text),
                         (read_reason(forward_text), read_reason(backward_text)))


def position_consistency(judgements: Sequence[PairJudgement]) -> float | None:
    """Share of readable pairs whose verdict the swap did not change (None: none readable)."""
    readable = [j for j in judgements if j.readable]
    return sum(j.consistent for j in readable) / len(readable) if readable else None


# --- Agreement with people ---------------------------------------------------------------------------------------

def _outcome(vote: Vote) -> str:
    """A verdict without positions: the winner's key, or a tie ("all bad" counts as a tie, as on the leaderboard)."""
    if vote.verdict is Verdict.BEST and vote.winner is not None:
        return f"best:{vote.winner}"
    return "tie"


@dataclass(frozen=True)
class Agreement:
    subjects: int  # judged by both
    agree: float | None  # share of those
    kappa: float | None  # Cohen's κ (None: undefined, e.g. both always said the same one thing)


def agreement(people: Sequence[Vote], judge: Sequence[Vote]) -> Agreement:
    """How often the judge agrees with people on the subjects both judged (a subject with several people's votes
    counts each vote)."""
    by_subject: dict[str, list[str]] = {}
    for vote in judge:
        by_subject.setdefault(vote.subject, []).append(_outcome(vote))
    pairs = [(_outcome(p), j) for p in people for j in by_subject.get(p.subject, [])]
    if not pairs:
        return Agreement(0, None, None)
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    labels = {label for pair in pairs for label in pair}
    chance = sum((sum(a == label for a, _ in pairs) / n) * (sum(b == label for _, b in pairs) / n)
                 for label in labels)
    kappa = (observed - chance) / (1 - chance) if chance < 1 else None
    return Agreement(n, observed, kappa)
