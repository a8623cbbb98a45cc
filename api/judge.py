"""`POST /api/judge`: a judge model compares replies in both orders — a round of one of the caller's saved
comparisons (its verdict saved as the judge's vote on that round, as "Judge this round" on /compare does), or two
texts given in the request (nothing saved but the calls' cost).

The pass is the page's (gateway/evaluation/judge_round.py): every pair asked in both orders, a verdict that changed
with the order counted as a flagged tie, each call through the sending door (the caller's budget reserved per call,
attributed to them, tagged `page:api`) and in their usage ledger (kind "judge"). It is quoted first and refused with
402 when the quote does not fit what is left of the caller's budget: nothing is sent then.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from api.compare import refusal_answer
from api.http import ApiError, Call, json_response
from gateway import Catalogue, ModelRecord, Settings, fetch_models, find_model
from gateway.conversation import Conversation, Round
from gateway.evaluation import judge_round, judge_run
from gateway.evaluation.judge import TEMPLATES, Choice, Mode, PairJudgement, TemplateError, check_template
from gateway.evaluation.judge import default_judge as team_default
from gateway.evaluation.votes import Vote, compare_subject
from gateway.reply import Outcome, Reply
from gateway.sending import Sender
from gateway.store import Store, Unavailable, get_store
from gateway.store.evaluation import Evaluations


def pick_judge(asked: str | None, catalogue: Catalogue, settings: Settings) -> ModelRecord:
    """The judge a request names, else the team's default (JUDGE_MODEL), else a model with "judge" in its key."""
    if asked:
        found = find_model(catalogue.models, asked)
        if found is None:
            raise ApiError(400, f"The judge {asked[:100]!r} is not in the catalogue.", kind="model_not_found",
                           hint="Name a model GET /api/models lists (its key).")
        return found
    key = team_default([m.key for m in catalogue.models], settings.judge_model)
    found = find_model(catalogue.models, key) if key is not None else None
    if found is None:
        raise ApiError(400, "Name the judge: 'judge' is not given and the team has no default judge in the catalogue"
                       + (f" (JUDGE_MODEL is {settings.judge_model[:100]!r})." if settings.judge_model else "."),
                       hint='e.g. {"judge": "gpt-4o", …}; JUDGE_MODEL where the app runs sets a default.')
    return found


def template_of(body: Mapping[str, Any]) -> str:
    template = body.get("template") or TEMPLATES[Mode.PAIRWISE]
    try:
        check_template(Mode.PAIRWISE, template)
    except TemplateError as error:
        raise ApiError(400, str(error), hint="The default prompt is used when 'template' is left out.") from None
    return template


def the_round(body: Mapping[str, Any], store: Store, owner: str) -> tuple[Conversation, Round, bool]:
    """The round to judge: (conversation, round, saved) — a saved comparison's round (the latest unless `round`
    names one by its key), or the two texts of the request as a round of their own (not saved)."""
    if "comparison" in body:
        if "replies" in body or "prompt" in body:
            raise ApiError(400, "Give either 'comparison' (a saved round) or 'prompt' with 'replies', not both.")
        found = store.load(str(body["comparison"]), owner)
        if isinstance(found, Unavailable):
            raise ApiError(503, f"Saved comparisons cannot be read now: {found}", kind="unavailable",
                           hint="The app's database is not answering; try again in a moment.")
        if found is None or found.kind != "compare" or not found.rounds:
            raise ApiError(404, "There is no such comparison of yours (or it has no round).", kind="not_found",
                           hint="Use the id POST /api/compare answers (or the ?c= of a comparison's link).")
        key = body.get("round")
        chosen = found.latest if key is None else next((r for r in found.rounds if r.key == key), None)
        if chosen is None:
            raise ApiError(404, "That comparison has no round with that key.", kind="not_found",
                           hint="Leave 'round' out to judge the latest round.")
        if chosen.blind and not isinstance(Evaluations(store).my_vote(compare_subject(found.id, chosen.key), owner),
                                           Vote):
            raise ApiError(409, "That round was sent blind and you have not voted on it: the judge's verdict would "
                                "name the models.", kind="blind",
                           hint="Vote on it on the Compare page first (a blind vote stays blind only until then).")
        return found, chosen, True
    prompt, replies = body.get("prompt"), body.get("replies")
    if not isinstance(prompt, str) or not isinstance(replies, list):
        raise ApiError(400, "Give 'comparison' (a saved round to judge) or 'prompt' and two 'replies'.",
                       hint='e.g. {"prompt": "What is 6 * 7?", "replies": [{"text": "42"}, {"text": "41"}]}.')
    names = [str(r.get("name") or ("first", "second")[i]) for i, r in enumerate(replies)]
    if len(set(names)) != len(names):
        raise ApiError(400, "The two replies need different names.")
    round_ = Round(prompt, runs={name: [Reply(name, str(r["text"]), Outcome.COMPLETE)]
                                 for name, r in zip(names, replies)})
    return Conversation("compare", [round_], models=names), round_, False


