"""Bradley–Terry ratings and their 95 % intervals, against cases worked out by hand, the few-votes cases an analyst
meets first, and simulated votes from known strengths (how often the intervals cover the truth)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

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
    table = board([best("a", "a", "b")] * 3)
    assert list(table.index) == ["a", "b"]
    assert 1000 < table.loc["a", Col.RATING] < 1400  # large, finite
    assert table.loc["a", Col.RATING] + table.loc["b", Col.RATING] == pytest.approx(2000)


def test_interval_matches_the_binomial_by_hand():
    # 58 wins to 42: the log-odds gap ln(58/42) has a standard error √(1 / (100 · 0.58 · 0.42)); each model's centred
    # strength is half the gap, so its interval is ±1.96 · half that error, in rating points.
    votes = [best("a", "a", "b")] * 58 + [best("b", "a", "b")] * 42
    table = board(votes)
    half = 1.96 * POINTS / 2 * math.sqrt(1 / (100 * 0.58 * 0.42))
    assert table.loc["a", Col.UPPER] - table.loc["a", Col.RATING] == pytest.approx(half, abs=1)
    assert table.loc["a", Col.RATING] - table.loc["a", Col.LOWER] == pytest.approx(half, abs=1)
    assert table.loc["a", Col.RATING] == pytest.approx(1000 + POINTS / 2 * math.log(58 / 42), abs=2)  # prior: ~0
    assert table.loc["a", Col.RANK] == "1–2" and table.loc["b", Col.RANK] == "1–2"  # the intervals overlap


def test_six_votes_all_one_way_are_wide_and_provisional_not_a_point():
    # What a bootstrap got wrong: every resample of six identical votes is the same data (an interval of no width).
    table = board([best("a", "a", "b")] * 6)
    assert table.loc["a", Col.RATING] > table.loc["b", Col.RATING]
    assert table.loc["a", Col.UPPER] - table.loc["a", Col.LOWER] >= 100
    assert table.loc["a", Col.LOWER] < 1000 < table.loc["a", Col.UPPER]  # six votes cannot say by how much
    assert table[Col.PROVISIONAL].all()
    assert list(table[Col.RANK]) == ["1–2", "1–2"]


def test_three_votes_each_way_share_the_rank():
    table = board([best("a", "a", "b")] * 3 + [best("b", "a", "b")] * 3)
    assert list(table[Col.RANK]) == ["1–2", "1–2"]
    assert table.loc["a", Col.UPPER] - table.loc["a", Col.LOWER] >= 100


def test_enough_votes_are_no_longer_provisional():
    votes = [best("a", "a", "b")] * 12 + [best("b", "a", "b")] * 8 + [best("c", "b", "c")] * 5
    table = board(votes)
    assert ratings.PROVISIONAL_VOTES == 20
    assert not table.loc["a", Col.PROVISIONAL] and not table.loc["b", Col.PROVISIONAL]  # 20 and 25 votes
    assert table.loc["c", Col.PROVISIONAL]  # 5


def test_a_vote_on_three_models_is_one_vote_not_two_independent_wins():
    # The same pair scores, once from 100 three-model votes (each winner beats both others in ONE vote: two wins that
    # always come together) and once from 200 independent two-model votes: same ratings, but the model-based error
    # would count the three-model votes as twice the evidence they are; the robust (sandwich) error does not.
    three = [best("a", "a", "b", "c")] * 50 + [best("b", "a", "b", "c")] * 30 + [best("c", "a", "b", "c")] * 20
    pairs = ([best("a", "a", "b")] * 50 + [best("b", "a", "b")] * 30 + [best("a", "a", "c")] * 50
             + [best("c", "a", "c")] * 20 + [best("b", "b", "c")] * 30 + [best("c", "b", "c")] * 20)
    together, apart = board(three), board(pairs)
    pd.testing.assert_series_equal(together[Col.RATING], apart[Col.RATING])
    widths = [(t[Col.UPPER] - t[Col.LOWER]) for t in (together, apart)]
    assert (widths[0] > 1.1 * widths[1]).all()


def simulate(rng: np.random.Generator, strengths: np.ndarray, count: int) -> pd.DataFrame:
    """`count` two-model votes between random pairs, each won as Bradley–Terry says for the true strengths."""
    m = len(strengths)
    first = rng.integers(0, m, count)
    second = (first + rng.integers(1, m, count)) % m  # another model
    won = rng.random(count) < 1 / (1 + np.exp(strengths[second] - strengths[first]))
    names = np.array([f"m{i}" for i in range(m)])
    return pd.DataFrame({"models": [(a, b) for a, b in zip(names[first], names[second])],
                         "verdict": Verdict.BEST.value, "winner": np.where(won, names[first], names[second])})


def coverage(votes_per_board: int, boards: int = 120, seed: int = 11) -> float:
    """Share of (board, model) intervals that hold the model's true centred rating."""
    rng = np.random.default_rng(seed)
    strengths = np.array([-1.0, -0.3, 0.2, 1.1])
    held = total = 0
    for _ in range(boards):
        table = board(simulate(rng, strengths, votes_per_board))
        present = np.array([int(name[1:]) for name in table.index])
        truth = 1000 + POINTS * (strengths[present] - strengths[present].mean())
        held += int(((table[Col.LOWER] <= truth) & (truth <= table[Col.UPPER])).sum())
        total += len(table)
    return held / total


COVERAGE_SIZES = (10, 50, 500)


@pytest.mark.parametrize("votes", COVERAGE_SIZES)
def test_95_percent_intervals_cover_known_strengths_at_any_sample_size(votes):
    # README's coverage table is this simulation (python -m tests.test_ratings prints it).
    assert coverage(votes) >= 0.90


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
    table = board([three, tie("a", "b", verdict=Verdict.ALL_BAD)])
    assert table.loc["a", Col.ALL_BAD] == 1 and table.loc["c", Col.ALL_BAD] == 0
    assert table.loc["a", Col.TIES] == 1 and table.loc["b", Col.WINS] == 2 and table.loc["a", Col.LOSSES] == 1
    assert table.loc["a", Col.VOTES] == 2


def test_model_order_does_not_change_the_ratings_and_no_votes_is_an_empty_board():
    forward = board([best("a", "a", "b"), best("b", "b", "c")])
    backward = board([best("a", "b", "a"), best("b", "c", "b")])
    pd.testing.assert_frame_equal(forward, backward)
    empty = ratings.leaderboard([])
    assert empty.votes == 0 and empty.table.empty


def test_rank_ranges():
    lower, upper = np.array([10.0, 5.0, 0.0]), np.array([20.0, 12.0, 4.0])
    assert ratings.rank_ranges(lower, upper) == [(1, 2), (1, 2), (3, 3)]
    assert [ratings.rank_label(*r) for r in ratings.rank_ranges(lower, upper)] == ["1–2", "1–2", "3"]


if __name__ == "__main__":
    print("| Votes | Intervals holding the true rating |\n| --- | --- |")
    for size in COVERAGE_SIZES:
        print(f"| {size} | {coverage(size):.1%} |")
