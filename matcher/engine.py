"""The matcher: attendees in, ranked and explained "people you should meet" lists out.

Flow for one attendee A (the batch runs the same code for every attendee, with FAISS searches batched):

1. **Candidates** from the FAISS channels (over-fetched): A's goals against everyone's offers and identity,
   A's offers and identity against everyone's goals, A's interests against everyone's interests; plus people two
   hops away in the connections graph. Below ``exhaustive_below`` attendees every attendee is a candidate.
2. **Hard rules** remove self, blocked (either way), already connected, opted out, same company (unless the
   policy allows), role pairs the policy forbids, and any ``exclude`` ids (feedback).
3. **Exact reciprocal scoring** of what is left (:mod:`matcher.scoring`), channels weighted by the event policy.
4. **Diversity re-rank** (:mod:`matcher.diversity`) and **explanations** (:mod:`matcher.explain`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matcher import diversity, explain, scoring
from matcher.encoder import CachedEncoder, Encoder, TextEncoder
from matcher.graph import ConnectionGraph
from matcher.index import HNSW_THRESHOLD, FacetIndex
from matcher.lexical import LexicalIndex
from matcher.profile import FACETS, facet_items, lexical_docs
from models import Attendee, Event, EventFile, InvalidInput, Match, MatchmakerError, MatchPolicy
from models.eventfile import check_unique_ids

#: Retrieval channels: (query facet, searched facet).
CHANNELS = (("goals", "offers"), ("goals", "identity"), ("offers", "goals"), ("identity", "goals"),
            ("interests", "interests"))
#: Below this many attendees every attendee is scored exactly (no FAISS retrieval needed).
EXHAUSTIVE_BELOW = 1000
#: Candidates kept per retrieval channel, as a multiple of the list length (with a floor).
FETCH_FACTOR = 3
FETCH_MIN = 30
#: Most candidates the diversity re-rank considers for one list.
POOL_CAP = 500


class UnknownAttendee(MatchmakerError, KeyError):
    """An attendee id that the matcher does not hold."""

    def __init__(self, attendee_id: str):
        self.attendee_id = attendee_id
        super().__init__(attendee_id)

    def __str__(self) -> str:
        return f"unknown attendee id {self.attendee_id!r}"


@dataclass
class PairScores:
    """All-pairs reciprocal scores of a set of attendees (for table planning and evaluation)."""

    ids: list[str]
    scores: np.ndarray        # (n, n) float32, symmetric, 0 on the diagonal
    same_company: np.ndarray  # (n, n) bool
    blocked: np.ndarray       # (n, n) bool, either direction
    connected: np.ndarray     # (n, n) bool
    role_forbidden: np.ndarray  # (n, n) bool: the event's role rules forbid the pair


_BLAS = None


def _one_blas_thread():
    """Run the small per-list matrix products on one BLAS thread: on a busy machine, waking BLAS threads for
    products this small costs more than the products (measured: 4.5x slower scoring with threads)."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def _norm(s: str) -> str:
    return " ".join(s.lower().split())


