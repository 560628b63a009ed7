"""One in-memory :class:`~matcher.Matcher` per event per process, kept current from the database.

A matcher is built lazily the first time an event is asked for (vectors come from the embedding table, so
nothing already encoded is encoded again). Before each use the worker compares the event's change sequence in
the database with the one its matcher reflects and replays only the attendees changed since (the change log),
so a write made through any worker or machine is visible to the next request everywhere.

>>> from matcher import HashingEncoder
>>> from service.storage import Store
>>> store = Store("sqlite://"); store.create_all()
>>> reg = EngineRegistry(store, lambda: HashingEncoder(dim=16))
>>> reg.encoder.model_id
'hashing-16'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from matcher import CachedEncoder, Matcher
from matcher.encoder import TextEncoder
from service.storage import DbEmbeddingCache, EventRow, Store, attendee_hash


class TenantEncoders:
    """The process's text encoder (loaded once) behind one embedding cache per tenant.

    ``encoded_`` counts the texts this process sent to the model, all tenants together.
    """

    def __init__(self, model: TextEncoder, store: Store):
        self.model = model
        self.store = store
        self.encoded_ = 0
        self._lock = threading.Lock()
        self._by_tenant: dict[int, CachedEncoder] = {}

    @property
    def model_id(self) -> str:
        return self.model.model_id

    @property
    def dim(self) -> int:
        return self.model.dim

    def for_tenant(self, tenant_id: int) -> CachedEncoder:
        """The encoder whose cache holds ``tenant_id``'s vectors only."""
        enc = self._by_tenant.get(tenant_id)
        if enc is None:
            with self._lock:
                enc = self._by_tenant.setdefault(
                    tenant_id, CachedEncoder(_Counted(self), DbEmbeddingCache(self.store, scope=tenant_id)))
        return enc


class _Counted:
    """The shared model, counting into :attr:`TenantEncoders.encoded_`."""

    def __init__(self, owner: TenantEncoders):
        self.owner = owner

    @property
    def model_id(self) -> str:
        return self.owner.model.model_id

    @property
    def dim(self) -> int:
        return self.owner.model.dim

    def encode(self, texts) -> np.ndarray:
        out = self.owner.model.encode(texts)
        with self.owner._lock:
            self.owner.encoded_ += len(texts)
        return out


@dataclass
class _Entry:
    matcher: Matcher
    seq: int
    created_at: object
    hashes: dict[str, str] = field(default_factory=dict)  # id_hash -> attendee id
    lock: threading.RLock = field(default_factory=threading.RLock)


class EngineRegistry:
    """Per-process cache of matchers keyed by the event's surrogate key.

    ``encoder_factory`` builds the text encoder on first use (the real model loads once per process).
    """

    def __init__(self, store: Store, encoder_factory: Callable[[], TextEncoder], **matcher_kwargs):
        self.store = store
        self.encoder_factory = encoder_factory
        self.matcher_kwargs = matcher_kwargs
        self._encoder: TenantEncoders | None = None
        self._entries: dict[int, _Entry] = {}
        self._lock = threading.RLock()
        self.full_loads_ = 0
        self.incremental_syncs_ = 0
        self._swept = time.monotonic()

    @property
    def encoder(self) -> TenantEncoders:
        """The process's encoder, caching vectors in the database, per tenant."""
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    self._encoder = TenantEncoders(self.encoder_factory(), self.store)
        return self._encoder

    def encoder_for(self, tenant_id: int) -> CachedEncoder:
        """The encoder of one tenant's texts (its own cache)."""
        return self.encoder.for_tenant(tenant_id)

    def texts_encoded(self) -> int:
        """Texts this process sent to the model (0 before the encoder is first needed)."""
        return 0 if self._encoder is None else self._encoder.encoded_

    def loaded(self) -> dict[int, Matcher]:
        """Matchers held by this process, by event key."""
        return {pk: e.matcher for pk, e in list(self._entries.items())}

    def drop(self, event_pk: int) -> None:
        self._entries.pop(event_pk, None)

    def sweep(self, every_s: float = 5.0) -> None:
        """At most every ``every_s`` seconds: forget deleted events and apply pending changes (erasures
        included) to every loaded matcher, so memory never holds for long what storage no longer has."""
        now = time.monotonic()
        if now - self._swept < every_s or not self._entries:
            return
        self._swept = now
        rows = self.store.events_by_pk(list(self._entries))
        for pk in list(self._entries):
            row = rows.get(pk)
            if row is None:
                self.drop(pk)
            elif self._entries[pk].seq != row.seq:
                self.use(row)

    def use(self, row: EventRow) -> _Entry:
        """The entry of ``row``'s event, synced to at least ``row.seq``. Hold ``entry.lock`` while using it."""
        with self._lock:
            entry = self._entries.get(row.pk)
            if entry is None or entry.created_at != row.created_at or entry.seq > row.seq:
                entry = self._load(row)
                self._entries[row.pk] = entry
                return entry
        with entry.lock:
            if entry.seq < row.log_floor:
                fresh = self._load(row)
                with self._lock:
                    self._entries[row.pk] = fresh
                return fresh
            if entry.seq < row.seq:
                self._sync(entry, row)
            if entry.matcher.event != row.event:
                entry.matcher.set_event(row.event)
        return entry

    def snapshot(self, row: EventRow) -> Matcher:
        """A private matcher of ``row``'s event as stored now, shared with no request (background jobs use it,
        so a long plan never holds the lock the event's match requests wait on)."""
        return self._build(row)[0]

    def _build(self, row: EventRow) -> tuple[Matcher, list]:
        people = self.store.all_attendees(row.pk)
        m = Matcher(row.event, self.encoder_for(row.tenant_id), **self.matcher_kwargs)
        m.upsert(people)
        return m, people

    def _load(self, row: EventRow) -> _Entry:
        m, people = self._build(row)
        self.full_loads_ += 1
        return _Entry(m, row.seq, row.created_at, {attendee_hash(row.pk, a.id): a.id for a in people})

    def _sync(self, entry: _Entry, row: EventRow) -> None:
        changed = self.store.changes_since(row.pk, entry.seq, row.seq)
        current = self.store.attendees_by_hash(row.pk, changed)
        m = entry.matcher
        for h in changed - current.keys():
            aid = entry.hashes.pop(h, None)
            if aid is not None and aid in m:
                m.remove(aid)
        if current:
            m.upsert(current.values())
            entry.hashes.update((h, a.id) for h, a in current.items())
        entry.seq = row.seq
        self.incremental_syncs_ += 1
