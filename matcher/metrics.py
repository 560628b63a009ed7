"""Moved to :mod:`matcher.evaluation.metrics`; this name stays importable (``from matcher import metrics``)."""

from matcher.evaluation.metrics import (  # noqa: F401
    average_precision,
    coverage,
    exposure,
    gini,
    mutual_recall_at_k,
    ndcg_at_k,
    pair_truth,
    precision_at_k,
    rank_metrics,
    recall_at_k,
    reciprocal_rank,
)
