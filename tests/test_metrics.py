"""Ranking and list metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matcher.evaluation import metrics as mt

RANKED = ["a", "b", "c", "d", "e"]
RELEVANT = {"b", "d", "z"}  # z is never ranked


def test_recall_and_precision_by_hand():
    assert mt.recall_at_k(RANKED, RELEVANT, 1) == 0.0
    assert mt.recall_at_k(RANKED, RELEVANT, 2) == pytest.approx(1 / 3)
    assert mt.recall_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 3)
    assert mt.precision_at_k(RANKED, RELEVANT, 4) == 0.5
    # a list shorter than k counts its empty slots as misses
    assert mt.precision_at_k(["b"], RELEVANT, 10) == 0.1
    assert mt.recall_at_k(RANKED, set(), 3) == 0.0


def test_ndcg_by_hand():
    # hits at ranks 2 and 4; three relevant, so the ideal list has hits at ranks 1, 2, 3
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert mt.ndcg_at_k(RANKED, RELEVANT, 5) == pytest.approx(dcg / ideal)
    # with k = 2 the ideal has two hits
    assert mt.ndcg_at_k(RANKED, RELEVANT, 2) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert mt.ndcg_at_k(["b", "d"], {"b", "d"}, 10) == pytest.approx(1.0)
    assert mt.ndcg_at_k(["x"], {"b"}, 10) == 0.0


def test_reciprocal_rank_and_average_precision_by_hand():
    assert mt.reciprocal_rank(RANKED, RELEVANT) == 0.5
    assert mt.reciprocal_rank(RANKED, {"q"}) == 0.0
    # precision at the hits: 1/2 and 2/4; z never found counts 0; three relevant
    assert mt.average_precision(RANKED, RELEVANT) == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert mt.average_precision(["a", "b"], {"a", "b"}) == 1.0


def test_rank_metrics_average_only_queries_with_truth():
    rankings = {"q1": ["a", "b"], "q2": ["c", "d"], "q3": ["e"]}
    truth = {"q1": {"a"}, "q2": {"d"}, "q3": set(), "q4": {"x"}}  # q4 has truth but no ranking: all misses
    m = mt.rank_metrics(rankings, truth, ks=(1, 2))
    assert m["queries"] == 3
    assert m["recall@1"] == pytest.approx(1 / 3)
    assert m["recall@2"] == pytest.approx(2 / 3)
    assert m["precision@2"] == pytest.approx((0.5 + 0.5 + 0) / 3)
    assert m["mrr"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert m["map"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert m["ndcg@2"] == pytest.approx((1 + 1 / math.log2(3)) / 3)


def test_mutual_recall_needs_both_sides():
    lists = {"a": ["b", "c"], "b": ["x", "a"], "c": ["d"], "d": ["c"]}
    pairs = [("a", "b"), ("c", "a"), ("c", "d"), ("d", "c")]  # (c, d) twice: counted once
    # (a, b): b in a's top 2 and a in b's top 2 -> hit; (a, c): a not in c's list -> miss; (c, d): hit
    assert mt.mutual_recall_at_k(lists, pairs, 2) == pytest.approx(2 / 3)
    assert mt.mutual_recall_at_k(lists, pairs, 1) == pytest.approx(1 / 3)  # only (c, d) at k = 1
    assert mt.mutual_recall_at_k(lists, [], 5) == 0.0


def test_exposure_coverage_and_gini_by_hand():
    lists = {"a": ["b", "c"], "b": ["c", "a"], "c": ["b"], "d": []}
    people = ["a", "b", "c", "d"]
    assert mt.exposure(lists, people).tolist() == [1, 2, 2, 0]
    assert mt.exposure(lists, people, k=1).tolist() == [0, 2, 1, 0]
    assert mt.coverage(lists, people) == 0.75
    assert mt.coverage(lists, people, k=1) == 0.5
    # sorted (0, 1, 2, 2): 2 * (1*0 + 2*1 + 3*2 + 4*2) / (4 * 5) - 5/4 = 1.6 - 1.25
    assert mt.gini([1, 2, 2, 0]) == pytest.approx(0.35)
    assert mt.gini([3, 3, 3]) == 0.0
    assert mt.gini([0, 0, 0]) == 0.0
    assert mt.gini(np.array([0, 0, 0, 0, 10])) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="non-negative"):
        mt.gini([1, -1])


def test_pair_truth_is_symmetric_and_drops_self_pairs():
    truth = mt.pair_truth([("a", "b"), ("b", "c"), ("d", "d")])
    assert truth == {"a": {"b"}, "b": {"a", "c"}, "c": {"b"}}
