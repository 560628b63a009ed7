"""Sides learned from the event itself: which kinds of people are each other's counterparts.

Every attendee with goals and something to give has a *direction*: the unit vector from what they give to what
they seek (``normalize(mean goal - mean give)``). The topic cancels out of it, the intent stays: two founders (seek
funding, give a product) point the same way, an investor (seeks startups, gives funding) the other way. K-means
over the directions groups people into sides without reading any role string; a side's counterparts are read off
its centroids: how well side ``a``'s pooled goals meet side ``b``'s pooled give (both ways, harmonic mean), less
how much ``b`` gives what ``a`` gives (substitutes). The prior of a pair is that table's entry for their two sides.
A side that only its own kind meets (researchers seeking collaborators) is a *peer group* (:func:`peers`): it keeps
its prior with itself, and its pairs are excused the substitute penalty.

Deterministic: the sample of people the clusters are fitted on and the k-means seed are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: At most this many sides; fewer in small events (about one per eight people, at least two).
MAX_SIDES = 16
PEOPLE_PER_SIDE = 8
#: Weight of two sides' agreement in direction (their centroids' dot product) against their prior.
SIDE_DIRECTION = 0.5
#: Two sides whose directions agree at least this much are one kind of people (k-means splits a large kind, e.g.
#: researchers into two sides at 0.76; distinct kinds agreed at most 0.56 on synthetic 300 seed 1 and 1,000 seed 0).
SAME_KIND = 0.6
#: How much better a side's own kind must meet its goals than any other kind for it to be a peer group (from the
#: first value, fully from the second). Measured with the real model: complementary kinds scored gaps of -0.22 to
#: 0.06 (synthetic 300 seed 1, 1,000 seed 0, the sample event), researchers 0.16 to 0.21; a ramp from 0.06 gave
#: the sample's suppliers (0.06) a little peer weight and cost them 0.06 of their counterpart share, so it starts
#: at 0.08, and is full by 0.14, below the researchers' lowest gap.
PEER_GAP = (0.08, 0.14)
#: Peer groups are judged only among at least this many sides: with two or three a side is a mix of kinds (the
#: 15-person trap event of the tests has two, and its mixed side would read as a peer group of hiring managers).
MIN_PEER_SIDES = 4
#: The clusters are fitted on at most this many people (evenly spaced over the keys), then everyone is assigned.
#: 5,000 before the refit cost was measured under writes (1.9 s a refit at 10k people); 2,000 cost 1.4% nDCG@10 on
#: synthetic 3,000 (seed 0, real model: 0.359 against 0.364) and nothing on 4,000 with hashing vectors (seeds 0-1);
#: 3,000 keeps every synthetic figure of the README and costs about 0.35 s a refit at 10k.
FIT_SAMPLE = 3000


@dataclass(frozen=True)
class Sides:
    """``side[key]`` (-1: no direction), ``prior[a, b]`` in [0, 1] for sides ``a`` and ``b``, and ``peer[a, b]``
    in [0, 1]: how far they are one peer group (:func:`peers`), which excuses a pair's substitute penalty."""

    side: np.ndarray   # (n_keys,) int64
    prior: np.ndarray  # (K, K) float64
    peer: np.ndarray   # (K, K) float64

    @staticmethod
    def none(n_keys: int) -> Sides:
        return Sides(np.full(n_keys, -1, np.int64), np.zeros((1, 1)), np.zeros((1, 1)))


@dataclass(frozen=True)
class SideModel:
    """The fitted part of the sides: the centroids of the directions (``None``: too few people for two sides)
    and the prior between sides. :meth:`sides` places people on them (one product), so a store refits only when
    the people it was fitted on changed."""

    centres: np.ndarray | None  # (K, dim) float32
    prior: np.ndarray           # (K, K) float64
    peer: np.ndarray            # (K, K) float64

    def sides(self, keys: np.ndarray, directions: np.ndarray, n_keys: int) -> Sides:
        """``keys`` (with unit ``directions``) on their nearest side; every other key of ``n_keys`` on none."""
        out = np.full(n_keys, -1, np.int64)
        if self.centres is not None and len(keys):
            out[keys] = np.argmax(directions @ self.centres.T, axis=1)
        return Sides(out, self.prior, self.peer)


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return x / n


