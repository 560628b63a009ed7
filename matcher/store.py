"""The attendee store: who is here and everything ranking reads about them.

Each attendee gets an integer *key* for life (FAISS stores keys as owners; a removed key stays dead). Per key the
store keeps the attendee, its facet texts and the index rows of its item vectors, its rule data (opt-out, company
and role codes, blocked lists, connections) and its profile vector (the diversity re-rank). :meth:`snapshot`
turns all of it into read-only arrays for ranking, rebuilt only after a change.

Public reads (``key_of``, ``texts``, ``item_vectors``, ``index``...) are what explanations, metrics and benchmarks
use; nothing outside this module touches its attributes.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from matcher import scoring, sides
from matcher.graph import ConnectionGraph
from matcher.index import HNSW_THRESHOLD, FacetIndex
from matcher.lexical import LexicalIndex
from matcher.profile import FACETS, GIVE_FACETS, facet_items, lexical_docs
from models import Attendee, MatchmakerError, MatchPolicy

#: Below this many attendees every attendee is scored exactly (no FAISS retrieval needed).
EXHAUSTIVE_BELOW = 1000
#: Profiles are (re)computed this many attendees at a time (bounded scratch memory for a large upsert).
PROFILE_SLICE = 4096

#: How much a tie's text overlap adds to its strength in the mutual-connections channel
#: (:meth:`AttendeeStore.adamic_adar`): a tie counts ``1 + TIE_TEXT x s``, ``s`` the TF-IDF cosine of the two
#: people's topics. Chosen on acl2019 (co-authorship: co-authors write alike, and a close collaborator's close
#: collaborators are the likeliest future co-authors), halves of its queries by a fixed permutation: plain
#: Adamic-Adar 0.097 / 0.137 nDCG@10 (0.117 in all), ``1 + s`` 0.105 / 0.141 (0.123); the form ``(a + s)``
#: scored 0.111, 0.123, 0.123 and 0.112 in all for ``a`` = 0.25, 0.5, 1 and 2 (the channel is ``1 - exp(-x)``:
#: too small a scale gives way to text, too large saturates), so 1 is not a fitted optimum, it is the plateau, and
#: no tie counts less than it did.
TIE_TEXT = 1.0
_NO_KEYS = np.zeros(0, np.int64)
_NO_VALUES = np.zeros(0, np.float64)


class UnknownAttendee(MatchmakerError, KeyError):
    """An attendee id that the matcher does not hold."""

    def __init__(self, attendee_id: str):
        self.attendee_id = attendee_id
        super().__init__(attendee_id)

    def __str__(self) -> str:
        return f"unknown attendee id {self.attendee_id!r}"


@dataclass
class Snapshot:
    """What ranking reads, built once per state of the store (read-only; shared by the batch threads)."""

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
    sides: sides.Sides              # the event's learned sides (:mod:`matcher.sides`)

    def people(self) -> scoring.People:
        """The rule data as the scoring backends take it."""
        return scoring.People(self.alive_keys, self.eligible, self.role, self.role_ok, self.company, self.id_rank,
                              self.sides.side, self.sides.prior, self.sides.peer)

    def items(self, profiles: np.ndarray, directions: np.ndarray) -> scoring.Items:
        """Every key's item vectors (and ``profiles``) as the scoring backends take them (views, no copies)."""
        return scoring.Items(tuple(self.vectors[f] for f in FACETS), self.starts, self.counts,
                             tuple(self.layouts[f][2] for f in FACETS), profiles, directions)


def _norm(s: str) -> str:
    return " ".join(s.lower().split())


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


