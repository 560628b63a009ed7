"""The JSON API under ``/v1``: events, attendees, matches, feedback (table plans: :mod:`service.tableplans`;
listing attendees, batch lists and the event's feedback: :mod:`service.exports`).

Every route needs an API key (:mod:`service.auth`); a tenant sees only its own events, and another tenant's
event answers 404 exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, request

from models import Attendee, Event, Feedback
from service.bulk import upsert_or_job
from service.errors import ApiError
from service.http import (
    api_blueprint,
    attendee_404,
    check_ids,
    created,
    event_or_404,
    iso,
    json_type,
    precondition,
    query_int,
    read_json,
    read_object,
    services,
    validate,
    with_etag,
)
from service.ingest import encode_texts
from service.ingest import ingest as store_ingest
from service.schemas import AttendeeBatch, EventUpdate
from service.storage import Conflict, EventRow, Gone, Stale
from service.uploads import spreadsheet_batch

bp = api_blueprint("v1", __name__)

#: The most matches one page may reach (offset + limit).
MAX_RANK = 500
MAX_PAGE = 100


def event_json(row: EventRow, count: int | None = None) -> dict[str, Any]:
    store = services().store
    return {"id": row.event.id, "name": row.event.name, "policy": row.event.policy.model_dump(mode="json"),
            "attendee_count": store.count_attendees(row.pk) if count is None else count,
            "version": row.seq, "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def ingest(row: EventRow, batch: list[Attendee]) -> tuple[int, int]:
    """Encode the batch's texts (stored in the embedding table) and write the attendees, all or nothing."""
    sv = services()
    return store_ingest(sv.store, sv.registry.encoder_for(row.tenant_id), row.pk, batch)


# --------------------------------------------------------------------------------------------------- events
@bp.post("/events")
def create_event():
    ev = validate(Event, read_object())
    check_ids([("id", ev.id)])
    try:
        row = services().store.create_event(g.tenant_id, ev)
    except Conflict as exc:
        raise ApiError(409, f"{exc}; change it with PATCH /v1/events/{ev.id}", code="conflict") from None
    return created(event_json(row, 0), f"/v1/events/{ev.id}")


@bp.get("/events")
def list_events():
    return {"events": [event_json(r) for r in services().store.list_events(g.tenant_id)]}


@bp.get("/events/<event_id>")
def get_event(event_id: str):
    row = event_or_404(event_id)
    return with_etag(event_json(row), row.seq)


@bp.patch("/events/<event_id>")
def update_event(event_id: str):
    row = event_or_404(event_id)
    change = validate(EventUpdate, read_object())
    precondition(row.seq, f"event {event_id!r}")
    fields = {k: v for k, v in (("name", change.name), ("policy", change.policy)) if v is not None}
    try:  # merged with the stored event under its write lock: concurrent changes of other fields hold
        specific = request.if_match and not request.if_match.star_tag
        services().store.change_event(row.pk, fields, expect=row.seq if specific else None)
    except Stale:
        precondition(-1, f"event {event_id!r}")  # changed between the read above and the write
    fresh = event_or_404(event_id)
    return with_etag(event_json(fresh), fresh.seq)


@bp.delete("/events/<event_id>")
def delete_event(event_id: str):
    row = event_or_404(event_id)
    sv = services()
    sv.store.delete_event(row.pk)
    sv.registry.drop(row.pk)
    return Response(status=204)


# ------------------------------------------------------------------------------------------------ attendees
@bp.post("/events/<event_id>/attendees")
def upsert_attendees(event_id: str):
    row = event_or_404(event_id)
    limit = current_app.config["MAX_BATCH"]
    batch = spreadsheet_batch()  # text/csv or XLSX (service/uploads.py); None for JSON
    if batch is not None:
        data = {"attendees": batch}
    else:
        data = read_json()
        if isinstance(data, list):
            data = {"attendees": data}
        if not isinstance(data, dict):
            raise ApiError(400, f"request body must be {{\"attendees\": [...]}} or an array, got {json_type(data)}",
                           code="validation_error")
    items = data.get("attendees")
    if isinstance(items, list) and len(items) > limit:
        msg = f"at most {limit} attendees per request; got {len(items)} (split the batch)"
        raise ApiError(400, msg, code="validation_error", details=[{"field": "attendees", "message": msg}])
    if batch is None:
        batch = validate(AttendeeBatch, data).attendees
    check_ids((f"attendees[{i}].id", a.id) for i, a in enumerate(batch))
    return upsert_or_job(row, event_id, batch)  # many new texts: a background job (service/bulk.py)


@bp.get("/events/<event_id>/attendees/<attendee_id>")
def get_attendee(event_id: str, attendee_id: str):
    row = event_or_404(event_id)
    found = services().store.get_attendee_version(row.pk, attendee_id)
    if found is None:
        raise attendee_404(event_id, attendee_id)
    return with_etag(found[0].model_dump(mode="json"), found[1])


