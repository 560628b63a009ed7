"""Reciprocal scoring: pure array math over item vectors, no model, no FAISS.

A person's facet is a *segment* of item rows (one goal, one offer...). For a query attendee set Q and a
candidate set C:

- ``directional(Q.goals, C.give)``: for each of q's goals, the best-matching item among c's offers and identity;
  pooled over q's goals with a soft maximum (a person with three goals is well served by someone who meets one
  of them very well). This is "how well c serves q".
- ``reciprocal``: the harmonic mean of q->c and c->q, so that a match must serve both people; where only one
  side states goals, that side's score at half weight.
- ``interests``: shared interests, the mean of both sides' pooled best matches.

Every function takes arrays and returns arrays, so it is testable with hand-made vectors; the same functions
serve one attendee, the batch and the all-pairs affinity matrix.
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
        return np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)

    @staticmethod
    def from_lists(parts: list[np.ndarray], dim: int) -> Segments:
        counts = np.array([len(p) for p in parts], dtype=np.int64)
        vecs = np.concatenate(parts) if len(parts) and counts.sum() else np.zeros((0, dim), np.float32)
        return Segments(np.ascontiguousarray(vecs, dtype=np.float32), counts)


def _segment_reduce_max(m: np.ndarray, counts: np.ndarray, axis: int) -> np.ndarray:
    """Max over segments along ``axis``; empty segments give NaN."""
    out_shape = list(m.shape)
    out_shape[axis] = len(counts)
    out = np.full(out_shape, np.nan, dtype=np.float64)
    nonempty = counts > 0
    if nonempty.any() and m.shape[axis] > 0:
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[nonempty]
        red = np.maximum.reduceat(m, starts, axis=axis)
        idx = [slice(None)] * m.ndim
        idx[axis] = np.flatnonzero(nonempty)
        out[tuple(idx)] = red
    return out


def _segment_pool_rows(m: np.ndarray, counts: np.ndarray, temperature: float) -> np.ndarray:
    """Soft-max pooling of rows by segment: (n_items, C) -> (n_owners, C); empty segments give NaN.

    Rows that are NaN (no match possible) are ignored within their segment.
    """
    out = np.full((len(counts), m.shape[1]), np.nan, dtype=np.float64)
    nonempty = counts > 0
    if not nonempty.any() or m.shape[1] == 0:
        return out
    valid = ~np.isnan(m)
    safe = np.where(valid, m, 0.0)
    w = np.where(valid, np.exp(safe / temperature), 0.0)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[nonempty]
    num = np.add.reduceat(w * safe, starts, axis=0)
    den = np.add.reduceat(w, starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    out[np.flatnonzero(nonempty)] = pooled
    return out


def _sims(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosines of unit float32 rows. (The engine scores one attendee against its own candidates in both the
    single and the batch path, so the products have the same shapes and give the same values.)"""
    return a @ b.T


def best_item_matches(left: Segments, right: Segments) -> np.ndarray:
    """For each left item and each right owner: the best cosine among that owner's items. ``(n_left_items, R)``."""
    return _segment_reduce_max(_sims(left.vectors, right.vectors), right.counts, axis=1)


def directional(seek: Segments, give: Segments, temperature: float = POOL_TEMPERATURE) -> np.ndarray:
    """How well each give-owner serves each seek-owner: ``(n_seek_owners, n_give_owners)``, NaN where either side
    has no items.

    >>> s = Segments(np.array([[1, 0]], np.float32), np.array([1]))
    >>> g = Segments(np.array([[1, 0], [0, 1]], np.float32), np.array([1, 1]))
    >>> directional(s, g).round(2).tolist()
    [[1.0, 0.0]]
    """
    return _segment_pool_rows(best_item_matches(seek, give), seek.counts, temperature)


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


def interests(q: Segments, c: Segments, temperature: float = POOL_TEMPERATURE) -> np.ndarray:
    """Shared interests: mean of the two pooled directions, clipped to [0, 1]; 0 when either has none."""
    if q.vectors.shape[0] == 0 or c.vectors.shape[0] == 0:
        return np.zeros((len(q.counts), len(c.counts)), np.float64)
    sims = _sims(q.vectors, c.vectors)
    q_side = _segment_pool_rows(_segment_reduce_max(sims, c.counts, axis=1), q.counts, temperature)
    c_side = _segment_pool_rows(_segment_reduce_max(sims.T, q.counts, axis=1), c.counts, temperature).T
    out = 0.5 * (q_side + c_side)
    return np.clip(np.nan_to_num(out, nan=0.0), 0.0, 1.0)


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
