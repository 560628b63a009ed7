"""The matcher: attendees in, ranked and explained "people you should meet" lists out.

Flow for one attendee A (a batch runs the same code for every attendee: FAISS searches batched per chunk, chunks
on threads, attendees taken in profile-cluster order so that consecutive lists share candidates in cache):

1. **Candidates** from the FAISS channels (over-fetched): A's goals against everyone's offers and identity,
   A's offers and identity against everyone's goals, A's interests against everyone's interests; plus people two
   hops away in the connections graph. Below ``exhaustive_below`` attendees every attendee is a candidate.
2. **Hard rules** remove self, blocked (either way), already connected, opted out, same company (unless the
   policy allows), role pairs the policy forbids, and any ``exclude`` ids (feedback).
3. **Exact reciprocal scoring** of what is left, channels weighted by the event policy, and the **diversity
   re-rank**: one compiled call per list (:mod:`matcher.kernels`; the math is :mod:`matcher.scoring`'s and
   :mod:`matcher.diversity`'s, which tests hold it to).
4. **Explanations** (:mod:`matcher.explain`) for the lists that are shown.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from matcher import diversity, kernels, scoring
from matcher import explain as _explain
from matcher.encoder import CachedEncoder, Encoder, TextEncoder
from matcher.graph import ConnectionGraph
from matcher.index import HNSW_THRESHOLD, FacetIndex, locality_order
from matcher.lexical import N_FEATURES, LexicalIndex
from matcher.profile import FACETS, facet_items, lexical_docs
from models import Attendee, Event, EventFile, InvalidInput, Match, MatchmakerError, MatchPolicy
from models.eventfile import check_unique_ids

#: Retrieval channels as FAISS searches: (query facets, searched facet). Each query facet is its own channel
#: (goals->offers, goals->identity, offers->goals, identity->goals, interests->interests); facets searching the
#: same index share one call.
SEARCHES = ((("goals",), "offers"), (("goals",), "identity"), (("offers", "identity"), "goals"),
            (("interests",), "interests"))
#: Score components of a match, in the order :class:`RankedLists` keeps them.
COMPONENTS = ("intent", "a_to_b", "b_to_a", "interests", "lexical", "mutual")
#: Below this many attendees every attendee is scored exactly (no FAISS retrieval needed).
EXHAUSTIVE_BELOW = 1000
#: Candidates kept per retrieval channel, as a multiple of the list length (with a floor).
FETCH_FACTOR = 3
FETCH_MIN = 30
#: Most candidates the diversity re-rank considers for one list.
POOL_CAP = 500
#: A large upsert is written this many attendees at a time (bounded scratch memory).
UPSERT_SLICE = 8192
#: Batches at least this large are ranked in profile-cluster order (measured at 100k attendees, with an earlier
#: version of the kernels: 1.19-1.29 against 1.65 ms per list in storage order).
LOCALITY_MIN = 4096


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


@dataclass
class RankedLists:
    """Many ranked lists as arrays: row ``i`` is the list of ``ids[i]``, its first ``lengths[i]`` entries valid.

    ``keys`` are the matcher's attendee keys (``names[key]`` is the id; -1 pads), ``scores`` the final scores and
    ``components`` the score components in :data:`COMPONENTS` order (NaN where a channel is off).
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


@dataclass
class _Snapshot:
    """What ranking reads, built once per state of the matcher (read-only; shared by the batch threads)."""

    version: int
    opt_out: np.ndarray      # (n_keys,) bool
    eligible: np.ndarray     # alive and not opted out: may appear in lists
    alive_keys: np.ndarray
    company: np.ndarray      # company code per key, -1 for none
    role: np.ndarray         # role code per key
    role_ok: np.ndarray      # (n_roles, n_roles) bool
    id_rank: np.ndarray      # rank of each key's id in sorted order (deterministic ties)
    layouts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # facet -> (start, count, flat rows)
    vectors: dict[str, np.ndarray]  # facet -> zero-copy view of the index's vectors
    starts: np.ndarray              # (4, n_keys): layouts' starts, facets in FACETS order (for the kernels)
    counts: np.ndarray              # (4, n_keys): layouts' counts
    weights: dict[str, float]       # channels with weight > 0, normalised to sum to 1
    exhaustive: bool
    policy: MatchPolicy
    lex_presence: tuple[np.ndarray, np.ndarray] | None


