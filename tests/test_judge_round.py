"""Judging a /compare round with a judge model, against the real proxy: a real comparison of a good and a worse model
(eval-creative and eval-quick, which is off by one on 38 × 27) is judged by `eval-judge` (demo-judge) in both orders
through the sending door; the verdict is the judge's vote on the round and ranks them right on the leaderboard's
judge board; the demo judge's lean to the first answer shows as a flagged tie; the judge's cost is quoted before,
in the analyst's ledger after, attributed to her, and refused over budget before anything is sent. And the page's
"Judge this round"."""

from __future__ import annotations

import time

import pytest

from gateway.catalogue import fetch_models
from gateway.config import load_settings
from gateway.conversation import Conversation, Round
from gateway.evaluation import judge, judge_round, ratings
from gateway.evaluation.judge import TEMPLATES, Mode
from gateway.evaluation.votes import Verdict, compare_subject
from gateway.params import ChatParams
from gateway.reply import Metrics, Outcome, Reply
from gateway.sending import Sender, start_compare
from gateway.store import LOCAL_OWNER, get_store
from gateway.store.evaluation import Evaluations, VoteFilter
from gateway.store.judge_passes import JudgePasses
from tests.support import upstream
from ui.judge_round import OPEN

ANA = "ana@example.com"
QUESTION = "What is 38 * 27?"  # 1026: demo-creative says so, demo-quick says 1025
TEMPLATE = TEMPLATES[Mode.PAIRWISE]


def judge_model(config):
    return next(m for m in fetch_models(config).models if m.key == "eval-judge")


def compared(config, prompt: str = QUESTION) -> Conversation:
    """A real comparison round of eval-quick and eval-creative, through the door, saved for Ana."""
    catalogue = {m.key: m for m in fetch_models(config).models}
    models = [catalogue["eval-quick"], catalogue["eval-creative"]]
    comparison = Conversation("compare", models=[m.key for m in models])
    params = {m.key: ChatParams() for m in models}
    started = start_compare(comparison, models, prompt, params, 1, config, get_store(config),
                            Sender(ANA, "compare", comparison.id))
    assert not isinstance(started, Exception)
    assert started.run.wait(60)
    started.run.record(comparison, prompt, params)
    get_store(config).save_round(comparison, 0, ANA)
    started.settle()
    return comparison


def judge_requests(*needles: str) -> list[str]:
    """The judge prompts demo-judge received that hold every needle."""
    return [r["messages"][-1]["content"] for r in list(upstream.RECEIVED) if r.get("model") == "demo-judge"
            and all(n in r["messages"][-1]["content"] for n in needles)]


def test_a_judge_ranks_the_good_model_of_a_real_comparison_first_asking_both_orders(app_env):
    from tests.test_one_door import recorded_calls

    config = load_settings(secrets={}, dotenv_path=None)
    store = get_store(config)
    evaluations = Evaluations(store)
    comparison = compared(config)
    round_ = comparison.latest
    replies = round_.replies
    assert "1025" in replies["eval-quick"].text and "1026" in replies["eval-creative"].text
    assert store.flush(10)
    before = store.spending(ANA, since=0, until=time.time() + 60)[0]

    todo = judge_round.pairs(round_)
    quote = judge_round.quote(judge_model(config), todo, TEMPLATE, config)
    assert len(todo) == 1 and quote > 0
    upstream.RECEIVED.clear()
    found = judge_round.judge_round(comparison, round_, ANA, judge_model(config), TEMPLATE, evaluations, config,
                                    Sender(ANA, "judge", comparison.id), concurrency=4)

    asked = judge_requests("1025", "1026")
    assert len(asked) == 2  # both orders reached the upstream
    assert sorted(text.index("1025") < text.index("1026") for text in asked) == [False, True]
    assert found.vote is not None and (found.vote.verdict, found.vote.winner, found.vote.flagged) == (
        Verdict.BEST, "eval-creative", False)
    saved = judge_round.verdict_of(evaluations, comparison, round_, ANA, "eval-judge")
    assert saved is not None and saved.subject == compare_subject(comparison.id, round_.key)
    assert saved.winner == "eval-creative" and saved.judge == "eval-judge"
    assert evaluations.my_vote(saved.subject, ANA) is None  # the judge's vote, not Ana's own

    board = ratings.leaderboard(evaluations.votes(VoteFilter(source="judge"))).table
    assert list(board[ratings.Col.MODEL]) == ["eval-creative", "eval-quick"]  # ranked right
    assert evaluations.votes(VoteFilter()).empty  # people's board untouched

    # The cost: quoted before (an upper bound: 300 tokens a verdict), recorded after in Ana's ledger, attributed.
    assert 0 < found.progress.cost <= quote
    spent = store.spending(ANA, since=0, until=time.time() + 60)[0]
    assert spent - before == pytest.approx(found.progress.cost)
    deadline, seen = time.monotonic() + 60, []
    while len(seen) < 2 and time.monotonic() < deadline:  # the proxy's callbacks run after the response
        seen = [c for c in recorded_calls(app_env) if (c["requester_metadata"] or {}).get("conversation_id")
                == comparison.id and "page:judge" in c["request_tags"]]
        time.sleep(0.05)
    assert len(seen) == 2 and {c["end_user"] for c in seen} == {ANA}


