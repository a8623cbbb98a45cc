"""A judge model's verdicts as their own kind of vote, on SQLite and a real PostgreSQL: beside the analyst's own vote
on the same round, counted by the leaderboard only when asked for, and read back with people's votes for agreement;
and the migration that made room for them."""

from __future__ import annotations

from gateway.conversation import new_id
from gateway.evaluation import judge, ratings
from gateway.evaluation.votes import Verdict, Vote, compare_subject
from gateway.store.evaluation import Evaluations, VoteFilter

ANA = "ana@example.com"


def test_a_judge_verdict_sits_beside_the_analysts_own_vote_and_counts_only_when_asked(store):
    ev = Evaluations(store)
    subjects = [compare_subject("c1", new_id()) for _ in range(4)]
    for subject in subjects:  # Ana: x wins all four
        assert ev.vote(Vote(subject, ("x", "y"), Verdict.BEST, "x"), ANA) is True
    # the judge (run by Ana): x on the first two, a flagged tie on the third, y on the fourth
    verdicts = [judge.judge_pair("x", "y", '{"winner": "A"}', '{"winner": "B"}'),
                judge.judge_pair("x", "y", '{"winner": "A"}', '{"winner": "B"}'),
                judge.judge_pair("x", "y", '{"winner": "A"}', '{"winner": "A"}'),
                judge.judge_pair("x", "y", '{"winner": "B"}', '{"winner": "A"}')]
    for subject, found in zip(subjects, verdicts):
        vote = found.vote(subject)
        assert vote is not None
        assert ev.vote(Vote(**{**vote.__dict__, "judge": "demo-judge", "flagged": found.flagged}), ANA) is True
    assert ev.vote(Vote(subjects[0], ("x", "y"), Verdict.TIE, judge="demo-judge"), ANA) is True  # changed in place

    mine = ev.my_vote(subjects[0], ANA)
    assert mine.judge == "" and mine.winner == "x"  # the analyst's own vote, not the judge's
    assert len(ev.my_votes("compare:c1:", ANA)) == 4
    people = ev.votes(VoteFilter())
    assert people["count"].sum() == 4 and set(people["winner"]) == {"x"}
    judged = ev.votes(VoteFilter(source="judge"))
    assert sorted(zip(judged["verdict"], judged["winner"].fillna(""), judged["count"])) == [
        ("best", "x", 1), ("best", "y", 1), ("tie", "", 2)]
    assert ev.votes(VoteFilter(source="both"))["count"].sum() == 8

    every = ev.judged(VoteFilter())
    assert isinstance(every, list) and len(every) == 8
    found = judge.agreement([v for v in every if not v.judge], [v for v in every if v.judge])
    assert found.subjects == 4 and found.agree == 0.25  # only the second: the first was changed to a tie
    assert sum(v.flagged for v in every) == 1
    board = ratings.leaderboard(ev.votes(VoteFilter(source="judge"))).table.set_index(ratings.Col.MODEL)
    assert board.loc["x", ratings.Col.WINS] == 1 and board.loc["y", ratings.Col.WINS] == 1


def test_the_leaderboard_shows_judge_verdicts_on_request_with_agreement_and_consistency(app_env):
    from gateway.config import load_settings
    from gateway.store import LOCAL_OWNER, get_store
    from tests.support.pages import open_page

    ev = Evaluations(get_store(load_settings(secrets={}, dotenv_path=None)))
    for i in range(3):
        subject = compare_subject("c", new_id())
        ev.vote(Vote(subject, ("x", "y"), Verdict.BEST, "x"), LOCAL_OWNER)
        found = judge.judge_pair("x", "y", '{"winner": "A"}', '{"winner": "A" }' if i == 2 else '{"winner": "B"}')
        vote = found.vote(subject)
        assert vote is not None
        ev.vote(Vote(**{**vote.__dict__, "judge": "demo-judge", "flagged": found.flagged}), LOCAL_OWNER)

    at = open_page("pages/leaderboard.py")
    captions = " ".join(c.value for c in at.caption)
    assert "3 votes · 2 models" in captions  # people only, by default
    assert "position consistency 67%" in captions and "agreement on 3 votes both made: 67%" in captions
    at.segmented_control(key="board_source").set_value("Judge").run()
    assert "3 votes · 2 models" in " ".join(c.value for c in at.caption)
    table = next(f.value for f in at.dataframe if ratings.Col.RATING in f.value.columns).set_index(ratings.Col.MODEL)
    assert table.loc["x", ratings.Col.WINS] == 2 and table.loc["x", ratings.Col.TIES] == 1
    at.segmented_control(key="board_source").set_value("Both").run()
    assert "6 votes · 2 models" in " ".join(c.value for c in at.caption)
    assert not at.exception
