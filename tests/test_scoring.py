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