def test_the_demo_judges_lean_to_the_first_answer_shows_as_a_flagged_tie(app_env):
    """Both replies right: demo-judge says "A" whichever it is shown first, so the two orders disagree."""
    config = load_settings(secrets={}, dotenv_path=None)
    evaluations = Evaluations(get_store(config))
    comparison = compared(config, "What is the capital of Japan?")
    found = judge_round.judge_round(comparison, comparison.latest, ANA, judge_model(config), TEMPLATE, evaluations,
                                    config, Sender(ANA, "judge", comparison.id), concurrency=2)
    assert found.progress.flagged == 1
    assert found.vote is not None and (found.vote.verdict, found.vote.flagged) == (Verdict.TIE, True)


def test_a_round_judged_over_budget_is_refused_before_anything_is_sent(app_env, monkeypatch):
    from tests.test_one_door import spend

    monkeypatch.setenv("ANALYST_MONTHLY_BUDGET_USD", "1.00")
    config = load_settings(secrets={}, dotenv_path=None)
    comparison = Conversation("compare")
    comparison.rounds.append(Round(QUESTION, runs={
        "good": [Reply("good", "38 × 27 = 1026.", Outcome.COMPLETE, Metrics())],
        "worse": [Reply("worse", "38 × 27 = 1025.", Outcome.COMPLETE, Metrics())]}))
    spend(ANA, 0.99999)
    todo = judge_round.pairs(comparison.latest)
    upstream.RECEIVED.clear()
    refused = judge_round.refusal(judge_model(config), todo, TEMPLATE, config, Evaluations(get_store(config)),
                                  Sender(ANA, "judge", comparison.id))
    assert refused is not None and "budget" in str(refused)
    assert judge_requests("1025") == []


# --- One verdict from several pairs (no model calls) ------------------------------------------------------------

def pair(first: str, second: str, forward: str, backward: str) -> judge.PairJudgement:
    return judge.judge_pair(first, second, f'{{"winner": "{forward}"}}', f'{{"winner": "{backward}"}}')


def test_a_round_of_three_has_a_best_model_only_when_it_won_each_of_its_pairs_in_both_orders():
    models = ["x", "y", "z"]
    x_wins = [pair("x", "y", "A", "B"), pair("x", "z", "A", "B"), pair("y", "z", "A", "A")]  # y–z flagged
    assert judge_round.combine(models, x_wins) == judge_round.Combined(Verdict.BEST, "x", False)
    cycle = [pair("x", "y", "A", "B"), pair("y", "z", "A", "B"), pair("x", "z", "B", "A")]  # x>y>z>x
    assert judge_round.combine(models, cycle) == judge_round.Combined(Verdict.TIE, None, False)
    leaning = [pair("x", "y", "A", "A"), pair("x", "z", "A", "B"), pair("y", "z", "tie", "tie")]
    assert judge_round.combine(models, leaning) == judge_round.Combined(Verdict.TIE, None, True)
    unreadable = [pair("x", "y", "A", "B"), pair("x", "z", "A", "?"), pair("y", "z", "A", "B")]
    assert judge_round.combine(models, unreadable) is None  # never a guessed verdict
    assert judge_round.combine(models, x_wins[:2]) is None  # a pair missing


def test_only_complete_replies_are_judged():
    round_ = Round("q", runs={"a": [Reply("a", "one", Outcome.COMPLETE)], "b": [Reply("b", "two", Outcome.STOPPED)],
                              "c": [Reply("c", "three", Outcome.COMPLETE)]})
    assert judge_round.judged_models(round_) == ["a", "c"]
    assert [(p.first, p.second) for p in judge_round.pairs(round_)] == [("a", "c")]


# --- The page ----------------------------------------------------------------------------------------------------

