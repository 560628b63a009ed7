"""Storage of the meetings resource: the setup, requests and their transitions, who is busy when, must-meet pairs
and idempotency keys, in the ``mm_meeting_*`` tables of :mod:`service.db` (SQLAlchemy Core, SQLite or PostgreSQL).

Every write that can book a slot first bumps the event's row in ``mm_meeting_setups`` (the event's meeting lock:
a write lock under SQLite, a row lock under PostgreSQL), so bookings of one event are serialised; and
``mm_meeting_busy`` has one row per person and slot, so the database itself refuses a double booking.
Rows carry the event's surrogate key ``event_pk``; :meth:`MeetingStore.delete_event` erases them.

>>> from service.storage import Store
>>> store = Store("sqlite://"); store.create_all()
>>> ms = MeetingStore(store.engine)
>>> ms.get_setup(1) is None
True
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from models.meetings import MeetingRequest, MeetingRequests, MeetingSetup, MustMeet
from service import webhooks
from service.db import events
from service.db import (
    meeting_busy as busy,
)
from service.db import (
    meeting_idempotency as idempotency,
)
from service.db import (
    meeting_must_meet as must_meet,
)
from service.db import (
    meeting_requests as requests,
)
from service.db import (
    meeting_setups as setups,
)
from service.db import (
    meeting_transitions as transitions,
)

#: states whose meeting holds a slot
SLOTTED = ("scheduled", "held", "no_show")


def now() -> datetime:
    return datetime.now(UTC)


def aware(ts: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone: they were stored in UTC."""
    if ts is not None and ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts


@dataclass
class StoredRequest:
    """A request row."""

    id: str
    requester: str
    recipient: str
    kind: str
    note: str
    state: str
    slot: str | None
    location: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None

    def model(self) -> MeetingRequest:
        return MeetingRequest(id=self.id, requester=self.requester, recipient=self.recipient, note=self.note,
                              state=self.state, slot=self.slot if self.state in SLOTTED else None,
                              location=self.location if self.state in SLOTTED else None,
                              created_at=self.created_at, expires_at=self.expires_at)

    def to_json(self) -> dict[str, Any]:
        def iso(x):
            return x.astimezone(UTC).isoformat() if x is not None else None

        return {"id": self.id, "requester": self.requester, "recipient": self.recipient, "kind": self.kind,
                "note": self.note, "state": self.state, "slot": self.slot, "location": self.location,
                "created_at": iso(self.created_at), "updated_at": iso(self.updated_at),
                "expires_at": iso(self.expires_at)}


def _row(r) -> StoredRequest:
    return StoredRequest(id=r.id, requester=r.requester, recipient=r.recipient, kind=r.kind, note=r.note,
                         state=r.state, slot=r.slot, location=r.location, created_at=aware(r.created_at),
                         updated_at=aware(r.updated_at), expires_at=aware(r.expires_at))


