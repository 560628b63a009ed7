"""Webhooks for meeting state changes and changed lists, signed as Standard Webhooks do, retried with backoff and
recorded for replay.

A platform registers an endpoint per event (``POST /v1/events/{event}/webhooks`` returns a ``whsec_...`` secret
once). Each meeting transition, and "this attendee's list changed" after a decline, is written to
``mm_webhook_deliveries`` in the same transaction as the change (an outbox: no change without its message, no
message without its change). A sender thread per worker process posts due deliveries with the headers
``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">``, signed by the ``standardwebhooks`` package); a non-2xx answer or a network error is
retried after 5 s, 30 s, 2 min, 10 min, 30 min, 2 h, 5 h and 10 h, then marked failed. Every delivery stays
listed (``GET .../webhook-deliveries``) and can be replayed with the same ``webhook-id``, so receivers dedupe.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from service.db import webhook_deliveries as deliveries
from service.db import webhook_endpoints as endpoints

#: seconds to wait before attempt 2, 3, ... (after the last one the delivery is failed)
BACKOFF = (5, 30, 120, 600, 1800, 7200, 18000, 36000)
#: how long a sender holds a delivery it is sending (another worker leaves it alone meanwhile)
LEASE_S = 60
TYPES = ("meeting.requested", "meeting.accepted", "meeting.declined", "meeting.cancelled", "meeting.expired",
         "meeting.scheduled", "meeting.held", "meeting.no_show", "attendee.list_changed")


def now() -> datetime:
    return datetime.now(UTC)


def _aware(ts: datetime | None) -> datetime | None:
    return ts.replace(tzinfo=UTC) if ts is not None and ts.tzinfo is None else ts


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, msg_id: str, ts: datetime, body: str) -> str:
    """The ``webhook-signature`` header value (Standard Webhooks, v1)."""
    from standardwebhooks import Webhook

    return Webhook(secret).sign(msg_id, ts, body)


def add_endpoint(c: Connection, event_pk: int, url: str, types: Iterable[str]) -> dict[str, Any]:
    eid = f"ep_{uuid.uuid4().hex[:20]}"
    secret = new_secret()
    t = ",".join(sorted(set(types))) or "*"
    c.execute(insert(endpoints).values(event_pk=event_pk, id=eid, url=url, secret=secret, types=t,
                                       created_at=now()))
    return {"id": eid, "url": url, "types": t.split(","), "secret": secret}


def list_endpoints(engine: Engine, event_pk: int) -> list[dict[str, Any]]:
    q = select(endpoints).where(endpoints.c.event_pk == event_pk).order_by(endpoints.c.created_at)
    with engine.connect() as c:
        return [{"id": r.id, "url": r.url, "types": r.types.split(","), "created_at": _aware(r.created_at).isoformat()}
                for r in c.execute(q)]


def delete_endpoint(c: Connection, event_pk: int, endpoint_id: str) -> bool:
    from sqlalchemy import delete

    res = c.execute(delete(endpoints).where(endpoints.c.event_pk == event_pk, endpoints.c.id == endpoint_id))
    c.execute(update(deliveries).where(deliveries.c.event_pk == event_pk, deliveries.c.endpoint_id == endpoint_id,
                                       deliveries.c.status == "pending")
              .values(status="failed", last_error="endpoint deleted", next_attempt_at=None))
    return bool(res.rowcount)


def enqueue(c: Connection, event_pk: int, event_id: str, kind: str, data: dict[str, Any]) -> int:
    """Queue a message for every endpoint of the event that wants ``kind`` (inside the caller's transaction)."""
    eps = c.execute(select(endpoints.c.id, endpoints.c.types).where(endpoints.c.event_pk == event_pk)).all()
    rows = []
    ts = now()
    for eid, types in eps:
        wanted = types.split(",")
        if "*" not in wanted and kind not in wanted:
            continue
        msg_id = f"msg_{uuid.uuid4().hex[:24]}"
        body = {"type": kind, "timestamp": ts.isoformat(), "data": {"event": event_id, **data}}
        rows.append({"id": msg_id, "event_pk": event_pk, "endpoint_id": eid, "type": kind,
                     "payload": json.dumps(body, separators=(",", ":"), sort_keys=True), "status": "pending",
                     "attempts": 0, "next_attempt_at": ts, "last_error": "", "created_at": ts})
    if rows:
        c.execute(insert(deliveries), rows)
        from flask import g, has_app_context

        if has_app_context():
            g.webhooks_queued = True  # the blueprint's after_request wakes the sender
    return len(rows)


def list_deliveries(engine: Engine, event_pk: int, status: str | None = None, limit: int = 100
                    ) -> list[dict[str, Any]]:
    q = select(deliveries).where(deliveries.c.event_pk == event_pk)
    if status:
        q = q.where(deliveries.c.status == status)
    q = q.order_by(deliveries.c.created_at.desc(), deliveries.c.id).limit(limit)
    with engine.connect() as c:
        return [_delivery_json(r) for r in c.execute(q)]


def _delivery_json(r) -> dict[str, Any]:
    def iso(x):
        x = _aware(x)
        return x.isoformat() if x is not None else None

    return {"id": r.id, "endpoint": r.endpoint_id, "type": r.type, "status": r.status, "attempts": r.attempts,
            "next_attempt_at": iso(r.next_attempt_at), "last_status": r.last_status, "last_error": r.last_error,
            "created_at": iso(r.created_at), "delivered_at": iso(r.delivered_at), "payload": json.loads(r.payload)}


def replay(c: Connection, event_pk: int, delivery_id: str) -> bool:
    """Send a recorded delivery again (same ``webhook-id``), now."""
    res = c.execute(update(deliveries).where(deliveries.c.event_pk == event_pk, deliveries.c.id == delivery_id)
                    .values(status="pending", next_attempt_at=now(), last_error=""))
    return bool(res.rowcount)


def deliver_due(engine: Engine, *, limit: int = 50, timeout: float = 5.0) -> int:
    """Send the deliveries that are due (any event); returns how many were attempted."""
    ts = now()
    q = (select(deliveries.c.id, deliveries.c.next_attempt_at)
         .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= ts)
         .order_by(deliveries.c.next_attempt_at).limit(limit))
    with engine.connect() as c:
        due = c.execute(q).all()
    done = 0
    for msg_id, when in due:
        with engine.begin() as c:  # claim it: a compare-and-set on next_attempt_at
            res = c.execute(update(deliveries).where(deliveries.c.id == msg_id, deliveries.c.status == "pending",
                                                     deliveries.c.next_attempt_at == when)
                            .values(next_attempt_at=ts + timedelta(seconds=LEASE_S)))
            if not res.rowcount:
                continue
            row = c.execute(select(deliveries, endpoints.c.url, endpoints.c.secret)
                            .join(endpoints, (endpoints.c.id == deliveries.c.endpoint_id)
                                  & (endpoints.c.event_pk == deliveries.c.event_pk))
                            .where(deliveries.c.id == msg_id)).first()
        if row is None:
            with engine.begin() as c:
                c.execute(update(deliveries).where(deliveries.c.id == msg_id)
                          .values(status="failed", last_error="endpoint deleted", next_attempt_at=None))
            continue
        status, error = _post(row.url, row.secret, msg_id, row.payload, timeout)
        attempts = row.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "last_status": status, "last_error": error}
        if status is not None and 200 <= status < 300:
            values.update(status="delivered", delivered_at=now(), next_attempt_at=None)
        elif attempts > len(BACKOFF):
            values.update(status="failed", next_attempt_at=None)
        else:
            values.update(next_attempt_at=now() + timedelta(seconds=BACKOFF[attempts - 1]))
        with engine.begin() as c:
            c.execute(update(deliveries).where(deliveries.c.id == msg_id).values(**values))
        done += 1
    return done


def _post(url: str, secret: str, msg_id: str, body: str, timeout: float) -> tuple[int | None, str]:
    ts = now().replace(microsecond=0)
    headers = {"Content-Type": "application/json", "User-Agent": "matchmaker-webhooks/1",
               "webhook-id": msg_id, "webhook-timestamp": str(int(ts.timestamp())),
               "webhook-signature": sign(secret, msg_id, ts, body)}
    req = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, ""
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"[:500]


class Sender:
    """One background thread per process that sends due deliveries (started on first use, after any fork)."""

    def __init__(self, engine: Engine, interval: float = 1.0):
        self.engine = engine
        self.interval = interval
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False

    def kick(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="matchmaker-webhooks", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        """Stop the thread (tests; a process exit stops it anyway: it is a daemon)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        idle = 0
        while idle < 120 and not self._stopping:  # stop after ~2 minutes without work; the next change restarts
            try:
                n = deliver_due(self.engine)
            except Exception:  # a database hiccup: try again later
                n = 0
            idle = 0 if n else idle + 1
            self._wake.wait(self.interval)
            self._wake.clear()
            time.sleep(0)