def kmeans(x: np.ndarray, k: int, *, restarts: int = 4, iterations: int = 50, seed: int = 0) -> np.ndarray:
    """Centres of ``k`` clusters of the rows of ``x`` (Lloyd's algorithm from k-means++ starts, the best of
    ``restarts`` by inertia; seeded, so the same rows give the same centres). Plain numpy: importing scikit-learn's
    clustering would cost a cached CLI run more than the clustering itself.

    >>> x = np.array([[0, 0], [0, 0.1], [5, 5], [5, 5.1]], np.float64)
    >>> sorted(kmeans(x, 2).astype(np.float64).round(2).tolist())
    [[0.0, 0.05], [5.0, 5.05]]
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=np.float32)  # products in single precision: 4x faster, centres to ~1e-6
    sq = (x * x).sum(axis=1)
    best, best_inertia = None, np.inf
    for _ in range(restarts):
        first = int(rng.integers(len(x)))
        centres = [x[first]]
        # squared distances by |x|^2 - 2 x.c + |c|^2: a product, not a (rows x dims) temporary per start
        d2 = np.maximum(sq - 2 * (x @ x[first]) + sq[first], 0.0).astype(np.float64)  # sampling weights
        for _ in range(1, k):  # k-means++: each next start far from the ones chosen
            total = d2.sum()
            i = int(rng.choice(len(x), p=d2 / total)) if total > 0 else int(rng.integers(len(x)))
            centres.append(x[i])
            d2 = np.minimum(d2, np.maximum(sq - 2 * (x @ x[i]) + sq[i], 0.0))
        c = np.array(centres, dtype=np.float32)
        labels = None
        for _ in range(iterations):
            dist = sq[:, None] - 2 * (x @ c.T) + (c * c).sum(axis=1)[None, :]
            new = dist.argmin(axis=1)
            if labels is not None and np.array_equal(new, labels):
                break  # converged: the same clusters give the same centres
            labels = new
            # every centre's mean in one product (a masked mean per centre costs k passes over x)
            onehot = np.zeros((len(x), k), np.float32)
            onehot[np.arange(len(x)), labels] = 1.0
            size = onehot.sum(axis=0)
            c = np.where(size[:, None] > 0, (onehot.T @ x) / np.maximum(size, 1.0)[:, None], c)
        dist = sq[:, None] - 2 * (x @ c.T) + (c * c).sum(axis=1)[None, :]
        inertia = float(dist.min(axis=1).sum())
        if inertia < best_inertia:
            best, best_inertia = c, inertia
    return best


def fit(directions: np.ndarray, goal_means: np.ndarray, give_means: np.ndarray, keys: np.ndarray, n_keys: int,
        assign: tuple[np.ndarray, np.ndarray] | None = None) -> Sides:
    """Sides fitted on the people ``keys`` from their unit ``directions``, ``goal_means`` and ``give_means``
    (rows in ``keys`` order); ``assign`` = ``(keys, directions)`` of everyone to give a side (default: the fitted
    people). Keys given no side get -1.

    >>> d = np.array([[1, 0], [1, 0.1], [-1, 0], [-1, 0.1]], np.float32)  # two people each way
    >>> g = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], np.float32)        # A seeks x, B seeks y
    >>> v = np.array([[0, 1], [0, 1], [1, 0], [1, 0]], np.float32)        # A gives y, B gives x
    >>> s = fit(_unit(d), g, v, np.arange(4), 4)
    >>> bool(s.side[0] == s.side[1] != s.side[2] == s.side[3]), round(float(s.prior[s.side[0], s.side[2]]), 2)
    (True, 1.0)
    """
    assign_keys, assign_dirs = assign if assign is not None else (keys, directions)
    return fit_model(directions, goal_means, give_means).sides(assign_keys, assign_dirs, n_keys)


def fit_model(directions: np.ndarray, goal_means: np.ndarray, give_means: np.ndarray) -> SideModel:
    """The :class:`SideModel` of people with these unit ``directions``, ``goal_means`` and ``give_means`` (one
    row each): a pure function of them (see :func:`fit`)."""
    n = len(directions)
    k = min(MAX_SIDES, max(2, n // PEOPLE_PER_SIDE), len(np.unique(directions, axis=0))) if n else 0
    if k < 2:
        return SideModel(None, np.zeros((1, 1)), np.zeros((1, 1)))
    centres = kmeans(directions, k).astype(np.float32)
    labels = np.argmax(directions @ centres.T, axis=1)
    onehot = np.zeros((n, k), np.float32)
    onehot[np.arange(n), labels] = 1.0
    cg = _unit(onehot.T @ goal_means)
    cv = _unit(onehot.T @ give_means)
    ab = (cg @ cv.T).astype(np.float64)     # side a's goals met by side b's give
    same = (cv @ cv.T).astype(np.float64)   # side a gives what side b gives
    a, b = np.clip(ab, 0, 1), np.clip(ab.T, 0, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        hm = np.where(a + b > 0, 2 * a * b / np.where(a + b > 0, a + b, 1.0), 0.0)
    penalty = 0.5 * np.maximum(0.0, same - ab) + 0.5 * np.maximum(0.0, same - ab.T)
    cd = _unit(centres)
    agree = (cd @ cd.T).astype(np.float64)
    if SIDE_DIRECTION:
        penalty = penalty + SIDE_DIRECTION * np.maximum(0.0, agree)
    peer = peers(hm, agree)
    return SideModel(centres, np.clip(hm - (1.0 - peer) * penalty, 0.0, 1.0), peer)


def peers(hm: np.ndarray, agree: np.ndarray) -> np.ndarray:
    """``(K, K)`` in [0, 1]: how far two sides are one *peer group*, people who want each other (researchers
    seeking collaborators) rather than substitutes competing for a third side (founders for investors).

    A side is a peer group when its own kind meets its goals clearly better than any other kind does: its
    reciprocal fit with itself ``hm[a, a]`` beats its best fit with a side of another direction (``agree`` below
    :data:`SAME_KIND`) by more than :data:`PEER_GAP` (fully from ``PEER_GAP[1]``). Founders are met best by
    investors, job seekers about as well by hiring managers as by each other (MiniLM reads "a Rust role" close
    to "Rust experience"), so neither is; nobody outside the researchers meets a researcher's "collaborators in
    robot learning". Two sides are peers of each other when both are peer groups of one kind (or the same side).
    Fewer than :data:`MIN_PEER_SIDES` sides: no peer groups.

    >>> hm = np.array([[0.7, 0.3, 0.3, 0.3], [0.3, 0.5, 0.8, 0.3], [0.3, 0.8, 0.5, 0.3], [0.3, 0.3, 0.3, 0.3]])
    >>> agree = np.eye(4) + 0.1 * (1 - np.eye(4))  # side 0 met by itself only; 1 and 2 a pair; 3 met by nobody
    >>> peers(hm, agree).round(2).tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    >>> float(peers(hm[:3, :3], agree[:3, :3]).max())  # three sides: too few to tell a kind from a mix
    0.0
    """
    k = len(hm)
    if k < MIN_PEER_SIDES:
        return np.zeros((k, k))
    same_kind = (agree >= SAME_KIND) | np.eye(k, dtype=bool)
    outside = np.where(same_kind, -np.inf, hm).max(axis=1)
    gap = np.diag(hm) - np.where(np.isfinite(outside), outside, 0.0)
    lo, hi = PEER_GAP
    one = np.clip((gap - lo) / (hi - lo), 0.0, 1.0)
    return np.where(same_kind, np.minimum(one[:, None], one[None, :]), 0.0)
