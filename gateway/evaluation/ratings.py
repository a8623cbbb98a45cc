"""Ratings from votes: a Bradley–Terry model with bootstrap 95 % confidence intervals, as Chatbot Arena does.

**The model.** Each model has a strength β; the chance that model i is preferred to model j is
σ(β_i − β_j) = 1 / (1 + e^−(β_i − β_j)). The strengths are the ones that make the votes most likely (maximum
likelihood), found by `scipy.optimize.minimize` (Newton-CG with the exact gradient and
Hessian) on the pairwise score matrix: W[i, j] is
how often i was preferred to j, a tie counting half a win each way (see `gateway.evaluation.votes` for what a vote
says about pairs; an all-bad verdict is a tie). A weak Gaussian prior pulls every β toward 0 (`PRIOR`: a standard
deviation of about 550 rating points), so that a model that won, or lost, every vote gets a large but finite rating
instead of an infinite one; with more than a handful of votes it changes nothing visible. Ratings are shown on the
Elo scale Chatbot Arena uses: 1000 + 400·β / ln 10, so a 400-point gap means 10:1 odds, 100 points about 64 %.

**The intervals.** The votes are resampled with replacement 1,000 times (a bootstrap: each replicate draws as many
votes as there are), each replicate is fitted, and a model's interval runs from the 2.5th to the 97.5th percentile
of its replicate ratings. Resampling votes is drawing a multinomial over the distinct kinds of vote (the same
models, the same verdict), so a replicate costs one matrix product however many votes there are; all replicates are
fitted in one optimiser call (their objectives are independent, so the sum's minimum is every replicate's minimum).

**Ranks.** A model's rank is a range when intervals overlap: its best rank is 1 + the number of models whose whole
interval lies above its own, its worst is the number of models whose interval does not lie wholly below its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, sparse
from scipy.special import expit
from threadpoolctl import threadpool_limits

from gateway.evaluation.votes import Verdict, Vote, pair_outcomes

SCALE = 400 / math.log(10)  # Elo points per unit of β
BASE = 1000.0
PRIOR = 0.1 / 2.0  # λ of the penalty λ·Σβ² (Gaussian prior, sd 1/√(2λ) ≈ 3.2 in β, ≈ 550 points)
ROUNDS = 1_000
LEVEL = 0.95
SEED = 20_240_501  # the bootstrap is reproducible: the same votes give the same intervals


class Col:
    """The columns of the leaderboard table (defined once; the page imports them)."""

    RANK = "Rank"
    MODEL = "Model"
    RATING = "Rating"
    LOWER = "95% low"
    UPPER = "95% high"
    VOTES = "Votes"
    WINS = "Wins"
    TIES = "Ties"
    LOSSES = "Losses"
    ALL_BAD = "All bad"
    TTFT = "Median TTFT (s)"
    TOKENS_PER_S = "Median tokens/s"
    COST = "Mean cost per reply ($)"
    REPLIES = "Replies measured"


@dataclass(frozen=True)
class Patterns:
    """Votes grouped by kind: for each distinct (models, verdict, winner), how many votes, and its pair scores."""

    models: tuple[str, ...]
    counts: np.ndarray  # (P,) votes of each kind
    scores: sparse.csr_matrix  # (P, M*M): W contributions of one vote of each kind
    all_bad: np.ndarray  # (M,) all-bad votes each model was part of
    appearances: np.ndarray  # (M,) votes each model was part of

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def matrix(self, counts: np.ndarray | None = None) -> np.ndarray:
        """W for the given counts per kind (B, P) → (B, M, M); the observed counts by default → (M, M)."""
        m = len(self.models)
        if counts is None:
            return np.asarray(self.scores.T @ self.counts.astype(float)).reshape(m, m)
        return np.asarray(self.scores.T @ counts.T.astype(float)).T.reshape(len(counts), m, m)


def patterns(votes: pd.DataFrame | Sequence[Vote]) -> Patterns:
    """Group votes by kind: Vote records, or a frame with columns models, verdict, winner and, when already counted
    by kind (as the store does), count."""
    if not isinstance(votes, pd.DataFrame):
        votes = pd.DataFrame({"models": [tuple(v.models) for v in votes], "verdict": [v.verdict.value for v in votes],
                              "winner": [v.winner for v in votes]})
    if votes.empty:
        empty = sparse.csr_matrix((0, 0))
        return Patterns((), np.zeros(0, dtype=np.int64), empty, np.zeros(0), np.zeros(0))
    votes = votes.assign(winner=votes["winner"].fillna(""), models=[tuple(sorted(m)) for m in votes["models"]])
    if "count" not in votes:
        votes = votes.assign(count=1)
    kinds = votes.groupby(["models", "verdict", "winner"], sort=False)["count"].sum()
    names = tuple(sorted({m for models in kinds.index.get_level_values(0) for m in models}))
    index = {name: i for i, name in enumerate(names)}
    m = len(names)
    rows, cols, values = [], [], []
    all_bad, appearances = np.zeros(m), np.zeros(m)
    for p, ((models, verdict, winner), count) in enumerate(kinds.items()):
        vote = Vote("", tuple(models), Verdict(verdict), winner or None)
        for a, b, score in pair_outcomes(vote):
            i, j = index[a], index[b]
            rows += [p, p]
            cols += [i * m + j, j * m + i]
            values += [score, 1.0 - score]
        members = [index[name] for name in models]
        appearances[members] += count
        if vote.verdict is Verdict.ALL_BAD:
            all_bad[members] += count
    scores = sparse.csr_matrix((values, (rows, cols)), shape=(len(kinds), m * m))
    return Patterns(names, kinds.to_numpy(dtype=np.int64), scores, all_bad, appearances)


def fit(wins: np.ndarray, prior: float = PRIOR, start: np.ndarray | None = None) -> np.ndarray:
    """Bradley–Terry strengths β for score matrices W: (M, M) → (M,), or a batch (B, M, M) → (B, M).
    `prior` 0 is plain maximum likelihood (it must then exist: no model may win or lose every comparison)."""
    batch = wins if wins.ndim == 3 else wins[None]
    b, m, _ = batch.shape
    if m == 0:
        return np.zeros((b, 0)) if wins.ndim == 3 else np.zeros(0)
    first, second = np.triu_indices(m, 1)
    met = (batch[:, first, second] + batch[:, second, first]).any(axis=0)  # pairs that were ever compared
    first, second = first[met], second[met]
    ahead, behind = batch[:, first, second], batch[:, second, first]  # (B, pairs): scores of first, of second
    met_total = ahead + behind
    incidence = np.zeros((m, len(first)))  # β @ incidence = β_first − β_second for every pair
    incidence[first, np.arange(len(first))] = 1.0
    incidence[second, np.arange(len(first))] = -1.0
    curvature: dict[bytes, np.ndarray] = {}  # at the last point the Hessian was asked for

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        beta = flat.reshape(b, m)
        diff = beta @ incidence
        soft = np.logaddexp(0.0, -diff)  # −log P(first preferred); −log P(second preferred) = soft + diff
        loss = float((met_total * soft + behind * diff).sum() + prior * (beta ** 2).sum())
        chance = np.exp(-soft)  # P(first preferred to second)
        grad = (met_total * chance - ahead) @ incidence.T + 2 * prior * beta
        return loss, grad.ravel()

    def hessp(flat: np.ndarray, vector: np.ndarray) -> np.ndarray:
        key = flat.tobytes()
        if key not in curvature:
            chance = expit(flat.reshape(b, m) @ incidence)
            curvature.clear()
            curvature[key] = met_total * chance * (1.0 - chance)
        step = vector.reshape(b, m)
        return ((curvature[key] * (step @ incidence)) @ incidence.T + 2 * prior * step).ravel()

    x0 = np.zeros(b * m) if start is None else np.broadcast_to(start, (b, m)).ravel().copy()
    with threadpool_limits(1):  # tiny matrices: BLAS threads only wait for each other (and for a busy host)
        found = optimize.minimize(objective, x0, jac=True, hessp=hessp, method="Newton-CG",
                                  options={"xtol": 1e-7, "maxiter": 200})
    beta = found.x.reshape(b, m)
    beta -= beta.mean(axis=1, keepdims=True)  # only differences mean anything
    return beta if wins.ndim == 3 else beta[0]


def rating(beta: np.ndarray) -> np.ndarray:
    return BASE + SCALE * beta


def bootstrap(found: Patterns, rounds: int = ROUNDS, seed: int = SEED, prior: float = PRIOR,
              start: np.ndarray | None = None) -> np.ndarray:
    """Ratings of `rounds` bootstrap replicates of the votes: (rounds, M)."""
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(found.total, found.counts / found.total, size=rounds)
    return rating(fit(found.matrix(counts), prior, start))


def rank_ranges(lower: np.ndarray, upper: np.ndarray) -> list[tuple[int, int]]:
    """(best, worst) rank of each model from its interval (see the module docs)."""
    ranges = []
    for i in range(len(lower)):
        above = int(np.sum(np.delete(lower, i) > upper[i]))
        below = int(np.sum(np.delete(upper, i) < lower[i]))
        ranges.append((1 + above, len(lower) - below))
    return ranges


def rank_label(best: int, worst: int) -> str:
    return str(best) if best == worst else f"{best}–{worst}"


@dataclass(frozen=True)
class Board:
    """The leaderboard: one row per model, best first, and the pairwise tables for the heatmap."""

    table: pd.DataFrame  # Col.* columns
    pairs: pd.DataFrame  # Model, Opponent, Win rate, Votes (every ordered pair that met)
    votes: int


def leaderboard(votes: pd.DataFrame | Sequence[Vote], rounds: int = ROUNDS, seed: int = SEED) -> Board:
    """Ratings, intervals, ranks and counts from the votes (a frame with models, verdict, winner; or Vote records)."""
    found = patterns(votes)
    columns = [Col.RANK, Col.MODEL, Col.RATING, Col.LOWER, Col.UPPER, Col.VOTES, Col.WINS, Col.TIES, Col.LOSSES,
               Col.ALL_BAD]
    if found.total == 0:
        return Board(pd.DataFrame(columns=columns), pd.DataFrame(columns=["Model", "Opponent", "Win rate", "Votes"]),
                     0)
    wins = found.matrix()
    beta = fit(wins)
    point = rating(beta)
    replicates = bootstrap(found, rounds, seed, start=beta)
    tail = (1 - LEVEL) / 2 * 100
    lower, upper = np.percentile(replicates, [tail, 100 - tail], axis=0)
    lower, upper = np.minimum(lower, point), np.maximum(upper, point)
    totals = wins + wins.T  # comparisons of each pair
    ties = _ties(found)
    table = pd.DataFrame({
        Col.MODEL: found.models, Col.RATING: point, Col.LOWER: lower, Col.UPPER: upper,
        Col.VOTES: found.appearances.astype(int),
        Col.WINS: (wins.sum(axis=1) - ties.sum(axis=1) / 2).round().astype(int),
        Col.TIES: ties.sum(axis=1).round().astype(int),
        Col.LOSSES: (wins.T.sum(axis=1) - ties.sum(axis=1) / 2).round().astype(int),
        Col.ALL_BAD: found.all_bad.astype(int)})
    ranges = rank_ranges(lower, upper)
    table.insert(0, Col.RANK, [rank_label(*r) for r in ranges])
    table["_best"] = [r[0] for r in ranges]
    table = table.sort_values([Col.RATING, Col.MODEL], ascending=[False, True]).drop(columns="_best")
    i, j = np.nonzero(totals)
    pairs = pd.DataFrame({"Model": [found.models[k] for k in i], "Opponent": [found.models[k] for k in j],
                          "Win rate": wins[i, j] / totals[i, j], "Votes": totals[i, j].round().astype(int)})
    return Board(table.reset_index(drop=True), pairs, found.total)


def _ties(found: Patterns) -> np.ndarray:
    """Tied comparisons per pair (M, M): the half-scores of the tie and all-bad kinds."""
    m = len(found.models)
    ties = np.zeros((m, m))
    dense = found.scores.tocoo()
    for p, col, value in zip(dense.row, dense.col, dense.data):
        if value == 0.5:
            ties[col // m, col % m] += found.counts[p]
    return ties
