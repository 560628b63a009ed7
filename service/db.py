"""The database schema (SQLAlchemy Core): tenants, keys, events, attendees, feedback, change log, embeddings.

Every row of an event's data carries the event's surrogate key ``event_pk``; deleting an event or an attendee
deletes their rows explicitly (SQLite does not enforce foreign keys by default), in one transaction.

- ``changes`` is the per-event change log: each write bumps ``events.seq`` and records which attendees it
  touched (by the sha256 of their id, so an erased person leaves no readable trace). Workers replay it to keep
  their in-memory matchers current.
- ``text_refs`` records which attendee uses which text (by hash), so that erasure can drop embeddings no longer
  referenced by anyone.
- ``embeddings`` stores vectors keyed by (model id, sha256 of the text); the text itself is not stored.
- ``meeting_*``: the meetings resource (setup, requests, transitions, who is busy when, must-meet pairs,
  idempotency keys), read and written by :mod:`service.meetings_store`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

tenants = Table(
    "mm_tenants", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(
    "mm_api_keys", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", Integer, ForeignKey("mm_tenants.id"), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("label", String(200), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

events = Table(
    "mm_events", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", Integer, ForeignKey("mm_tenants.id"), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("data", Text, nullable=False),  # the Event as JSON (id, name, policy)
    Column("seq", BigInteger, nullable=False, default=0),
    Column("log_floor", BigInteger, nullable=False, default=0),  # change-log entries at or below were pruned
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "event_id", name="mm_events_tenant_event"),
    sqlite_autoincrement=True,  # never reuse the key of a deleted event (workers key their matchers by it)
)

attendees = Table(
    "mm_attendees", metadata,
    Column("event_pk", Integer, ForeignKey("mm_events.pk"), primary_key=True),
    Column("attendee_id", String(200), primary_key=True),
    Column("id_hash", String(64), nullable=False),
    Column("data", Text, nullable=False),  # the Attendee as JSON
    Column("updated_seq", BigInteger, nullable=False),
    Index("mm_attendees_hash", "event_pk", "id_hash"),
)

changes = Table(
    "mm_changes", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_pk", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("id_hash", String(64), nullable=True),  # None: the event itself (name, policy) changed
    Index("mm_changes_event_seq", "event_pk", "seq"),
)

feedback = Table(
    "mm_feedback", metadata,
    Column("event_pk", Integer, ForeignKey("mm_events.pk"), primary_key=True),
    Column("from_id", String(200), primary_key=True),
    Column("to_id", String(200), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("mm_feedback_to", "event_pk", "to_id"),
)

text_refs = Table(
    "mm_text_refs", metadata,
    Column("event_pk", Integer, primary_key=True),
    Column("id_hash", String(64), primary_key=True),
    Column("text_hash", String(64), primary_key=True),
    Index("mm_text_refs_text", "text_hash"),
)

embeddings = Table(
    "mm_embeddings", metadata,
    Column("model_id", String(200), primary_key=True),
    Column("text_hash", String(64), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float32, little-endian
)

# ------------------------------------------------------------------------------------------------ meetings
# (service.meetings_store reads and writes these; rows carry the event's event_pk, without a foreign key, as
# changes does, so that deleting an event or an attendee can erase them in the same transaction)
meeting_setups = Table(
    "mm_meeting_setups", metadata,
    Column("event_pk", Integer, primary_key=True),
    Column("data", Text, nullable=True),  # the MeetingSetup as JSON; NULL: none yet (the row is still the lock)
    Column("version", BigInteger, nullable=False, default=0),  # bumped by every meeting write of the event
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

meeting_requests = Table(
    "mm_meeting_requests", metadata,
    Column("event_pk", Integer, primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("requester", String(200), nullable=False),
    Column("recipient", String(200), nullable=False),
    Column("kind", String(16), nullable=False, default="request"),  # request | must_meet | fill
    Column("note", Text, nullable=False, default=""),
    Column("state", String(16), nullable=False),
    Column("slot", String(100), nullable=True),
    Column("location", String(100), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Index("mm_meeting_requests_requester", "event_pk", "requester"),
    Index("mm_meeting_requests_recipient", "event_pk", "recipient"),
)

meeting_busy = Table(
    "mm_meeting_busy", metadata,
    Column("event_pk", Integer, primary_key=True),
    Column("attendee_id", String(200), primary_key=True),
    Column("slot", String(100), primary_key=True),
    Column("request_id", String(64), nullable=False),
)

meeting_transitions = Table(
    "mm_meeting_transitions", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_pk", Integer, nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("actor", String(220), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("mm_meeting_transitions_request", "event_pk", "request_id"),
)

meeting_must_meet = Table(
    "mm_meeting_must_meet", metadata,
    Column("event_pk", Integer, primary_key=True),
    Column("a", String(200), primary_key=True),
    Column("b", String(200), primary_key=True),
    Column("note", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

meeting_idempotency = Table(
    "mm_idempotency_keys", metadata,
    Column("tenant_id", Integer, primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=True),  # NULL: the first request is still running
    Column("body", Text, nullable=True),
    Column("location", String(500), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: every meetings table keyed by event_pk (erased with the event)
MEETING_TABLES = (meeting_setups, meeting_requests, meeting_busy, meeting_transitions, meeting_must_meet)


def erase_meetings_of(c, event_pk: int, attendee_id: str) -> None:
    """Erase an attendee's meeting rows (their requests either way, with transitions and bookings; their
    must-meet pairs) inside the caller's transaction. Availability, limits and quotas naming them stay in the
    setup document until it is next written, and are ignored by every run (they match no attendee)."""
    from sqlalchemy import delete, or_, select

    r = meeting_requests.c
    mine = or_(r.requester == attendee_id, r.recipient == attendee_id)
    ids = [x[0] for x in c.execute(select(r.id).where(r.event_pk == event_pk, mine))]
    for k in range(0, len(ids), 500):
        part = ids[k:k + 500]
        c.execute(delete(meeting_transitions).where(meeting_transitions.c.event_pk == event_pk,
                                                    meeting_transitions.c.request_id.in_(part)))
        c.execute(delete(meeting_busy).where(meeting_busy.c.event_pk == event_pk,
                                             meeting_busy.c.request_id.in_(part)))
    c.execute(delete(meeting_requests).where(r.event_pk == event_pk, mine))
    m = meeting_must_meet.c
    c.execute(delete(meeting_must_meet).where(m.event_pk == event_pk, or_(m.a == attendee_id, m.b == attendee_id)))


webhook_endpoints = Table(
    "mm_webhook_endpoints", metadata,
    Column("event_pk", Integer, primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("url", Text, nullable=False),
    Column("secret", String(100), nullable=False),  # whsec_<base64>: the platform verifies signatures with it
    Column("types", Text, nullable=False, default="*"),  # comma-separated event types, or *
    Column("created_at", DateTime(timezone=True), nullable=False),
)

webhook_deliveries = Table(
    "mm_webhook_deliveries", metadata,
    Column("id", String(40), primary_key=True),  # the webhook-id header (the same on every retry and replay)
    Column("event_pk", Integer, nullable=False),
    Column("endpoint_id", String(40), nullable=False),
    Column("type", String(60), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Index("mm_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("mm_webhook_deliveries_event", "event_pk", "created_at"),
)

MEETING_TABLES = (*MEETING_TABLES, webhook_endpoints, webhook_deliveries)
