""""Continue from the best": which reply of each round of a comparison was judged best — by the analyst's own vote,
else by a judge model's verdict the analyst ran (gateway/evaluation/judge_round.py) — so the next round can continue
every model from those replies as shared context (`Conversation.thread(best=…)`), beside each model's own thread.

A round whose vote is a tie or "all bad", or has no vote, has no best reply: there, each model continues from its
own. The context is worked out when the round is sent, from the votes as they are then.
"""

from __future__ import annotations

from gateway.conversation import Conversation
from gateway.evaluation.votes import Verdict, Vote, compare_subject
from gateway.store import Unavailable
from gateway.store.evaluation import Evaluations


def best_replies(evaluations: Evaluations, comparison: Conversation, owner: str) -> dict[str, str]:
    """Round key → the model whose reply was judged best (the analyst's vote first, else a judge's verdict; the
    winner must have a reply with text in that round)."""
    prefix = f"compare:{comparison.id}:"
    mine = evaluations.my_votes(prefix, owner)
    judged = evaluations.judge_votes_any(prefix, owner)
    people = mine if not isinstance(mine, Unavailable) else {}
    judges: dict[str, Vote] = {}
    for verdict in sorted(judged, key=lambda v: v.at) if not isinstance(judged, Unavailable) else []:
        judges[verdict.subject] = verdict  # the latest verdict on a round, whichever judge
    found = {}
    for round_ in comparison.rounds:
        subject = compare_subject(comparison.id, round_.key)
        vote: Vote | None = people.get(subject) or judges.get(subject)
        if vote is None or vote.verdict is not Verdict.BEST or vote.winner is None:
            continue
        reply = round_.reply(vote.winner)
        if reply is not None and reply.text:
            found[round_.key] = vote.winner
    return found
