"""Old home of the compiled list kernels: now :mod:`matcher.scoring.compiled` (this module re-exports it)."""

from matcher.scoring.compiled import (  # noqa: F401
    candidate_lists,
    lexical_dots,
    lexical_score,
    list_channels,
    mutual_score,
    rank_lists,
    rerank,
    rerank_pool_size,
)