class MeetingStore:
    """Database access of the meetings resource (the same engine as :class:`service.storage.Store`)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # ----------------------------------------------------------------------------------------- lock, setup
    def lock(self, c: Connection, event_pk: int) -> int:
        """Take the event's meeting lock inside transaction ``c`` (the first statement: a write); returns the
        new version."""
        res = c.execute(update(setups).where(setups.c.event_pk == event_pk)
                        .values(version=setups.c.version + 1, updated_at=now()))
        if not res.rowcount:
            try:
                with c.begin_nested():
                    c.execute(insert(setups).values(event_pk=event_pk, data=None, version=1, updated_at=now()))
            except IntegrityError:
                c.execute(update(setups).where(setups.c.event_pk == event_pk)
                          .values(version=setups.c.version + 1, updated_at=now()))
        return int(c.execute(select(setups.c.version).where(setups.c.event_pk == event_pk)).scalar_one())

    def version(self, event_pk: int) -> int:
        with self.engine.connect() as c:
            v = c.execute(select(setups.c.version).where(setups.c.event_pk == event_pk)).scalar()
        return int(v or 0)

    def get_setup(self, event_pk: int, c: Connection | None = None) -> MeetingSetup | None:
        q = select(setups.c.data).where(setups.c.event_pk == event_pk)
        if c is None:
            with self.engine.connect() as cc:
                data = cc.execute(q).scalar()
        else:
            data = c.execute(q).scalar()
        return None if data is None else MeetingSetup.model_validate_json(data)

    def put_setup(self, c: Connection, event_pk: int, setup: MeetingSetup) -> None:
        c.execute(update(setups).where(setups.c.event_pk == event_pk).values(data=setup.model_dump_json()))

    # ------------------------------------------------------------------------------------------- requests
    def get_request(self, event_pk: int, request_id: str, c: Connection | None = None) -> StoredRequest | None:
        q = select(requests).where(requests.c.event_pk == event_pk, requests.c.id == request_id)
        if c is None:
            with self.engine.connect() as cc:
                r = cc.execute(q).first()
        else:
            r = c.execute(q).first()
        return None if r is None else _row(r)

    def list_requests(self, event_pk: int, *, attendee: str | None = None, state: str | None = None,
                      c: Connection | None = None) -> list[StoredRequest]:
        q = select(requests).where(requests.c.event_pk == event_pk)
        if attendee is not None:
            q = q.where((requests.c.requester == attendee) | (requests.c.recipient == attendee))
        if state is not None:
            q = q.where(requests.c.state == state)
        q = q.order_by(requests.c.created_at, requests.c.id)
        if c is None:
            with self.engine.connect() as cc:
                return [_row(r) for r in cc.execute(q)]
        return [_row(r) for r in c.execute(q)]

    def between(self, c: Connection, event_pk: int, a: str, b: str) -> list[StoredRequest]:
        rq = requests.c
        q = select(requests).where(rq.event_pk == event_pk, ((rq.requester == a) & (rq.recipient == b))
                                   | ((rq.requester == b) & (rq.recipient == a)))
        return [_row(r) for r in c.execute(q)]

    def pending_outgoing(self, c: Connection, event_pk: int, attendee: str) -> int:
        rq = requests.c
        return len(c.execute(select(rq.id).where(rq.event_pk == event_pk, rq.requester == attendee,
                                                 rq.state == "requested")).all())

    def insert_request(self, c: Connection, event_pk: int, *, requester: str, recipient: str, note: str = "",
                       kind: str = "request", state: str = "requested", slot: str | None = None,
                       location: str | None = None, expires_at: datetime | None = None, actor: str,
                       detail: str = "", request_id: str | None = None) -> StoredRequest:
        ts = now()
        rid = request_id or f"mr_{uuid.uuid4().hex[:20]}"
        c.execute(insert(requests).values(event_pk=event_pk, id=rid, requester=requester, recipient=recipient,
                                          kind=kind, note=note, state=state, slot=slot, location=location,
                                          created_at=ts, updated_at=ts, expires_at=expires_at))
        self.record(c, event_pk, rid, None, state, actor, detail)
        if state in SLOTTED and slot is not None:
            self.occupy(c, event_pk, rid, (requester, recipient), slot)
        return self.get_request(event_pk, rid, c)

    def set_state(self, c: Connection, event_pk: int, req: StoredRequest, to: str, actor: str, detail: str = "",
                  *, slot: str | None = None, location: str | None = None) -> bool:
        """Compare-and-set: move ``req`` from the state it was read in to ``to``; False when it changed since."""
        values: dict[str, Any] = {"state": to, "updated_at": now()}
        if to in SLOTTED:
            values.update(slot=slot if slot is not None else req.slot,
                          location=location if location is not None else req.location)
        else:
            values.update(slot=None, location=None)
        res = c.execute(update(requests).where(requests.c.event_pk == event_pk, requests.c.id == req.id,
                                               requests.c.state == req.state).values(**values))
        if not res.rowcount:
            return False
        was = req.slot if req.state in SLOTTED else None
        new = values["slot"] if to in SLOTTED else None
        if was != new:
            if was is not None:
                self.free(c, event_pk, req.id)
            if new is not None:
                self.occupy(c, event_pk, req.id, (req.requester, req.recipient), new)
        self.record(c, event_pk, req.id, req.state, to, actor, detail)
        return True

    def record(self, c: Connection, event_pk: int, request_id: str, from_state: str | None, to_state: str,
               actor: str, detail: str = "") -> None:
        """Record a transition and queue its webhooks (same transaction)."""
        c.execute(insert(transitions).values(event_pk=event_pk, request_id=request_id, from_state=from_state,
                                             to_state=to_state, actor=actor, detail=detail, at=now()))
        if not c.execute(select(webhooks.endpoints.c.id).where(webhooks.endpoints.c.event_pk == event_pk)
                         .limit(1)).first():
            return
        event_id = c.execute(select(events.c.event_id).where(events.c.pk == event_pk)).scalar() or ""
        req = self.get_request(event_pk, request_id, c)
        data = {"request": req.to_json() if req else {"id": request_id}, "from": from_state, "to": to_state,
                "actor": actor, "detail": detail}
        webhooks.enqueue(c, event_pk, event_id, f"meeting.{to_state}", data)
        if to_state == "declined" and req is not None:
            for who, other in ((req.requester, req.recipient), (req.recipient, req.requester)):
                webhooks.enqueue(c, event_pk, event_id, "attendee.list_changed",
                                 {"attendee": who, "why": f"declined pair with {other} leaves the list"})

    def history(self, event_pk: int, request_id: str) -> list[dict[str, Any]]:
        tc = transitions.c
        q = select(transitions).where(tc.event_pk == event_pk, tc.request_id == request_id).order_by(tc.id)
        with self.engine.connect() as c:
            return [{"from": r.from_state, "to": r.to_state, "actor": r.actor, "detail": r.detail,
                     "at": aware(r.at).isoformat()} for r in c.execute(q)]

    def occupy(self, c: Connection, event_pk: int, request_id: str, people: Iterable[str], slot: str) -> None:
        """Mark people busy in a slot; the primary key refuses a double booking (IntegrityError)."""
        c.execute(insert(busy), [{"event_pk": event_pk, "attendee_id": p, "slot": slot, "request_id": request_id}
                                 for p in people])

    def free(self, c: Connection, event_pk: int, request_id: str) -> None:
        c.execute(delete(busy).where(busy.c.event_pk == event_pk, busy.c.request_id == request_id))

    def expire_due(self, event_pk: int) -> int:
        """Pending requests past their expiry become ``expired`` (recorded as the system's doing)."""
        ts = now()
        rq = requests.c
        with self.engine.connect() as c:
            due = c.execute(select(rq.id).where(rq.event_pk == event_pk, rq.state == "requested",
                                                rq.expires_at.is_not(None), rq.expires_at < ts)).all()
        if not due:
            return 0
        n = 0
        with self.engine.begin() as c:
            self.lock(c, event_pk)
            for (rid,) in due:
                res = c.execute(update(requests).where(rq.event_pk == event_pk, rq.id == rid,
                                                       rq.state == "requested")
                                .values(state="expired", updated_at=ts))
                if res.rowcount:
                    self.record(c, event_pk, rid, "requested", "expired", "system", "not answered in time")
                    n += 1
        return n

    def documents(self, event_pk: int, c: Connection | None = None) -> MeetingRequests:
        """Every request and must-meet pair as the scheduler's document."""
        reqs = [r.model() for r in self.list_requests(event_pk, c=c)]
        q = select(must_meet).where(must_meet.c.event_pk == event_pk).order_by(must_meet.c.a, must_meet.c.b)
        if c is None:
            with self.engine.connect() as cc:
                mm = [MustMeet(a=r.a, b=r.b, note=r.note) for r in cc.execute(q)]
        else:
            mm = [MustMeet(a=r.a, b=r.b, note=r.note) for r in c.execute(q)]
        return MeetingRequests(requests=reqs, must_meet=mm)

    def add_must_meet(self, c: Connection, event_pk: int, a: str, b: str, note: str) -> bool:
        x, y = sorted((a, b))
        try:
            with c.begin_nested():
                c.execute(insert(must_meet).values(event_pk=event_pk, a=x, b=y, note=note, created_at=now()))
        except IntegrityError:
            return False
        return True

    def declined_pairs(self, event_pk: int) -> list[tuple[str, str]]:
        """Pairs in which one declined the other: a no for both (the engine's lists leave them out)."""
        rq = requests.c
        q = select(rq.requester, rq.recipient).where(rq.event_pk == event_pk, rq.state == "declined")
        with self.engine.connect() as c:
            return sorted({tuple(sorted((r[0], r[1]))) for r in c.execute(q)})

    def delete_event(self, event_pk: int) -> None:
        """Erase every meeting row of an event."""
        with self.engine.begin() as c:
            for table in (setups, requests, busy, transitions, must_meet):
                c.execute(delete(table).where(table.c.event_pk == event_pk))

    # ---------------------------------------------------------------------------------------- idempotency
    def claim_key(self, tenant_id: int, key: str, fingerprint: str) -> dict[str, Any] | None:
        """Claim an idempotency key; None when this request is the first to use it, else the stored row."""
        try:
            with self.engine.begin() as c:
                c.execute(insert(idempotency).values(tenant_id=tenant_id, key=key, fingerprint=fingerprint,
                                                     status=None, body=None, location=None, created_at=now()))
            return None
        except IntegrityError:
            with self.engine.connect() as c:
                r = c.execute(select(idempotency).where(idempotency.c.tenant_id == tenant_id,
                                                        idempotency.c.key == key)).first()
            if r is None:  # released meanwhile: try once more
                return self.claim_key(tenant_id, key, fingerprint)
            return {"fingerprint": r.fingerprint, "status": r.status, "body": r.body, "location": r.location}

    def finish_key(self, tenant_id: int, key: str, status: int, body: str, location: str | None) -> None:
        with self.engine.begin() as c:
            c.execute(update(idempotency).where(idempotency.c.tenant_id == tenant_id, idempotency.c.key == key)
                      .values(status=status, body=body, location=location))

    def release_key(self, tenant_id: int, key: str) -> None:
        with self.engine.begin() as c:
            c.execute(delete(idempotency).where(idempotency.c.tenant_id == tenant_id, idempotency.c.key == key))


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same request" for an idempotency key."""
    h = hashlib.sha256()
    h.update(method.encode())
    h.update(b"\x00")
    h.update(path.encode())
    h.update(b"\x00")
    try:
        h.update(json.dumps(json.loads(body or b"null"), sort_keys=True).encode())
    except ValueError:
        h.update(body)
    return h.hexdigest()
