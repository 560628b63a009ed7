"""Reciprocal scoring in numpy: the definition of the formula (see :mod:`matcher.scoring` for the contract).

A person's facet is a *segment* of item rows (one goal, one offer...). For query attendees Q and candidates C:

- ``q -> c`` (how well c serves q): for each of q's goals, the best-matching item among c's offers and identity;
  pooled over q's goals with a soft maximum (a person with three goals is well served by someone who meets one
  of them very well).
- ``c -> q`` the same way round; ``reciprocal`` fuses the two with the harmonic mean, so that a match must serve
  both people; where only one side states goals, that side's score at half weight.
- ``interests``: shared interests, the mean of both sides' pooled best matches.

:func:`pair_channels` computes all of it for a block of queries against a block of candidates with one matrix
product per facet pair and segment reductions: the all-pairs path (:mod:`matcher.pairs`, for seating plans and
evaluation) uses it. The functions after it are the reference twins of :mod:`matcher.scoring.compiled` (same
names, same signatures; ``tests/test_scoring_backends.py`` holds them equal). Every function takes arrays and
returns arrays, so it is testable with hand-made vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from matcher import scoring as contract
from matcher.scoring import FLOOR, ONE_SIDED, POOL_TEMPERATURE


@dataclass(frozen=True)
class Segments:
    """Item rows grouped by owner: ``vectors[starts[i]:starts[i] + counts[i]]`` belong to owner ``i``."""

    vectors: np.ndarray  # (n_items, dim) float32, unit rows
    counts: np.ndarray   # (n_owners,) int64

    @property
    def starts(self) -> np.ndarray:
        return (np.cumsum(self.counts) - self.counts).astype(np.int64)

    @staticmethod
    def from_lists(parts: list[np.ndarray], dim: int) -> Segments:
        counts = np.array([len(p) for p in parts], dtype=np.int64)
        vecs = np.concatenate(parts) if len(parts) and counts.sum() else np.zeros((0, dim), np.float32)
        return Segments(np.ascontiguousarray(vecs, dtype=np.float32), counts)

    def join(self, other: Segments) -> Segments:
        """Each owner's rows of ``self`` followed by its rows of ``other`` (e.g. offers + identity)."""
        if len(self.counts) == 1:
            return Segments(np.concatenate([self.vectors, other.vectors]), self.counts + other.counts)
        counts = self.counts + other.counts
        first = np.cumsum(counts) - counts
        out = np.empty((int(counts.sum()), self.vectors.shape[1]), dtype=np.float32)
        mine = np.repeat(first, self.counts) + _within(self.counts)
        out[mine] = self.vectors
        out[np.repeat(first + self.counts, other.counts) + _within(other.counts)] = other.vectors
        return Segments(out, counts)


@dataclass(frozen=True)
class Side:
    """One side of a block of pairs: its owners' item vectors by facet."""

    goals: Segments
    offers: Segments
    identity: Segments
    interests: Segments

    def __len__(self) -> int:
        return len(self.goals.counts)


@dataclass(frozen=True)
class Sims:
    """The cosines a block of pairs is scored from: query items along rows, candidate items along columns.

    Counts say which rows belong to which query (``q_*``) and which columns to which candidate (``c_*``).
    """

    goals_offers: np.ndarray    # (q goal items, c offer items)
    goals_identity: np.ndarray  # (q goal items, c identity items)
    give_goals: np.ndarray      # (q offer+identity items, c goal items)
    interests: np.ndarray       # (q interest items, c interest items)
    give_give: np.ndarray       # (q offer+identity items, c offer+identity items)
    q_goals: np.ndarray
    q_give: np.ndarray
    q_interests: np.ndarray
    c_offers: np.ndarray
    c_identity: np.ndarray
    c_goals: np.ndarray
    c_interests: np.ndarray
    c_give: np.ndarray

    @staticmethod
    def between(q: Side, c: Side) -> Sims:
        """All the cosines by matrix products of the two sides' vectors."""
        q_give = q.offers.join(q.identity)
        c_give = c.offers.join(c.identity)
        return Sims(_sims(q.goals.vectors, c.offers.vectors), _sims(q.goals.vectors, c.identity.vectors),
                    _sims(q_give.vectors, c.goals.vectors), _sims(q.interests.vectors, c.interests.vectors),
                    _sims(q_give.vectors, c_give.vectors),
                    q.goals.counts, q_give.counts, q.interests.counts, c.offers.counts, c.identity.counts,
                    c.goals.counts, c.interests.counts, c_give.counts)


