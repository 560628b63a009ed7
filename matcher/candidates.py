"""Candidate lists from nearest-neighbour hits: pure array work, for a whole chunk of query attendees at once.

A FAISS search answers per query *item* (one goal, one offer...) with the owners of the nearest items. An
attendee's candidates from one channel are its items' hit lists interleaved by rank (every item's best hit, then
every item's second best...), each owner kept at its first appearance, cut to ``fetch`` owners. The channels'
lists are then united per attendee.

Everything here takes and returns arrays of attendee keys; a chunk of ``Q`` query attendees is handled in a few
sorts instead of a Python loop per attendee.
"""

from __future__ import annotations

import numpy as np


def channel_candidates(owners: np.ndarray, counts: np.ndarray, fetch: int) -> tuple[np.ndarray, np.ndarray]:
    """Per query attendee, the first ``fetch`` distinct owners of its items' hits, interleaved by rank.

    ``owners``: ``(n_rows, kk)`` hit owners (``-1`` pads), rows grouped by query attendee; ``counts[q]``: how many
    of the rows belong to query ``q``. Returns ``(q, owner)`` pairs sorted by ``q``, then by first appearance.

    >>> owners = np.array([[5, 7, 9], [7, 8, -1], [3, 3, 3]])  # query 0 has two item rows, query 1 one
    >>> q, o = channel_candidates(owners, np.array([2, 1]), fetch=3)
    >>> q.tolist(), o.tolist()
    ([0, 0, 0, 1], [5, 7, 8, 3])
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_rows, kk = owners.shape
    if n_rows == 0 or kk == 0 or fetch <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    row_q = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    row_j = np.arange(n_rows, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    # interleaved position of hit (row j of its query, rank t): t * n_q + j
    pos = (np.arange(kk, dtype=np.int64)[None, :] * counts[row_q][:, None] + row_j[:, None]).ravel()
    q = np.repeat(row_q, kk)
    o = owners.ravel().astype(np.int64, copy=False)
    ok = o >= 0
    q, o, pos = q[ok], o[ok], pos[ok]
    if not q.size:
        return q, o
    # first appearance of each (query, owner): sort by (query, owner, position), keep group heads
    span = int(pos.max()) + 1
    n_owner = int(o.max()) + 1
    key = (q * n_owner + o) * span + pos
    order = np.argsort(key, kind="stable")
    q, o, pos = q[order], o[order], pos[order]
    head = np.ones(q.size, dtype=bool)
    head[1:] = (q[1:] != q[:-1]) | (o[1:] != o[:-1])
    q, o, pos = q[head], o[head], pos[head]
    # per query, by first appearance; keep the first ``fetch``
    order = np.argsort(q * span + pos, kind="stable")
    q, o = q[order], o[order]
    first = np.searchsorted(q, q, side="left")
    keep = np.arange(q.size) - first < fetch
    return q[keep], o[keep]


def unite(parts: list[tuple[np.ndarray, np.ndarray]], n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """The union of several ``(q, key)`` pair lists: sorted by query, then key, without repeats. Returns the keys
    and ``offsets`` (query ``q``'s candidates are ``keys[offsets[q]:offsets[q + 1]]``).

    >>> keys, offsets = unite([(np.array([0, 1]), np.array([4, 2])), (np.array([0, 0]), np.array([4, 1]))], 3)
    >>> keys.tolist(), offsets.tolist()
    ([1, 4, 2], [0, 2, 3, 3])
    """
    qs = [np.asarray(p[0], dtype=np.int64) for p in parts if len(p[0])]
    if not qs:
        return np.zeros(0, np.int64), np.zeros(n_queries + 1, np.int64)
    q = np.concatenate(qs)
    o = np.concatenate([np.asarray(p[1], dtype=np.int64) for p in parts if len(p[0])])
    n_owner = int(o.max()) + 1
    pair = np.unique(q * n_owner + o)
    q, keys = np.divmod(pair, n_owner)
    offsets = np.searchsorted(q, np.arange(n_queries + 1), side="left").astype(np.int64)
    return keys, offsets
