"""A pairwise judge pass over an evaluation run: for two models of the run, every row where both replied in full is
shown to a judge model in both orders (gateway/evaluation/judge.py), and each verdict is saved as the judge's vote on
that row (`eval:<run id>:<row>`, `votes.judge` = the judge model).

Every judge call goes through the one sending door (`gateway.sending.send_chat`: the analyst's budget, reserved per
call, and attribution — the calls reach LiteLLM with the analyst's `user`, tagged `judge`), and is written to the
usage ledger (kind "judge") so /usage and the budget count it. The pass is quoted before it starts (`quote`, beside
the run's own cost) and refused when the quote does not fit what is left of the budget; a call the budget refuses
part-way stops the pass and says so (the verdicts saved so far stay, a new pass skips them).

Calls run `concurrency` at a time (EVAL_CONCURRENCY, like the run). Nothing here draws: the page shows `Progress`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from gateway.budget import BudgetExceeded
from gateway.config import Settings
from gateway.errors import GatewayError
from gateway.evaluation import judge
from gateway.evaluation.judge import Mode, PairJudgement
from gateway.evaluation.runs import Cell, EvalRun
from gateway.evaluation.votes import Vote, eval_subject
from gateway.models import ModelRecord
from gateway.params import ChatParams
from gateway.reply import Outcome, Reply
from gateway.sending import Sender, check_spending, expected_cost, send_chat
from gateway.store import Unavailable
from gateway.store.evaluation import Evaluations
from gateway.store.judge_passes import JudgePass, JudgePasses, run_about

PARAMS = ChatParams(temperature=0.0, max_tokens=300)  # a verdict and a sentence: short, and as repeatable as it gets


@dataclass(frozen=True)
class Pair:
    """One row to judge: the prompt and the two models' complete replies."""

    row: int
    question: str
    first: str  # model keys, in the run's order
    second: str
    first_text: str
    second_text: str

    def messages(self, template: str) -> tuple[list[dict[str, str]], ...]:
        return judge.pair_messages(template, self.question, self.first_text, self.second_text)


def pairs(run: EvalRun, cells: Sequence[Cell], first: str, second: str,
          skip: frozenset[int] = frozenset()) -> list[Pair]:
    """The rows where both models replied in full (and not in `skip`: rows the judge has a verdict on already)."""
    found = {(c.row, c.model): c.reply for c in cells}
    out = []
    for row in range(len(run.rows)):
        a, b = found.get((row, first)), found.get((row, second))
        if row in skip or a is None or b is None or a.outcome is not Outcome.COMPLETE \
                or b.outcome is not Outcome.COMPLETE:
            continue
        out.append(Pair(row, run.rows[row].prompt, first, second, a.text, b.text))
    return out


def quote(judge_model: ModelRecord, todo: Sequence[Pair], template: str, settings: Settings) -> float:
    """Expected cost of the pass: two calls per pair (the prompt counted, the verdict at most PARAMS.max_tokens)."""
    return sum(expected_cost(judge_model, messages, PARAMS.max_tokens, settings)
               for pair in todo for messages in pair.messages(template))


@dataclass
class Progress:
    total: int
    done: int = 0
    flagged: int = 0
    unreadable: int = 0
    cost: float = 0.0
    stopped: str = ""  # why the pass stopped early (the budget), in words
    refused: str = ""  # why a call was not sent (the first such reason), when one was not
    judgements: list[PairJudgement] = field(default_factory=list)


def run_pass(run: EvalRun, owner: str, todo: Sequence[Pair], judge_model: ModelRecord, template: str,
             evaluations: Evaluations, settings: Settings, sender: Sender, concurrency: int,
             on_progress: Callable[[Progress], None] | None = None) -> Progress:
    """Judge every pair (both orders), save each verdict as the judge's vote on its row, and return what happened.
    The pass (its judge, prompt and models) is saved with the run first."""
    judge.check_template(Mode.PAIRWISE, template)
    models = tuple(dict.fromkeys(key for pair in todo for key in (pair.first, pair.second)))
    JudgePasses(evaluations.store).save(JudgePass(run_about(run.id), judge_model.key, Mode.PAIRWISE.value, template,
                                                  models), owner)

    def save(pair: Pair, found: PairJudgement) -> bool:
        vote = found.vote(eval_subject(run.id, pair.row))
        if vote is not None:
            evaluations.vote(Vote(vote.subject, vote.models, vote.verdict, vote.winner, comment=vote.comment,
                                  judge=judge_model.key, flagged=found.flagged), owner)
        return vote is not None

    return judge_pairs(todo, judge_model, template, evaluations, owner, run.id, settings, sender, concurrency,
                       on_judged=save, on_progress=on_progress)


