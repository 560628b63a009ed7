"""Reciprocal scoring: pure array math over item vectors, no model, no FAISS.

A person's facet is a *segment* of item rows (one goal, one offer...). For query attendees Q and candidates C:

- ``q -> c`` (how well c serves q): for each of q's goals, the best-matching item among c's offers and identity;
  pooled over q's goals with a soft maximum (a person with three goals is well served by someone who meets one
  of them very well).
- ``c -> q`` the same way round; ``reciprocal`` fuses the two with the harmonic mean, so that a match must serve
  both people; where only one side states goals, that side's score at half weight.
- ``interests``: shared interests, the mean of both sides' pooled best matches.

:func:`pair_channels` computes all of it for a block of queries against a block of candidates with one matrix
product per facet pair and segment reductions: :meth:`~matcher.Matcher.pair_scores` (every pair, for seating
plans and evaluation) uses it, and it is the reference that the compiled list kernels of :mod:`matcher.kernels`
are tested against. Every function takes arrays and returns arrays, so it is testable with hand-made vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Temperature of the soft maximum that pools per-item matches (0.1 on cosine: close to max, rewards a second hit).
POOL_TEMPERATURE = 0.1
#: Weight of a match where only one of the two people states goals.
ONE_SIDED = 0.5


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
    q_goals: np.ndarray
    q_give: np.ndarray
    q_interests: np.ndarray
    c_offers: np.ndarray
    c_identity: np.ndarray
    c_goals: np.ndarray
    c_interests: np.ndarray

    @staticmethod
    def between(q: Side, c: Side) -> Sims:
        """All the cosines by matrix products of the two sides' vectors."""
        q_give = q.offers.join(q.identity)
        return Sims(_sims(q.goals.vectors, c.offers.vectors), _sims(q.goals.vectors, c.identity.vectors),
                    _sims(q_give.vectors, c.goals.vectors), _sims(q.interests.vectors, c.interests.vectors),
                    q.goals.counts, q_give.counts, q.interests.counts, c.offers.counts, c.identity.counts,
                    c.goals.counts, c.interests.counts)


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

    ``intent`` (with its two directions ``_q_to_c`` and ``_c_to_q``) and ``interests``: for each of q's goals the
    best of c's offers and identity items, pooled over q's goals; the same from c's goals to q's offers and
    identity; interests against interests both ways.

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
    if shared_interests:
        out["interests"] = _shared_interests(sims.interests, sims.q_interests, sims.c_interests, temperature)
    return out


def combine(components: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Weighted mean of channel scores (each in [0, 1]); weights are normalised to sum to 1."""
    total = sum(weights.get(c, 0.0) for c in components)
    if total <= 0:
        raise ValueError("at least one channel weight must be above 0")
    out = None
    for name, values in components.items():
        w = weights.get(name, 0.0) / total
        if w:
            out = values * w if out is None else out + values * w
    return out
