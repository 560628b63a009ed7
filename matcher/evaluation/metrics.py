"""Ranking and list-quality metrics: plain functions over ids, no model, no engine.

Relevance is binary (a ground-truth pair or not). Per-query metrics (:func:`recall_at_k` ... :func:`average_precision`)
take one ranking (ids, best first) and the set of relevant ids; :func:`rank_metrics` averages them over every
query with at least one relevant id. List-level metrics (:func:`coverage`, :func:`exposure`, :func:`gini`,
:func:`mutual_recall_at_k`) look at everybody's top-k lists together.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence

import numpy as np


def _hits(ranked: Sequence[str], relevant: Collection[str], k: int | None = None) -> list[bool]:
    top = ranked if k is None else ranked[:k]
    return [x in relevant for x in top]


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant ids found in the top ``k``.

    >>> recall_at_k(["a", "b", "c"], {"b", "z"}, 2)
    0.5
    """
    if not relevant:
        return 0.0
    return sum(_hits(ranked, relevant, k)) / len(relevant)


def precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the top ``k`` slots holding a relevant id (a list shorter than ``k`` counts its empty slots).

    >>> precision_at_k(["a", "b", "c"], {"b", "z"}, 2)
    0.5
    """
    return sum(_hits(ranked, relevant, k)) / k


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Binary nDCG: sum of ``1/log2(rank + 1)`` over hits in the top ``k``, over the same for a perfect list.

    >>> round(ndcg_at_k(["a", "b"], {"b"}, 10), 4)   # one hit at rank 2: 1/log2(3)
    0.6309
    """
    if not relevant:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, h in enumerate(_hits(ranked, relevant, k)) if h)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal


def reciprocal_rank(ranked: Sequence[str], relevant: Collection[str]) -> float:
    """``1 / rank`` of the first relevant id (0 when none is ranked).

    >>> reciprocal_rank(["a", "b", "c"], {"c"})
    0.3333333333333333
    """
    for i, x in enumerate(ranked):
        if x in relevant:
            return 1.0 / (i + 1)
    return 0.0


def average_precision(ranked: Sequence[str], relevant: Collection[str]) -> float:
    """Mean over relevant ids of the precision at each one's rank (relevant ids never ranked count 0).

    >>> average_precision(["a", "b", "c", "d"], {"a", "c"})   # (1/1 + 2/3) / 2
    0.8333333333333333
    """
    if not relevant:
        return 0.0
    found, total = 0, 0.0
    for i, h in enumerate(_hits(ranked, relevant)):
        if h:
            found += 1
            total += found / (i + 1)
    return total / len(relevant)


def rank_metrics(rankings: Mapping[str, Sequence[str]], truth: Mapping[str, Collection[str]],
                 ks: Iterable[int] = (10,)) -> dict[str, float]:
    """Means over every query with at least one relevant id: ``recall@k``, ``precision@k``, ``ndcg@k`` for each
    ``k``, ``mrr`` and ``map`` (the last two over the whole ranking), and ``queries`` (how many were averaged).

    A query with truth but no ranking counts as all misses.

    >>> m = rank_metrics({"q": ["a", "b"]}, {"q": {"b"}, "r": set()}, ks=(1,))
    >>> m["recall@1"], m["mrr"], m["queries"]
    (0.0, 0.5, 1)
    """
    ks = list(ks)
    sums: dict[str, float] = {}
    names = [f"{m}@{k}" for k in ks for m in ("recall", "precision", "ndcg")] + ["mrr", "map"]
    for n in names:
        sums[n] = 0.0
    queries = 0
    for q, rel in truth.items():
        if not rel:
            continue
        queries += 1
        ranked = rankings.get(q, ())
        for k in ks:
            sums[f"recall@{k}"] += recall_at_k(ranked, rel, k)
            sums[f"precision@{k}"] += precision_at_k(ranked, rel, k)
            sums[f"ndcg@{k}"] += ndcg_at_k(ranked, rel, k)
        sums["mrr"] += reciprocal_rank(ranked, rel)
        sums["map"] += average_precision(ranked, rel)
    out = {n: (v / queries if queries else 0.0) for n, v in sums.items()}
    out["queries"] = queries
    return out


def mutual_recall_at_k(lists: Mapping[str, Sequence[str]], pairs: Iterable[tuple[str, str]], k: int) -> float:
    """Two-sided recall: share of ground-truth pairs ``(a, b)`` where each is in the other's top ``k``.

    >>> mutual_recall_at_k({"a": ["b"], "b": ["c"], "c": ["b"]}, [("a", "b"), ("b", "c")], 1)
    0.5
    """
    pairs = {tuple(sorted(p)) for p in pairs if p[0] != p[1]}
    if not pairs:
        return 0.0
    tops = {q: set(v[:k]) for q, v in lists.items()}
    hit = sum(1 for a, b in pairs if b in tops.get(a, ()) and a in tops.get(b, ()))
    return hit / len(pairs)


def exposure(lists: Mapping[str, Sequence[str]], population: Sequence[str], k: int | None = None) -> np.ndarray:
    """How many lists each member of ``population`` appears in (top ``k`` of each list, or all of it).

    >>> exposure({"a": ["b", "c"], "b": ["c"]}, ["a", "b", "c"]).tolist()
    [0, 1, 2]
    """
    pos = {x: i for i, x in enumerate(population)}
    counts = np.zeros(len(population), dtype=np.int64)
    for v in lists.values():
        for x in (v if k is None else v[:k]):
            i = pos.get(x)
            if i is not None:
                counts[i] += 1
    return counts


def coverage(lists: Mapping[str, Sequence[str]], population: Sequence[str], k: int | None = None) -> float:
    """Share of ``population`` appearing in at least one list.

    >>> coverage({"a": ["b"], "b": ["a"]}, ["a", "b", "c", "d"])
    0.5
    """
    if not len(population):
        return 0.0
    return float(np.mean(exposure(lists, population, k) > 0))


def gini(counts: Sequence[float] | np.ndarray) -> float:
    """Gini coefficient of non-negative counts: 0 when everyone gets the same, towards 1 when one gets all.

    >>> gini([1, 1, 1, 1]), gini([0, 0, 0, 4])
    (0.0, 0.75)
    """
    x = np.sort(np.asarray(counts, dtype=np.float64))
    n = len(x)
    if (x < 0).any():
        raise ValueError(f"gini needs non-negative counts; got {x.min()}")
    if n == 0 or x.sum() == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(2.0 * np.sum(ranks * x) / (n * x.sum()) - (n + 1.0) / n)


def pair_truth(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Symmetric ground truth from pairs: each side is relevant to the other.

    >>> sorted(pair_truth([("a", "b"), ("a", "c")])["a"])
    ['b', 'c']
    """
    truth: dict[str, set[str]] = {}
    for a, b in pairs:
        if a == b:
            continue
        truth.setdefault(a, set()).add(b)
        truth.setdefault(b, set()).add(a)
    return truth
