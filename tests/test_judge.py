"""The judge: prompts filled in safely, answers read strictly, pairs asked in both orders with a disagreement counted
as a flagged tie, agreement with people (Cohen's κ), and the offline demo-judge with its lean to the first answer."""

from __future__ import annotations

import pytest

from demo.models import respond
from gateway.evaluation import judge
from gateway.evaluation.judge import TEMPLATES, Choice, Mode, TemplateError
from gateway.evaluation.votes import Verdict, Vote


def test_a_reply_holding_braces_is_inserted_as_it_is_never_expanded():
    first, second = judge.pair_messages(TEMPLATES[Mode.PAIRWISE], "What is 2+2?", "It is {second} and {x}", "4")
    text = first[1]["content"]
    assert "It is {second} and {x}" in text and text.index("[Answer A]") < text.index("{second} and") < text.index(
        "[Answer B]")
    assert second[1]["content"].index("\n4\n") < second[1]["content"].index("[Answer B]")  # swapped


def test_a_judge_prompt_missing_a_field_is_refused_in_words():
    with pytest.raises(TemplateError, match=r"needs \{second\}"):
        judge.messages(Mode.PAIRWISE, "Compare {first} for {question}", question="q", first="a", second="b")


@pytest.mark.parametrize("answer, choice", [
    ('{"winner": "A", "reason": "right"}', Choice.FIRST),
    ('Sure.\n```json\n{"winner": "b", "reason": "x"}\n```', Choice.SECOND),
    ('{"winner": "tie"}', Choice.TIE),
    ("Reasoning...\nWinner: B", Choice.SECOND),
    ('{"winner": "C"}', None),
    ("I think the first one.", None),  # unreadable: never a guess
])
def test_pairwise_answers_are_read_strictly(answer, choice):
    assert judge.read_choice(answer) is choice


@pytest.mark.parametrize("answer, value", [('{"score": 0.7, "reason": "ok"}', 0.7), ("Score: 1", 1.0),
                                           ('{"score": 7}', None), ('{"score": "high"}', None)])
def test_scores_outside_zero_to_one_or_not_numbers_are_unreadable(answer, value):
    found = judge.read_score(answer)
    assert (found.value if found else None) == value


def test_both_orders_agreeing_give_the_winner_and_disagreeing_give_a_flagged_tie():
    agree = judge.judge_pair("m1", "m2", '{"winner": "A"}', '{"winner": "B"}')  # m1 both times
    assert agree.consistent and not agree.flagged and agree.verdict == (Verdict.BEST, "m1")
    lean = judge.judge_pair("m1", "m2", '{"winner": "A"}', '{"winner": "A"}')  # whatever came first
    assert lean.flagged and lean.verdict == (Verdict.TIE, None)
    unreadable = judge.judge_pair("m1", "m2", '{"winner": "A"}', "no idea")
    assert unreadable.verdict is None and unreadable.vote("s") is None
    assert judge.position_consistency([agree, lean, unreadable]) == 0.5
    vote = agree.vote("compare:c:r")
    assert vote is not None and vote.winner == "m1" and vote.models == ("m1", "m2")


def test_agreement_and_kappa_with_people():
    def vote(subject, winner=None):
        return Vote(subject, ("x", "y"), Verdict.BEST if winner else Verdict.TIE, winner)

    people = [vote("s1", "x"), vote("s2", "y"), vote("s3", "x"), vote("s4"), vote("only-people", "x")]
    machine = [vote("s1", "x"), vote("s2", "y"), vote("s3", "y"), vote("s4"), vote("only-judge", "y")]
    found = judge.agreement(people, machine)
    assert found.subjects == 4 and found.agree == 0.75
    # observed 0.75; people say x .5, y .25, tie .25; the judge x .25, y .5, tie .25: chance .125+.125+.0625
    assert found.kappa == pytest.approx((0.75 - 0.3125) / (1 - 0.3125))
    assert judge.agreement(people, []).agree is None


def ask_demo(messages):
    reply = respond("demo-judge", {"messages": messages})
    assert reply is not None
    return "".join(reply.pieces)


def test_the_demo_judge_prefers_the_right_answer_in_both_orders():
    forward, backward = judge.pair_messages(TEMPLATES[Mode.PAIRWISE], "What is 17 * 23?", "17 × 23 = 390.",
                                            "17 × 23 = 391.")
    found = judge.judge_pair("quick", "creative", ask_demo(forward), ask_demo(backward))
    assert found.consistent and found.verdict == (Verdict.BEST, "creative")


def test_the_demo_judge_leans_to_the_first_answer_and_the_swap_catches_it():
    forward, backward = judge.pair_messages(TEMPLATES[Mode.PAIRWISE], "What is 17 * 23?", "It is 391.",
                                            "391, since 17 × 23 = 391.")
    found = judge.judge_pair("a", "b", ask_demo(forward), ask_demo(backward))
    assert (found.forward, found.backward) == (Choice.FIRST, Choice.FIRST)
    assert found.flagged and found.verdict == (Verdict.TIE, None)


def test_the_demo_judge_scores_against_a_reference_and_a_rubric():
    right = judge.messages(Mode.REFERENCE, TEMPLATES[Mode.REFERENCE], question="What is the capital of Japan?",
                           expected="Tokyo", reply="The capital is Tokyo.")
    wrong = judge.messages(Mode.RUBRIC, TEMPLATES[Mode.RUBRIC], question="What is 6 * 7?",
                           rubric="Gives the right number.", reply="6 × 7 = 41.")
    assert judge.read_score(ask_demo(right)) == judge.Score(1.0, "It gives the expected answer.")
    score = judge.read_score(ask_demo(wrong))
    assert score is not None and score.value == 0.0 and "42" in score.reason


def test_the_team_default_judge_is_used_when_the_catalogue_has_it_else_a_judge_by_name():
    keys = ["gpt-4o", "eval-judge", "claude"]
    assert judge.default_judge(keys, "claude") == "claude"
    assert judge.default_judge(keys, "gone-model") == "eval-judge"  # JUDGE_MODEL not served (any more)
    assert judge.default_judge(keys) == "eval-judge"
    assert judge.default_judge(["gpt-4o"]) is None


def test_agreement_is_by_the_winners_name_when_the_judge_saw_fewer_models_than_the_person():
    """A round of three where one reply failed: the person voted among all three, the judge among the two complete
    ones; both picked `b` — that is agreement, whatever place `b` has among each vote's models."""
    person = Vote("compare:c:r", ("a", "b", "c"), Verdict.BEST, "b")
    judged = Vote("compare:c:r", ("b", "c"), Verdict.BEST, "b", judge="j")
    assert judge.agreement([person], [judged]).agree == 1.0
