"""The lexical channel: TF-IDF over hashed terms, updated one attendee at a time.

Small embedding models blur rare, specific terms ("Rust", "LoRaWAN", "Series A"); TF-IDF does not. Terms are
hashed with scikit-learn's ``HashingVectorizer`` (no vocabulary to refit when attendees come and go) and document
frequencies are kept as counts, so adding or removing one attendee is cheap. Weighting follows scikit-learn's
``TfidfTransformer`` (smooth idf, sublinear tf, L2 norm).
"""

from __future__ import annotations

import re
import threading

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

N_FEATURES = 2**18
DOC_KINDS = ("seek", "give", "topic")
#: The words ``HashingVectorizer`` takes from lowercased text (its default ``token_pattern``).
_WORD = re.compile(r"(?u)\b\w\w+\b")


class LexicalIndex:
    """Per-attendee sparse term counts for each doc kind, keyed by the engine's integer attendee keys.

    >>> lex = LexicalIndex()
    >>> lex.set(0, {"seek": "Rust engineers", "give": "", "topic": "compilers"})
    >>> lex.set(1, {"seek": "", "give": "Rust jobs", "topic": "compilers"})
    >>> seek_give, give_seek, topic = lex.dots(0, np.array([1]))
    >>> bool(seek_give[0] > 0), float(give_seek[0]), round(float(topic[0]), 3)
    (True, 0.0, 1.0)
    """

    def __init__(self) -> None:
        self._vectorizer = HashingVectorizer(n_features=N_FEATURES, alternate_sign=False, norm=None,
                                             stop_words="english", dtype=np.float32)
        self._analyzer = self._vectorizer.build_analyzer()
        # rows are kept in the batches they arrived in: ``_where[key] = (batch, row)``; -1 = none
        self._batches: dict[str, list[sp.csr_matrix]] = {k: [] for k in DOC_KINDS}
        self._batch_starts: list[int] = []
        self._n_rows = 0
        self._where = np.full(0, -1, dtype=np.int64)  # key -> global row in the stacked batches
        self._df = np.zeros(N_FEATURES, dtype=np.int32)
        self._n_docs = 0
        self._cache: dict[str, sp.csr_matrix] | None = None
        self._local = threading.local()

    def tokens(self, text: str) -> list[str]:
        return self._analyzer(text)

    def _counts(self, texts: list[str]) -> sp.csr_matrix:
        return self._vectorizer.transform(texts).tocsr()

    def set(self, key: int, docs: dict[str, str]) -> None:
        self.set_many([key], [docs])

    def set_many(self, keys: list[int], docs: list[dict[str, str]]) -> None:
        """Add or replace the documents of these attendee keys."""
        if not keys:
            return
        for k in keys:
            self.remove(k)
        for kind in DOC_KINDS:
            self._batches[kind].append(self._counts([d[kind] for d in docs]))
        need = max(keys) + 1
        if self._where.size < need:
            self._where = np.concatenate([self._where, np.full(need - self._where.size, -1, dtype=np.int64)])
        self._where[np.asarray(keys, dtype=np.int64)] = self._n_rows + np.arange(len(keys))
        self._batch_starts.append(self._n_rows)
        self._n_rows += len(keys)
        # document frequency over the whole profile: a term counts once per attendee
        whole = self._counts([" ".join(d[kind] for kind in DOC_KINDS) for d in docs])
        whole.sum_duplicates()
        np.add.at(self._df, whole.indices, 1)
        self._n_docs += len(keys)
        self._cache = None

    def _row(self, kind: str, global_row: int) -> sp.csr_matrix:
        b = int(np.searchsorted(self._batch_starts, global_row, side="right") - 1)
        return self._batches[kind][b][global_row - self._batch_starts[b]]

    def remove(self, key: int) -> None:
        if key >= self._where.size or self._where[key] < 0:
            return
        g = int(self._where[key])
        present = np.unique(np.concatenate([self._row(kind, g).indices for kind in DOC_KINDS]))
        np.subtract.at(self._df, present, 1)
        self._n_docs -= 1
        self._where[key] = -1
        self._cache = None

    def idf(self, columns: np.ndarray | None = None) -> np.ndarray:
        df = self._df if columns is None else self._df[columns]
        return np.log((1.0 + self._n_docs) / (1.0 + df)) + 1.0

    def _weighted(self, kind: str) -> sp.csr_matrix:
        """``(n_keys, N_FEATURES)`` L2-normalised TF-IDF rows of one doc kind (zero rows for missing keys)."""
        empty = sp.csr_matrix((1, N_FEATURES), dtype=np.float32)
        stacked = sp.vstack([*self._batches[kind], empty], format="csr")
        rows = np.where(self._where >= 0, self._where, self._n_rows)  # the empty row for missing keys
        m = stacked[rows].astype(np.float64)  # float64: a pair's value must not depend on the product shape
        m.data = (1.0 + np.log(m.data)) * self.idf(m.indices)
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return (sp.diags(1.0 / norms) @ m).tocsr()

    def matrix(self, kind: str) -> sp.csr_matrix:
        """``(n_keys, N_FEATURES)`` L2-normalised TF-IDF rows (zero rows for unknown or removed keys); built when
        asked (the all-pairs path), not kept."""
        if self._cache is not None and "combined" in self._cache:
            part = DOC_KINDS.index(kind)
            return self._cache["combined"][:, part * N_FEATURES:(part + 1) * N_FEATURES].tocsr()
        return self._weighted(kind)

    def combined(self) -> sp.csr_matrix:
        """``[seek | give | topic]`` side by side, ``(n_keys, 3 * N_FEATURES)``: one row gather serves all three.
        The one matrix kept between changes (with :meth:`presence`)."""
        if self._cache is None:
            self._cache = {}
        if "combined" not in self._cache:
            parts = []
            for kind in DOC_KINDS:
                parts.append(self._weighted(kind))
                if kind in ("seek", "topic"):
                    self._cache["has_" + kind] = np.diff(parts[-1].indptr) > 0
            self._cache["combined"] = sp.hstack(parts, format="csr")
        return self._cache["combined"]

    def topics(self) -> sp.csr_matrix:
        """The ``topic`` rows (:meth:`matrix`), kept between changes like :meth:`combined`: what the strength of a
        tie between two people reads (:meth:`~matcher.store.AttendeeStore.adamic_adar`)."""
        if self._cache is None:
            self._cache = {}
        if "topic" not in self._cache:
            self._cache["topic"] = self.matrix("topic")
        return self._cache["topic"]

    def presence(self) -> tuple[np.ndarray, np.ndarray]:
        """Per key: has seek terms, has topic terms (bool arrays)."""
        self.combined()
        return self._cache["has_seek"], self._cache["has_topic"]

    def dots(self, q: int, cands: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For one query key: ``seek_q . give_c``, ``give_q . seek_c`` and ``topic_q . topic_c`` for each candidate.

        One pass over the candidates' rows of :meth:`combined`, each term weighed through a lookup table that
        holds the query's few terms (one table per thread; :func:`matcher.scoring.compiled.lexical_dots`).
        """
        from matcher.scoring.compiled import lexical_dots

        both = self.combined()
        cands = np.ascontiguousarray(cands, dtype=np.int64)
        out = np.empty((len(cands), 3), dtype=np.float64)
        lexical_dots(both.indptr, both.indices, both.data, int(q), cands, N_FEATURES, *self.table(), out)
        return out[:, 0], out[:, 1], out[:, 2]

    def table(self) -> tuple[np.ndarray, np.ndarray]:
        """This thread's scratch over the columns of :meth:`combined`: a float64 table and a bitmap (all zero
        between uses)."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            n = len(DOC_KINDS) * N_FEATURES
            scratch = self._local.scratch = (np.zeros(n, dtype=np.float64), np.zeros(n // 8, dtype=np.uint8))
        return scratch

    def shared_terms(self, text_a: str | set[str], text_b: str, limit: int = 5) -> list[str]:
        """Terms both texts use, rarest first (the ones TF-IDF rewards). ``text_a`` may be a token set already."""
        tokens_a = text_a if isinstance(text_a, set) else set(self.tokens(text_a))
        common = tokens_a & set(self.tokens(text_b))
        if not common:
            return []
        terms = sorted(common)
        # the same column HashingVectorizer gives a term (abs of signed murmurhash3, modulo n_features)
        cols = np.fromiter((abs(murmurhash3_32(t, seed=0)) % N_FEATURES for t in terms), dtype=np.int64,
                           count=len(terms))
        weights = self.idf(cols)
        order = sorted(range(len(terms)), key=lambda i: (-weights[i], terms[i]))
        return [terms[i] for i in order[:limit]]

    def term_columns(self, text: str) -> dict[int, list[str]]:
        """The terms of ``text`` by hashed column (for :meth:`shared_terms_with`)."""
        out: dict[int, list[str]] = {}
        for t in set(self.tokens(text)):
            out.setdefault(abs(murmurhash3_32(t, seed=0)) % N_FEATURES, []).append(t)
        return out

    def shared_terms_with(self, terms: dict[int, list[str]], key: int, text: str, limit: int = 5) -> list[str]:
        """:meth:`shared_terms` of a query (its :meth:`term_columns`) and the attendee stored under ``key`` whose
        documents read ``text``. The attendee's hashed columns say which of the query's terms it may share (most
        candidates share none, and are done); a hash collision is ruled out by the attendee's own words."""
        both = self.combined()
        maybe = {t for col in both.indices[both.indptr[key]:both.indptr[key + 1]].tolist()
                 for t in terms.get(col % N_FEATURES, ())}
        if not maybe:
            return []
        common = sorted(maybe & set(_WORD.findall(text.lower())))
        if not common:
            return []
        weights = self.idf(np.fromiter((abs(murmurhash3_32(t, seed=0)) % N_FEATURES for t in common),
                                       dtype=np.int64, count=len(common))).tolist()
        order = sorted(range(len(common)), key=lambda i: (-weights[i], common[i]))
        return [common[i] for i in order[:limit]]
