"""An evaluation run: a prompt set sent to 2–6 models, one *cell* per (prompt, model), each cell a `Reply`.

Cells are saved as they finish, so a run that was stopped, or whose app process went away, resumes with the cells
still missing and never sends a finished one again. A run's status is what it was last set to, except that a
"running" run whose worker has not said it is alive for `STALE_AFTER` seconds is "interrupted" (the app stopped).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from gateway.evaluation.prompt_sets import PromptRow, PromptSet, passes
from gateway.params import ChatParams
from gateway.reply import Outcome, Reply

MIN_MODELS, MAX_MODELS = 2, 6
HEARTBEAT_EVERY = 2.0  # seconds between a worker's "still running"
STALE_AFTER = 15.0  # seconds without one before a running run counts as interrupted


class RunStatus(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"  # the analyst pressed Stop: resumable
    INTERRUPTED = "interrupted"  # the app stopped while it ran: resumable (never stored, see EvalRun.state)
    FINISHED = "finished"  # every cell has a reply


@dataclass(frozen=True)
class Cell:
    """One model's reply to one prompt of the run, and the row's check on it."""

    row: int
    reply: Reply
    passed: bool | None = None  # None: the row has no expected answer
    attempts: int = 1

    @property
    def model(self) -> str:
        return self.reply.model


def judge(row: PromptRow, reply: Reply) -> bool | None:
    """The row's check on a reply: only a complete reply can pass."""
    verdict = passes(row.expected, reply.text)
    if verdict is None:
        return None
    return verdict and reply.outcome is Outcome.COMPLETE


@dataclass(frozen=True)
class EvalRun:
    """A run as saved (without its cells)."""

    set_id: str
    set_name: str
    rows: tuple[PromptRow, ...]
    models: tuple[str, ...]
    params: ChatParams = field(default_factory=ChatParams)
    status: RunStatus = RunStatus.RUNNING
    quote: float | None = None
    cost: float = 0.0
    cells_done: int = 0
    heartbeat_at: float | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    owner: str = ""
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    @classmethod
    def of(cls, prompt_set: PromptSet, models: Sequence[str], params: ChatParams | None = None,
           quote: float | None = None) -> EvalRun:
        if not MIN_MODELS <= len(models) <= MAX_MODELS:
            raise ValueError(f"choose {MIN_MODELS} to {MAX_MODELS} models")
        return cls(prompt_set.id, prompt_set.name, prompt_set.rows, tuple(models), params or ChatParams(),
                   quote=quote)

    @property
    def cells_total(self) -> int:
        return len(self.rows) * len(self.models)

    def state(self, now: float | None = None) -> RunStatus:
        """The status as the runs list shows it: a running run nobody is running is interrupted."""
        now = time.time() if now is None else now
        if self.status is RunStatus.RUNNING and (self.heartbeat_at is None or now - self.heartbeat_at > STALE_AFTER):
            return RunStatus.INTERRUPTED
        return self.status

    def missing(self, done: Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
        """The (row, model) cells without a saved reply, row by row."""
        finished = set(done)
        return [(row, model) for row in range(len(self.rows)) for model in self.models
                if (row, model) not in finished]

    def messages(self, row: int) -> list[dict[str, str]]:
        prompt = self.rows[row]
        system = [{"role": "system", "content": prompt.system_prompt}] if prompt.system_prompt else []
        return system + [{"role": "user", "content": prompt.prompt}]

    def row_params(self, row: int) -> ChatParams:
        """The parameters of a row's calls: the run's sampling and reasoning with the row's own system prompt."""
        return replace(self.params, system_prompt=self.rows[row].system_prompt)
