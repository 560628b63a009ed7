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
import pydantic_core
from sqlalchemy import and_, create_engine, delete, event, exists, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from matcher.encoder import EmbeddingCache
from matcher.profile import FACETS, facet_items
from models import Attendee, Event, Feedback, MatchmakerError
from models.ids import STORED
from service import db as t

#: Change-log sequences kept per event; a worker further behind reloads the event from scratch.
KEEP_CHANGES = 512
KEY_PREFIX = "mm_"
_CHUNK = 500


class StorageError(MatchmakerError):
    """A storage operation that cannot be done as asked (e.g. the event already exists)."""


class Conflict(StorageError):
    """The thing to create exists already."""


class Gone(StorageError):
    """The thing to change was deleted meanwhile (the event, or the attendee of a conditional write)."""


class Stale(StorageError):
    """A conditional write found the row changed since the version it was based on."""


class _NotFound(Exception):
    """Rolls a write back when its target is missing."""


def error_json(status: int, code: str, message: str) -> str:
    """The ``error`` member of the one error shape, as stored with a failed job."""
    import json

    return json.dumps({"status": status, "code": code, "message": message, "details": []})


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


def text_hash(text: str, scope: int | None = None) -> str:
    """The key of a text's vector and references: per tenant (``scope``), so that no tenant can learn whether
    another already submitted a text (a cached vector answers faster than the model, and counts nothing)."""
    return sha256(text) if scope is None else sha256(f"tenant:{scope}\x00{text}")