def test_the_compare_page_judges_the_round_and_shows_the_verdict(app_env):
    from tests.test_compare_page import open_compare, send

    at = send(open_compare("eval-quick,eval-creative"), QUESTION)
    key = at.session_state["comparison"].latest.key
    assert not [s for s in at.selectbox if s.key == f"round_judge_model_{key}"]  # closed: nothing looked up
    assert not [c for c in at.caption if "quote $" in c.value]
    at.session_state[OPEN.format(key)] = True  # the analyst opens "Judge this round with a model"
    at.run()
    assert at.selectbox(key=f"round_judge_model_{key}").value == "eval-judge"
    assert any("1 pair, 2 calls (both orders): quote $" in c.value for c in at.caption)
    edited = TEMPLATE + "\nBe strict about arithmetic."
    at.text_area(key=f"round_judge_prompt_{key}").set_value(edited)
    upstream.RECEIVED.clear()
    at.button(key=f"round_judge_start_{key}").click().run()
    assert not at.exception, at.exception
    assert len(judge_requests("Be strict about arithmetic.", "1025")) == 2  # the edited prompt, both orders
    comparison = at.session_state["comparison"]
    saved = JudgePasses(get_store(load_settings(secrets={}, dotenv_path=None))).last(
        compare_subject(comparison.id, key), LOCAL_OWNER)
    assert saved is not None and saved.template == edited and saved.judge == "eval-judge"  # saved with the round
    assert any("Starts from the prompt of your last pass here (eval-judge" in c.value for c in at.caption)
    said = " ".join(i.value for i in at.info)
    assert "eval-judge on this round: **eval-creative** is best (the same in both orders)" in said
    table = next(f.value for f in at.dataframe if "Counted as" in f.value.columns)
    assert list(table["Counted as"]) == ["eval-creative"]
    assert at.button(key=f"round_judge_start_{key}").label == "Judge again"


# --- Continue from the best ------------------------------------------------------------------------------------

def test_a_thread_continues_from_each_rounds_best_reply_where_it_has_one():
    comparison = Conversation("compare")
    first = Round("q1", runs={"a": [Reply("a", "a1", Outcome.COMPLETE)], "b": [Reply("b", "b1", Outcome.COMPLETE)]})
    second = Round("q2", runs={"a": [Reply("a", "a2", Outcome.COMPLETE)], "b": [Reply("b", "b2", Outcome.COMPLETE)]})
    comparison.rounds += [first, second]
    said = [m["content"] for m in comparison.thread("a", best={first.key: "b"}) if m["role"] == "assistant"]
    assert said == ["b1", "a2"]  # round 1's best (b's), then a's own where no reply was judged best
    assert [m["content"] for m in comparison.thread("a") if m["role"] == "assistant"] == ["a1", "a2"]


def test_the_best_reply_is_the_analysts_vote_else_a_judges_verdict(store):
    from gateway.evaluation.best import best_replies
    from gateway.evaluation.votes import Vote

    evaluations = Evaluations(store)
    comparison = Conversation("compare")
    rounds = [Round(f"q{i}", runs={m: [Reply(m, f"{m}{i}", Outcome.COMPLETE)] for m in ("a", "b")}) for i in range(4)]
    comparison.rounds += rounds
    subject = [compare_subject(comparison.id, r.key) for r in rounds]
    evaluations.vote(Vote(subject[0], ("a", "b"), Verdict.BEST, "b"), ANA)  # hers
    evaluations.vote(Vote(subject[0], ("a", "b"), Verdict.BEST, "a", judge="j"), ANA)  # the judge disagrees
    evaluations.vote(Vote(subject[1], ("a", "b"), Verdict.BEST, "a", judge="j"), ANA)  # only the judge
    evaluations.vote(Vote(subject[2], ("a", "b"), Verdict.TIE), ANA)  # a tie: no best reply
    evaluations.vote(Vote(subject[3], ("a", "b"), Verdict.BEST, "b"), "bob@example.com")  # someone else's
    assert best_replies(evaluations, comparison, ANA) == {rounds[0].key: "b", rounds[1].key: "a"}


def test_after_a_vote_the_next_round_continues_every_model_from_the_winning_reply(app_env):
    from tests.test_compare_page import open_compare, send

    at = send(open_compare("eval-quick,eval-creative"), QUESTION)
    first = at.session_state["comparison"].latest
    subject = compare_subject(at.session_state["comparison"].id, first.key)
    at.radio(key=f"vote_choice_{subject}").set_value("best:eval-creative")
    at.button(key=f"FormSubmitter:vote_{subject}-Vote").click().run()
    assert at.radio(key="compare_continue").value == "own"  # today's behaviour stays the default
    at.radio(key="compare_continue").set_value("best").run()
    assert any("continues from the best reply of round 1: eval-creative" in c.value for c in at.caption)
    upstream.RECEIVED.clear()
    send(at, "And what is 39 * 27?")
    sent = {r["model"]: r["messages"] for r in list(upstream.RECEIVED)
            if r.get("model") in ("demo-quick", "demo-creative") and "39 * 27" in r["messages"][-1]["content"]}
    winning = first.replies["eval-creative"].text
    assert set(sent) == {"demo-quick", "demo-creative"}
    for messages in sent.values():  # both continue from eval-creative's reply, not eval-quick's own
        assert [m["content"] for m in messages if m["role"] == "assistant"] == [winning]