def _within(counts: np.ndarray) -> np.ndarray:
    """``[0..counts[0]), [0..counts[1]), ...`` concatenated."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)


# -------------------------------------------------------------------------------------- segment reductions
def _groups(counts: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(starts of non-empty groups, their positions)``, or ``None`` when every group is non-empty and there is
    one group spanning all ``size`` rows (the single-query fast path)."""
    if len(counts) == 1 and counts[0] == size and size > 0:
        return None
    nonempty = np.flatnonzero(counts)
    return (np.cumsum(counts) - counts)[nonempty], nonempty


def max_by_rows(m: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Max over row groups: ``(sum(counts), X) -> (len(counts), X)``; empty groups give NaN."""
    g = _groups(counts, m.shape[0])
    if g is None:
        return m.max(axis=0, keepdims=True)
    starts, nonempty = g
    if len(nonempty) == len(counts) and m.shape[1]:
        return np.maximum.reduceat(m, starts, axis=0)
    out = np.full((len(counts), m.shape[1]), np.nan, dtype=np.float32)
    if len(nonempty) and m.shape[1]:
        out[nonempty] = np.maximum.reduceat(m, starts, axis=0)
    return out


def max_by_cols(m: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Max over column groups: ``(X, sum(counts)) -> (X, len(counts))``; empty groups give NaN."""
    g = _groups(counts, m.shape[1])
    if g is None:
        return m.max(axis=1, keepdims=True)
    starts, nonempty = g
    out = np.full((m.shape[0], len(counts)), np.nan, dtype=np.float32)
    if len(nonempty) and m.shape[0]:
        out[:, nonempty] = np.maximum.reduceat(m, starts, axis=1)
    return out


def pool_rows(m: np.ndarray, counts: np.ndarray, temperature: float = POOL_TEMPERATURE) -> np.ndarray:
    """Soft maximum over row groups, ``sum(x e^(x/t)) / sum(e^(x/t))``: ``(sum(counts), X) -> (len(counts), X)``.
    Empty groups, and any group holding a NaN, give NaN."""
    w = np.exp(m / np.float32(temperature))
    g = _groups(counts, m.shape[0])
    if g is None:
        return (np.sum(w * m, axis=0, keepdims=True) / np.sum(w, axis=0, keepdims=True)).astype(np.float32)
    starts, nonempty = g
    out = np.full((len(counts), m.shape[1]), np.nan, dtype=np.float32)
    if len(nonempty) and m.shape[1]:
        out[nonempty] = np.add.reduceat(w * m, starts, axis=0) / np.add.reduceat(w, starts, axis=0)
    return out


def pool_cols(m: np.ndarray, counts: np.ndarray, temperature: float = POOL_TEMPERATURE) -> np.ndarray:
    """:func:`pool_rows` over column groups: ``(X, sum(counts)) -> (X, len(counts))``."""
    w = np.exp(m / np.float32(temperature))
    g = _groups(counts, m.shape[1])
    if g is None:
        return (np.sum(w * m, axis=1, keepdims=True) / np.sum(w, axis=1, keepdims=True)).astype(np.float32)
    starts, nonempty = g
    out = np.full((m.shape[0], len(counts)), np.nan, dtype=np.float32)
    if len(nonempty) and m.shape[0]:
        out[:, nonempty] = np.add.reduceat(w * m, starts, axis=1) / np.add.reduceat(w, starts, axis=1)
    return out


# ----------------------------------------------------------------------------------------------- channels
def _sims(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosines of unit float32 rows: ``(len(a), len(b))``."""
    return a @ b.T


def directional(seek: Segments, give: Segments, temperature: float = POOL_TEMPERATURE) -> np.ndarray:
    """How well each give-owner serves each seek-owner: ``(n_seek_owners, n_give_owners)``, NaN where either side
    has no items.

    >>> s = Segments(np.array([[1, 0]], np.float32), np.array([1]))
    >>> g = Segments(np.array([[1, 0], [0, 1]], np.float32), np.array([1, 1]))
    >>> directional(s, g).round(2).tolist()
    [[1.0, 0.0]]
    """
    best = max_by_cols(_sims(seek.vectors, give.vectors), give.counts)  # (seek items, n_give_owners)
    return pool_rows(best, seek.counts, temperature)


def harmonic(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Harmonic mean of scores clipped to [0, 1] (0 when either is 0)."""
    a = np.clip(a, 0.0, 1.0)
    b = np.clip(b, 0.0, 1.0)
    s = a + b
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s > 0, 2 * a * b / np.where(s > 0, s, 1.0), 0.0)


def reciprocal(q_to_c: np.ndarray, c_to_q: np.ndarray, one_sided: float = ONE_SIDED) -> np.ndarray:
    """Fuse the two directions: harmonic mean where both exist, ``one_sided`` x the one that exists, else 0.

    >>> reciprocal(np.array([0.8, 0.8, np.nan]), np.array([0.2, np.nan, np.nan])).round(2).tolist()
    [0.32, 0.4, 0.0]
    """
    both = ~np.isnan(q_to_c) & ~np.isnan(c_to_q)
    hm = harmonic(np.nan_to_num(q_to_c), np.nan_to_num(c_to_q))
    single = one_sided * np.clip(np.fmax(np.nan_to_num(q_to_c, nan=-1), np.nan_to_num(c_to_q, nan=-1)), 0, 1)
    return np.where(both, hm, single)


def _shared_interests(sims: np.ndarray, q_counts: np.ndarray, c_counts: np.ndarray,
                      temperature: float) -> np.ndarray:
    """``(n_q, n_c)`` shared-interest scores from interest cosines (q items along rows)."""
    q_side = pool_rows(max_by_cols(sims, c_counts), q_counts, temperature)
    c_side = pool_cols(max_by_rows(sims, q_counts), c_counts, temperature)
    return np.clip(np.nan_to_num(0.5 * (q_side + c_side), nan=0.0), 0.0, 1.0)


def interests(q: Segments, c: Segments, temperature: float = POOL_TEMPERATURE) -> np.ndarray:
    """Shared interests ``(n_q, n_c)``: mean of the two pooled directions, clipped to [0, 1]; 0 when either has
    none."""
    return _shared_interests(_sims(q.vectors, c.vectors), q.counts, c.counts, temperature)


def pair_channels(sims: Sims, *, intent: bool = True, shared_interests: bool = True,
                  temperature: float = POOL_TEMPERATURE) -> dict[str, np.ndarray]:
    """The embedding channels of every (query, candidate) pair, each ``(n_q, n_c)``.

    ``intent`` (with its two directions ``_q_to_c`` and ``_c_to_q``, and how well each one's give meets the
    other's give, ``_give_qc`` and ``_give_cq``) and ``interests``: for each of q's goals the best of c's offers
    and identity items, pooled over q's goals; the same from c's goals to q's offers and identity; give against
    give both ways; interests against interests both ways.

    >>> e = np.eye(2, dtype=np.float32)
    >>> one = lambda *rows: Segments(np.array([e[r] for r in rows], np.float32).reshape(-1, 2), np.array([len(rows)]))
    >>> founder = Side(one(0), one(1), one(), one())   # seeks meaning 0, offers meaning 1
    >>> investor = Side(one(1), one(0), one(), one())  # the reverse
    >>> round(float(pair_channels(Sims.between(founder, investor))["intent"][0, 0]), 3)
    1.0
    """
    out: dict[str, np.ndarray] = {}
    if intent:
        best = np.fmax(max_by_cols(sims.goals_offers, sims.c_offers),
                       max_by_cols(sims.goals_identity, sims.c_identity))      # (q goal items, n_c)
        q_to_c = pool_rows(best, sims.q_goals, temperature)                     # (n_q, n_c)
        back = max_by_rows(sims.give_goals, sims.q_give)                        # (n_q, c goal items)
        c_to_q = pool_cols(back, sims.c_goals, temperature)                     # (n_q, n_c)
        out["intent"] = reciprocal(q_to_c, c_to_q)
        out["_q_to_c"] = q_to_c
        out["_c_to_q"] = c_to_q
        out["_give_qc"] = pool_rows(max_by_cols(sims.give_give, sims.c_give), sims.q_give, temperature)
        out["_give_cq"] = pool_cols(max_by_rows(sims.give_give, sims.q_give), sims.c_give, temperature)
    if shared_interests:
        out["interests"] = _shared_interests(sims.interests, sims.q_interests, sims.c_interests, temperature)
    return out


def combine(components: dict[str, np.ndarray], weights: dict[str, float],
            gate: np.ndarray | None = None) -> np.ndarray:
    """Weighted mean of channel scores (each in [0, 1]); weights are normalised to sum to 1. With ``gate``, the
    symmetric channels (interests, lexical, mutual connections) count times the gate (complementarity: only where
    intent agrees)."""
    total = sum(weights.get(c, 0.0) for c in components)
    if total <= 0:
        raise ValueError("at least one channel weight must be above 0")
    out = None
    for name, values in components.items():
        w = weights.get(name, 0.0) / total
        if w:
            if gate is not None and name in ("interests", "lexical", "mutual"):
                values = values * gate
            out = values * w if out is None else out + values * w
    return out


# ------------------------------------------------------------------------------- the list path's twins
def _candidate_rows(cands: np.ndarray, start: np.ndarray, count: np.ndarray, flat: np.ndarray) -> np.ndarray:
    parts = [flat[start[c]:start[c] + count[c]] for c in cands]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def list_channels(cands, q_goals, q_give, q_interests, vectors, starts, counts, flats, inv_t, one_sided, out,
                  intent=True, interests=True) -> None:
    """Embedding channels of one query against each candidate key: ``out[j]`` holds
    :data:`~matcher.scoring.LIST_CHANNELS` (directions NaN where undefined; a channel not asked for gives 0 and
    NaN directions)."""
    dim = q_goals.shape[1]

    def seg(f: int) -> Segments:
        rows = _candidate_rows(cands, starts[f], counts[f], flats[f])
        return Segments(vectors[f].take(rows, axis=0).reshape(-1, dim), counts[f][cands].astype(np.int64))

    def one(m: np.ndarray) -> np.ndarray:
        return np.array([len(m)], dtype=np.int64)

    goals, offers, identity, shared = seg(contract.GOALS), seg(contract.OFFERS), seg(contract.IDENTITY), \
        seg(contract.INTERESTS)
    c_give = offers.join(identity)
    sims = Sims(_sims(q_goals, offers.vectors), _sims(q_goals, identity.vectors), _sims(q_give, goals.vectors),
                _sims(q_interests, shared.vectors), _sims(q_give, c_give.vectors), one(q_goals), one(q_give),
                one(q_interests), offers.counts, identity.counts, goals.counts, shared.counts, c_give.counts)
    got = pair_channels(sims, intent=intent, shared_interests=interests, temperature=1.0 / inv_t)
    n = len(cands)
    out[:, 0] = got["intent"][0] if intent else 0.0
    out[:, 1] = got["_q_to_c"][0] if intent else np.nan
    out[:, 2] = got["_c_to_q"][0] if intent else np.nan
    out[:, 3] = got["interests"][0] if interests else np.zeros(n)
    out[:, 4] = got["_give_qc"][0] if intent else np.nan
    out[:, 5] = got["_give_cq"][0] if intent else np.nan


def lexical_dots(indptr, indices, data, q, cands, n_features, table, bits, out) -> None:
    """``out[j] = (seek_q . give_c, give_q . seek_c, topic_q . topic_c)`` from the ``[seek | give | topic]`` CSR
    rows (``table`` and ``bits`` are the compiled twin's scratch; unused here)."""
    m = sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, 3 * n_features))
    mine, theirs = m[[int(q)]], m[np.asarray(cands, dtype=np.int64)]

    def part(x: sp.csr_matrix, i: int) -> sp.csr_matrix:
        return x[:, i * n_features:(i + 1) * n_features]

    out[:, 0] = (part(theirs, 1) @ part(mine, 0).T).toarray().ravel()
    out[:, 1] = (part(theirs, 0) @ part(mine, 1).T).toarray().ravel()
    out[:, 2] = (part(theirs, 2) @ part(mine, 2).T).toarray().ravel()