class Matcher:
    """Per-event matching engine.

    ``encoder``: a :class:`~matcher.encoder.CachedEncoder`, or any text encoder (wrapped in one), or ``None`` for
    the default sentence-transformers model.

    >>> from matcher.encoder import HashingEncoder
    >>> m = Matcher(encoder=HashingEncoder(dim=64))
    >>> m.upsert([Attendee(id="f", role="founder", goals=["seed funding"], offers=["fintech product demos"]),
    ...           Attendee(id="i", role="investor", goals=["fintech founders"], offers=["seed funding"])])
    >>> [x.id for x in m.recommend("f")]
    ['i']
    """

    def __init__(self, event: Event | None = None, encoder: TextEncoder | CachedEncoder | None = None, *,
                 hnsw_threshold: int = HNSW_THRESHOLD, index_kind: str | None = None,
                 exhaustive_below: int = EXHAUSTIVE_BELOW):
        self.event = event if event is not None else Event(id="event")
        if encoder is None:
            encoder = Encoder()
        self.encoder = encoder if isinstance(encoder, CachedEncoder) else CachedEncoder(encoder)
        self.hnsw_threshold = hnsw_threshold
        self.index_kind = index_kind
        self.exhaustive_below = exhaustive_below
        self._attendees: dict[str, Attendee] = {}
        self._key: dict[str, int] = {}
        self._ids: list[str | None] = []
        self._rows: dict[str, list[np.ndarray | None]] = {f: [] for f in FACETS}
        self._texts: dict[str, list[list[str] | None]] = {f: [] for f in FACETS}
        self._indexes: dict[str, FacetIndex] | None = None
        self._lex = LexicalIndex()
        self._graph = ConnectionGraph()
        self._blocked: dict[str, set[str]] = {}
        self._blocked_by: dict[str, set[str]] = {}
        self._layouts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._prof = np.zeros((0, 0), dtype=np.float32)
        self._codes: dict[str, dict[str, int]] = {"company": {}, "role": {}}
        self._meta: dict[str, list] = {"alive": [], "opt_out": [], "company": [], "role": []}
        self._arrays: dict[str, np.ndarray] | None = None
        self._role_ok: np.ndarray | None = None

    # ------------------------------------------------------------------------------------------------ building
    @classmethod
    def from_event_file(cls, event_file: EventFile, encoder=None, *, progress: bool = False,
                        **kwargs) -> Matcher:
        """A matcher holding every attendee of an event file."""
        m = cls(event_file.event, encoder, **kwargs)
        m.upsert(event_file.attendees, progress=progress)
        return m

    @property
    def policy(self) -> MatchPolicy:
        return self.event.policy

    def set_event(self, event: Event) -> None:
        """Replace the event (name, policy); attendees stay."""
        self.event = event
        self._role_ok = None

    def __len__(self) -> int:
        return len(self._attendees)

    def __contains__(self, attendee_id: object) -> bool:
        return attendee_id in self._attendees

    def ids(self) -> list[str]:
        """Attendee ids in insertion order."""
        return list(self._attendees)

    def get(self, attendee_id: str) -> Attendee:
        try:
            return self._attendees[attendee_id]
        except KeyError:
            raise UnknownAttendee(attendee_id) from None

    def _code(self, kind: str, value: str) -> int:
        value = _norm(value)
        if kind == "company" and not value:
            return -1
        codes = self._codes[kind]
        if value not in codes:
            codes[value] = len(codes)
            if kind == "role":
                self._role_ok = None
        return codes[value]

    def _new_key(self, attendee_id: str) -> int:
        key = len(self._ids)
        self._ids.append(attendee_id)
        for f in FACETS:
            self._rows[f].append(None)
            self._texts[f].append(None)
        for name, default in (("alive", False), ("opt_out", False), ("company", -1), ("role", 0)):
            self._meta[name].append(default)
        self._key[attendee_id] = key
        return key

    def _ensure_indexes(self, dim: int) -> dict[str, FacetIndex]:
        if self._indexes is None:
            self._indexes = {f: FacetIndex(dim, hnsw_threshold=self.hnsw_threshold, kind=self.index_kind)
                             for f in FACETS}
        return self._indexes

    def encode_texts(self, texts: Sequence[str], *, progress: bool = False, chunk: int = 4096) -> np.ndarray:
        """Encode through the cache, in chunks (with a progress bar when asked)."""
        if not progress or len(texts) <= chunk:
            return self.encoder.encode(texts)
        from tqdm import tqdm

        parts = []
        with tqdm(total=len(texts), desc="encoding", unit="text") as bar:
            for i in range(0, len(texts), chunk):
                parts.append(self.encoder.encode(texts[i:i + chunk]))
                bar.update(min(chunk, len(texts) - i))
        return np.concatenate(parts)

    def upsert(self, attendees: Iterable[Attendee], *, progress: bool = False) -> None:
        """Add attendees, or replace those whose id is already here. Only texts never seen before are encoded.

        Raises :class:`~models.InvalidInput` (and changes nothing) when one batch repeats an id.
        """
        batch = list(attendees)
        for i, a in enumerate(batch):
            if not isinstance(a, Attendee):
                raise InvalidInput([{"field": f"attendees[{i}]", "message": "expected an Attendee"}])
        try:
            check_unique_ids(batch)
        except ValueError as exc:
            field, _, message = str(exc).partition(": ")
            raise InvalidInput([{"field": field, "message": message}]) from None
        if not batch:
            return
        items = [facet_items(a) for a in batch]
        texts = list(dict.fromkeys(t for it in items for f in FACETS for t in it[f]))
        vectors = self.encode_texts(texts, progress=progress)
        dim = vectors.shape[1] if len(texts) else self.encoder.dim
        where = {t: i for i, t in enumerate(texts)}
        indexes = self._ensure_indexes(dim)

        # per facet: the vectors to append, and (key, first, count) of each changed facet's block of them
        pending: dict[str, list[int]] = {f: [] for f in FACETS}
        blocks: dict[str, list[tuple[int, int, int]]] = {f: [] for f in FACETS}
        keys = []
        for a, it in zip(batch, items, strict=True):
            key = self._key.get(a.id)
            if key is None:
                key = self._new_key(a.id)
            keys.append(key)
            for f in FACETS:
                if self._texts[f][key] == it[f]:
                    continue  # unchanged facet: keep its rows
                old = self._rows[f][key]
                if old is not None and len(old):
                    indexes[f].remove(old)
                self._texts[f][key] = it[f]
                blocks[f].append((key, len(pending[f]), len(it[f])))
                pending[f].extend(where[t] for t in it[f])
            self._record(a, key)

        for f in FACETS:
            if not blocks[f]:
                continue
            idx = np.asarray(pending[f], dtype=np.int64)
            owners = np.repeat(np.asarray([b[0] for b in blocks[f]], dtype=np.int64),
                               np.asarray([b[2] for b in blocks[f]], dtype=np.int64))
            rows = indexes[f].add(owners, vectors[idx]) if idx.size else np.zeros(0, np.int64)
            for key, first, count in blocks[f]:
                self._rows[f][key] = rows[first:first + count]
            self._maybe_compact(f)
        self._lex.set_many(keys, [lexical_docs(a) for a in batch])
        self._arrays = None
        self._update_profiles(keys)

    def remove(self, attendee_id: str) -> None:
        """Erase an attendee: gone from the lists, the indexes, the lexical channel and the graph."""
        key = self._key.get(attendee_id)
        if key is None or attendee_id not in self._attendees:
            raise UnknownAttendee(attendee_id)
        for f in FACETS:
            rows = self._rows[f][key]
            if rows is not None and self._indexes is not None:
                self._indexes[f].remove(rows)
            self._rows[f][key] = None
            self._texts[f][key] = None
        self._lex.remove(key)
        # erasure: the id also leaves what others declared about it (or a reload would bring the edges back)
        for other in self._graph.neighbours(attendee_id) | self._blocked_by.get(attendee_id, set()):
            person = self._attendees.get(other)
            if person is not None:
                self._attendees[other] = person.model_copy(update={
                    "connections": [x for x in person.connections if x != attendee_id],
                    "blocked": [x for x in person.blocked if x != attendee_id]})
        self._graph.erase(attendee_id)
        self._set_blocked(attendee_id, ())
        self._blocked_by.pop(attendee_id, None)
        del self._attendees[attendee_id]
        del self._key[attendee_id]
        self._ids[key] = None
        self._meta["alive"][key] = False
        self._arrays = None
        if self._indexes is not None:
            for f in FACETS:
                self._maybe_compact(f)

    def _record(self, a: Attendee, key: int) -> None:
        """Keep the attendee and what the rules and the graph need of it."""
        self._attendees[a.id] = a
        self._meta["alive"][key] = True
        self._meta["opt_out"][key] = a.opt_out
        self._meta["company"][key] = self._code("company", a.company)
        self._meta["role"][key] = self._code("role", a.role)
        self._graph.set(a.id, a.connections)
        self._set_blocked(a.id, a.blocked)

    def _set_blocked(self, attendee_id: str, blocked: Iterable[str]) -> None:
        for other in self._blocked.pop(attendee_id, ()):
            self._blocked_by.get(other, set()).discard(attendee_id)
        new = set(blocked)
        if new:
            self._blocked[attendee_id] = new
            for other in new:
                self._blocked_by.setdefault(other, set()).add(attendee_id)

    def _maybe_compact(self, facet: str) -> None:
        index = self._indexes[facet]
        if not index.needs_compaction():
            return
        mapping = index.compact()
        rows = self._rows[facet]
        for key, r in enumerate(rows):
            if r is not None:
                rows[key] = mapping[r]

    # --------------------------------------------------------------------------------------------- state views
    def _state(self) -> dict[str, np.ndarray]:
        if self._arrays is None:
            a = {name: np.asarray(values) for name, values in self._meta.items()}
            a["alive"] = a["alive"].astype(bool)
            a["opt_out"] = a["opt_out"].astype(bool)
            a["company"] = a["company"].astype(np.int64)
            a["role"] = a["role"].astype(np.int64)
            order = sorted((i for i, x in enumerate(self._ids) if x is not None), key=lambda i: self._ids[i])
            rank = np.full(len(self._ids), len(self._ids), dtype=np.int64)
            rank[np.asarray(order, dtype=np.int64)] = np.arange(len(order))
            a["id_rank"] = rank
            a["alive_keys"] = np.flatnonzero(a["alive"])
            self._arrays = a
            self._layouts = {}
        return self._arrays

    def _role_matrix(self) -> np.ndarray:
        if self._role_ok is None:
            names = sorted(self._codes["role"], key=self._codes["role"].get)
            n = len(names)
            ok = np.ones((n, n), dtype=bool)
            if self.policy.role_rules:
                for i, ra in enumerate(names):
                    for j, rb in enumerate(names):
                        ok[i, j] = self.policy.may_meet(ra, rb)
            self._role_ok = ok
        return self._role_ok

    def _layout(self, facet: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(start, count, flat_rows)``: key ``k``'s rows are ``flat_rows[start[k]:start[k] + count[k]]``."""
        self._state()
        lay = self._layouts.get(facet)
        if lay is None:
            rows = self._rows[facet]
            count = np.fromiter((0 if r is None else len(r) for r in rows), dtype=np.int64, count=len(rows))
            start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
            parts = [r for r in rows if r is not None and len(r)]
            flat = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
            lay = self._layouts[facet] = (start, count, flat)
        return lay

    def _gather_rows(self, facet: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers of the items of ``keys`` (grouped by key, in order) and the per-key counts."""
        start, count, flat = self._layout(facet)
        counts = count[keys]
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, np.int64), counts
        offsets = np.repeat(start[keys] - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        return flat[offsets + np.arange(total)], counts

    def _segments(self, facet: str, keys: np.ndarray) -> scoring.Segments:
        rows, counts = self._gather_rows(facet, keys)
        return scoring.Segments(self._indexes[facet].vectors()[rows], counts)

    def _excluded_keys(self, attendee_id: str, extra: Iterable[str]) -> np.ndarray:
        ids = set(self._graph.neighbours(attendee_id)) | self._blocked.get(attendee_id, set()) | set(extra)
        ids |= self._blocked_by.get(attendee_id, set())
        keys = [self._key[i] for i in ids if i in self._key]
        return np.asarray(keys, dtype=np.int64)

    def _allowed(self, key: int, cands: np.ndarray, excluded: np.ndarray) -> np.ndarray:
        st = self._state()
        ok = st["alive"][cands] & ~st["opt_out"][cands] & (cands != key)
        ok &= self._role_matrix()[st["role"][key], st["role"][cands]]
        if not self.policy.allow_same_company and st["company"][key] >= 0:
            ok &= st["company"][cands] != st["company"][key]
        if excluded.size:
            ok &= ~np.isin(cands, excluded)
        return ok

    # ------------------------------------------------------------------------------------------------- scoring
    def _components(self, q: np.ndarray, c: np.ndarray,
                    mutual: Sequence[Mapping[str, float]] | None = None) -> dict[str, np.ndarray]:
        """Channel scores ``(len(q), len(c))`` in [0, 1] for query keys ``q`` against candidate keys ``c``."""
        w = self.policy.weights
        out: dict[str, np.ndarray] = {}
        if w.intent > 0:
            qg, qo, qi = (self._segments(f, q) for f in ("goals", "offers", "identity"))
            cg, co, ci = (self._segments(f, c) for f in ("goals", "offers", "identity"))
            t = scoring.POOL_TEMPERATURE
            q_to_c = scoring._segment_pool_rows(
                np.fmax(scoring.best_item_matches(qg, co), scoring.best_item_matches(qg, ci)), qg.counts, t)
            c_to_q = scoring._segment_pool_rows(
                np.fmax(scoring.best_item_matches(cg, qo), scoring.best_item_matches(cg, qi)), cg.counts, t)
            out["intent"] = scoring.reciprocal(q_to_c, c_to_q.T)
            out["_q_to_c"] = q_to_c
            out["_c_to_q"] = c_to_q.T
        if w.interests > 0:
            out["interests"] = scoring.interests(self._segments("interests", q), self._segments("interests", c))
        if w.lexical > 0:
            out["lexical"] = self._lexical(q, c)
        if w.mutual > 0:
            out["mutual"] = self._mutual(q, c, mutual)
        return out

    def _mutual(self, q: np.ndarray, c: np.ndarray,
                aas: Sequence[Mapping[str, float]] | None = None) -> np.ndarray:
        """``1 - exp(-Adamic-Adar)`` of each query against each candidate (0 without shared connections)."""
        out = np.zeros((len(q), len(c)), dtype=np.float64)
        pos_of = np.full(len(self._ids), -1, dtype=np.int64)
        pos_of[c] = np.arange(len(c))
        for i, key in enumerate(q):
            aa = aas[i] if aas is not None else self._graph.adamic_adar(self._ids[key])
            if not aa:
                continue
            ks = np.fromiter((self._key.get(x, -1) for x in aa), dtype=np.int64, count=len(aa))
            vs = np.fromiter(aa.values(), dtype=np.float64, count=len(aa))
            known = ks >= 0
            p = pos_of[ks[known]]
            hit = p >= 0
            out[i, p[hit]] = 1.0 - np.exp(-vs[known][hit])
        return out

    def _lexical(self, q: np.ndarray, c: np.ndarray) -> np.ndarray:
        seek, give, topic = (self._lex.matrix(k) for k in ("seek", "give", "topic"))
        if len(q) == 1:
            l1, l2, l3 = (x[None, :] for x in self._lex.dots(int(q[0]), c))
        else:
            l1 = (seek[q] @ give[c].T).toarray()
            l2 = (give[q] @ seek[c].T).toarray()
            l3 = (topic[q] @ topic[c].T).toarray()
        has_q = np.diff(seek.indptr)[q] > 0
        has_c = np.diff(seek.indptr)[c] > 0
        intent = np.where(has_q[:, None] & has_c[None, :], scoring.harmonic(l1, l2),
                          scoring.ONE_SIDED * np.maximum(l1, l2))
        tq = np.diff(topic.indptr)[q] > 0
        tc = np.diff(topic.indptr)[c] > 0
        both_topics = tq[:, None] & tc[None, :]
        any_seek = has_q[:, None] | has_c[None, :]
        parts = any_seek.astype(np.float32) + both_topics.astype(np.float32)
        total = np.where(any_seek, intent, 0.0) + np.where(both_topics, l3, 0.0)
        return np.where(parts > 0, total / np.maximum(parts, 1), 0.0)

    def _weights(self) -> dict[str, float]:
        return self.policy.weights.model_dump()

    # ------------------------------------------------------------------------------------------------ retrieval
    def _retrieve(self, keys: np.ndarray, fetch: int) -> list[np.ndarray]:
        """Candidate keys per query key from the FAISS channels (batched searches)."""
        found: list[list[np.ndarray]] = [[] for _ in keys]
        for qf, tf in CHANNELS:
            index = self._indexes[tf]
            if len(index) == 0:
                continue
            rows, counts = self._gather_rows(qf, keys)
            if counts.sum() == 0:
                continue
            queries = self._indexes[qf].vectors()[rows]
            # over-fetch items: one attendee may own several of the hits
            _, owners = index.search(queries, min(len(index), fetch * 2))
            start = 0
            for i, n in enumerate(counts):
                if n:
                    block = owners[start:start + n]
                    start += n
                    # best-ranked owners first: rank of an owner = its best position in any of its queries' lists
                    flat = block.T.ravel()
                    flat = flat[flat >= 0]
                    _, first = np.unique(flat, return_index=True)
                    found[i].append(flat[np.sort(first)][:fetch])
        return [np.unique(np.concatenate(f)) if f else np.zeros(0, np.int64) for f in found]

    # ------------------------------------------------------------------------------------------------- ranking
    def recommend(self, attendee_id: str, k: int | None = None, exclude: Iterable[str] = ()) -> list[Match]:
        """The ranked, explained list for one attendee (``k`` defaults to the event policy's list length).

        ``exclude``: more ids to leave out (e.g. people declined or already met). Raises :class:`UnknownAttendee`.
        """
        return self.recommend_all([attendee_id], k=k, exclude={attendee_id: exclude})[attendee_id]

    def recommend_all(self, ids: Sequence[str] | None = None, k: int | None = None,
                      exclude: Mapping[str, Iterable[str]] | None = None, *, progress: bool = False,
                      explain: bool = True, chunk: int = 512) -> dict[str, list[Match]]:
        """Lists for many attendees (default: all). Returns exactly what :meth:`recommend` returns for each.

        ``explain=False`` leaves the item-level reasons out (the score components stay): for batch jobs that only
        need the ranking.
        """
        ids = self.ids() if ids is None else list(ids)
        for i in ids:
            if i not in self._attendees:
                raise UnknownAttendee(i)
        k = self.policy.default_limit if k is None else int(k)
        if k < 1:
            raise InvalidInput([{"field": "k", "message": f"must be at least 1; got {k}"}])
        exclude = exclude or {}
        out: dict[str, list[Match]] = {}
        st = self._state()
        exhaustive = len(self) < self.exhaustive_below
        fetch = max(FETCH_FACTOR * k, FETCH_MIN)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(ids), desc="ranking", unit="attendee")
        with _one_blas_thread():
            self._rank_chunks(ids, k, exclude, st, exhaustive, fetch, chunk, explain, bar, out)
        if bar is not None:
            bar.close()
        return out

    def _rank_chunks(self, ids, k, exclude, st, exhaustive, fetch, chunk, explain, bar, out) -> None:
        """FAISS searches are batched per chunk; each list is then scored on its own, so one attendee's scores
        come from products of the same shapes in a batch as alone (batch equals one-by-one, to the last bit)."""
        for s in range(0, len(ids), chunk):
            part = ids[s:s + chunk]
            keys = np.asarray([self._key[i] for i in part], dtype=np.int64)
            cand_lists = None if exhaustive else self._retrieve(keys, fetch)
            for j, aid in enumerate(part):
                cands = st["alive_keys"] if exhaustive else cand_lists[j]
                out[aid] = self._rank_one(aid, int(keys[j]), cands, k, exclude.get(aid, ()), fetch, explain)
            if bar is not None:
                bar.update(len(part))

    def _rank_one(self, aid: str, key: int, cands: np.ndarray, k: int, extra: Iterable[str], fetch: int,
                  explain_: bool) -> list[Match]:
        """One attendee's list: rules, exact scores of its own candidates, diversity re-rank, explanations."""
        st = self._state()
        if st["opt_out"][key]:
            return []
        aa = self._graph.adamic_adar(aid) if self.policy.weights.mutual > 0 else {}
        if aa and len(cands) < len(st["alive_keys"]):
            top = sorted(aa.items(), key=lambda kv: (-kv[1], kv[0]))[:fetch]
            extra_keys = [self._key[i] for i, _ in top if i in self._key]
            if extra_keys:
                cands = np.union1d(cands, np.asarray(extra_keys, dtype=np.int64))
        cands = cands[self._allowed(key, cands, self._excluded_keys(aid, extra))]
        if not cands.size:
            return []
        comps = {name: v[0] for name, v in self._components(np.asarray([key]), cands, [aa]).items()}
        score = scoring.combine({n: v for n, v in comps.items() if not n.startswith("_")}, self._weights())
        rounded = np.round(score, 6)
        order = np.lexsort((st["id_rank"][cands], -rounded))
        # The re-rank only discounts a score by up to ``div``, so nobody scoring below (1 - div) x the k-th best
        # can enter the first k picks: that pool gives the same first k for any larger k (pages agree).
        div = self.policy.diversity
        kth = rounded[order[min(k, len(order)) - 1]]
        size = int(np.count_nonzero(rounded >= (1.0 - div) * kth)) if div > 0 else k
        pool = order[: min(POOL_CAP, max(size, k))]
        if div > 0 and len(pool) > 1:
            pool = pool[diversity.rerank(score[pool], self._profiles(cands[pool]), k, div)]
        chosen = pool[:k]
        comp = [{name: float(v[i]) for name, v in comps.items()} for i in chosen]
        keys = [int(cands[i]) for i in chosen]
        scores = [float(score[i]) for i in chosen]
        if explain_:
            return explain.build_many(self, key, keys, scores, comp)
        return [explain.bare(self, c, sc, cp) for c, sc, cp in zip(keys, scores, comp, strict=True)]

    def _profiles(self, keys: np.ndarray) -> np.ndarray:
        """One unit vector per attendee (kept up to date by :meth:`upsert`): for the diversity re-rank."""
        return self._prof[keys]

    def _update_profiles(self, keys: list[int]) -> None:
        if not keys:
            return
        need = len(self._ids)
        if self._prof.shape[0] < need:
            grown = np.zeros((max(need, 2 * self._prof.shape[0]), self._indexes["goals"].dim), np.float32)
            if self._prof.size:
                grown[: self._prof.shape[0]] = self._prof
            self._prof = grown
        self._layouts = {}
        keys_arr = np.asarray(keys, dtype=np.int64)
        self._prof[keys_arr] = self._compute_profiles(keys_arr)

    def _compute_profiles(self, keys: np.ndarray) -> np.ndarray:
        """The normalised mean of all of each attendee's item vectors."""
        total = np.zeros((len(keys), self._indexes["goals"].dim), dtype=np.float32)
        for f in FACETS:
            seg = self._segments(f, keys)
            nz = seg.counts > 0
            if nz.any():
                total[nz] += np.add.reduceat(seg.vectors, seg.starts[nz], axis=0)
        norms = np.linalg.norm(total, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return total / norms

    # -------------------------------------------------------------------------------------------- all pairs
    def pair_scores(self, ids: Sequence[str] | None = None, *, chunk: int = 256) -> PairScores:
        """Reciprocal scores of every pair (the final score :meth:`recommend` shows, before any rules).

        Used as affinity by the table planner and the evaluation. Memory: a few ``(n, n)`` float32 arrays.
        """
        ids = self.ids() if ids is None else list(ids)
        for i in ids:
            if i not in self._attendees:
                raise UnknownAttendee(i)
        keys = np.asarray([self._key[i] for i in ids], dtype=np.int64)
        n = len(keys)
        scores = np.zeros((n, n), dtype=np.float32)
        weights = self._weights()
        for s in range(0, n, chunk):
            comps = self._components(keys[s:s + chunk], keys)
            public = {name: v for name, v in comps.items() if not name.startswith("_")}
            scores[s:s + chunk] = scoring.combine(public, weights)
        scores = (scores + scores.T) / 2  # symmetric by construction; this removes float noise
        np.fill_diagonal(scores, 0.0)
        st = self._state()
        comp = st["company"][keys]
        same = (comp[:, None] == comp[None, :]) & (comp[:, None] >= 0)
        pos = {aid: i for i, aid in enumerate(ids)}
        blocked = np.zeros((n, n), dtype=bool)
        connected = np.zeros((n, n), dtype=bool)
        for i, aid in enumerate(ids):
            for other in self._blocked.get(aid, ()):
                j = pos.get(other)
                if j is not None:
                    blocked[i, j] = blocked[j, i] = True
            for other in self._graph.neighbours(aid):
                j = pos.get(other)
                if j is not None:
                    connected[i, j] = connected[j, i] = True
        roles = st["role"][keys]
        role_forbidden = ~self._role_matrix()[roles[:, None], roles[None, :]]
        for m in (same, blocked, connected, role_forbidden):
            np.fill_diagonal(m, False)
        return PairScores(ids, scores, same, blocked, connected, role_forbidden)

    # ------------------------------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write the event, attendees, indexes and row maps to a directory (no model weights)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        ef = EventFile(event=self.event, attendees=list(self._attendees.values()))
        (path / "event.json").write_text(json.dumps(ef.to_json()))
        rows = {}
        for f in FACETS:
            parts = [self._rows[f][self._key[a]] for a in self._attendees]
            rows[f"{f}_counts"] = np.asarray([len(p) for p in parts], dtype=np.int64)
            rows[f"{f}_rows"] = np.concatenate(parts) if parts else np.zeros(0, np.int64)
            if self._indexes is not None:
                self._indexes[f].save(path / "indexes" / f)
        np.savez(path / "rows.npz", **rows)
        (path / "meta.json").write_text(json.dumps({"model_id": self.encoder.model_id,
                                                    "keys": {a: self._key[a] for a in self._attendees},
                                                    "n_keys": len(self._ids)}))

    @classmethod
    def load(cls, path: str | Path, encoder=None, **kwargs) -> Matcher:
        """Restore a matcher written by :meth:`save` without encoding anything."""
        from models import load_event

        path = Path(path)
        ef = load_event(path / "event.json")
        meta = json.loads((path / "meta.json").read_text())
        m = cls(ef.event, encoder, **kwargs)
        if m.encoder.model_id != meta["model_id"]:
            raise MatchmakerError(f"{path} was built with model {meta['model_id']!r}, "
                                  f"not {m.encoder.model_id!r}; rebuild it")
        if not ef.attendees:
            return m
        m._indexes = {f: FacetIndex.load(path / "indexes" / f) for f in FACETS}
        with np.load(path / "rows.npz") as z:
            rows = {name: z[name] for name in z.files}
        # the indexes store the original keys as owners: give every attendee its key back (gaps stay dead)
        for _ in range(int(meta["n_keys"])):
            m._new_key("")
        m._key = {}
        m._ids = [None] * len(m._ids)
        for a in ef.attendees:
            key = int(meta["keys"][a.id])
            m._key[a.id] = key
            m._ids[key] = a.id
        for f in FACETS:
            offsets = np.concatenate([[0], np.cumsum(rows[f"{f}_counts"])])
            for i, a in enumerate(ef.attendees):
                m._rows[f][m._key[a.id]] = rows[f"{f}_rows"][offsets[i]:offsets[i + 1]]
        for a in ef.attendees:
            key = m._key[a.id]
            it = facet_items(a)
            for f in FACETS:
                m._texts[f][key] = it[f]
            m._record(a, key)
        m._lex.set_many([m._key[a.id] for a in ef.attendees], [lexical_docs(a) for a in ef.attendees])
        m._update_profiles([m._key[a.id] for a in ef.attendees])
        return m