def _said(choice: Choice | None, shown_first: str, shown_second: str) -> str | None:
    if choice is None:
        return None
    return "tie" if choice is Choice.TIE else shown_first if choice is Choice.FIRST else shown_second


def pair_json(found: PairJudgement) -> dict[str, Any]:
    return {"first": found.first, "second": found.second,
            "forward": _said(found.forward, found.first, found.second),
            "backward": _said(found.backward, found.second, found.first),
            "flagged": found.flagged, "readable": found.readable,
            "winner": found.winners[0] if found.consistent else None, "reasons": list(found.reasons)}


def judge(call: Call) -> Response:
    """POST /api/judge"""
    body = call.body  # checked against the document's JudgeRequest (api/validation.py)
    settings, owner = call.settings, call.analyst.owner()
    catalogue = gateway_catalogue(settings)
    judge_model = pick_judge(body.get("judge"), catalogue, settings)
    template = template_of(body)
    store = get_store(settings)
    evaluations = Evaluations(store)
    comparison, round_, saved = the_round(body, store, owner)
    todo = judge_round.pairs(round_)
    if not todo:
        raise ApiError(400, "Nothing to judge: a judge needs two complete replies (a stopped, cut or failed reply is "
                            "not judged).")
    quote = judge_round.quote(judge_model, todo, template, settings)
    sender = Sender(call.analyst.id, "api", comparison.id, admin=call.analyst.admin)
    refused = judge_round.refusal(judge_model, todo, template, settings, evaluations, sender)
    if refused is not None:
        return refusal_answer(refused, call, store)
    call.sent.note(f"the judge {judge_model.key} was asked about {len(todo)} pair(s); its calls are counted in usage")
    if saved:
        found = judge_round.judge_round(comparison, round_, owner, judge_model, template, evaluations, settings,
                                        sender, settings.eval_concurrency)
        progress, vote = found.progress, found.vote
        combined = judge_round.Combined(vote.verdict, vote.winner, vote.flagged) if vote is not None else None
    else:
        progress = judge_run.judge_pairs(todo, judge_model, template, evaluations, owner, comparison.id, settings,
                                         sender, settings.eval_concurrency)
        combined = None if progress.stopped else judge_round.combine(round_.models, progress.judgements)
    if progress.stopped:
        raise ApiError(402, progress.stopped, kind="budget_exceeded",
                       hint="The budget ran out part-way: the calls made are counted in usage; nothing was saved.")
    return json_response({
        "judge": judge_model.key,
        "comparison": comparison.id if saved else None, "round": round_.key if saved else None,
        "verdict": combined.verdict.value if combined is not None else None,
        "winner": combined.winner if combined is not None else None,
        "flagged": combined.flagged if combined is not None else False,
        "saved": saved and combined is not None,
        "pairs": [pair_json(j) for j in sorted(progress.judgements, key=lambda j: (j.first, j.second))],
        "calls": 2 * progress.done, "quote": quote, "cost": progress.cost,
        "refused": progress.refused or None,
    }, settings=settings)


def gateway_catalogue(settings: Settings) -> Catalogue:
    """The catalogue, from the same cache the pages use."""
    return fetch_models(settings)

