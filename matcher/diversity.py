"""Old home of the diversity re-rank: now :func:`matcher.scoring.reference.rerank` (the contract's ``FLOOR``).

``rerank(scores, profiles, k, diversity)`` keeps its old signature here: ``profiles`` are the list's own rows.

>>> import numpy as np
>>> p = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)  # the first two are copies
>>> rerank(np.array([0.9, 0.89, 0.8]), p, 2, 0.5).tolist()
[0, 2]
"""

from __future__ import annotations

import numpy as np

from matcher.scoring import FLOOR
from matcher.scoring import reference as _reference

__all__ = ["FLOOR", "rerank"]


def rerank(scores: np.ndarray, profiles: np.ndarray, k: int, diversity: float) -> np.ndarray:
    """Indices of the ``k`` picks of a best-first list, in order (see :func:`matcher.scoring.reference.rerank`)."""
    return _reference.rerank(scores, profiles, np.arange(len(profiles)), k, diversity, FLOOR)
