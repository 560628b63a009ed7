"""Writing attendees: encode their texts (stored in the embedding table), then write them all or nothing.

Shared by the API and ``matchmaker serve --demo``.
"""

from __future__ import annotations

from collections.abc import Sequence

from matcher import CachedEncoder
from matcher.profile import FACETS, facet_items
from models import Attendee, EventFile
from service.storage import Conflict, DbEmbeddingCache, Store


def encode_texts(encoder: CachedEncoder, batch: Sequence[Attendee]) -> None:
    """Encode (and store the vectors of) the batch's texts not encoded yet."""
    texts = list(dict.fromkeys(x for a in batch for it in (facet_items(a),) for f in FACETS for x in it[f]))
    if texts:
        encoder.encode(texts)


def ingest(store: Store, encoder: CachedEncoder, event_pk: int, batch: Sequence[Attendee]) -> tuple[int, int]:
    """Encode what is new, then upsert. Returns ``(created, updated)``.

    Vectors are stored before the attendee rows, so any worker that sees the rows finds their vectors.
    """
    encode_texts(encoder, batch)
    return store.upsert_attendees(event_pk, batch)


def load_event_file(store: Store, encoder: CachedEncoder, tenant: str, ef: EventFile,
                    chunk: int = 1000) -> tuple[int, int]:
    """Create (or update) ``ef``'s event for ``tenant`` and upsert its attendees. Returns ``(event_pk, n)``."""
    tid = store.tenant_id(tenant, create=True)
    if isinstance(encoder.cache, DbEmbeddingCache) and encoder.cache.scope != tid:
        encoder = CachedEncoder(encoder.encoder, DbEmbeddingCache(store, scope=tid))  # the tenant's own cache
    try:
        row = store.create_event(tid, ef.event)
    except Conflict:
        row = store.get_event(tid, ef.event.id)
        store.update_event(row.pk, ef.event)
    for i in range(0, len(ef.attendees), chunk):
        ingest(store, encoder, row.pk, ef.attendees[i:i + chunk])
    return row.pk, len(ef.attendees)
