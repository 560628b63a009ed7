"""Per-facet FAISS indexes of item vectors with stable owners.

Each row is one item vector (one goal, one offer, ...) owned by one attendee key. Rows are appended; removing an
attendee marks its rows dead (a FAISS ``IDSelector`` hides them from search) and the index compacts itself once
a quarter of it is dead. Exact search (``IndexFlatIP``) below ``hnsw_threshold`` rows, HNSW above; both pass the
same tests. Cosine similarity is the inner product of unit float32 vectors.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np

from models.errors import MatchmakerError

#: Rows above which a facet switches from exact search to HNSW: where one query (k=60) costs the same both ways
#: on this machine (``python -m scripts.bench_engine`` prints the crossover measurement).
HNSW_THRESHOLD = 10_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 64
#: Searches with fewer queries than this run on one FAISS thread.
SINGLE_THREAD_BELOW = 16


class IndexError_(MatchmakerError):
    """Misuse of an index (wrong dimension, unfitted, corrupt file)."""


@contextmanager
def _one_omp_thread():
    """Run FAISS on one OpenMP thread inside the block (the setting belongs to the calling thread)."""
    threads = faiss.omp_get_max_threads()
    if threads == 1:
        yield
        return
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


class FacetIndex:
    """Item vectors of one facet of one event.

    >>> idx = FacetIndex(dim=2)
    >>> rows = idx.add(np.array([7, 8]), np.array([[1, 0], [0, 1]], dtype=np.float32))
    >>> sims, owners = idx.search(np.array([[1, 0]], dtype=np.float32), 2)
    >>> owners.tolist(), sims.round(2).tolist()
    ([[7, 8]], [[1.0, 0.0]])
    """

    def __init__(self, dim: int, *, hnsw_threshold: int = HNSW_THRESHOLD, kind: str | None = None):
        if kind not in {None, "flat", "hnsw"}:
            raise IndexError_(f"kind must be 'flat', 'hnsw' or None (automatic); got {kind!r}")
        self.dim = int(dim)
        self.hnsw_threshold = int(hnsw_threshold)
        self.fixed_kind = kind
        self.kind = kind or "flat"
        self._index = self._new_index(self.kind)
        self._owner = np.zeros(0, dtype=np.int64)
        self._alive = np.zeros(0, dtype=bool)
        self._n_dead = 0
        self._view: np.ndarray | None = None

    # -- construction -------------------------------------------------------------------------------------------
    def _new_index(self, kind: str):
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
            return index
        return faiss.IndexFlatIP(self.dim)

    def __len__(self) -> int:
        """Live rows."""
        return int(self._alive.size - self._n_dead)

    @property
    def ntotal(self) -> int:
        """All rows, dead ones included (row numbers run up to this)."""
        return int(self._alive.size)

    def owners(self) -> np.ndarray:
        """The owner key of every row (dead rows included), read-only."""
        view = self._owner.view()
        view.flags.writeable = False
        return view

    def vectors(self) -> np.ndarray:
        """A read-only, zero-copy ``(ntotal, dim)`` view of the stored vectors."""
        if self._view is None:
            flat = self._index if self.kind == "flat" else faiss.downcast_index(self._index.storage)
            n = flat.ntotal
            if n == 0:
                self._view = np.zeros((0, self.dim), dtype=np.float32)
            else:
                self._view = faiss.rev_swig_ptr(flat.get_xb(), n * self.dim).reshape(n, self.dim)
            self._view.flags.writeable = False
        return self._view

    def add(self, owners: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """Append rows; returns their row numbers."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        owners = np.asarray(owners, dtype=np.int64)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise IndexError_(f"expected vectors of shape (n, {self.dim}); got {vectors.shape}")
        if owners.shape != (vectors.shape[0],):
            raise IndexError_(f"expected {vectors.shape[0]} owners; got {owners.shape}")
        start = self.ntotal
        if (self.fixed_kind is None and self.kind == "flat"
                and len(self) + len(vectors) > self.hnsw_threshold):
            self._rebuild("hnsw", extra=(owners, vectors))
        else:
            if len(vectors):
                self._index.add(vectors)
            self._owner = np.concatenate([self._owner, owners])
            self._alive = np.concatenate([self._alive, np.ones(len(owners), dtype=bool)])
            self._view = None
        return np.arange(start, start + len(owners), dtype=np.int64)

    def remove(self, rows: np.ndarray) -> None:
        """Mark rows dead: they never come back from :meth:`search`."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        if rows.min() < 0 or rows.max() >= self.ntotal:
            raise IndexError_(f"row out of range 0..{self.ntotal - 1}")
        newly = self._alive[rows]
        self._alive[rows] = False
        self._n_dead += int(newly.sum())

    def needs_compaction(self) -> bool:
        return self._n_dead > 1000 and self._n_dead > 0.25 * self.ntotal

    def compact(self) -> np.ndarray:
        """Drop dead rows. Returns ``old_row -> new_row`` (-1 for dropped rows); owners must remap their rows."""
        mapping = np.full(self.ntotal, -1, dtype=np.int64)
        keep = np.flatnonzero(self._alive)
        mapping[keep] = np.arange(keep.size)
        kind = self.fixed_kind or ("hnsw" if keep.size > self.hnsw_threshold else "flat")
        vecs = self.vectors()[keep].copy()
        owners = self._owner[keep]
        self.kind = kind
        self._index = self._new_index(kind)
        self._owner = np.zeros(0, dtype=np.int64)
        self._alive = np.zeros(0, dtype=bool)
        self._n_dead = 0
        self._view = None
        self.add(owners, vecs)
        return mapping

    def _rebuild(self, kind: str, extra: tuple[np.ndarray, np.ndarray]) -> None:
        """Switch backend (flat -> hnsw on growth), keeping row numbers (dead rows stay, still hidden)."""
        vecs = np.concatenate([self.vectors(), extra[1]]) if self.ntotal else extra[1]
        self.kind = kind
        self._index = self._new_index(kind)
        if len(vecs):
            self._index.add(vecs)
        self._owner = np.concatenate([self._owner, extra[0]])
        self._alive = np.concatenate([self._alive, np.ones(len(extra[0]), dtype=bool)])
        self._view = None

    # -- search -------------------------------------------------------------------------------------------------
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` live rows per query: ``(similarities, owner keys)``, both ``(nq, k)``; -1 owner pads."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim != 2 or queries.shape[1] != self.dim:
            raise IndexError_(f"expected queries of shape (n, {self.dim}); got {queries.shape}")
        nq = queries.shape[0]
        k = int(min(k, len(self)))
        if nq == 0 or k <= 0:
            return np.zeros((nq, max(k, 0)), np.float32), np.full((nq, max(k, 0)), -1, np.int64)
        params = None
        if self._n_dead:
            bitmap = np.packbits(self._alive, bitorder="little")  # must outlive the search call
            sel = faiss.IDSelectorBitmap(self.ntotal, faiss.swig_ptr(bitmap))
            if self.kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(HNSW_EF_SEARCH, k))
            else:
                params = faiss.SearchParameters(sel=sel)
        elif self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, k))
        # a few queries run faster on one thread than split across several (DESIGN.md measurement)
        if nq < SINGLE_THREAD_BELOW:
            with _one_omp_thread():
                sims, rows = self._index.search(queries, k, params=params)
        else:
            sims, rows = self._index.search(queries, k, params=params)
        owners = np.where(rows >= 0, self._owner[np.maximum(rows, 0)], -1)
        return sims, owners

    # -- persistence --------------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(path / "faiss.index"))
        np.savez(path / "rows.npz", owner=self._owner, alive=self._alive)
        (path / "meta.json").write_text(json.dumps({"dim": self.dim, "kind": self.kind,
                                                    "fixed_kind": self.fixed_kind,
                                                    "hnsw_threshold": self.hnsw_threshold}))

    @classmethod
    def load(cls, path: str | Path) -> FacetIndex:
        path = Path(path)
        try:
            meta = json.loads((path / "meta.json").read_text())
            with np.load(path / "rows.npz") as z:
                owner, alive = z["owner"], z["alive"]
            index = faiss.read_index(str(path / "faiss.index"))
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise IndexError_(f"cannot load index from {path}: {exc}") from exc
        self = cls(meta["dim"], hnsw_threshold=meta["hnsw_threshold"], kind=meta["fixed_kind"])
        self.kind = meta["kind"]
        self._index = index
        if self.kind == "hnsw":
            self._index.hnsw.efSearch = HNSW_EF_SEARCH
        self._owner, self._alive = owner.astype(np.int64), alive.astype(bool)
        self._n_dead = int((~self._alive).sum())
        if index.ntotal != owner.size:
            raise IndexError_(f"cannot load index from {path}: {index.ntotal} vectors but {owner.size} owners")
        return self


def locality_order(vectors: np.ndarray, rows: np.ndarray, *, seed: int = 0, sample: int = 20_000,
                   chunk: int = 8192) -> np.ndarray:
    """An order of ``rows`` (rows of ``vectors``) in which neighbours are alike: grouped by k-means cluster
    (about sqrt(n) clusters, trained on a sample). Batch ranking walks attendees in this order, so consecutive
    lists share candidates whose vectors are still in the CPU caches. Returns positions into ``rows``.

    >>> v = np.array([[1, 0], [0, 1], [1, 0.1], [0.1, 1]], dtype=np.float32)
    >>> order = locality_order(v, np.arange(4))
    >>> sorted([set(order[:2].tolist()), set(order[2:].tolist())], key=min)
    [{0, 2}, {1, 3}]
    """
    rows = np.asarray(rows, dtype=np.int64)
    n = len(rows)
    k = int(np.sqrt(n))
    if k < 2:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    train = vectors[np.sort(rng.choice(rows, size=min(n, max(sample, 40 * k)), replace=False))]
    km = faiss.Kmeans(vectors.shape[1], k, niter=10, seed=seed, spherical=True, min_points_per_centroid=1,
                      max_points_per_centroid=max(1, sample // k))
    km.train(np.ascontiguousarray(train, dtype=np.float32))
    labels = np.empty(n, dtype=np.int64)
    for s in range(0, n, chunk):  # assign in chunks: no full copy of the vectors
        _, lab = km.index.search(np.ascontiguousarray(vectors[rows[s:s + chunk]], dtype=np.float32), 1)
        labels[s:s + chunk] = lab[:, 0]
    return np.argsort(labels, kind="stable")