def lexical_score(seek_give, give_seek, topics, q_seeks, c_seeks, q_topics, c_topics, one_sided=ONE_SIDED):
    """The lexical channel from its three dot products: the harmonic mean of seek.give both ways (``one_sided``
    x the larger where only one side seeks), averaged with topic.topic where both have topics.

    >>> float(lexical_score(0.5, 0.5, 1.0, True, True, True, True))
    0.75
    """
    intent = np.where(q_seeks & c_seeks, harmonic(seek_give, give_seek),
                      one_sided * np.maximum(seek_give, give_seek))
    any_seek = np.asarray(q_seeks | c_seeks)
    both_topics = np.asarray(q_topics & c_topics)
    parts = any_seek.astype(np.float64) + both_topics.astype(np.float64)
    total = np.where(any_seek, intent, 0.0) + np.where(both_topics, topics, 0.0)
    return np.where(parts > 0, total / np.maximum(parts, 1), 0.0)


def mutual_score(adamic_adar):
    """The mutual channel: ``1 - exp(-Adamic-Adar)`` (0 for nobody in common, towards 1 for many)."""
    return 1.0 - np.exp(-np.asarray(adamic_adar, dtype=np.float64))


def fuse(intent, q_to_c, c_to_q, give_qc, give_cq, direction, prior, complement, substitute_weight=None,
         direction_weight=None, sides_weight=None, peer=0.0):
    """Intent with complementarity: ``(adjusted intent, substitute penalty, gate)``, elementwise.

    The penalty is ``SUBSTITUTE`` x the mean over both directions of how much more one's give meets the other's
    give than the other's goals (0 where a direction is undefined), plus ``DIRECTION`` x how much the two
    people's directions from give to seek agree (``direction``: their dot product); both times ``complement`` and
    times ``1 - peer`` (``peer``: how far the two people's sides are one peer group, :func:`matcher.sides.peers`:
    researchers who all seek collaborators give alike because they want each other).
    The adjusted intent is what is left of intent (clipped to [0, 1]), averaged with the sides ``prior`` at
    ``SIDES`` x ``complement`` weight (``prior`` NaN: none). The gate is what the symmetric channels (shared
    interests, terms and connections) count for: the adjusted intent at ``complement``, but 1 where neither person states a
    goal the other could meet (no intent to agree with: the symmetric channels are all there is).

    >>> fuse(0.8, 0.8, 0.8, 0.9, 0.9, 0.5, np.nan, 1.0)  # alike in what they give, pointing the same way
    (0.65, 0.15, 0.65)
    >>> fuse(0.8, 0.8, 0.8, 0.3, 0.3, -0.5, 0.5, 1.0)  # a counterpart: no penalty, the sides prior averaged in
    (0.7, 0.0, 0.7)
    >>> fuse(0.0, np.nan, np.nan, np.nan, np.nan, 0.0, np.nan, 1.0)  # no goals on either side
    (0.0, 0.0, 1.0)
    """
    def excess(give, serve):
        return np.where(np.isnan(give) | np.isnan(serve), 0.0, np.maximum(0.0, np.nan_to_num(give - serve)))

    sw = contract.SUBSTITUTE if substitute_weight is None else substitute_weight
    dw = contract.DIRECTION if direction_weight is None else direction_weight
    substitute = 0.5 * (excess(give_qc, q_to_c) + excess(give_cq, c_to_q))
    penalty = complement * (1.0 - peer) * (sw * substitute + dw * np.maximum(0.0, direction))
    left = np.clip(intent - penalty, 0.0, 1.0)
    w = complement * (contract.SIDES if sides_weight is None else sides_weight)
    adjusted = np.where(np.isnan(prior) | (w <= 0), left, (left + w * np.nan_to_num(prior)) / (1.0 + w))
    gate = np.where(np.isnan(q_to_c) & np.isnan(c_to_q), 1.0, (1.0 - complement) + complement * adjusted)
    if np.ndim(adjusted) == 0:
        return round(float(adjusted), 12), round(float(penalty), 12), round(float(gate), 12)
    return adjusted, penalty, gate