def _text_hashes(a: Attendee, scope: int | None) -> set[str]:
    items = facet_items(a)
    return {text_hash(x, scope) for f in FACETS for x in items[f]}


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
            kwargs: dict[str, Any] = {"connect_args": {"timeout": 30, "check_same_thread": False},
                                      "hide_parameters": True}
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
        # hide_parameters: a failing statement's message (logged, raised) never carries attendee data
        engine = create_engine(self.url, pool_pre_ping=True, hide_parameters=True)
        if self.schema:
            engine = engine.execution_options(schema_translate_map={None: self.schema})
        return engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # ------------------------------------------------------------------------------------------- lifecycle
    def create_all(self) -> None:
        """Create the tables (and the schema, if one was given) when missing; add columns an older database
        lacks (:func:`service.db.upgrade`)."""
        if self.schema and self.dialect == "postgresql":
            with self.engine.begin() as c:
                c.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
        t.metadata.create_all(self.engine)
        with self.engine.begin() as c:
            t.upgrade(c, self.schema if self.dialect == "postgresql" else None)

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
        return EventRow(pk=r.pk, tenant_id=r.tenant_id, event=Event.model_validate_json(r.data, context=STORED),
                        seq=r.seq, log_floor=r.log_floor, created_at=r.created_at, updated_at=r.updated_at)

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

    def recent_events(self, n: int) -> list[EventRow]:
        """The ``n`` events (of every tenant) written most recently: what a worker warms up with."""
        q = select(t.events).order_by(t.events.c.updated_at.desc(), t.events.c.pk).limit(n)
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
            raise Gone("the event was deleted meanwhile")
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

    def change_event(self, event_pk: int, change: dict[str, Any], *, expect: int | None = None) -> None:
        """Apply ``change`` (fields of the Event) to the event as stored, under its write lock, so concurrent
        changes of different fields all hold. ``expect``: the version (``seq``) it must still be at, else
        :class:`Stale`."""
        with self.engine.begin() as c:
            seq = self._bump(c, event_pk)
            if expect is not None and seq - 1 != expect:
                raise Stale(f"the event changed meanwhile (version {seq - 1}, not {expect})")
            data = c.execute(select(t.events.c.data).where(t.events.c.pk == event_pk)).scalar_one()
            ev = Event.model_validate_json(data, context=STORED).model_copy(update=change)
            c.execute(update(t.events).where(t.events.c.pk == event_pk).values(data=ev.model_dump_json()))

    def delete_event(self, event_pk: int) -> None:
        """Erase an event with every attendee, feedback, job and no longer referenced embedding."""
        with self.engine.begin() as c:
            # a write first: it takes the write lock before any read (SQLite cannot upgrade a read under
            # concurrent writers: "database is locked"), and waits for writes to the event in flight
            self._bump(c, event_pk)
            hashes = [r[0] for r in c.execute(select(t.text_refs.c.text_hash).distinct()
                                             .where(t.text_refs.c.event_pk == event_pk))]
            for table in (t.attendees, t.feedback, t.text_refs, t.changes, t.jobs, *t.MEETING_TABLES):
                c.execute(delete(table).where(table.c.event_pk == event_pk))
            c.execute(delete(t.events).where(t.events.c.pk == event_pk))
            self._collect(c, hashes)

    # ------------------------------------------------------------------------------------------- attendees
    def upsert_attendees(self, event_pk: int, batch: Sequence[Attendee], *,
                         expect: dict[str, int] | None = None) -> tuple[int, int]:
        """Insert or replace attendees by id, all or nothing. Returns ``(created, updated)``.

        ``expect``: ``{id: version}`` of attendees that must still be at that version (their
        :meth:`get_attendee_version`), checked under the write lock: :class:`Stale` when one changed meanwhile,
        :class:`Gone` when one was deleted; nothing is written then.
        """
        return self._upsert(event_pk, batch, expect)[:2]

    def replace_attendee(self, event_pk: int, a: Attendee, version: int) -> int:
        """Compare-and-swap: replace ``a`` only if it is still at ``version``; returns its new version."""
        return self._upsert(event_pk, [a], {a.id: version})[2]

    def _upsert(self, event_pk: int, batch: Sequence[Attendee],
                expect: dict[str, int] | None) -> tuple[int, int, int]:
        if not batch:
            return 0, 0, 0
        ids = [a.id for a in batch]
        with self.engine.begin() as c:
            seq = self._bump(c, event_pk)  # the event's write lock: everything below sees the last commit
            tenant = c.execute(select(t.events.c.tenant_id).where(t.events.c.pk == event_pk)).scalar_one()
            old: dict[str, Attendee] = {}
            versions: dict[str, int] = {}
            for i in range(0, len(ids), _CHUNK):
                q = select(t.attendees.c.attendee_id, t.attendees.c.data, t.attendees.c.updated_seq).where(
                    t.attendees.c.event_pk == event_pk, t.attendees.c.attendee_id.in_(ids[i:i + _CHUNK]))
                for r in c.execute(q):
                    old[r[0]] = Attendee.model_validate_json(r[1], context=STORED)
                    versions[r[0]] = int(r[2])
            for aid, version in (expect or {}).items():
                if aid not in versions:
                    raise Gone(f"attendee {aid!r} was deleted meanwhile")
                if versions[aid] != version:
                    raise Stale(f"attendee {aid!r} changed meanwhile (version {versions[aid]}, not {version})")
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
                stale |= _text_hashes(old[a.id], tenant) - _text_hashes(a, tenant)
            hl = list(hashes.values())
            for i in range(0, len(hl), _CHUNK):
                c.execute(delete(t.text_refs).where(t.text_refs.c.event_pk == event_pk,
                                                    t.text_refs.c.id_hash.in_(hl[i:i + _CHUNK])))
            refs = [{"event_pk": event_pk, "id_hash": hashes[a.id], "text_hash": h}
                    for a in batch for h in _text_hashes(a, tenant)]
            if refs:
                c.execute(insert(t.text_refs), refs)
            c.execute(insert(t.changes), [{"event_pk": event_pk, "seq": seq, "id_hash": h} for h in hl])
            self._collect(c, stale)
            self._prune(c, event_pk, seq)
        return len(new_rows), len(changed), seq

    def get_attendee(self, event_pk: int, attendee_id: str) -> Attendee | None:
        found = self.get_attendee_version(event_pk, attendee_id)
        return None if found is None else found[0]

    def get_attendee_version(self, event_pk: int, attendee_id: str) -> tuple[Attendee, int] | None:
        """The attendee and its version (the event sequence of its last write: grows with every change)."""
        q = select(t.attendees.c.data, t.attendees.c.updated_seq).where(t.attendees.c.event_pk == event_pk,
                                                                        t.attendees.c.attendee_id == attendee_id)
        with self.engine.connect() as c:
            r = c.execute(q).first()
        return None if r is None else (Attendee.model_validate_json(r[0], context=STORED), int(r[1]))

    def list_attendee_ids(self, event_pk: int, limit: int, offset: int) -> tuple[list[str], int]:
        """A page of attendee ids (sorted) and the total count."""
        base = t.attendees.c.event_pk == event_pk
        with self.engine.connect() as c:
            total = c.execute(select(func.count()).select_from(t.attendees).where(base)).scalar_one()
            ids = [r[0] for r in c.execute(select(t.attendees.c.attendee_id).where(base)
                                           .order_by(t.attendees.c.attendee_id).limit(limit).offset(offset))]
        return ids, int(total)

    def attendee_page(self, event_pk: int, *, limit: int, after: str | None = None, offset: int = 0,
                      updated_since: datetime | None = None, since_version: int | None = None,
                      ids_only: bool = False) -> tuple[list[Any], int, bool, datetime | None]:
        """A page of attendees sorted by id: those after id ``after`` (keyset) or past ``offset``, written after
        ``updated_since`` / by a write later than event version ``since_version``. Returns ``(page, total, more,
        as_of)``: :class:`Attendee` objects (ids with ``ids_only``), how many match the filters, whether more
        follow, and the time of the latest write of any attendee of the event, read before the page (writes are
        serialised per event, so everything written after ``as_of`` is what ``updated_since=as_of`` lists)."""
        a = t.attendees.c
        cond = [a.event_pk == event_pk]
        if updated_since is not None:
            cond.append(a.updated_at > updated_since)
        if since_version is not None:
            cond.append(a.updated_seq > since_version)
        page = [a.attendee_id] if ids_only else [a.attendee_id, a.data]
        q = select(*page).where(*cond, *([a.attendee_id > after] if after is not None else []))
        q = q.order_by(a.attendee_id).limit(limit + 1).offset(offset)
        with self.engine.connect() as c:
            as_of = c.execute(select(func.max(a.updated_at)).where(a.event_pk == event_pk)).scalar()
            total = int(c.execute(select(func.count()).select_from(t.attendees).where(*cond)).scalar_one())
            rows = c.execute(q).all()
        more = len(rows) > limit
        rows = rows[:limit]
        out = [r[0] for r in rows] if ids_only else [Attendee.model_validate_json(r[1], context=STORED) for r in rows]
        return out, total, more, as_of

    def count_attendees(self, event_pk: int) -> int:
        with self.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(t.attendees)
                                 .where(t.attendees.c.event_pk == event_pk)).scalar_one())

    def all_attendees(self, event_pk: int) -> list[Attendee]:
        q = (select(t.attendees.c.data).where(t.attendees.c.event_pk == event_pk)
             .order_by(t.attendees.c.updated_seq, t.attendees.c.attendee_id))
        with self.engine.connect() as c:
            return [Attendee.model_validate_json(r[0], context=STORED) for r in c.execute(q)]

    def attendees_by_hash(self, event_pk: int, hashes: Iterable[str]) -> dict[str, Attendee]:
        """``{id_hash: Attendee}`` for those of ``hashes`` still stored."""
        hl = list(hashes)
        out: dict[str, Attendee] = {}
        with self.engine.connect() as c:
            for i in range(0, len(hl), _CHUNK):
                q = select(t.attendees.c.id_hash, t.attendees.c.data).where(
                    t.attendees.c.event_pk == event_pk, t.attendees.c.id_hash.in_(hl[i:i + _CHUNK]))
                out.update((r[0], Attendee.model_validate_json(r[1], context=STORED)) for r in c.execute(q))
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
            self._forget_in_others(c, event_pk, attendee_id, seq)
            self._forget_in_jobs(c, event_pk, attendee_id)
            self._collect(c, hashes)
            self._prune(c, event_pk, seq)
        return True

    def _forget_in_others(self, c: Connection, event_pk: int, attendee_id: str, seq: int) -> None:
        """Take an erased id out of every other attendee's ``connections`` and ``blocked`` (and log them as
        changed, so every worker's matcher forgets the tie too)."""
        needle = pydantic_core.to_json(attendee_id).decode()  # how model_dump_json wrote it
        a = t.attendees.c
        q = select(a.attendee_id, a.id_hash, a.data).where(a.event_pk == event_pk,
                                                           a.data.contains(needle, autoescape=True))
        rows = []
        for aid, ah, data in c.execute(q).all():
            person = Attendee.model_validate_json(data, context=STORED)
            if attendee_id in person.connections or attendee_id in person.blocked:
                person = person.model_copy(update={
                    "connections": [x for x in person.connections if x != attendee_id],
                    "blocked": [x for x in person.blocked if x != attendee_id]})
                rows.append({"b_id": aid, "b_data": person.model_dump_json(), "b_hash": ah})
        if rows:
            from sqlalchemy import bindparam

            c.execute(update(t.attendees).where(a.event_pk == event_pk, a.attendee_id == bindparam("b_id"))
                      .values(data=bindparam("b_data"), updated_seq=seq),
                      [{"b_id": r["b_id"], "b_data": r["b_data"]} for r in rows])
            c.execute(insert(t.changes), [{"event_pk": event_pk, "seq": seq, "id_hash": r["b_hash"]} for r in rows])

    def _forget_in_jobs(self, c: Connection, event_pk: int, attendee_id: str) -> None:
        """Finished jobs whose request or answer names an erased id go; pending ones that cover them (by name,
        or everyone) fail: their answer would name them."""
        j = t.jobs.c
        needle = pydantic_core.to_json(attendee_id).decode()
        c.execute(delete(t.jobs).where(j.event_pk == event_pk, j.status.in_(["done", "failed"]),
                                       j.request.contains(needle, autoescape=True)
                                       | j.result.contains(needle, autoescape=True)))
        gone = error_json(409, "conflict", "an attendee this job covers was erased meanwhile; submit it again")
        covers = j.request.contains(needle, autoescape=True) | j.request.contains('"attendees":null')
        c.execute(update(t.jobs).where(j.event_pk == event_pk, j.status.in_(["queued", "running"]), covers)
                  .values(status="failed", error=gone, result=None, updated_at=now()))

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

    def event_feedback(self, event_pk: int, *, limit: int, offset: int, from_id: str | None = None,
                       to_id: str | None = None, kind: str | None = None) -> tuple[list[Feedback], int]:
        """A page of the event's feedback (oldest first), optionally of one giver, receiver or kind; the total."""
        f = t.feedback.c
        cond = [f.event_pk == event_pk]
        for col, value in ((f.from_id, from_id), (f.to_id, to_id), (f.kind, kind)):
            if value is not None:
                cond.append(col == value)
        q = (select(f.from_id, f.to_id, f.kind).where(*cond)
             .order_by(f.created_at, f.from_id, f.to_id, f.kind).limit(limit).offset(offset))
        with self.engine.connect() as c:
            total = int(c.execute(select(func.count()).select_from(t.feedback).where(*cond)).scalar_one())
            return [Feedback(from_id=r[0], to_id=r[1], kind=r[2]) for r in c.execute(q)], total

    def exclusions_many(self, event_pk: int, attendee_ids: Sequence[str], *,
                        allow_repeat: bool) -> dict[str, set[str]]:
        """:meth:`exclusions` of many attendees in two queries per chunk."""
        met = [] if allow_repeat else ["met"]
        kinds = ["declined", "hidden", "blocked", *met]
        both_ways = ["blocked", "declined", *met]
        f = t.feedback.c
        out: dict[str, set[str]] = {a: set() for a in attendee_ids}
        ids = list(out)
        with self.engine.connect() as c:
            for i in range(0, len(ids), _CHUNK):
                part = ids[i:i + _CHUNK]
                for who, other in c.execute(select(f.from_id, f.to_id).where(
                        f.event_pk == event_pk, f.from_id.in_(part), f.kind.in_(kinds))):
                    out[who].add(other)
                for other, who in c.execute(select(f.from_id, f.to_id).where(
                        f.event_pk == event_pk, f.to_id.in_(part), f.kind.in_(both_ways))):
                    out[who].add(other)
        return out

    def exclusions(self, event_pk: int, attendee_id: str, *, allow_repeat: bool) -> set[str]:
        """Ids to leave out of ``attendee_id``'s list because of feedback.

        Their own declined, hidden and blocked (and met, unless repeats are allowed); anyone who blocked or
        declined them, or met them (a "no thanks" is a no for both, as in the commercial tools; a meeting happened
        for both). Hiding is personal: it works one way.
        """
        return self.exclusions_many(event_pk, [attendee_id], allow_repeat=allow_repeat)[attendee_id]


