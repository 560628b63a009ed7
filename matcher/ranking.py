"""Ranking: one list, or every list of a batch, from the store's snapshot.

A batch runs the same code as one list: attendees in chunks (FAISS searches batched per chunk), chunks on
threads (FAISS and the compiled kernels release the GIL), a large batch taken in profile-cluster order so that
consecutive lists share candidates in cache. Each list is scored on its own candidates by
:func:`matcher.scoring.compiled.rank_lists`, so one attendee's list is the same alone or in a batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from matcher import scoring
from matcher.index import locality_order
from matcher.lexical import N_FEATURES
from matcher.retrieval import retrieve
from matcher.scoring import COMPONENTS, compiled
from matcher.store import AttendeeStore, Snapshot
from models import InvalidInput

#: Candidates kept per retrieval channel, as a multiple of the list length (with a floor).
FETCH_FACTOR = 3
FETCH_MIN = 30
#: Batches at least this large are ranked in profile-cluster order (measured at 100k attendees, with an earlier
#: version of the kernels: 1.19-1.29 against 1.65 ms per list in storage order).
LOCALITY_MIN = 4096

_NO_KEYS = np.zeros(0, np.int64)
_NO_VALUES = np.zeros(0, np.float64)
_NO_FLAGS = np.zeros(0, dtype=bool)
_EMPTY_CSR = sp.csr_matrix((1, 1), dtype=np.float64)


@dataclass
class RankedLists:
    """Many ranked lists as arrays: row ``i`` is the list of ``ids[i]``, its first ``lengths[i]`` entries valid.

    ``keys`` are the matcher's attendee keys (``names[key]`` is the id; -1 pads), ``scores`` the final scores and
    ``components`` the score components in :data:`~matcher.scoring.COMPONENTS` order (NaN where a channel is
    off).
    """

    ids: list[str]
    keys: np.ndarray        # (n, k) int64
    scores: np.ndarray      # (n, k) float64
    components: np.ndarray  # (n, k, len(COMPONENTS)) float32
    lengths: np.ndarray     # (n,) int64
    names: list[str | None]

    @classmethod
    def empty(cls, ids: list[str], k: int, names: list[str | None]) -> RankedLists:
        n = len(ids)
        return cls(ids, np.full((n, k), -1, np.int64), np.zeros((n, k)),
                   np.full((n, k, len(COMPONENTS)), np.nan, np.float32), np.zeros(n, np.int64), names)

    def __len__(self) -> int:
        return len(self.ids)

    def match_ids(self, i: int) -> list[str]:
        """The ids in row ``i``'s list, best first."""
        return [self.names[k] for k in self.keys[i, : self.lengths[i]]]

    def lists(self) -> dict[str, list[str]]:
        """``{attendee id: [match ids, best first]}``."""
        return {aid: self.match_ids(i) for i, aid in enumerate(self.ids)}


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _single_faiss_thread() -> None:
    """Batch worker threads each search on one FAISS thread (the OpenMP setting is per thread)."""
    import faiss

    faiss.omp_set_num_threads(1)


def _concat(parts: list[np.ndarray], dtype=np.int64) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)


def _offsets(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)