def picked_scores(scores, profiles, rows, picks, diversity, floor=FLOOR):
    """The score each diversity pick was chosen by: ``scores[p]`` x (1 - ``diversity`` x its largest redundancy
    with the picks before it). Never increases down the list, so a list shows the scores it is ordered by.

    >>> p = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    >>> picked_scores(np.array([0.9, 0.89, 0.8]), p, np.arange(3), np.array([0, 2, 1]), 0.5).round(3).tolist()
    [0.9, 0.8, 0.445]
    """
    prof = profiles[rows[picks]].astype(np.float64)
    out = np.asarray(scores, dtype=np.float64)[picks].copy()
    for j in range(1, len(picks)):
        red = np.clip((prof[:j] @ prof[j] - floor) / (1.0 - floor), 0.0, 1.0)
        out[j] *= 1.0 - diversity * red.max()
    return out


def rerank_pool_size(sorted_scores, k, diversity, pool_cap):
    """How many of a best-first list the diversity re-rank considers: everyone who can still make the first
    ``k`` picks. The re-rank discounts a score by at most ``diversity``, so nobody below ``(1 - diversity)`` x the
    k-th best can enter; that pool gives the same first picks for any larger ``k`` (pages agree).

    >>> rerank_pool_size(np.array([0.9, 0.8, 0.5, 0.3]), 2, 0.5, 500)
    3
    """
    n = len(sorted_scores)
    kth = sorted_scores[min(k, n) - 1]
    size = int(np.count_nonzero(np.asarray(sorted_scores) >= (1.0 - diversity) * kth))
    return min(n, pool_cap, max(size, k))


