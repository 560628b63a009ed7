"""Candidate search over the FAISS channels: who might be worth scoring exactly for each attendee.

Each query facet is its own channel (goals->offers, goals->identity, offers->goals, identity->goals,
interests->interests); facets searching the same index share one FAISS call. Every item of a query asks for
twice the candidates wanted (one attendee may own several hits), and each channel keeps its first ``fetch``
distinct owners (:func:`matcher.scoring.compiled.candidate_lists`).
"""

from __future__ import annotations

import numpy as np

from matcher.scoring import compiled
from matcher.store import AttendeeStore

#: Retrieval channels as FAISS searches: (query facets, searched facet).
SEARCHES = ((("goals",), "offers"), (("goals",), "identity"), (("offers", "identity"), "goals"),
            (("interests",), "interests"))

_NO_HITS = np.full((0, 1), -1, np.int64)


def retrieve(store: AttendeeStore, keys: np.ndarray, fetch: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate keys of each query key, one batched search per index: ``(candidate keys, offsets)``, query
    ``i``'s candidates being ``keys[offsets[i]:offsets[i + 1]]`` (sorted)."""
    st = store.snapshot()
    owners, counts = [], []
    for query_facets, target in SEARCHES:
        index = store.index(target)
        gathered = [store.gather_rows(f, keys) for f in query_facets]
        if len(index) == 0 or sum(int(c.sum()) for _, c in gathered) == 0:
            owners.extend(_NO_HITS for _ in query_facets)
            counts.extend(np.zeros(len(keys), np.int64) for _ in query_facets)
            continue
        queries = np.concatenate([st.vectors[f].take(r, axis=0) for f, (r, _) in zip(query_facets, gathered,
                                                                                      strict=True)])
        # over-fetch items: one attendee may own several of the hits
        _, hits = index.search(queries, min(len(index), fetch * 2))
        at = 0
        for rows, n in gathered:  # each query facet is its own channel
            owners.append(np.ascontiguousarray(hits[at:at + len(rows)]))
            counts.append(n)
            at += len(rows)
    return compiled.candidate_lists(tuple(owners), np.stack(counts), fetch, store.scratch_marks())
