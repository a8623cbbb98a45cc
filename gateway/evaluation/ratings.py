"""Ratings from votes: a Bradley–Terry model with 95 % intervals that stay honest at any number of votes.

**The model.** Each model has a strength β; the chance that model i is preferred to model j is
σ(β_i − β_j) = 1 / (1 + e^−(β_i − β_j)). The strengths are the ones that make the votes most likely (maximum
likelihood), found by `scipy.optimize.minimize` (Newton-CG with the exact gradient and
Hessian) on the pairwise score matrix: W[i, j] is
how often i was preferred to j, a tie counting half a win each way (see `gateway.evaluation.votes` for what a vote
says about pairs; an all-bad verdict is a tie). A weak Gaussian prior pulls every β toward 0 (`PRIOR`: a standard
deviation of about 550 rating points), so that a model that won, or lost, every vote gets a large but finite rating
instead of an infinite one; with more than a handful of votes it changes nothing visible. Ratings are shown on the
Elo scale Chatbot Arena uses: 1000 + 400·β / ln 10, so a 400-point gap means 10:1 odds, 100 points about 64 %.

**The intervals.** A model's 95 % interval is its rating ± 1.96 standard errors, the standard error being the larger
of two estimates of the same thing, both read off the penalised fit at its optimum:
- the *model-based* one (a Laplace approximation): the inverse of the penalised log-likelihood's curvature (its
  Hessian, prior included). It is how far the strengths could move before the votes become clearly less likely, and
  it stays honest when the votes are few and all alike: six votes all for one of two models leave the likelihood
  almost flat on the winner's side, so the interval is hundreds of points wide, never a point;
- the *robust* one ("sandwich", as LMArena's `arena-rank` defaults to): H⁻¹ · Σ (each vote's gradient)(its
  gradient)ᵀ · H⁻¹, which widens the interval when the pair results are not the independent coin flips the model
  assumes: a vote on three models is one vote that gives its winner two wins at once, not two separate wins.
Either alone fails somewhere: the sandwich collapses to nothing when every vote is the same (each vote's gradient
is then the same small vector, which is also why a bootstrap of six identical votes gives an interval of zero
width: every resample is the same data); the model-based error trusts the model. The larger of the two does
neither. Both are a matrix inverse of size M, so the whole board costs milliseconds however many votes there are.
Checked by simulation (tests/test_ratings.py, table in README): for known strengths, the intervals cover the true
rating at 95–98 % with 10, 50 and 500 votes. The rating is the centred strength (mean 0), so the interval is that
of the centred strength: the covariance is taken through the centring.

**Provisional.** A model in fewer than `PROVISIONAL_VOTES` votes is marked provisional: its rating can still move
a long way with the next few votes (its interval says by how much).

**Ranks.** A model's rank is a range when intervals overlap: its best rank is 1 + the number of models whose whole
interval lies above its own, its worst is the number of models whose interval does not lie wholly below its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, sparse, stats
from scipy.special import expit
from threadpoolctl import threadpool_limits

from gateway.evaluation.votes import Verdict, Vote, pair_outcomes

SCALE = 400 / math.log(10)  # Elo points per unit of β
BASE = 1000.0
PRIOR = 0.1 / 2.0  # λ of the penalty λ·Σβ² (Gaussian prior, sd 1/√(2λ) ≈ 3.2 in β, ≈ 550 points)
LEVEL = 0.95
Z = float(stats.norm.ppf(0.5 + LEVEL / 2))  # 1.96
PROVISIONAL_VOTES = 20  # fewer votes than this: the rating is marked provisional


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
    PROVISIONAL = "Provisional"
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


def standard_errors(found: Patterns, beta: np.ndarray, prior: float = PRIOR) -> np.ndarray:
    """Standard error of each model's centred strength at the penalised optimum `beta`: the larger of the
    model-based (Laplace) and the robust (sandwich) estimate (see the module docs). (M,), in units of β."""
    m = len(found.models)
    wins = found.matrix()
    met = wins + wins.T  # comparisons of each pair
    chance = expit(beta[:, None] - beta[None, :])  # P(i preferred to j)
    weight = met * chance * chance.T
    hessian = np.diag(weight.sum(axis=1)) - weight + 2 * prior * np.eye(m)
    inverse = np.linalg.inv(hessian)  # the prior makes it positive definite
    centre = np.eye(m) - 1.0 / m  # ratings are centred: their covariance is C·Σ·Cᵀ
    model_based = centre @ inverse @ centre
    # Each kind of vote's gradient of −log-likelihood: g_i = Σ_j (S_ij + S_ji)·P(i over j) − S_ij, with S the
    # kind's pair scores (a row of found.scores, flattened i·M + j).
    cells = np.arange(m * m)
    by_row = sparse.csr_matrix((np.ones(m * m), (cells, cells // m)), shape=(m * m, m))  # i·M + j → i
    by_col = sparse.csr_matrix((np.ones(m * m), (cells, cells % m)), shape=(m * m, m))  # j·M + i → i
    gradient = (found.scores.multiply(chance.ravel()) @ by_row + found.scores.multiply(chance.T.ravel()) @ by_col
                - found.scores @ by_row)
    gradient = np.asarray(gradient.todense()) if sparse.issparse(gradient) else np.asarray(gradient)
    spread = (gradient.T * found.counts) @ gradient
    robust = centre @ inverse @ spread @ inverse @ centre
    return np.sqrt(np.maximum(np.diag(model_based), np.diag(robust)).clip(min=0.0))


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


def leaderboard(votes: pd.DataFrame | Sequence[Vote]) -> Board:
    """Ratings, intervals, ranks and counts from the votes (a frame with models, verdict, winner; or Vote records)."""
    found = patterns(votes)
    columns = [Col.RANK, Col.MODEL, Col.RATING, Col.LOWER, Col.UPPER, Col.VOTES, Col.PROVISIONAL, Col.WINS, Col.TIES,
               Col.LOSSES, Col.ALL_BAD]
    if found.total == 0:
        return Board(pd.DataFrame(columns=columns), pd.DataFrame(columns=["Model", "Opponent", "Win rate", "Votes"]),
                     0)
    wins = found.matrix()
    beta = fit(wins)
    point = rating(beta)
    half = Z * SCALE * standard_errors(found, beta)
    lower, upper = point - half, point + half
    totals = wins + wins.T  # comparisons of each pair
    ties = _ties(found)
    table = pd.DataFrame({
        Col.MODEL: found.models, Col.RATING: point, Col.LOWER: lower, Col.UPPER: upper,
        Col.VOTES: found.appearances.astype(int), Col.PROVISIONAL: found.appearances < PROVISIONAL_VOTES,
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