def rerank(scores, profiles, rows, k, diversity, floor=FLOOR) -> np.ndarray:
    """Indices of the ``k`` diversity picks of a best-first list whose profiles are ``profiles[rows]``, in order.

    Maximal marginal relevance with a redundancy term that only bites on near-copies: a candidate whose profile
    is within cosine ``floor`` of one already picked keeps its full score; above that its score is discounted
    linearly, up to ``diversity`` x score for an identical profile. Greedy: each step picks the best score after
    its discount (first maximum wins ties).

    >>> p = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)  # the first two are copies
    >>> rerank(np.array([0.9, 0.89, 0.8]), p, np.arange(3), 2, 0.5).tolist()
    [0, 2]
    """
    n = len(scores)
    k = min(k, n)
    profiles = profiles[rows]
    # Only the head of the list can be picked: a candidate's discounted score is at most its score, so once the
    # best discounted score in the head is at least the best score after it, nothing later can win a step.
    # Start with twice k and widen while that does not hold.
    m = min(n, 2 * k)
    while True:
        picks = _greedy(scores, profiles, k, diversity, m, floor)
        if picks is not None:
            return picks
        m = min(n, 2 * m)


def _greedy(scores: np.ndarray, profiles: np.ndarray, k: int, diversity: float, m: int,
            floor: float) -> np.ndarray | None:
    """The greedy picks among the first ``m`` candidates, or ``None`` if one might have come from beyond them."""
    head = profiles[:m]
    gram = head @ head.T
    # the i-th pick is the i-th best until one of the first k is a near-copy of a better one
    close = np.triu(gram[:k, :k] > floor, 1)
    if diversity == 0 or not close.any():
        return np.arange(k, dtype=np.int64)
    start = int(np.flatnonzero(close.any(axis=0))[0])  # the first candidate that copies a better one
    redundancy = np.clip((gram.astype(np.float64) - floor) / (1.0 - floor), 0.0, 1.0)
    beyond = scores[m] if m < len(scores) else -np.inf
    head_scores = np.asarray(scores[:m], dtype=np.float64)
    worst = redundancy[:start].max(axis=0) if start else np.zeros(m)
    left = np.ones(m, dtype=bool)
    left[:start] = False
    picked = list(range(start))
    for _ in range(start, k):
        adjusted = np.where(left, head_scores * (1.0 - diversity * worst), -np.inf)
        i = int(np.argmax(adjusted))  # first maximum: the better-ranked candidate wins ties
        if adjusted[i] < beyond:
            return None
        picked.append(i)
        left[i] = False
        np.maximum(worst, redundancy[i], out=worst)
    return np.asarray(picked, dtype=np.int64)