class JudgeCalls:
    """The calls of one judge pass: each through the sending door (the budget reserved per call, attributed) and into
    the usage ledger (kind "judge", `about`: the run or comparison it was made for). A call the budget refuses stops
    the pass (`progress.stopped`); one refused for another reason (the judge's window) is a failed reply, so its
    answer is unreadable (`progress.refused` says why)."""

    def __init__(self, judge_model: ModelRecord, evaluations: Evaluations, owner: str, about: str,
                 settings: Settings, sender: Sender, progress: Progress) -> None:
        self.judge_model, self.evaluations, self.owner, self.about = judge_model, evaluations, owner, about
        self.settings, self.sender, self.progress = settings, sender, progress
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def ask(self, messages: list[dict[str, str]]) -> Reply | None:
        """The judge's reply (None: not asked, the pass has stopped)."""
        if self.stop.is_set():
            return None
        sending = send_chat(self.judge_model, messages, PARAMS, self.settings, self.evaluations.store, self.sender)
        if isinstance(sending, GatewayError):
            if isinstance(sending, BudgetExceeded):
                with self.lock:
                    self.progress.stopped = f"The judge stopped: {sending}"
                self.stop.set()
                return None
            with self.lock:
                self.progress.refused = self.progress.refused or str(sending)
            return Reply(self.judge_model.key, outcome=Outcome.FAILED)
        try:
            for _ in sending.stream:
                pass
            reply = sending.stream.reply
            self.evaluations.record_call(self.owner, "judge", self.about, reply)  # (the ledger: usage, the budget)
        finally:
            sending.settle()
        with self.lock:
            self.progress.cost += reply.metrics.cost or 0.0
        return reply


def judge_pairs(todo: Sequence[Pair], judge_model: ModelRecord, template: str, evaluations: Evaluations,
                owner: str, about: str, settings: Settings, sender: Sender, concurrency: int, *,
                on_judged: Callable[[Pair, PairJudgement], bool] | None = None,
                on_progress: Callable[[Progress], None] | None = None) -> Progress:
    """Ask the judge about every pair in both orders, `concurrency` calls at a time (`JudgeCalls`). `on_judged` runs
    for each pair judged (in a worker thread); it returns whether the pair had a readable verdict."""
    judge.check_template(Mode.PAIRWISE, template)
    progress = Progress(len(todo))
    calls = JudgeCalls(judge_model, evaluations, owner, about, settings, sender, progress)

    def one(pair: Pair) -> None:
        forward, backward = pair.messages(template)
        replies = [calls.ask(forward), calls.ask(backward)]
        if any(r is None for r in replies):
            return
        found = judge.judge_pair(pair.first, pair.second, replies[0].text, replies[1].text)  # type: ignore[union-attr]
        readable = on_judged(pair, found) if on_judged is not None else found.readable
        with calls.lock:
            progress.done += 1
            progress.flagged += found.flagged
            progress.unreadable += not readable
            progress.judgements.append(found)
            if on_progress is not None:
                on_progress(progress)

    with ThreadPoolExecutor(max(1, concurrency)) as pool:
        list(pool.map(one, todo))
    return progress


def refusal(judge_model: ModelRecord, todo: Sequence[Pair], template: str, settings: Settings,
            evaluations: Evaluations, sender: Sender) -> BudgetExceeded | None:
    """Why the pass may not start (its quote does not fit what is left of the budget), or None."""
    return check_spending(sender, settings, evaluations.store, quote(judge_model, todo, template, settings))


def judged_rows(evaluations: Evaluations, run: EvalRun, owner: str, judge_key: str, first: str,
                second: str) -> frozenset[int]:
    """Rows of the run the judge has a verdict on for these two models already."""
    found = evaluations.judge_votes(f"eval:{run.id}:", owner, judge_key)
    if isinstance(found, Unavailable):
        return frozenset()
    return frozenset(int(subject.rsplit(":", 1)[1]) for subject, vote in found.items()
                     if set(vote.models) == {first, second})

