"""Judge a comparison round: a judge model compares the round's replies pair by pair, each pair in both orders
(gateway/evaluation/judge.py), and its verdict is saved as the judge's vote on that round
(`compare:<conversation id>:<round key>`, `votes.judge` = the judge model), where the leaderboard counts it under
*Verdicts: Judge* or *Both*, and judge–human agreement compares it with the analyst's own vote on the round.

Which replies: each model's latest reply of the round that completed (a stopped, cut or failed reply is not judged).
Two models make one pair; with more, every pair is asked (n·(n−1)/2 pairs, two calls each). One vote per round and
judge says it all (`combine`): a model that won each of its pairs in both orders is the best, otherwise the round is
a tie — *flagged* when it is a tie because a verdict changed with the order (the judge's lean to a position, not a
judgement about the replies).

The calls go through the one sending door like every call (`judge_run.judge_pairs`: the budget reserved per call,
attributed to the analyst and tagged `page:judge`, each call in the usage ledger as kind "judge" about the
comparison). The pass is quoted before it is sent (`quote`) and refused when the quote does not fit the analyst's
budget (`refusal`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

from gateway.budget import BudgetExceeded
from gateway.config import Settings
from gateway.conversation import Conversation, Round
from gateway.evaluation import judge, judge_run
from gateway.evaluation.judge import Mode, PairJudgement
from gateway.evaluation.judge_run import Pair, Progress
from gateway.evaluation.votes import COMMENT_LENGTH, Verdict, Vote, compare_subject
from gateway.models import ModelRecord
from gateway.reply import Outcome
from gateway.sending import Sender, check_spending
from gateway.store.evaluation import Evaluations
from gateway.store.judge_passes import JudgePass, JudgePasses


def judged_models(round_: Round) -> list[str]:
    """The round's models whose latest reply completed, in the round's order."""
    return [key for key, reply in round_.replies.items() if reply.outcome is Outcome.COMPLETE and reply.text]


def pairs(round_: Round, models: Sequence[str] | None = None) -> list[Pair]:
    """Every pair of the round's complete replies (of `models`, when given), in the round's order (`row`: the pair's
    place)."""
    keys = [key for key in judged_models(round_) if models is None or key in models]
    replies = round_.replies
    return [Pair(row, round_.prompt, a, b, replies[a].text, replies[b].text)
            for row, (a, b) in enumerate(combinations(keys, 2))]


def quote(judge_model: ModelRecord, todo: Sequence[Pair], template: str, settings: Settings) -> float:
    """Expected cost: two calls per pair."""
    return judge_run.quote(judge_model, todo, template, settings)


def refusal(judge_model: ModelRecord, todo: Sequence[Pair], template: str, settings: Settings,
            evaluations: Evaluations, sender: Sender) -> BudgetExceeded | None:
    """Why the judge may not be asked (its quote does not fit what is left of the budget), or None."""
    return check_spending(sender, settings, evaluations.store, quote(judge_model, todo, template, settings))


@dataclass(frozen=True)
class Combined:
    verdict: Verdict
    winner: str | None
    flagged: bool  # a tie because some verdict changed when the replies swapped places


def combine(models: Sequence[str], judgements: Sequence[PairJudgement]) -> Combined | None:
    """One verdict on the round from its pairs: the model that won each of its pairs in both orders, else a tie;
    None when a pair is missing or its answers were unreadable (no verdict is guessed)."""
    wanted = {frozenset(pair) for pair in combinations(models, 2)}
    got = {frozenset((j.first, j.second)): j for j in judgements}
    if len(models) < 2 or set(got) != wanted or not all(j.readable for j in got.values()):
        return None
    for model in models:
        if all(j.verdict == (Verdict.BEST, model) for pair, j in got.items() if model in pair):
            return Combined(Verdict.BEST, model, False)
    return Combined(Verdict.TIE, None, any(j.flagged for j in got.values()))


@dataclass
class RoundJudgement:
    """What a judge pass on a round found: the pass's progress, the pairs, and the vote saved (None: none)."""

    subject: str
    models: list[str]
    progress: Progress
    vote: Vote | None


def judge_round(comparison: Conversation, round_: Round, owner: str, judge_model: ModelRecord, template: str,
                evaluations: Evaluations, settings: Settings, sender: Sender, concurrency: int, *,
                models: Sequence[str] | None = None,
                on_progress: Callable[[Progress], None] | None = None) -> RoundJudgement:
    """Judge the round's complete replies (of `models`, when given) and save the verdict as the judge's vote on the
    round (replacing this judge's earlier verdict on it), the pass (judge, prompt, models) saved with the round first.
    No verdict is saved when the pass stopped or an answer was unreadable."""
    todo = pairs(round_, models)
    keys = list(dict.fromkeys(key for pair in todo for key in (pair.first, pair.second)))
    subject = compare_subject(comparison.id, round_.key)
    judge.check_template(Mode.PAIRWISE, template)
    JudgePasses(evaluations.store).save(JudgePass(subject, judge_model.key, Mode.PAIRWISE.value, template,
                                                  tuple(keys)), owner)
    progress = judge_run.judge_pairs(todo, judge_model, template, evaluations, owner, comparison.id, settings, sender,
                                     concurrency, on_progress=on_progress)
    found = combine(keys, progress.judgements) if not progress.stopped else None
    vote = None
    if found is not None:
        reasons = "; ".join(f"{j.first} vs {j.second}: {' / '.join(r for r in j.reasons if r)}"
                            for j in progress.judgements if any(j.reasons))
        vote = Vote(subject, tuple(keys), found.verdict, found.winner, comment=reasons[:COMMENT_LENGTH],
                    judge=judge_model.key, flagged=found.flagged)
        evaluations.vote(vote, owner)
    return RoundJudgement(subject, keys, progress, vote)


def verdict_of(evaluations: Evaluations, comparison: Conversation, round_: Round, owner: str,
               judge_key: str) -> Vote | None:
    """This judge's saved verdict on the round (run by the analyst), if any (None too when votes cannot be read)."""
    subject = compare_subject(comparison.id, round_.key)
    found = evaluations.judge_votes(subject, owner, judge_key)
    return found.get(subject) if isinstance(found, dict) else None