#: Compare-and-swap rounds of a PATCH without If-Match before it answers 409.
PATCH_ROUNDS = 20


@bp.patch("/events/<event_id>/attendees/<attendee_id>")
def patch_attendee(event_id: str, attendee_id: str):
    """Read, merge, write with compare-and-swap on the attendee's version: a write that lands between the read
    and the write makes this one start over (``If-Match``: answer 412 instead), so no field is ever lost."""
    row = event_or_404(event_id)
    change = read_object()
    sv = services()
    what = f"attendee {attendee_id!r}"
    for _ in range(PATCH_ROUNDS):
        found = sv.store.get_attendee_version(row.pk, attendee_id)
        if found is None:
            raise attendee_404(event_id, attendee_id)
        a, version = found
        precondition(version, what)
        if "id" in change and change["id"] != attendee_id:
            msg = "the id cannot change; delete the attendee and create a new one"
            raise ApiError(400, f"invalid input: id: {msg}", code="validation_error",
                           details=[{"field": "id", "message": msg}])
        merged = a.model_dump(mode="json") | change
        new = validate(Attendee, merged)
        encode_texts(sv.registry.encoder_for(row.tenant_id), [new])
        try:
            version = sv.store.replace_attendee(row.pk, new, version)
        except Stale:
            precondition(-1, what)  # with If-Match: 412 (the version it named is gone); else: once more
            continue
        except Gone:
            raise attendee_404(event_id, attendee_id) from None
        return with_etag(new.model_dump(mode="json"), version)
    raise ApiError(409, f"{what} kept changing while this change was applied; send it again", code="conflict")


@bp.delete("/events/<event_id>/attendees/<attendee_id>")
def delete_attendee(event_id: str, attendee_id: str):
    row = event_or_404(event_id)
    if not services().store.delete_attendee(row.pk, attendee_id):
        raise attendee_404(event_id, attendee_id)
    # this worker forgets them now; the others on their next request (change log)
    if row.pk in services().registry.loaded():
        fresh = services().store.get_event(g.tenant_id, event_id)
        if fresh is not None:
            services().registry.use(fresh)
    return Response(status=204)


# -------------------------------------------------------------------------------------------------- matches
@bp.get("/events/<event_id>/attendees/<attendee_id>/matches")
def matches(event_id: str, attendee_id: str):
    row = event_or_404(event_id)
    limit = query_int("limit", min(row.event.policy.default_limit, MAX_PAGE), 1, MAX_PAGE)
    offset = query_int("offset", 0, 0, MAX_RANK - 1)
    if offset + limit > MAX_RANK:
        msg = f"offset + limit must be at most {MAX_RANK}; got {offset + limit}"
        raise ApiError(400, msg, code="validation_error", details=[{"field": "offset", "message": msg}])
    sv = services()
    entry = sv.registry.use(row)
    with entry.lock:
        m = entry.matcher
        if attendee_id not in m:
            raise attendee_404(event_id, attendee_id)
        exclude = sv.store.exclusions(row.pk, attendee_id, allow_repeat=row.event.policy.allow_repeat_meetings)
        found = m.recommend(attendee_id, k=offset + limit, exclude=exclude)
    page = found[offset:offset + limit]
    return {"event": event_id, "attendee": attendee_id, "limit": limit, "offset": offset,
            "matches": [x.to_json() for x in page]}


# ------------------------------------------------------------------------------------------------- feedback
@bp.post("/events/<event_id>/feedback")
def post_feedback(event_id: str):
    row = event_or_404(event_id)
    fb = validate(Feedback, read_object())
    check_ids([("from_id", fb.from_id), ("to_id", fb.to_id)])
    if fb.from_id == fb.to_id:
        msg = "from_id and to_id must differ"
        raise ApiError(400, f"invalid input: {msg}", code="validation_error",
                       details=[{"field": "to_id", "message": msg}])
    store = services().store
    for field, aid in (("from_id", fb.from_id), ("to_id", fb.to_id)):
        if store.get_attendee(row.pk, aid) is None:
            raise ApiError(404, f"{field}: unknown attendee {aid!r} in event {event_id!r}",
                           details=[{"field": field, "message": f"unknown attendee {aid!r}"}])
    new = store.add_feedback(row.pk, fb)
    body = {"recorded": new, "feedback": fb.model_dump()}
    if new:
        return created(body, f"/v1/events/{event_id}/attendees/{fb.from_id}/feedback")
    return body


@bp.get("/events/<event_id>/attendees/<attendee_id>/feedback")
def list_feedback(event_id: str, attendee_id: str):
    row = event_or_404(event_id)
    store = services().store
    if store.get_attendee(row.pk, attendee_id) is None:
        raise attendee_404(event_id, attendee_id)
    return {"feedback": [f.model_dump() for f in store.feedback_of(row.pk, attendee_id)]}
