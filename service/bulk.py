"""Large attendee upserts as background jobs: an upsert whose batch holds more than ``UPSERT_SYNC_TEXTS`` texts
not encoded yet (or any upsert sent with ``Prefer: respond-async``) is validated at once (a bad batch still
answers 400/422 and writes nothing), then answers ``202 Accepted`` with ``Location: /v1/jobs/{id}``; the job
encodes and writes it, all or nothing, and its answer is the synchronous one (``upserted``, ``created``,
``updated``, ``version``). The machinery is the table plans' (:mod:`service.background`, ``mm_jobs``).

Encoding new texts is what makes an upsert long (storing is under 1 ms per attendee), so the threshold counts
texts the embedding table does not hold: re-sending unchanged attendees stays synchronous. Measured with
``python -m scripts.bench_upsert --sizes 100,250,500,1000`` (real model, bf16, SQLite, a 2-core machine shared with
other work): 606 new texts took 20.1 s, 1,249 33.3 s, 2,369 62.4 s, 4,091 (1,000 attendees) 122.8 s, past the
120 s worker timeout; re-sending each batch 0.14-0.66 s. The default, 1,000 texts (about 250 such attendees), keeps
a synchronous answer near 30 s on that loaded machine (and about 7 s at the 150 texts/s of a quiet one), well
inside the worker timeout.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from flask import Response, current_app, g, has_app_context, request

from matcher.profile import FACETS, facet_items
from models import Attendee
from service import webhooks
from service.background import accepted
from service.errors import ApiError
from service.http import services
from service.ingest import ingest
from service.storage import EventRow, Gone


def new_texts(encoder, batch: Sequence[Attendee]) -> int:
    """How many of the batch's distinct texts the encoder's cache does not hold (what encoding will cost)."""
    texts = list(dict.fromkeys(x for a in batch for it in (facet_items(a),) for f in FACETS for x in it[f]))
    if not texts:
        return 0
    return len(texts) - len(encoder.cache.get_many(encoder.model_id, texts))


def wants_job(encoder, batch: Sequence[Attendee]) -> bool:
    """``Prefer: respond-async``, or more than ``UPSERT_SYNC_TEXTS`` texts to encode."""
    prefer = {p.strip().lower() for p in request.headers.get("Prefer", "").split(",")}
    if "respond-async" in prefer:
        return True
    return new_texts(encoder, batch) > int(current_app.config["UPSERT_SYNC_TEXTS"])


def lists_changed(store, event_pk: int, event_id: str, batch: list[Attendee]) -> None:
    """Tell the event's ``attendee.list_changed`` webhooks that these people's lists changed (their profiles did;
    other people's lists may move too, which a platform learns from the batch of ids). One message per batch."""
    with store.engine.begin() as c:
        queued = webhooks.enqueue(c, event_pk, event_id, "attendee.list_changed",
                                  {"attendees": [a.id for a in batch], "why": "profiles added or updated"})
    if queued and has_app_context() and current_app.config.get("WEBHOOK_SENDER", True):
        sender = current_app.extensions.get("webhook_sender")
        if sender is not None:
            sender.kick()


def upsert_or_job(row: EventRow, event_id: str, batch: list[Attendee]) -> dict | Response:
    """Upsert ``batch`` now (the answer's body) or as a job (the 202 answer)."""
    sv = services()
    store, encoder = sv.store, sv.registry.encoder_for(row.tenant_id)
    if not wants_job(encoder, batch):
        created, updated = ingest(store, encoder, row.pk, batch)
        lists_changed(store, row.pk, event_id, batch)
        fresh = store.events_by_pk([row.pk]).get(row.pk)
        return {"upserted": len(batch), "created": created, "updated": updated,
                "version": fresh.seq if fresh else row.seq}

    def work() -> str:  # on a job thread
        fresh = store.events_by_pk([row.pk]).get(row.pk)
        if fresh is None or fresh.created_at != row.created_at:
            raise ApiError(404, f"event {event_id!r} was deleted meanwhile")
        try:
            created, updated = ingest(store, encoder, row.pk, batch)
        except Gone:
            raise ApiError(404, f"event {event_id!r} was deleted meanwhile") from None
        lists_changed(store, row.pk, event_id, batch)
        done = store.events_by_pk([row.pk]).get(row.pk)
        return json.dumps({"upserted": len(batch), "created": created, "updated": updated,
                           "version": done.seq if done else fresh.seq})

    # the job row records the count only: no attendee data stays in mm_jobs once it is done
    job = sv.jobs.submit(g.tenant_id, row.pk, "attendee-upsert", json.dumps({"attendees": len(batch)}), work)
    return accepted(job, event_id)