def candidate_lists(owners, counts, fetch, mark):
    """Candidate lists from FAISS hits: per query, each channel's first ``fetch`` distinct hit owners, its item
    rows' hits interleaved by rank (every item's best hit, then every item's second...), the channels united and
    sorted. ``owners[c]``: channel ``c``'s hit owners ``(rows, kk)`` (-1 = none), rows grouped by query;
    ``counts[c, q]``: rows of query ``q``; ``mark`` is the compiled twin's scratch (unused here).
    Returns ``(keys, offsets)``."""
    n_ch, n_q = counts.shape
    lists = []
    for q in range(n_q):
        found: set[int] = set()
        for c in range(n_ch):
            r0 = int(counts[c, :q].sum())
            block = owners[c][r0:r0 + counts[c, q]]
            seen: list[int] = []
            for t in range(block.shape[1] if len(block) else 0):
                for j in range(len(block)):
                    o = int(block[j, t])
                    if o >= 0 and o not in seen and len(seen) < fetch:
                        seen.append(o)
            found.update(seen)
        lists.append(sorted(found))
    offsets = np.concatenate([[0], np.cumsum([len(x) for x in lists])]).astype(np.int64)
    keys = np.asarray([x for part in lists for x in part], dtype=np.int64)
    return keys, offsets


