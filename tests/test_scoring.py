"""Scoring math on hand-made vectors: the right answers are visible by eye."""

from __future__ import annotations

import numpy as np
import pytest

from matcher import diversity, scoring
from matcher.scoring import Segments

E = np.eye(4, dtype=np.float32)  # four orthogonal "meanings"


def seg(*owners):
    return Segments.from_lists([np.array([E[i] for i in items], np.float32).reshape(-1, 4) for items in owners], 4)


def test_directional_takes_each_goals_best_match_and_pools_softly():
    seek = seg([0, 1])                      # one person with two goals: meanings 0 and 1
    give = seg([0], [0, 1], [2], [])        # meets goal 0 / meets both / meets neither / has nothing
    d = scoring.directional(seek, give)[0]
    assert d[1] == pytest.approx(1.0)
    assert 0.99 < d[0] < 1.0                # one of two goals met exactly: near the max, just below both met
    assert d[2] == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(d[3])


def test_reciprocal_needs_both_sides():
    hm = scoring.reciprocal(np.array([[0.9, 0.9, 0.5]]), np.array([[0.9, 0.1, 0.5]]))[0]
    assert hm[0] == pytest.approx(0.9) and hm[2] == pytest.approx(0.5)
    assert hm[1] == pytest.approx(0.18)     # one-sided strong interest loses to a balanced weaker one
    assert hm[1] < hm[2]


def test_interests_symmetric_and_zero_without_interests():
    a, b = seg([0, 1]), seg([1, 2], [])
    ab = scoring.interests(a, b)
    ba = scoring.interests(b, a)
    np.testing.assert_allclose(ab, ba.T)
    assert ab[0, 1] == 0.0 and 0 < ab[0, 0] < 1


def test_combine_normalises_weights():
    out = scoring.combine({"intent": np.array([1.0]), "mutual": np.array([0.0])}, {"intent": 3, "mutual": 1})
    assert out[0] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="above 0"):
        scoring.combine({"intent": np.array([1.0])}, {"intent": 0})


def test_diversity_pushes_near_copies_down_only():
    prof = np.array([E[0], E[0], E[0], E[1], E[2]])
    scores = np.array([0.9, 0.89, 0.88, 0.8, 0.5])
    assert diversity.rerank(scores, prof, 3, 0.0).tolist() == [0, 1, 2]
    assert diversity.rerank(scores, prof, 3, 0.3).tolist() == [0, 3, 1]
    distinct = np.array([E[0], E[1], E[2]])
    assert diversity.rerank(np.array([0.9, 0.8, 0.7]), distinct, 3, 1.0).tolist() == [0, 1, 2]


def _rerank_reference(scores, profiles, k, div):
    """The greedy re-rank written plainly: every step scans the whole pool."""
    n = len(scores)
    picked, left = [], np.ones(n, dtype=bool)
    max_sim = np.full(n, -1.0)
    for _ in range(min(k, n)):
        red = np.clip((max_sim - diversity.FLOOR) / (1.0 - diversity.FLOOR), 0.0, 1.0)
        adj = np.where(left, scores * (1.0 - div * red), -np.inf)
        i = int(np.argmax(adj))
        picked.append(i)
        left[i] = False
        max_sim = np.maximum(max_sim, profiles @ profiles[i])
    return picked


def near_copies(seed):
    """A sorted list of scores (with ties) over clusters of near-copies among distinct profiles."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(2, 120)), int(rng.integers(1, 30))
    centres = rng.standard_normal((max(1, n // 6), 16))
    prof = centres[rng.integers(0, len(centres), n)] + rng.uniform(0.05, 0.6) * rng.standard_normal((n, 16))
    prof = (prof / np.linalg.norm(prof, axis=1, keepdims=True)).astype(np.float32)
    scores = np.sort(np.round(rng.uniform(0.2, 0.9, n), 2))[::-1]
    return scores, prof, k, float(rng.choice([0.3, 0.6, 1.0])), rng.permutation(n)


@pytest.mark.parametrize("seed", range(40))
def test_diversity_rerank_equals_the_plain_greedy(seed):
    # the head-only search (numpy) and its compiled twin (which reads profiles[rows]) must agree exactly
    from matcher import kernels

    scores, prof, k, div, rows = near_copies(seed)
    want = _rerank_reference(scores, prof, k, div)
    assert diversity.rerank(scores, prof, k, div).tolist() == want
    table = np.empty_like(prof)
    table[rows] = prof
    assert kernels.rerank(scores, table, rows, k, div, diversity.FLOOR).tolist() == want
