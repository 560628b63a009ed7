"""The database schema (SQLAlchemy Core): tenants, keys, events, attendees, feedback, change log, embeddings,
background jobs.

Every row of an event's data carries the event's surrogate key ``event_pk``; deleting an event or an attendee
deletes their rows explicitly (SQLite does not enforce foreign keys by default), in one transaction.

- ``changes`` is the per-event change log: each write bumps ``events.seq`` and records which attendees it
  touched (by the sha256 of their id, so an erased person leaves no readable trace). Workers replay it to keep
  their in-memory matchers current.
- ``text_refs`` records which attendee uses which text (by hash), so that erasure can drop embeddings no longer
  referenced by anyone.
- ``embeddings`` stores vectors keyed by (model id, sha256 of the text); the text itself is not stored.
- ``attendees.updated_at`` is when the row was last written (set by every insert and update of the row, through
  the column's default and onupdate); databases made before it existed get it from :func:`upgrade`.
- ``jobs`` holds long requests (large table plans) run in the background, their answer or error; they go with
  their event, and with any attendee they name when that attendee is erased.
"""

from __future__ import annotations

from datetime import UTC, datetime

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
    inspect,
    text,
    update,
)
from sqlalchemy.engine import Connection

metadata = MetaData()


def _now() -> datetime:
    return datetime.now(UTC)


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
    # when the row was last written (GET .../attendees?updated_since=); every insert and update sets it
    Column("updated_at", DateTime(timezone=True), nullable=True, default=_now, onupdate=_now),
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

jobs = Table(
    "mm_jobs", metadata,
    Column("id", String(64), primary_key=True),  # random, unguessable
    Column("tenant_id", Integer, nullable=False),
    Column("event_pk", Integer, nullable=False),
    Column("kind", String(32), nullable=False),  # table-plan
    Column("status", String(16), nullable=False),  # queued | running | done | failed
    Column("request", Text, nullable=False),  # the request body, as validated
    Column("result", Text, nullable=True),  # the answer's JSON when done
    Column("error", Text, nullable=True),  # the error document's JSON when failed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),  # the runner's heartbeat while pending
    Index("mm_jobs_event", "event_pk"),
)


#: Columns added after the first release: (table, column, SQL type per dialect). :func:`upgrade` adds the missing.
ADDED_COLUMNS = [
    (attendees, "updated_at", {"postgresql": "TIMESTAMP WITH TIME ZONE", "sqlite": "DATETIME"}),
]


def upgrade(c: Connection, schema: str | None = None) -> list[str]:
    """Add the columns of :data:`ADDED_COLUMNS` that an older database lacks (nullable, then filled: an
    attendee stored before ``updated_at`` existed reads as written at the upgrade). Returns what was added."""
    added = []
    insp = inspect(c)
    dialect = c.dialect.name
    for table, column, types in ADDED_COLUMNS:
        if not insp.has_table(table.name, schema=schema):
            continue
        if column in {col["name"] for col in insp.get_columns(table.name, schema=schema)}:
            continue
        name = f'"{schema}"."{table.name}"' if schema and dialect == "postgresql" else f'"{table.name}"'
        exists = "IF NOT EXISTS " if dialect == "postgresql" else ""
        c.execute(text(f'ALTER TABLE {name} ADD COLUMN {exists}"{column}" {types.get(dialect, "TIMESTAMP")}'))
        c.execute(update(table).where(table.c[column].is_(None)).values({column: _now()}))
        added.append(f"{table.name}.{column}")
    return added