def _own_rows(items: contract.Items, f: int, key: int) -> np.ndarray:
    s, n = items.starts[f, key], items.counts[f, key]
    return items.vectors[f].take(items.flats[f][s:s + n], axis=0)


def _mutual_top(keys: np.ndarray, vals: np.ndarray, id_rank: np.ndarray, fetch: int) -> np.ndarray:
    """The ``fetch`` keys with the highest Adamic-Adar scores (ties by id)."""
    order = np.lexsort((id_rank[keys], -vals))
    return keys[order[:fetch]]


def rank_lists(q: contract.Queries, people: contract.People, items: contract.Items, lex: contract.Lexical,
               params: contract.Params, out: contract.Out) -> None:
    """Rank every query key's list: hard rules, exact scores of its own candidates, order, diversity re-rank.
    Writes up to ``k`` keys, scores and components per query into ``out`` (see :class:`matcher.scoring.Out`)."""
    w, k = params.weights, params.k
    for qi, key in enumerate(q.keys):
        out.lengths[qi] = 0
        if not people.eligible[key]:
            continue  # opted out: no list
        pool = people.alive_keys if params.exhaustive else q.found[q.found_off[qi]:q.found_off[qi + 1]]
        aa_k, aa_v = q.aa_keys[q.aa_off[qi]:q.aa_off[qi + 1]], q.aa_vals[q.aa_off[qi]:q.aa_off[qi + 1]]
        if not params.exhaustive and len(aa_k) and w[contract.W_MUTUAL] > 0:
            pool = np.unique(np.concatenate([pool, _mutual_top(aa_k, aa_v, people.id_rank, params.fetch)]))
        ex = q.excluded[q.excl_off[qi]:q.excl_off[qi + 1]]
        keep = ((pool != key) & people.eligible[pool] & people.role_ok[people.role[key], people.role[pool]]
                & ~np.isin(pool, ex))
        if not params.same_company_ok and people.company[key] >= 0:
            keep &= people.company[pool] != people.company[key]
        cands = pool[keep]
        n = len(cands)
        if n == 0:
            continue
        comps = np.full((n, len(contract.COMPONENTS)), np.nan)
        score = np.zeros(n)
        cpl = params.complement
        need_intent = w[contract.W_INTENT] > 0 or (cpl > 0 and (w[contract.W_INTERESTS] > 0
                                                                or w[contract.W_LEXICAL] > 0
                                                                or w[contract.W_MUTUAL] > 0))
        gate = np.ones(n)
        if need_intent or w[contract.W_INTERESTS] > 0:
            emb = np.empty((n, len(contract.LIST_CHANNELS)))
            give = np.concatenate([_own_rows(items, contract.OFFERS, key), _own_rows(items, contract.IDENTITY, key)])
            list_channels(cands, _own_rows(items, contract.GOALS, key), give,
                          _own_rows(items, contract.INTERESTS, key), items.vectors, items.starts, items.counts,
                          items.flats, params.inv_t, params.one_sided, emb, need_intent,
                          w[contract.W_INTERESTS] > 0)
            if need_intent:
                my_side = people.side[key]
                their = people.side[cands]
                prior = np.full(n, np.nan)
                peer = np.zeros(n)
                if my_side >= 0:
                    known = their >= 0
                    prior[known] = people.side_prior[my_side, their[known]]
                    peer[known] = people.side_peer[my_side, their[known]]
                direction = (items.directions[cands].astype(np.float64) @ items.directions[key].astype(np.float64))
                adjusted, penalty, gate = fuse(emb[:, 0], emb[:, 1], emb[:, 2], emb[:, 4], emb[:, 5], direction,
                                               prior, cpl, params.substitute, params.direction, params.sides, peer)
                if w[contract.W_INTENT] > 0:
                    comps[:, contract.C_INTENT] = adjusted
                    comps[:, contract.C_A_TO_B] = emb[:, 1]
                    comps[:, contract.C_B_TO_A] = emb[:, 2]
                    score += w[contract.W_INTENT] * adjusted
                if cpl > 0:
                    comps[:, contract.C_SUBSTITUTE] = penalty
                    comps[:, contract.C_SIDES] = prior
            if w[contract.W_INTERESTS] > 0:
                comps[:, contract.C_INTERESTS] = emb[:, 3]
                score += w[contract.W_INTERESTS] * emb[:, 3] * gate
        if w[contract.W_LEXICAL] > 0:
            dots = np.empty((n, 3))
            lexical_dots(lex.indptr, lex.indices, lex.data, key, cands, lex.n_features, lex.table, lex.bits, dots)
            comps[:, contract.C_LEXICAL] = lexical_score(dots[:, 0], dots[:, 1], dots[:, 2], lex.has_seek[key],
                                                         lex.has_seek[cands], lex.has_topic[key],
                                                         lex.has_topic[cands], params.one_sided)
            score += w[contract.W_LEXICAL] * comps[:, contract.C_LEXICAL] * gate
        if w[contract.W_MUTUAL] > 0:
            value = np.zeros(n)
            if len(aa_k):
                p = np.minimum(np.searchsorted(aa_k, cands), len(aa_k) - 1)
                hit = aa_k[p] == cands
                value[hit] = mutual_score(aa_v[p[hit]])
            comps[:, contract.C_MUTUAL] = value
            score += w[contract.W_MUTUAL] * value * gate
        # best first; equal scores (to SCORE_DECIMALS) by id
        ticks = np.rint(score * 10.0 ** contract.SCORE_DECIMALS)
        order = np.lexsort((people.id_rank[cands], -ticks))
        rounded = ticks / 10.0 ** contract.SCORE_DECIMALS
        shown = score[order[:k]]
        if params.diversity > 0 and min(k, n) > 1:
            pool_at = order[:rerank_pool_size(rounded[order], k, params.diversity, params.pool_cap)]
            if len(pool_at) > 1:
                picks = rerank(rounded[pool_at], items.profiles, cands[pool_at], k, params.diversity, params.floor)
                shown = picked_scores(score[pool_at], items.profiles, cands[pool_at], picks, params.diversity,
                                      params.floor)
                pool_at = pool_at[picks]
            else:
                shown = score[pool_at[:k]]
            chosen = pool_at[:k]
        else:
            chosen = order[:k]
        m = len(chosen)
        out.keys[qi, :m] = cands[chosen]
        out.scores[qi, :m] = shown[:m]
        out.comps[qi, :m] = comps[chosen]
        out.lengths[qi] = m