class AttendeeStore:
    """Attendees by key, their item rows in per-facet FAISS indexes, rule data, profiles and the snapshot.

    ``dim``: called for the vector width when nothing has been encoded yet (an empty store).

    >>> from matcher.encoder import HashingEncoder
    >>> enc = HashingEncoder(dim=8)
    >>> store = AttendeeStore(lambda: enc.dim)
    >>> a = Attendee(id="a", goals=["rust jobs"])
    >>> items = [facet_items(a)]
    >>> store.write([a], items, {t: v for t, v in zip(["rust jobs"], enc.encode(["rust jobs"]))})
    >>> store.key_of("a"), store.texts("goals", 0)
    (0, ['rust jobs'])
    """

    def __init__(self, dim: Callable[[], int], *, hnsw_threshold: int = HNSW_THRESHOLD, index_kind: str | None = None,
                 policy: MatchPolicy | None = None, exhaustive_below: int = EXHAUSTIVE_BELOW):
        self._dim = dim
        self.hnsw_threshold = hnsw_threshold
        self.index_kind = index_kind
        self._policy = policy if policy is not None else MatchPolicy()
        self._exhaustive_below = int(exhaustive_below)
        self._version = 0  # bumped by every change; the snapshot follows it
        self._snap: Snapshot | None = None
        self._role_ok: np.ndarray | None = None
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
        self._dir = np.zeros((0, 0), dtype=np.float32)
        # per key, a number that changes whenever its profile and direction are recomputed: the learned sides are
        # refitted only when a person they were fitted on changed (a pure function of those people either way)
        self._stamp = np.zeros(0, dtype=np.int64)
        self._stamps = 0
        self._side_model: tuple[bytes, sides.SideModel] | None = None
        self._codes: dict[str, dict[str, int]] = {"company": {}, "role": {}}
        self._meta: dict[str, list] = {"alive": [], "opt_out": [], "company": [], "role": []}
        self._local = threading.local()  # per-thread scratch of the batch threads

    # ----------------------------------------------------------------------------------------- configuration
    @property
    def policy(self) -> MatchPolicy:
        return self._policy

    @policy.setter
    def policy(self, policy: MatchPolicy) -> None:
        self._policy = policy
        self._role_ok = None
        self._version += 1

    @property
    def exhaustive_below(self) -> int:
        return self._exhaustive_below

    @exhaustive_below.setter
    def exhaustive_below(self, value: int) -> None:
        self._exhaustive_below = int(value)
        self._version += 1

    # ------------------------------------------------------------------------------------------------ reads
    def __len__(self) -> int:
        return len(self._attendees)

    def __contains__(self, attendee_id: object) -> bool:
        return attendee_id in self._attendees

    def ids(self) -> list[str]:
        """Attendee ids in insertion order."""
        return list(self._attendees)

    def attendees(self) -> list[Attendee]:
        """The attendees in insertion order."""
        return list(self._attendees.values())

    def get(self, attendee_id: str) -> Attendee:
        try:
            return self._attendees[attendee_id]
        except KeyError:
            raise UnknownAttendee(attendee_id) from None

    def key_of(self, attendee_id: str) -> int:
        """The attendee's key (raises :class:`UnknownAttendee`)."""
        try:
            return self._key[attendee_id]
        except KeyError:
            raise UnknownAttendee(attendee_id) from None

    def keys_of(self, ids: Sequence[str]) -> np.ndarray:
        """Keys of ``ids`` (int64), checking each (raises :class:`UnknownAttendee`)."""
        return np.asarray([self.key_of(i) for i in ids], dtype=np.int64)

    def check_ids(self, ids: Iterable[str]) -> None:
        for i in ids:
            if i not in self._attendees:
                raise UnknownAttendee(i)

    def id_of(self, key: int) -> str | None:
        """The id holding ``key``, ``None`` for a removed one."""
        return self._ids[key]

    def names(self) -> list[str | None]:
        """``names[key]`` is the id of each key ever given (``None`` for removed ones): a copy."""
        return list(self._ids)

    @property
    def n_keys(self) -> int:
        return len(self._ids)

    def attendee_at(self, key: int) -> Attendee:
        return self._attendees[self._ids[key]]

    def texts(self, facet: str, key: int) -> list[str]:
        """The facet's item texts of ``key`` (empty when it has none)."""
        return self._texts[facet][key] or []

    def item_vectors(self, facet: str, keys: Sequence[int]) -> tuple[np.ndarray, list[int]]:
        """The item vectors of ``keys`` for one facet, one key after another, and how many each has."""
        parts = [self._rows[facet][k] for k in keys]
        counts = [0 if p is None else len(p) for p in parts]
        if self._indexes is None or not sum(counts):
            dim = self._indexes[facet].dim if self._indexes is not None else self._dim()
            return np.zeros((0, dim), np.float32), counts
        index = self._indexes[facet]
        return index.vectors().take(np.concatenate([p for p in parts if p is not None]), axis=0), counts

    def index(self, facet: str) -> FacetIndex | None:
        """The facet's FAISS index (``None`` before anything was written)."""
        return None if self._indexes is None else self._indexes[facet]

    @property
    def dim(self) -> int:
        return self._indexes["goals"].dim if self._indexes is not None else self._dim()

    @property
    def lexical(self) -> LexicalIndex:
        return self._lex

    @property
    def graph(self) -> ConnectionGraph:
        return self._graph

    @property
    def profiles(self) -> np.ndarray:
        """``(>= n_keys, dim)`` float32: each key's unit profile vector (rows past ``n_keys`` are spare)."""
        return self._prof

    @property
    def directions(self) -> np.ndarray:
        """``(>= n_keys, dim)`` float32: each key's unit direction, from what it gives to what it seeks (zero
        without goals or without anything to give; :mod:`matcher.sides`)."""
        return self._dir

    def blocked(self, attendee_id: str) -> set[str]:
        """Whom ``attendee_id`` blocked."""
        return set(self._blocked.get(attendee_id, ()))

    # ---------------------------------------------------------------------------------------------- writing
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

    def _new_key(self, attendee_id: str | None) -> int:
        key = len(self._ids)
        self._ids.append(attendee_id)
        for f in FACETS:
            self._rows[f].append(None)
            self._texts[f].append(None)
        for name, default in (("alive", False), ("opt_out", False), ("company", -1), ("role", 0)):
            self._meta[name].append(default)
        if attendee_id is not None:
            self._key[attendee_id] = key
        return key

    def _ensure_indexes(self, dim: int) -> dict[str, FacetIndex]:
        if self._indexes is None:
            self._indexes = {f: FacetIndex(dim, hnsw_threshold=self.hnsw_threshold, kind=self.index_kind)
                             for f in FACETS}
        return self._indexes

    def write(self, batch: list[Attendee], items: list[dict[str, list[str]]], vectors: np.ndarray | dict,
              texts: list[str] | None = None) -> None:
        """Add or replace ``batch`` (ids unique), its facet ``items`` encoded as ``vectors``: row ``i`` is the
        vector of ``texts[i]`` (the distinct texts of ``items`` in order of appearance when not given), or a
        ``{text: vector}`` mapping. Unchanged facets keep their rows."""
        if texts is None:
            texts = list(dict.fromkeys(t for it in items for f in FACETS for t in it[f]))
        if isinstance(vectors, dict):
            vectors = (np.stack([vectors[t] for t in texts]) if texts
                       else np.zeros((0, self.dim), np.float32))
        dim = vectors.shape[1] if len(texts) else self.dim
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

    def restore(self, attendees: list[Attendee], keys: dict[str, int], n_keys: int,
                indexes: dict[str, FacetIndex], rows: dict[str, list[np.ndarray]]) -> None:
        """Fill an empty store from saved state: each attendee's key back (gaps stay dead), the saved indexes
        and ``rows[facet][i]``, the index rows of ``attendees[i]``'s items (nothing is encoded)."""
        if self._ids:
            raise MatchmakerError("restore needs an empty store")
        self._indexes = indexes
        for _ in range(n_keys):
            self._new_key(None)
        for i, a in enumerate(attendees):
            key = int(keys[a.id])
            self._key[a.id] = key
            self._ids[key] = a.id
            it = facet_items(a)
            for f in FACETS:
                self._rows[f][key] = rows[f][i]
                self._texts[f][key] = it[f]
            self._record(a, key)
        restored = [self._key[a.id] for a in attendees]
        self._lex.set_many(restored, [lexical_docs(a) for a in attendees])
        self._version += 1
        self._update_profiles(restored)

    def item_rows(self, facet: str, key: int) -> np.ndarray:
        """The index rows of ``key``'s items of one facet (for saving)."""
        rows = self._rows[facet][key]
        return np.zeros(0, np.int64) if rows is None else rows

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

    def _update_profiles(self, keys: list[int]) -> None:
        """Keep one unit vector per attendee (for the diversity re-rank) current for ``keys``."""
        if not keys:
            return
        need = len(self._ids)
        if self._prof.shape[0] < need:
            size = (max(need, 2 * self._prof.shape[0]), self._indexes["goals"].dim)
            grown, grown_dir = np.zeros(size, np.float32), np.zeros(size, np.float32)
            if self._prof.size:
                grown[: self._prof.shape[0]] = self._prof
                grown_dir[: self._dir.shape[0]] = self._dir
            self._prof, self._dir = grown, grown_dir
        keys_arr = np.asarray(keys, dtype=np.int64)
        if self._stamp.shape[0] < self._prof.shape[0]:
            grown_stamp = np.zeros(self._prof.shape[0], np.int64)
            grown_stamp[: self._stamp.shape[0]] = self._stamp
            self._stamp = grown_stamp
        self._stamps += 1
        self._stamp[keys_arr] = self._stamps
        for s in range(0, len(keys_arr), PROFILE_SLICE):
            part = keys_arr[s:s + PROFILE_SLICE]
            self._prof[part], self._dir[part] = self._compute_profiles(part)

    def _facet_sums(self, keys: np.ndarray, facet: str) -> tuple[np.ndarray, np.ndarray]:
        """Per key: the sum of its item vectors of one facet, and whether it has any."""
        total = np.zeros((len(keys), self._indexes["goals"].dim), dtype=np.float32)
        parts = [self._rows[facet][key] for key in keys]
        counts = np.asarray([0 if r is None else len(r) for r in parts], dtype=np.int64)
        nz = counts > 0
        if nz.any():
            rows = np.concatenate([r for r in parts if r is not None and len(r)])
            starts = (np.cumsum(counts) - counts)[nz]
            total[nz] = np.add.reduceat(self._indexes[facet].vectors().take(rows, axis=0), starts, axis=0)
        return total, nz

    def facet_means(self, keys: np.ndarray, facets: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per key: the unit mean of its item vectors over ``facets`` (zero when it has none), and whether it
        has any."""
        total = np.zeros((len(keys), self._indexes["goals"].dim), dtype=np.float32)
        has = np.zeros(len(keys), dtype=bool)
        for f in facets:
            part, nz = self._facet_sums(keys, f)
            total += part
            has |= nz
        return _unit_rows(total), has

    def _compute_profiles(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Profiles (the unit mean of all of each attendee's item vectors) and directions (the unit vector from
        the mean of what it gives to the mean of what it seeks; zero without either)."""
        sums = {f: self._facet_sums(keys, f) for f in FACETS}
        total = np.zeros((len(keys), self._indexes["goals"].dim), dtype=np.float32)
        for f in FACETS:
            total += sums[f][0]
        give = sums["offers"][0] + sums["identity"][0]
        has_give = sums["offers"][1] | sums["identity"][1]
        direction = _unit_rows(_unit_rows(sums["goals"][0]) - _unit_rows(give))
        direction[~(sums["goals"][1] & has_give)] = 0.0
        return _unit_rows(total), direction

    # ------------------------------------------------------------------------------------------ state views
    def snapshot(self) -> Snapshot:
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
                          else np.zeros((0, self._dim()), np.float32))
        w = {name: float(v) for name, v in self.weights().items() if v > 0}
        total = sum(w.values())
        lex = self._lex
        if "lexical" in w:
            lex.combined()
        snap = Snapshot(
            version=self._version, opt_out=opt_out, eligible=alive & ~opt_out,
            alive_keys=np.flatnonzero(alive), company=np.asarray(meta["company"], dtype=np.int64),
            role=np.asarray(meta["role"], dtype=np.int64), role_ok=self.role_matrix(), id_rank=rank,
            layouts=layouts, vectors=vectors, starts=np.stack([layouts[f][0] for f in FACETS]),
            counts=np.stack([layouts[f][1] for f in FACETS]), weights={name: v / total for name, v in w.items()},
            exhaustive=len(self) < self._exhaustive_below, policy=self._policy,
            lex_presence=lex.presence() if "lexical" in w else None, sides=self._fit_sides(alive))
        self._snap = snap
        return snap

    def _fit_sides(self, alive: np.ndarray) -> sides.Sides:
        """The event's learned sides over everyone alive with a direction (none when the policy turns
        complementarity off)."""
        n_keys = len(self._ids)
        if self._policy.complement <= 0 or self._indexes is None:
            return sides.Sides.none(n_keys)
        keys = np.flatnonzero(alive & np.any(self._dir[:n_keys] != 0, axis=1))
        if len(keys) == 0:
            return sides.Sides.none(n_keys)
        pick = np.linspace(0, len(keys) - 1, min(len(keys), sides.FIT_SAMPLE)).round().astype(np.int64)
        fit_keys = keys[pick]
        fitted_on = hashlib.blake2b(fit_keys.tobytes() + self._stamp[fit_keys].tobytes(), digest_size=16).digest()
        cached = self._side_model
        if cached is None or cached[0] != fitted_on:
            goals = self.facet_means(fit_keys, ("goals",))[0]
            give = self.facet_means(fit_keys, GIVE_FACETS)[0]
            cached = (fitted_on, sides.fit_model(self._dir[fit_keys], goals, give))
            self._side_model = cached
        return cached[1].sides(keys, self._dir[keys], n_keys)

    def role_matrix(self) -> np.ndarray:
        """``(n_roles, n_roles)`` bool: the policy's role rules over the role codes."""
        if self._role_ok is None:
            names = sorted(self._codes["role"], key=self._codes["role"].get)
            n = len(names)
            ok = np.ones((n, n), dtype=bool)
            if self._policy.role_rules:
                for i, ra in enumerate(names):
                    for j, rb in enumerate(names):
                        ok[i, j] = self._policy.may_meet(ra, rb)
            self._role_ok = ok
        return self._role_ok

    def weights(self) -> dict[str, float]:
        """The policy's channel weights by name (not normalised)."""
        return self._policy.weights.model_dump()

    def gather_rows(self, facet: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers of the items of ``keys`` (grouped by key, in order) and the per-key counts."""
        start, count, flat = self.snapshot().layouts[facet]
        counts = count[keys]
        if len(keys) == 1:
            s = int(start[keys[0]])
            return flat[s:s + int(counts[0])], counts
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, np.int64), counts
        at = np.repeat(start[keys] - (np.cumsum(counts) - counts), counts) + np.arange(total)
        return flat[at], counts

    def side(self, keys: np.ndarray) -> scoring.Side:
        """The item vectors of ``keys`` by facet, as the numpy scoring takes them."""
        snap = self.snapshot()

        def segments(f: str) -> scoring.Segments:
            rows, counts = self.gather_rows(f, keys)
            return scoring.Segments(snap.vectors[f].take(rows, axis=0), counts)

        return scoring.Side(*(segments(f) for f in FACETS))

    def excluded_keys(self, attendee_id: str, extra: Iterable[str]) -> np.ndarray:
        """Keys ``attendee_id`` may not be shown: connected, blocked either way, and ``extra`` ids."""
        ids = self._graph.neighbours(attendee_id) | self._blocked.get(attendee_id, set())
        ids = ids | self._blocked_by.get(attendee_id, set())
        extra = set(extra)
        if extra:
            ids = ids | extra
        key = self._key
        return np.asarray([key[i] for i in ids if i in key], dtype=np.int64)

    def adamic_adar(self, attendee_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Attendee keys two hops away and their Adamic-Adar scores over ties weighted by strength, sorted by key.

        A tie's strength is ``1 + TIE_TEXT x s``, ``s`` the TF-IDF cosine of the two people's topics (interests
        and bio; 0 for someone outside the event): a friend of a close colleague counts more than a friend of a
        passing acquaintance (up to twice), and no tie counts less than in plain Adamic-Adar. Only between two
        people who both state no goal (so the value is the same both ways): where goals are stated, text overlap
        along a path marks people alike (a founder's founder friends' founder friends), whom complementarity
        counts down, so ties count 1 each there."""
        g = self._graph
        near = sorted(g.neighbours(attendee_id))
        if not near:
            return _NO_KEYS, _NO_VALUES
        goals = self._texts["goals"]
        key = self._key
        me = key.get(attendee_id)
        plain = g.adamic_adar(attendee_id)
        if me is None or goals[me]:
            return self._pairs(plain)
        far = sorted(set().union(*(g.neighbours(z) for z in near)) - {attendee_id})
        topics = self._lex.topics()

        def rows(ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
            ks = np.asarray([key.get(i, -1) for i in ids], dtype=np.int64)
            known = (ks >= 0) & (ks < topics.shape[0])
            return np.where(known, ks, 0), known

        ks, known = rows([attendee_id, *near, *far])
        sub = topics[ks]  # me, my neighbours, theirs: one gather, one product
        nz = 1 + len(near)
        sims = (sub @ sub[:nz].T).toarray() * known[:, None] * known[None, :nz]
        s_q, s_z = sims[1:nz, 0], sims[nz:, 1:nz].T
        at_z = {z: i for i, z in enumerate(near)}
        at_c = {c: j for j, c in enumerate(far)}

        def tie(a: str, bs: list[str]) -> np.ndarray:
            s = s_q[[at_z[b] for b in bs]] if a == attendee_id else s_z[at_z[a], [at_c[b] for b in bs]]
            return 1.0 + TIE_TEXT * np.clip(s, 0.0, 1.0)

        weighted = g.adamic_adar(attendee_id, tie)
        return self._pairs({c: weighted[c] if c in key and not goals[key[c]] else v for c, v in plain.items()})

    def _pairs(self, scores: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """``{id: value}`` as attendee keys (sorted) and values; ids outside the event left out."""
        key = self._key
        pairs = sorted((key[i], v) for i, v in scores.items() if i in key)
        if not pairs:
            return _NO_KEYS, _NO_VALUES
        keys, vals = zip(*pairs, strict=True)
        return np.asarray(keys, dtype=np.int64), np.asarray(vals, dtype=np.float64)

    def scratch_marks(self) -> np.ndarray:
        """This thread's stamp array over the keys (for :func:`matcher.scoring.compiled.candidate_lists`)."""
        marks = getattr(self._local, "marks", None)
        if marks is None or len(marks) < len(self._ids) + 1:
            marks = self._local.marks = np.zeros(len(self._ids) + 1025, dtype=np.int64)
        return marks
