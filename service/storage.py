"""Storage: tenants, API keys, events, attendees, feedback and embeddings in one SQL database (SQLAlchemy 2).

SQLite file by default, PostgreSQL by URL. Every write runs in one transaction that first bumps the event's
change sequence (``events.seq``): that takes the write lock early (no lock upgrades under SQLite, row lock under
PostgreSQL) and gives workers a cheap "has anything changed?" check.

>>> store = Store("sqlite://")
>>> store.create_all()
>>> key = store.create_key("acme")
>>> store.tenant_for_key(key) == store.tenant_id("acme")
True
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, create_engine, delete, event, exists, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from matcher.encoder import EmbeddingCache
from matcher.profile import FACETS, facet_items
from models import Attendee, Event, Feedback, MatchmakerError
from service import db as t

#: Change-log sequences kept per event; a worker further behind reloads the event from scratch.
KEEP_CHANGES = 512
KEY_PREFIX = "mm_"
_CHUNK = 500


class StorageError(MatchmakerError):
    """A storage operation that cannot be done as asked (e.g. the event already exists)."""


class Conflict(StorageError):
    """The thing to create exists already."""


class _NotFound(Exception):
    """Rolls a write back when its target is missing."""


def now() -> datetime:
    return datetime.now(UTC)


def sha256(value: str) -> str:
    """Hex sha256 of a string (UTF-8)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def attendee_hash(event_pk: int, attendee_id: str) -> str:
    """The pseudonymous id of an attendee in the change log and text references."""
    return sha256(f"{event_pk}\x00{attendee_id}")


def hash_key(key: str) -> str:
    """How an API key is stored: its sha256.

    Keys are 256-bit random strings, so a fast hash is enough: nobody can search that space, and a fast hash
    lets every request look its key up by an indexed equality (a slow password hash such as bcrypt protects
    low-entropy secrets and would cost milliseconds per request).
    """
    return sha256(key)


@dataclass(frozen=True)
class EventRow:
    """An event as stored: its surrogate key, the Event, and its change sequence."""

    pk: int
    tenant_id: int
    event: Event
    seq: int
    log_floor: int
    created_at: datetime
    updated_at: datetime


def _text_hashes(a: Attendee) -> set[str]:
    items = facet_items(a)
    return {sha256(x) for f in FACETS for x in items[f]}


def default_url() -> str:
    """``MATCHMAKER_DATABASE_URL``, else ``DATABASE_URL``, else ``sqlite:///var/matchmaker.sqlite``."""
    import os

    return (os.environ.get("MATCHMAKER_DATABASE_URL") or os.environ.get("DATABASE_URL")
            or "sqlite:///var/matchmaker.sqlite")