@dataclass(frozen=True)
class JobRow:
    """A background job as stored."""

    id: str
    tenant_id: int
    event_pk: int
    kind: str
    status: str
    request: str
    result: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime


class JobStore:
    """The ``mm_jobs`` rows: create, read (per tenant), heartbeat, finish, erase."""

    def __init__(self, store: Store):
        self.store = store

    def create(self, tenant_id: int, event_pk: int, kind: str, request: str) -> JobRow:
        ts = now()
        job_id = secrets.token_urlsafe(18)
        with self.store.engine.begin() as c:
            c.execute(insert(t.jobs).values(id=job_id, tenant_id=tenant_id, event_pk=event_pk, kind=kind,
                                            status="queued", request=request, created_at=ts, updated_at=ts))
        row = self.get(tenant_id, job_id)
        assert row is not None
        return row

    def get(self, tenant_id: int, job_id: str) -> JobRow | None:
        q = select(t.jobs).where(t.jobs.c.id == job_id, t.jobs.c.tenant_id == tenant_id)
        with self.store.engine.connect() as c:
            r = c.execute(q).first()
        return None if r is None else JobRow(**r._mapping)

    def set_status(self, job_id: str, status: str, *, result: str | None = None, error: str | None = None,
                   only_if_pending: bool = False) -> bool:
        """Move a job on; False when it is gone (its event was erased) or, with ``only_if_pending``, finished."""
        q = update(t.jobs).where(t.jobs.c.id == job_id)
        if only_if_pending:
            q = q.where(t.jobs.c.status.in_(["queued", "running"]))
        with self.store.engine.begin() as c:
            res = c.execute(q.values(status=status, result=result, error=error, updated_at=now()))
            return bool(res.rowcount)

    def touch(self, job_ids: Sequence[str]) -> None:
        """The heartbeat of the jobs this process is running or holds queued."""
        if job_ids:
            with self.store.engine.begin() as c:
                c.execute(update(t.jobs).where(t.jobs.c.id.in_(list(job_ids)),
                                               t.jobs.c.status.in_(["queued", "running"]))
                          .values(updated_at=now()))

    def prune(self, older_than: datetime) -> int:
        """Forget finished jobs last changed before ``older_than``."""
        with self.store.engine.begin() as c:
            res = c.execute(delete(t.jobs).where(t.jobs.c.updated_at < older_than,
                                                 t.jobs.c.status.in_(["done", "failed"])))
            return res.rowcount or 0


class DbEmbeddingCache(EmbeddingCache):
    """Embedding vectors in the ``mm_embeddings`` table, keyed by (model id, :func:`text_hash`).

    Every worker and machine on the same database shares it, so a text is encoded once per tenant (``scope``),
    ever, and a restart rebuilds the indexes from stored vectors. Tenants never share a vector: whether a text
    is cached tells nothing about what another tenant submitted.
    """

    def __init__(self, store: Store, scope: int | None = None):
        super().__init__()
        self.store = store
        self.scope = scope

    def __len__(self) -> int:
        with self.store.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(t.embeddings)).scalar_one())

    def get_many(self, model_id: str, texts: Iterable[str]) -> dict[str, np.ndarray]:
        by_hash: dict[str, list[str]] = {}
        for x in texts:
            by_hash.setdefault(text_hash(x, self.scope), []).append(x)
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
            h = text_hash(x, self.scope)
            rows[h] = {"model_id": model_id, "text_hash": h, "dim": int(v.shape[0]),
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