def _lexical_score(l1, l2, l3, has_seek_q, has_seek_c, has_topic_q, has_topic_c) -> np.ndarray:
    """The lexical channel from its three dot products: the harmonic mean of seek.give both ways (half of the
    one that exists when only one side seeks), averaged with topic.topic where both have topics."""
    intent = np.where(has_seek_q & has_seek_c, scoring.harmonic(l1, l2), scoring.ONE_SIDED * np.maximum(l1, l2))
    any_seek = has_seek_q | has_seek_c
    both_topics = has_topic_q & has_topic_c
    parts = np.asarray(any_seek, np.float64) + np.asarray(both_topics, np.float64)
    total = np.where(any_seek, intent, 0.0) + np.where(both_topics, l3, 0.0)
    return np.where(parts > 0, total / np.maximum(parts, 1), 0.0)


_NO_KEYS = np.zeros(0, np.int64)
_NO_HITS = np.full((0, 1), -1, np.int64)
_NO_VALUES = np.zeros(0, np.float64)
_NO_FLAGS = np.zeros(0, dtype=bool)
_EMPTY_CSR = sp.csr_matrix((1, 1), dtype=np.float64)


def _concat(parts: list[np.ndarray], dtype=np.int64) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)


def _offsets(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _single_faiss_thread() -> None:
    """Batch worker threads each search on one FAISS thread (the OpenMP setting is per thread)."""
    import faiss

    faiss.omp_set_num_threads(1)


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
        self._version = 0  # bumped by every change; the ranking snapshot follows it
        self._snap: _Snapshot | None = None
        self._role_ok: np.ndarray | None = None
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
        self._prof = np.zeros((0, 0), dtype=np.float32)
        self._codes: dict[str, dict[str, int]] = {"company": {}, "role": {}}
        self._meta: dict[str, list] = {"alive": [], "opt_out": [], "company": [], "role": []}
        self._local = threading.local()  # per-thread scratch of the batch threads

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

    @property
    def event(self) -> Event:
        """The event and its matching policy; assigning a new one (or :meth:`set_event`) takes effect at once."""
        return self._event

    @event.setter
    def event(self, event: Event) -> None:
        self._event = event
        self._role_ok = None
        self._version += 1

    @property
    def exhaustive_below(self) -> int:
        """Events with fewer attendees are scored against everyone (no FAISS retrieval)."""
        return self._exhaustive_below

    @exhaustive_below.setter
    def exhaustive_below(self, value: int) -> None:
        self._exhaustive_below = int(value)
        self._version += 1

    def set_event(self, event: Event) -> None:
        """Replace the event (name, policy); attendees stay."""
        self.event = event

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
                self._version += 1
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

    def encode_texts(self, texts: Sequence[str], *, progress: bool = False, chunk: int = 4096,
                     keep: bool = True) -> np.ndarray | None:
        """Encode through the cache, in chunks (with a progress bar when asked). ``keep=False`` only makes sure
        every text is in the cache (nothing is returned, nothing large is held)."""
        if len(texts) <= chunk and keep:
            return self.encoder.encode(texts)
        bar = None
        if progress and len(texts) > chunk:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="encoding", unit="text")
        parts = []
        for i in range(0, len(texts), chunk):
            part = self.encoder.encode(texts[i:i + chunk])
            if keep:
                parts.append(part)
            if bar is not None:
                bar.update(min(chunk, len(texts) - i))
        if bar is not None:
            bar.close()
        return np.concatenate(parts) if keep else None

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
        # every new text is encoded (into the cache) before anything is written: a model error changes nothing;
        # then the batch is written in slices whose vectors come back from the cache, so a large upsert holds
        # one slice's vectors at a time, not the whole event's
        self.encode_texts(texts, progress=progress, keep=False)
        for s in range(0, len(batch), UPSERT_SLICE):
            self._write(batch[s:s + UPSERT_SLICE], items[s:s + UPSERT_SLICE])

    def _write(self, batch: list[Attendee], items: list[dict[str, list[str]]]) -> None:
        texts = list(dict.fromkeys(t for it in items for f in FACETS for t in it[f]))
        vectors = self.encoder.encode(texts)
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
        del vectors
        self._lex.set_many(keys, [lexical_docs(a) for a in batch])
        self._version += 1
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
        self._version += 1
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
    def _state(self) -> _Snapshot:
        """Read-only arrays that ranking needs, rebuilt after any change (safe to share between threads)."""
        snap = self._snap
        if snap is not None and snap.version == self._version:
            return snap
        meta = self._meta
        alive = np.asarray(meta["alive"], dtype=bool)
        opt_out = np.asarray(meta["opt_out"], dtype=bool)
        order = sorted((i for i, x in enumerate(self._ids) if x is not None), key=lambda i: self._ids[i])
        rank = np.full(len(self._ids), len(self._ids), dtype=np.int64)
        rank[np.asarray(order, dtype=np.int64)] = np.arange(len(order))
        layouts, vectors = {}, {}
        for f in FACETS:
            rows = self._rows[f]
            count = np.fromiter((0 if r is None else len(r) for r in rows), dtype=np.int64, count=len(rows))
            parts = [r for r in rows if r is not None and len(r)]
            flat = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
            layouts[f] = (np.cumsum(count) - count, count, flat)
            vectors[f] = (self._indexes[f].vectors() if self._indexes is not None
                          else np.zeros((0, self.encoder.dim), np.float32))
        w = {name: float(v) for name, v in self._weights().items() if v > 0}
        total = sum(w.values())
        lex = self._lex
        if "lexical" in w:
            lex.combined()
        snap = _Snapshot(
            version=self._version, opt_out=opt_out, eligible=alive & ~opt_out,
            alive_keys=np.flatnonzero(alive), company=np.asarray(meta["company"], dtype=np.int64),
            role=np.asarray(meta["role"], dtype=np.int64), role_ok=self._role_matrix(), id_rank=rank,
            layouts=layouts, vectors=vectors, starts=np.stack([layouts[f][0] for f in FACETS]),
            counts=np.stack([layouts[f][1] for f in FACETS]), weights={name: v / total for name, v in w.items()},
            exhaustive=len(self) < self.exhaustive_below, policy=self.policy,
            lex_presence=lex.presence() if "lexical" in w else None)
        self._snap = snap
        return snap

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

    def _gather_rows(self, facet: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers of the items of ``keys`` (grouped by key, in order) and the per-key counts."""
        start, count, flat = self._state().layouts[facet]
        counts = count[keys]
        if len(keys) == 1:
            s = int(start[keys[0]])
            return flat[s:s + int(counts[0])], counts
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, np.int64), counts
        at = np.repeat(start[keys] - (np.cumsum(counts) - counts), counts) + np.arange(total)
        return flat[at], counts

    def _segments(self, facet: str, keys: np.ndarray) -> scoring.Segments:
        rows, counts = self._gather_rows(facet, keys)
        return scoring.Segments(self._state().vectors[facet].take(rows, axis=0), counts)

    def _side(self, keys: np.ndarray) -> scoring.Side:
        return scoring.Side(*(self._segments(f, keys) for f in FACETS))

    def _excluded_keys(self, attendee_id: str, extra: Iterable[str]) -> np.ndarray:
        ids = self._graph.neighbours(attendee_id) | self._blocked.get(attendee_id, set())
        ids = ids | self._blocked_by.get(attendee_id, set())
        extra = set(extra)
        if extra:
            ids = ids | extra
        key = self._key
        return np.asarray([key[i] for i in ids if i in key], dtype=np.int64)

    def _adamic_adar(self, attendee_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Attendee keys two hops away and their Adamic-Adar scores, sorted by key."""
        aa = self._graph.adamic_adar(attendee_id)
        key = self._key
        pairs = sorted((key[i], v) for i, v in aa.items() if i in key)
        if not pairs:
            return _NO_KEYS, _NO_VALUES
        keys, vals = zip(*pairs, strict=True)
        return np.asarray(keys, dtype=np.int64), np.asarray(vals, dtype=np.float64)

    # ------------------------------------------------------------------------------------------------- scoring
    def _components(self, q: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        """Channel scores ``(len(q), len(c))`` in [0, 1] for query keys ``q`` against candidate keys ``c``: the
        all-pairs path in numpy (lists use :func:`matcher.kernels.rank_lists`, which tests hold to this)."""
        w = self._state().weights
        out = scoring.pair_channels(scoring.Sims.between(self._side(q), self._side(c)), intent="intent" in w,
                                    shared_interests="interests" in w)
        if "lexical" in w:
            out["lexical"] = self._lexical(q, c)
        if "mutual" in w:
            out["mutual"] = np.zeros((len(q), len(c)), dtype=np.float64)
            pos_of = np.full(len(self._ids), -1, dtype=np.int64)
            pos_of[c] = np.arange(len(c))
            for i, key in enumerate(q):
                ks, vs = self._adamic_adar(self._ids[key])
                p = pos_of[ks]
                out["mutual"][i, p[p >= 0]] = 1.0 - np.exp(-vs[p >= 0])
        return out

    def _lexical(self, q: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Lexical channel ``(len(q), len(c))`` for the all-pairs path (sparse matrix products)."""
        both = self._lex.combined()
        mine, theirs = both[q], both[c]

        def part(m: sp.csr_matrix, i: int) -> sp.csr_matrix:  # seek, give, topic blocks
            return m[:, i * N_FEATURES:(i + 1) * N_FEATURES]

        l1 = (part(mine, 0) @ part(theirs, 1).T).toarray()
        l2 = (part(mine, 1) @ part(theirs, 0).T).toarray()
        l3 = (part(mine, 2) @ part(theirs, 2).T).toarray()
        has_seek, has_topic = self._lex.presence()
        return _lexical_score(l1, l2, l3, has_seek[q][:, None], has_seek[c][None, :],
                              has_topic[q][:, None], has_topic[c][None, :])

    def _weights(self) -> dict[str, float]:
        return self.policy.weights.model_dump()

    # ------------------------------------------------------------------------------------------------ retrieval
    def _retrieve(self, keys: np.ndarray, fetch: int) -> tuple[np.ndarray, np.ndarray]:
        """Candidate keys of each query key from the FAISS channels, one batched search per index:
        ``(candidate keys, offsets)``, query ``i``'s candidates being ``keys[offsets[i]:offsets[i + 1]]``."""
        st = self._state()
        owners, counts = [], []
        for query_facets, target in SEARCHES:
            index = self._indexes[target]
            gathered = [self._gather_rows(f, keys) for f in query_facets]
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
        return kernels.candidate_lists(tuple(owners), np.stack(counts), fetch, self._scratch_marks())

    def _scratch_marks(self) -> np.ndarray:
        """This thread's stamp array over the keys (for :func:`matcher.kernels.candidate_lists`)."""
        marks = getattr(self._local, "marks", None)
        if marks is None or len(marks) < len(self._ids) + 1:
            marks = self._local.marks = np.zeros(len(self._ids) + 1025, dtype=np.int64)
        return marks

    # ------------------------------------------------------------------------------------------------- ranking
    def recommend(self, attendee_id: str, k: int | None = None, exclude: Iterable[str] = ()) -> list[Match]:
        """The ranked, explained list for one attendee (``k`` defaults to the event policy's list length).

        ``exclude``: more ids to leave out (e.g. people declined or already met). Raises :class:`UnknownAttendee`.
        """
        return self.recommend_all([attendee_id], k=k, exclude={attendee_id: exclude}, threads=1)[attendee_id]

    def recommend_all(self, ids: Sequence[str] | None = None, k: int | None = None,
                      exclude: Mapping[str, Iterable[str]] | None = None, *, progress: bool = False,
                      explain: bool = True, threads: int | None = None) -> dict[str, list[Match]]:
        """Lists for many attendees (default: all). Returns exactly what :meth:`recommend` returns for each.

        ``explain=False`` leaves the item-level reasons out (the score components stay): for batch jobs that only
        need the ranking. For a whole large event, :meth:`rank_all` returns the same lists as arrays.
        """
        ranked = self.rank_all(ids, k=k, exclude=exclude, progress=progress, threads=threads)
        out: dict[str, list[Match]] = {}
        for i, aid in enumerate(ranked.ids):
            n = int(ranked.lengths[i])
            keys = [int(x) for x in ranked.keys[i, :n]]
            scores = [float(x) for x in ranked.scores[i, :n]]
            comps = [dict(zip(COMPONENTS, map(float, row), strict=True)) for row in ranked.components[i, :n]]
            if explain:
                out[aid] = _explain.build_many(self, self._key[aid], keys, scores, comps)
            else:
                out[aid] = [_explain.bare(self, c, s, cp) for c, s, cp in zip(keys, scores, comps, strict=True)]
        return out

    def rank_all(self, ids: Sequence[str] | None = None, k: int | None = None,
                 exclude: Mapping[str, Iterable[str]] | None = None, *, progress: bool = False,
                 threads: int | None = None, chunk: int = 256) -> RankedLists:
        """Every list as arrays (ids, scores and score components; no per-match objects): the batch path.

        The same lists as :meth:`recommend`, to the last bit. Chunks of ``chunk`` attendees run on ``threads``
        threads (default: one per available core); FAISS and the compiled kernels release the GIL.
        """
        ids = self.ids() if ids is None else list(ids)
        for i in ids:
            if i not in self._attendees:
                raise UnknownAttendee(i)
        k = self.policy.default_limit if k is None else int(k)
        if k < 1:
            raise InvalidInput([{"field": "k", "message": f"must be at least 1; got {k}"}])
        exclude = exclude or {}
        st = self._state()
        out = RankedLists.empty(ids, k, list(self._ids))
        fetch = max(FETCH_FACTOR * k, FETCH_MIN)
        threads = max(1, min(int(threads or _cores()), (len(ids) + chunk - 1) // chunk))
        # a large batch walks attendees grouped by profile, so consecutive lists share candidates (in cache)
        order = np.arange(len(ids))
        if len(ids) >= LOCALITY_MIN:
            order = locality_order(self._prof, np.asarray([self._key[i] for i in ids]))
        starts = range(0, len(ids), chunk)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(ids), desc="ranking", unit="attendee")

        def work(s: int) -> int:
            rows = order[s:s + chunk]
            part = [ids[i] for i in rows]
            self._rank_chunk(st, part, [exclude.get(a, ()) for a in part], k, fetch, out, rows)
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

    def _rank_chunk(self, st: _Snapshot, ids: list[str], extras: list[Iterable[str]], k: int, fetch: int,
                    out: RankedLists, rows: np.ndarray) -> None:
        """Rank a chunk of attendees into ``rows`` of ``out``: FAISS searches batched for the chunk, then
        each list scored on its own candidates by :func:`matcher.kernels.rank_lists` (so one attendee's list is
        the same alone or in a batch). Only the graph and exclusion lookups here hold the GIL."""
        keys = np.asarray([self._key[i] for i in ids], dtype=np.int64)
        if st.exhaustive:
            found, offsets = np.zeros(0, np.int64), np.zeros(len(ids) + 1, np.int64)
        else:
            found, offsets = self._retrieve(keys, fetch)
        mutual = "mutual" in st.weights
        aa_keys, aa_vals, excluded = [], [], []
        for aid, extra in zip(ids, extras, strict=True):
            ks, vs = self._adamic_adar(aid) if mutual else (_NO_KEYS, _NO_VALUES)
            aa_keys.append(ks)
            aa_vals.append(vs)
            excluded.append(np.sort(self._excluded_keys(aid, extra)))
        w = st.weights
        lex = self._lex.combined() if "lexical" in w else _EMPTY_CSR
        has_seek, has_topic = st.lex_presence if st.lex_presence is not None else (_NO_FLAGS, _NO_FLAGS)
        got = RankedLists.empty(ids, k, out.names)
        kernels.rank_lists(
            keys, found, offsets, st.exhaustive, st.alive_keys, _concat(aa_keys), _concat(aa_vals, np.float64),
            _offsets(aa_keys), _concat(excluded), _offsets(excluded),
            st.eligible, st.role, st.role_ok, st.company, st.policy.allow_same_company, st.id_rank,
            tuple(st.vectors[f] for f in FACETS), st.starts, st.counts, tuple(st.layouts[f][2] for f in FACETS),
            1.0 / scoring.POOL_TEMPERATURE, scoring.ONE_SIDED,
            lex.indptr, lex.indices, lex.data, N_FEATURES, *self._lex.table(), has_seek, has_topic,
            self._prof, np.asarray([w.get(c, 0.0) for c in ("intent", "interests", "lexical", "mutual")]),
            k, fetch, float(st.policy.diversity), POOL_CAP, diversity.FLOOR,
            got.keys, got.scores, got.components, got.lengths)
        out.keys[rows], out.scores[rows], out.components[rows], out.lengths[rows] = (
            got.keys, got.scores, got.components, got.lengths)

    def _update_profiles(self, keys: list[int]) -> None:
        """Keep one unit vector per attendee (for the diversity re-rank) current for ``keys``."""
        if not keys:
            return
        need = len(self._ids)
        if self._prof.shape[0] < need:
            grown = np.zeros((max(need, 2 * self._prof.shape[0]), self._indexes["goals"].dim), np.float32)
            if self._prof.size:
                grown[: self._prof.shape[0]] = self._prof
            self._prof = grown
        keys_arr = np.asarray(keys, dtype=np.int64)
        for s in range(0, len(keys_arr), 4096):  # bounded scratch memory for a large upsert
            part = keys_arr[s:s + 4096]
            self._prof[part] = self._compute_profiles(part)

    def _compute_profiles(self, keys: np.ndarray) -> np.ndarray:
        """The normalised mean of all of each attendee's item vectors."""
        total = np.zeros((len(keys), self._indexes["goals"].dim), dtype=np.float32)
        for f in FACETS:
            parts = [self._rows[f][key] for key in keys]
            counts = np.asarray([0 if r is None else len(r) for r in parts], dtype=np.int64)
            nz = counts > 0
            if nz.any():
                rows = np.concatenate([r for r in parts if r is not None and len(r)])
                starts = (np.cumsum(counts) - counts)[nz]
                total[nz] += np.add.reduceat(self._indexes[f].vectors().take(rows, axis=0), starts, axis=0)
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
        comp = st.company[keys]
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
        roles = st.role[keys]
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