def normalize_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` (as platforms hand them out) use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Store:
    """All database access of the service.

    ``url``: a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://user@host/db``). ``schema``: put the
    tables in this PostgreSQL schema (tests use a fresh one per run).
    """

    def __init__(self, url: str | None = None, *, schema: str | None = None):
        self.url = normalize_url(url or default_url())
        self.schema = schema
        self.engine = self._make_engine()

    def _make_engine(self) -> Engine:
        if self.url.startswith("sqlite"):
            path = self.url.split("///", 1)[1] if "///" in self.url else ""
            if path and path != ":memory:":
                from pathlib import Path

                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs: dict[str, Any] = {"connect_args": {"timeout": 30, "check_same_thread": False}}
            if not path or path == ":memory:":
                from sqlalchemy.pool import StaticPool

                kwargs["poolclass"] = StaticPool
            engine = create_engine(self.url, **kwargs)

            @event.listens_for(engine, "connect")
            def _connect(dbapi_conn, _record):  # pragma: no cover - exercised by every sqlite test
                dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (SQLAlchemy's pysqlite recipe)
                cur = dbapi_conn.cursor()
                if path and path != ":memory:":
                    cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

            @event.listens_for(engine, "begin")
            def _begin(conn):  # pragma: no cover - exercised by every sqlite test
                conn.exec_driver_sql("BEGIN")

            return engine
        engine = create_engine(self.url, pool_pre_ping=True)
        if self.schema:
            engine = engine.execution_options(schema_translate_map={None: self.schema})
        return engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # ------------------------------------------------------------------------------------------- lifecycle
    def create_all(self) -> None:
        """Create the tables (and the schema, if one was given) when missing."""
        if self.schema and self.dialect == "postgresql":
            with self.engine.begin() as c:
                c.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
        t.metadata.create_all(self.engine)

    def drop_all(self) -> None:
        """Drop every table (tests); drops the schema too when one was given."""
        if self.schema and self.dialect == "postgresql":
            with self.engine.begin() as c:
                c.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        else:
            t.metadata.drop_all(self.engine)

    def ping(self) -> None:
        """Raise when the database or the tables are not reachable."""
        with self.engine.connect() as c:
            c.execute(select(func.count()).select_from(t.tenants))

    def dispose(self) -> None:
        self.engine.dispose()

    # ---------------------------------------------------------------------------------------- tenants, keys
    def tenant_id(self, name: str, *, create: bool = False) -> int | None:
        """The id of tenant ``name`` (created when ``create``)."""
        with self.engine.begin() as c:
            tid = c.execute(select(t.tenants.c.id).where(t.tenants.c.name == name)).scalar()
            if tid is None and create:
                try:
                    with c.begin_nested():
                        tid = c.execute(insert(t.tenants).values(name=name, created_at=now())
                                        .returning(t.tenants.c.id)).scalar_one()
                except IntegrityError:
                    tid = c.execute(select(t.tenants.c.id).where(t.tenants.c.name == name)).scalar_one()
            return tid

    def create_key(self, tenant: str, label: str = "") -> str:
        """A new API key for ``tenant`` (created if new). The key is returned once; only its hash is stored."""
        tid = self.tenant_id(tenant, create=True)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as c:
            c.execute(insert(t.api_keys).values(tenant_id=tid, key_hash=hash_key(key), prefix=key[:11],
                                                label=label, created_at=now()))
        return key

    def revoke_key(self, key_or_prefix: str) -> int:
        """Revoke a key given whole or by its listed prefix; returns how many keys were revoked."""
        cond = (t.api_keys.c.key_hash == hash_key(key_or_prefix)) | (t.api_keys.c.prefix == key_or_prefix)
        with self.engine.begin() as c:
            res = c.execute(update(t.api_keys).where(cond, t.api_keys.c.revoked_at.is_(None))
                            .values(revoked_at=now()))
            return res.rowcount or 0

    def list_keys(self) -> list[dict[str, Any]]:
        """Every key: prefix, tenant, label, created, revoked (never the key itself)."""
        q = (select(t.api_keys.c.prefix, t.tenants.c.name, t.api_keys.c.label, t.api_keys.c.created_at,
                    t.api_keys.c.revoked_at)
             .join(t.tenants, t.tenants.c.id == t.api_keys.c.tenant_id).order_by(t.api_keys.c.id))
        with self.engine.connect() as c:
            return [{"prefix": r[0], "tenant": r[1], "label": r[2], "created_at": r[3], "revoked_at": r[4]}
                    for r in c.execute(q)]

    def tenant_for_key(self, key: str) -> int | None:
        """The tenant a live key belongs to, or None."""
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            return None
        q = select(t.api_keys.c.tenant_id).where(t.api_keys.c.key_hash == hash_key(key),
                                                  t.api_keys.c.revoked_at.is_(None))
        with self.engine.connect() as c:
            return c.execute(q).scalar()

    # ---------------------------------------------------------------------------------------------- events
    @staticmethod
    def _event_row(r) -> EventRow:
        return EventRow(pk=r.pk, tenant_id=r.tenant_id, event=Event.model_validate_json(r.data), seq=r.seq,
                        log_floor=r.log_floor, created_at=r.created_at, updated_at=r.updated_at)

    def get_event(self, tenant_id: int, event_id: str) -> EventRow | None:
        q = select(t.events).where(t.events.c.tenant_id == tenant_id, t.events.c.event_id == event_id)
        with self.engine.connect() as c:
            r = c.execute(q).first()
        return None if r is None else self._event_row(r)

    def events_by_pk(self, pks: Iterable[int]) -> dict[int, EventRow]:
        """The events among ``pks`` that still exist."""
        pl = list(pks)
        if not pl:
            return {}
        with self.engine.connect() as c:
            return {r.pk: self._event_row(r) for r in c.execute(select(t.events).where(t.events.c.pk.in_(pl)))}

    def list_events(self, tenant_id: int) -> list[EventRow]:
        q = select(t.events).where(t.events.c.tenant_id == tenant_id).order_by(t.events.c.event_id)
        with self.engine.connect() as c:
            return [self._event_row(r) for r in c.execute(q)]

    def create_event(self, tenant_id: int, ev: Event) -> EventRow:
        """Store a new event; :class:`Conflict` when the tenant has one with that id."""
        ts = now()
        try:
            with self.engine.begin() as c:
                c.execute(insert(t.events).values(tenant_id=tenant_id, event_id=ev.id, data=ev.model_dump_json(),
                                                  seq=0, log_floor=0, created_at=ts, updated_at=ts))
        except IntegrityError:
            raise Conflict(f"event {ev.id!r} exists already") from None
        row = self.get_event(tenant_id, ev.id)
        if row is None:  # pragma: no cover - deleted between the two statements
            raise StorageError(f"event {ev.id!r} was deleted meanwhile")
        return row

    def _bump(self, c: Connection, event_pk: int) -> int:
        c.execute(update(t.events).where(t.events.c.pk == event_pk)
                  .values(seq=t.events.c.seq + 1, updated_at=now()))
        seq = c.execute(select(t.events.c.seq).where(t.events.c.pk == event_pk)).scalar()
        if seq is None:
            raise StorageError("the event was deleted meanwhile")
        return int(seq)

    def _prune(self, c: Connection, event_pk: int, seq: int) -> None:
        floor = seq - KEEP_CHANGES
        if floor > 0 and seq % 64 == 0:
            c.execute(delete(t.changes).where(t.changes.c.event_pk == event_pk, t.changes.c.seq <= floor))
            c.execute(update(t.events).where(t.events.c.pk == event_pk).values(log_floor=floor))

    def update_event(self, event_pk: int, ev: Event) -> None:
        with self.engine.begin() as c:
            self._bump(c, event_pk)
            c.execute(update(t.events).where(t.events.c.pk == event_pk).values(data=ev.model_dump_json()))

    def delete_event(self, event_pk: int) -> None:
        """Erase an event with every attendee, feedback and no longer referenced embedding."""
        with self.engine.begin() as c:
            hashes = [r[0] for r in c.execute(select(t.text_refs.c.text_hash).distinct()
                                             .where(t.text_refs.c.event_pk == event_pk))]
            for table in (t.attendees, t.feedback, t.text_refs, t.changes, *t.MEETING_TABLES):
                c.execute(delete(table).where(table.c.event_pk == event_pk))
            c.execute(delete(t.events).where(t.events.c.pk == event_pk))
            self._collect(c, hashes)

    # ------------------------------------------------------------------------------------------- attendees
    def upsert_attendees(self, event_pk: int, batch: Sequence[Attendee]) -> tuple[int, int]:
        """Insert or replace attendees by id, all or nothing. Returns ``(created, updated)``."""
        if not batch:
            return 0, 0
        ids = [a.id for a in batch]
        with self.engine.begin() as c:
            seq = self._bump(c, event_pk)
            old: dict[str, Attendee] = {}
            for i in range(0, len(ids), _CHUNK):
                q = select(t.attendees.c.attendee_id, t.attendees.c.data).where(
                    t.attendees.c.event_pk == event_pk, t.attendees.c.attendee_id.in_(ids[i:i + _CHUNK]))
                old.update((r[0], Attendee.model_validate_json(r[1])) for r in c.execute(q))
            hashes = {a.id: attendee_hash(event_pk, a.id) for a in batch}
            new_rows = [{"event_pk": event_pk, "attendee_id": a.id, "id_hash": hashes[a.id],
                         "data": a.model_dump_json(), "updated_seq": seq} for a in batch if a.id not in old]
            changed = [a for a in batch if a.id in old]
            if new_rows:
                c.execute(insert(t.attendees), new_rows)
            if changed:
                from sqlalchemy import bindparam

                c.execute(update(t.attendees).where(t.attendees.c.event_pk == event_pk,
                                                    t.attendees.c.attendee_id == bindparam("b_id"))
                          .values(data=bindparam("b_data"), updated_seq=seq),
                          [{"b_id": a.id, "b_data": a.model_dump_json()} for a in changed])
            # text references: replace those of every attendee in the batch
            stale: set[str] = set()
            for a in changed:
                stale |= _text_hashes(old[a.id]) - _text_hashes(a)
            hl = list(hashes.values())
            for i in range(0, len(hl), _CHUNK):
                c.execute(delete(t.text_refs).where(t.text_refs.c.event_pk == event_pk,
                                                    t.text_refs.c.id_hash.in_(hl[i:i + _CHUNK])))
            refs = [{"event_pk": event_pk, "id_hash": hashes[a.id], "text_hash": h}
                    for a in batch for h in _text_hashes(a)]
            if refs:
                c.execute(insert(t.text_refs), refs)
            c.execute(insert(t.changes), [{"event_pk": event_pk, "seq": seq, "id_hash": h} for h in hl])
            self._collect(c, stale)
            self._prune(c, event_pk, seq)
        return len(new_rows), len(changed)

    def get_attendee(self, event_pk: int, attendee_id: str) -> Attendee | None:
        q = select(t.attendees.c.data).where(t.attendees.c.event_pk == event_pk,
                                             t.attendees.c.attendee_id == attendee_id)
        with self.engine.connect() as c:
            data = c.execute(q).scalar()
        return None if data is None else Attendee.model_validate_json(data)

    def list_attendee_ids(self, event_pk: int, limit: int, offset: int) -> tuple[list[str], int]:
        """A page of attendee ids (sorted) and the total count."""
        base = t.attendees.c.event_pk == event_pk
        with self.engine.connect() as c:
            total = c.execute(select(func.count()).select_from(t.attendees).where(base)).scalar_one()
            ids = [r[0] for r in c.execute(select(t.attendees.c.attendee_id).where(base)
                                           .order_by(t.attendees.c.attendee_id).limit(limit).offset(offset))]
        return ids, int(total)

    def count_attendees(self, event_pk: int) -> int:
        with self.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(t.attendees)
                                 .where(t.attendees.c.event_pk == event_pk)).scalar_one())

    def all_attendees(self, event_pk: int) -> list[Attendee]:
        q = (select(t.attendees.c.data).where(t.attendees.c.event_pk == event_pk)
             .order_by(t.attendees.c.updated_seq, t.attendees.c.attendee_id))
        with self.engine.connect() as c:
            return [Attendee.model_validate_json(r[0]) for r in c.execute(q)]

    def attendees_by_hash(self, event_pk: int, hashes: Iterable[str]) -> dict[str, Attendee]:
        """``{id_hash: Attendee}`` for those of ``hashes`` still stored."""
        hl = list(hashes)
        out: dict[str, Attendee] = {}
        with self.engine.connect() as c:
            for i in range(0, len(hl), _CHUNK):
                q = select(t.attendees.c.id_hash, t.attendees.c.data).where(
                    t.attendees.c.event_pk == event_pk, t.attendees.c.id_hash.in_(hl[i:i + _CHUNK]))
                out.update((r[0], Attendee.model_validate_json(r[1])) for r in c.execute(q))
        return out

    def changes_since(self, event_pk: int, after: int, upto: int) -> set[str]:
        """Hashes of the attendees changed by writes ``after < seq <= upto``."""
        q = select(t.changes.c.id_hash).distinct().where(
            t.changes.c.event_pk == event_pk, t.changes.c.seq > after, t.changes.c.seq <= upto,
            t.changes.c.id_hash.is_not(None))
        with self.engine.connect() as c:
            return {r[0] for r in c.execute(q)}

    def delete_attendee(self, event_pk: int, attendee_id: str) -> bool:
        """Erase one attendee: row, feedback by or about them, text references, unreferenced embeddings."""
        h = attendee_hash(event_pk, attendee_id)
        try:
            return self._delete_attendee(event_pk, attendee_id, h)
        except _NotFound:
            return False

    def _delete_attendee(self, event_pk: int, attendee_id: str, h: str) -> bool:
        with self.engine.begin() as c:
            seq = self._bump(c, event_pk)
            res = c.execute(delete(t.attendees).where(t.attendees.c.event_pk == event_pk,
                                                      t.attendees.c.attendee_id == attendee_id))
            if not res.rowcount:
                raise _NotFound
            c.execute(delete(t.feedback).where(t.feedback.c.event_pk == event_pk,
                                               (t.feedback.c.from_id == attendee_id)
                                               | (t.feedback.c.to_id == attendee_id)))
            hashes = [r[0] for r in c.execute(select(t.text_refs.c.text_hash).where(
                t.text_refs.c.event_pk == event_pk, t.text_refs.c.id_hash == h))]
            c.execute(delete(t.text_refs).where(t.text_refs.c.event_pk == event_pk, t.text_refs.c.id_hash == h))
            t.erase_meetings_of(c, event_pk, attendee_id)
            c.execute(insert(t.changes).values(event_pk=event_pk, seq=seq, id_hash=h))
            self._collect(c, hashes)
            self._prune(c, event_pk, seq)
        return True

    def _collect(self, c: Connection, text_hashes: Iterable[str]) -> None:
        """Delete the embeddings of ``text_hashes`` that no attendee references any more (any model)."""
        hl = list(set(text_hashes))
        ref = exists().where(t.text_refs.c.text_hash == t.embeddings.c.text_hash)
        for i in range(0, len(hl), _CHUNK):
            c.execute(delete(t.embeddings).where(t.embeddings.c.text_hash.in_(hl[i:i + _CHUNK]), ~ref))

    def referenced_text_hashes(self) -> set[str]:
        with self.engine.connect() as c:
            return {r[0] for r in c.execute(select(t.text_refs.c.text_hash).distinct())}

    def embedding_hashes(self) -> set[str]:
        with self.engine.connect() as c:
            return {r[0] for r in c.execute(select(t.embeddings.c.text_hash))}

    # -------------------------------------------------------------------------------------------- feedback
    def add_feedback(self, event_pk: int, fb: Feedback) -> bool:
        """Record feedback (idempotent); True when it was new."""
        with self.engine.begin() as c:
            self._bump(c, event_pk)
            found = c.execute(select(t.feedback.c.kind).where(
                t.feedback.c.event_pk == event_pk, t.feedback.c.from_id == fb.from_id,
                t.feedback.c.to_id == fb.to_id, t.feedback.c.kind == fb.kind)).first()
            if found is not None:
                return False
            c.execute(insert(t.feedback).values(event_pk=event_pk, from_id=fb.from_id, to_id=fb.to_id,
                                                kind=fb.kind, created_at=now()))
            return True

    def feedback_of(self, event_pk: int, attendee_id: str) -> list[Feedback]:
        """Feedback given by ``attendee_id``."""
        q = (select(t.feedback.c.from_id, t.feedback.c.to_id, t.feedback.c.kind)
             .where(t.feedback.c.event_pk == event_pk, t.feedback.c.from_id == attendee_id)
             .order_by(t.feedback.c.created_at, t.feedback.c.to_id))
        with self.engine.connect() as c:
            return [Feedback(from_id=r[0], to_id=r[1], kind=r[2]) for r in c.execute(q)]

    def exclusions(self, event_pk: int, attendee_id: str, *, allow_repeat: bool) -> set[str]:
        """Ids to leave out of ``attendee_id``'s list because of feedback.

        Their own declined, hidden and blocked (and met, unless repeats are allowed); anyone who blocked or
        declined them, or met them (a "no thanks" is a no for both, as in the commercial tools; a meeting happened
        for both). Hiding is personal: it works one way.
        """
        met = [] if allow_repeat else ["met"]
        kinds = ["declined", "hidden", "blocked", *met]
        f = t.feedback.c
        q1 = select(f.to_id).where(f.event_pk == event_pk, f.from_id == attendee_id, f.kind.in_(kinds))
        q2 = select(f.from_id).where(f.event_pk == event_pk, f.to_id == attendee_id,
                                     f.kind.in_(["blocked", "declined", *met]))
        with self.engine.connect() as c:
            return {r[0] for r in c.execute(q1.union(q2))}


class DbEmbeddingCache(EmbeddingCache):
    """Embedding vectors in the ``mm_embeddings`` table, keyed by (model id, sha256 of the text).

    Every worker and machine on the same database shares it, so a text is encoded once, ever, and a restart
    rebuilds the indexes from stored vectors.
    """

    def __init__(self, store: Store):
        super().__init__()
        self.store = store

    def __len__(self) -> int:
        with self.store.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(t.embeddings)).scalar_one())

    def get_many(self, model_id: str, texts: Iterable[str]) -> dict[str, np.ndarray]:
        by_hash: dict[str, list[str]] = {}
        for x in texts:
            by_hash.setdefault(sha256(x), []).append(x)
        hl = list(by_hash)
        out: dict[str, np.ndarray] = {}
        e = t.embeddings.c
        with self.store.engine.connect() as c:
            for i in range(0, len(hl), _CHUNK):
                q = select(e.text_hash, e.vector).where(and_(e.model_id == model_id,
                                                             e.text_hash.in_(hl[i:i + _CHUNK])))
                for h, blob in c.execute(q):
                    vec = np.frombuffer(blob, dtype="<f4").copy()
                    for x in by_hash[h]:
                        out[x] = vec
        return out

    def put_many(self, model_id: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        rows = {}
        for x, v in zip(texts, vectors, strict=True):
            v = np.asarray(v, dtype="<f4")
            rows[sha256(x)] = {"model_id": model_id, "text_hash": sha256(x), "dim": int(v.shape[0]),
                               "vector": v.tobytes()}
        if not rows:
            return
        values = list(rows.values())
        dialect = self.store.dialect
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:  # pragma: no cover - other databases: one row at a time
            for row in values:
                try:
                    with self.store.engine.begin() as c:
                        c.execute(insert(t.embeddings).values(**row))
                except IntegrityError:
                    pass
            return
        with self.store.engine.begin() as c:
            for i in range(0, len(values), _CHUNK):
                c.execute(dialect_insert(t.embeddings).on_conflict_do_nothing(), values[i:i + _CHUNK])
