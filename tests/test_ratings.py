"""Bradley–Terry ratings and their bootstrap intervals, against cases worked out by hand and a known ranking
recovered from simulated votes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gateway.evaluation import ratings
from gateway.evaluation.ratings import Col
from gateway.evaluation.votes import Verdict, Vote, pair_outcomes

POINTS = 400 / math.log(10)  # rating points per unit of strength


def best(winner: str, *models: str) -> Vote:
    return Vote("s", models, Verdict.BEST, winner)


def tie(*models: str, verdict: Verdict = Verdict.TIE) -> Vote:
    return Vote("s", models, verdict)


def board(votes, **kwargs):
    return ratings.leaderboard(votes, **kwargs).table.set_index(Col.MODEL)


def test_two_models_three_wins_to_one_are_ln3_apart_without_the_prior():
    wins = ratings.patterns([best("a", "a", "b")] * 3 + [best("b", "a", "b")]).matrix()
    beta = ratings.fit(wins, prior=0.0)
    assert beta[0] - beta[1] == pytest.approx(math.log(3), abs=1e-6)  # P(a over b) = 3/4 = σ(ln 3)
    assert ratings.rating(beta)[0] - ratings.rating(beta)[1] == pytest.approx(400 * math.log10(3), abs=1e-3)


def test_a_tie_counts_half_a_win_each_way():
    votes = [best("a", "a", "b")] * 2 + [tie("a", "b"), best("b", "a", "b")]  # a: 2.5 of 4
    beta = ratings.fit(ratings.patterns(votes).matrix(), prior=0.0)
    assert beta[0] - beta[1] == pytest.approx(math.log(2.5 / 1.5), abs=1e-6)


def test_pairs_that_never_met_are_placed_through_the_others():
    # a beat b 3:1 and b beat c 3:1; a and c never met: on a tree each pair's odds are its own, so a is 2·ln 3 above c
    votes = [best("a", "a", "b")] * 3 + [best("b", "a", "b")] + [best("b", "b", "c")] * 3 + [best("c", "b", "c")]
    rated = ratings.rating(ratings.fit(ratings.patterns(votes).matrix(), prior=0.0))
    assert rated == pytest.approx([1000 + 400 * math.log10(3), 1000, 1000 - 400 * math.log10(3)], abs=1e-3)


def test_the_prior_keeps_a_clean_sweep_finite_and_ordered():
    table = board([best("a", "a", "b")] * 3, rounds=200)
    assert list(table.index) == ["a", "b"]
    assert 1000 < table.loc["a", Col.RATING] < 1400  # large, finite
    assert table.loc["a", Col.RATING] + table.loc["b", Col.RATING] == pytest.approx(2000)


def test_bootstrap_interval_matches_the_binomial_by_hand():
    # 58 wins to 42: a replicate's wins are Binomial(100, 0.58); the 2.5th and 97.5th percentiles of that
    # (scipy's exact binomial) give the interval of the rating gap 400·log10(k / (100 − k)), half on each side.
    votes = [best("a", "a", "b")] * 58 + [best("b", "a", "b")] * 42
    table = board(votes, rounds=2000)
    low_k, high_k = stats.binom.ppf([0.025, 0.975], 100, 0.58)
    expected_low = 1000 + 200 * math.log10(low_k / (100 - low_k))
    expected_high = 1000 + 200 * math.log10(high_k / (100 - high_k))
    assert table.loc["a", Col.LOWER] == pytest.approx(expected_low, abs=5)  # ±1 win of Monte Carlo and prior
    assert table.loc["a", Col.UPPER] == pytest.approx(expected_high, abs=5)
    assert table.loc["a", Col.LOWER] < table.loc["a", Col.RATING] < table.loc["a", Col.UPPER]
    assert table.loc["a", Col.RANK] == "1–2" and table.loc["b", Col.RANK] == "1–2"  # the intervals overlap


def test_a_known_ranking_is_recovered_from_simulated_votes():
    rng = np.random.default_rng(7)
    strengths = {f"model-{i}": 0.5 * i for i in range(8)}  # 87 points apart
    names = list(strengths)
    votes = []
    for _ in range(6000):
        a, b = rng.choice(names, 2, replace=False)
        p = 1 / (1 + math.exp(strengths[b] - strengths[a]))
        votes.append(best(a if rng.random() < p else b, a, b))
    table = board(votes)
    assert list(table.index) == names[::-1]
    truth = {n: 1000 + POINTS * (s - np.mean(list(strengths.values()))) for n, s in strengths.items()}
    covered = sum(table.loc[n, Col.LOWER] <= truth[n] <= table.loc[n, Col.UPPER] for n in names)
    assert covered >= 6  # 95 % intervals: all 8 or nearly
    assert (table[Col.RANK] == [str(i) for i in range(1, 9)]).sum() >= 6  # mostly separated at this size


def test_votes_on_three_models_and_all_bad_verdicts():
    three = best("b", "a", "b", "c")
    assert sorted(pair_outcomes(three)) == [("b", "a", 1.0), ("b", "c", 1.0)]
    assert sorted(pair_outcomes(tie("a", "b", "c", verdict=Verdict.ALL_BAD))) == [
        ("a", "b", 0.5), ("a", "c", 0.5), ("b", "c", 0.5)]
    table = board([three, tie("a", "b", verdict=Verdict.ALL_BAD)], rounds=50)
    assert table.loc["a", Col.ALL_BAD] == 1 and table.loc["c", Col.ALL_BAD] == 0
    assert table.loc["a", Col.TIES] == 1 and table.loc["b", Col.WINS] == 2 and table.loc["a", Col.LOSSES] == 1
    assert table.loc["a", Col.VOTES] == 2


def test_model_order_does_not_change_the_ratings_and_no_votes_is_an_empty_board():
    forward = board([best("a", "a", "b"), best("b", "b", "c")], rounds=100)
    backward = board([best("a", "b", "a"), best("b", "c", "b")], rounds=100)
    pd.testing.assert_frame_equal(forward, backward)
    empty = ratings.leaderboard([])
    assert empty.votes == 0 and empty.table.empty


def test_rank_ranges():
    lower, upper = np.array([10.0, 5.0, 0.0]), np.array([20.0, 12.0, 4.0])
    assert ratings.rank_ranges(lower, upper) == [(1, 2), (1, 2), (3, 3)]
    assert [ratings.rank_label(*r) for r in ratings.rank_ranges(lower, upper)] == ["1–2", "1–2", "3"]