def rank_all(store: AttendeeStore, ids: Sequence[str] | None = None, k: int | None = None,
             exclude: Mapping[str, Iterable[str]] | None = None, *, progress: bool = False,
             threads: int | None = None, chunk: int = 256) -> RankedLists:
    """Every list of ``ids`` (default: all) as arrays; see :meth:`matcher.Matcher.rank_all`."""
    ids = store.ids() if ids is None else list(ids)
    store.check_ids(ids)
    k = store.policy.default_limit if k is None else int(k)
    if k < 1:
        raise InvalidInput([{"field": "k", "message": f"must be at least 1; got {k}"}])
    exclude = exclude or {}
    st = store.snapshot()
    out = RankedLists.empty(ids, k, store.names())
    fetch = max(FETCH_FACTOR * k, FETCH_MIN)
    threads = max(1, min(int(threads or _cores()), (len(ids) + chunk - 1) // chunk))
    # a large batch walks attendees grouped by profile, so consecutive lists share candidates (in cache)
    order = np.arange(len(ids))
    if len(ids) >= LOCALITY_MIN:
        order = locality_order(store.profiles, store.keys_of(ids))
    starts = range(0, len(ids), chunk)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(ids), desc="ranking", unit="attendee")

    def work(s: int) -> int:
        rows = order[s:s + chunk]
        part = [ids[i] for i in rows]
        _rank_chunk(store, st, part, [exclude.get(a, ()) for a in part], k, fetch, out, rows)
        return len(part)

    if threads == 1:
        for s in starts:
            done = work(s)
            if bar is not None:
                bar.update(done)
    else:
        from concurrent.futures import ThreadPoolExecutor, as_completed

        with ThreadPoolExecutor(threads, initializer=_single_faiss_thread) as pool:
            for fut in as_completed([pool.submit(work, s) for s in starts]):
                done = fut.result()
                if bar is not None:
                    bar.update(done)
    if bar is not None:
        bar.close()
    return out


def list_inputs(store: AttendeeStore, st: Snapshot, ids: list[str], extras: list[Iterable[str]], k: int,
                fetch: int) -> tuple[scoring.Queries, scoring.People, scoring.Items, scoring.Lexical, scoring.Params]:
    """What :func:`~matcher.scoring.compiled.rank_lists` (or its reference twin) takes to rank ``ids``' lists:
    FAISS candidates (batched for all of ``ids``), Adamic-Adar scores, exclusions (``extras`` per id) and the
    snapshot's arrays. Only the graph and exclusion lookups here hold the GIL."""
    keys = store.keys_of(ids)
    if st.exhaustive:
        found, offsets = np.zeros(0, np.int64), np.zeros(len(ids) + 1, np.int64)
    else:
        found, offsets = retrieve(store, keys, fetch)
    mutual = "mutual" in st.weights
    aa_keys, aa_vals, excluded = [], [], []
    for aid, extra in zip(ids, extras, strict=True):
        ks, vs = store.adamic_adar(aid) if mutual else (_NO_KEYS, _NO_VALUES)
        aa_keys.append(ks)
        aa_vals.append(vs)
        excluded.append(np.sort(store.excluded_keys(aid, extra)))
    w = st.weights
    lex = store.lexical
    both = lex.combined() if "lexical" in w else _EMPTY_CSR
    has_seek, has_topic = st.lex_presence if st.lex_presence is not None else (_NO_FLAGS, _NO_FLAGS)
    return (scoring.Queries(keys, found, offsets, _concat(aa_keys), _concat(aa_vals, np.float64), _offsets(aa_keys),
                            _concat(excluded), _offsets(excluded)),
            st.people(),
            st.items(store.profiles, store.directions),
            scoring.Lexical(both.indptr, both.indices, both.data, N_FEATURES, *lex.table(), has_seek, has_topic),
            scoring.Params(np.asarray([w.get(c, 0.0) for c in scoring.CHANNELS]), k, fetch,
                           float(st.policy.diversity), st.exhaustive, st.policy.allow_same_company,
                           float(st.policy.complement)))


def _rank_chunk(store: AttendeeStore, st: Snapshot, ids: list[str], extras: list[Iterable[str]], k: int,
                fetch: int, out: RankedLists, rows: np.ndarray) -> None:
    """Rank a chunk of attendees into ``rows`` of ``out``: each list scored on its own candidates."""
    got = RankedLists.empty(ids, k, out.names)
    compiled.rank_lists(*list_inputs(store, st, ids, extras, k, fetch),
                        scoring.Out(got.keys, got.scores, got.components, got.lengths))
    out.keys[rows], out.scores[rows], out.components[rows], out.lengths[rows] = (
        got.keys, got.scores, got.components, got.lengths)
