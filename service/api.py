"""The JSON API under ``/v1``: events, attendees, matches, feedback (and table plans when the planner exists).

Every route needs an API key (:mod:`service.auth`); a tenant sees only its own events, and another tenant's
event answers 404 exactly like a missing one.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import ValidationError

from models import Attendee, Event, Feedback, from_pydantic
from service.auth import require_key
from service.errors import ApiError, validation_error
from service.ingest import ingest as store_ingest
from service.schemas import AttendeeBatch, EventUpdate
from service.storage import Conflict, EventRow

bp = Blueprint("v1", __name__, url_prefix="/v1")
bp.before_request(require_key)

#: The most matches one page may reach (offset + limit).
MAX_RANK = 500
MAX_PAGE = 100


def services():
    return current_app.extensions["matchmaker"]


# -------------------------------------------------------------------------------------------------- helpers
def read_json() -> Any:
    """The decoded request body; 400 naming the problem when it is not JSON."""
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    if not raw.strip():
        raise ApiError(400, "request body is empty; send a JSON object", code="invalid_json")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "request body is not UTF-8 text", code="invalid_json") from None
    except RecursionError:
        raise ApiError(400, "request body is nested too deeply", code="invalid_json") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                       code="invalid_json") from None


def read_object() -> dict[str, Any]:
    data = read_json()
    if not isinstance(data, dict):
        raise ApiError(400, f"request body must be a JSON object, got {_json_type(data)}", code="validation_error",
                       details=[{"field": "", "message": f"expected an object, got {_json_type(data)}"}])
    return data


def _json_type(v: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number",
            type(None): "null"}.get(type(v), type(v).__name__)


def validate(model, data: Any, prefix: str = ""):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(from_pydantic(exc, prefix)) from None


def query_int(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not lo <= value <= hi:
        msg = f"must be an integer from {lo} to {hi}; got {raw!r}"
        raise ApiError(400, f"query parameter {name} {msg}", code="validation_error",
                       details=[{"field": name, "message": msg}])
    return value


def _has_control(value: str) -> bool:
    return any(ord(ch) < 32 for ch in value)


def check_ids(pairs) -> None:
    """400 naming each id that holds a control character (PostgreSQL cannot store NUL; none is sensible)."""
    bad = [{"field": field, "message": f"id {value!r} must not contain control characters"}
           for field, value in pairs if _has_control(value)]
    if bad:
        raise ApiError(400, f"invalid input: {bad[0]['field']}: {bad[0]['message']}", code="validation_error",
                       details=bad)


@bp.before_request
def _path_ids() -> None:
    """Ids in the path with control characters name nothing stored: 404 before any query."""
    args = request.view_args or {}
    if _has_control(args.get("event_id", "")):
        raise ApiError(404, f"unknown event {args['event_id']!r}")
    if _has_control(args.get("attendee_id", "")):
        raise ApiError(404, f"unknown attendee {args['attendee_id']!r} in event {args.get('event_id')!r}")


def event_or_404(event_id: str) -> EventRow:
    if _has_control(event_id):
        raise ApiError(404, f"unknown event {event_id!r}")
    row = services().store.get_event(g.tenant_id, event_id)
    if row is None:
        raise ApiError(404, f"unknown event {event_id!r}")
    return row


def attendee_404(event_id: str, attendee_id: str) -> ApiError:
    return ApiError(404, f"unknown attendee {attendee_id!r} in event {event_id!r}")


def event_json(row: EventRow, count: int | None = None) -> dict[str, Any]:
    store = services().store
    return {"id": row.event.id, "name": row.event.name, "policy": row.event.policy.model_dump(mode="json"),
            "attendee_count": store.count_attendees(row.pk) if count is None else count,
            "version": row.seq, "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at)}


def _iso(ts) -> str:
    """ISO 8601 in UTC (SQLite hands datetimes back without their zone)."""
    from datetime import UTC

    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat()


def created(body: Any, location: str) -> Response:
    resp = jsonify(body)
    resp.status_code = 201
    resp.headers["Location"] = location
    return resp


def ingest(row: EventRow, batch: list[Attendee]) -> tuple[int, int]:
    """Encode the batch's texts (stored in the embedding table) and write the attendees, all or nothing."""
    sv = services()
    return store_ingest(sv.store, sv.registry.encoder, row.pk, batch)


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
    return event_json(event_or_404(event_id))


@bp.patch("/events/<event_id>")
def update_event(event_id: str):
    row = event_or_404(event_id)
    change = validate(EventUpdate, read_object())
    ev = row.event.model_copy(update={k: v for k, v in (("name", change.name), ("policy", change.policy))
                                      if v is not None})
    services().store.update_event(row.pk, ev)
    return event_json(event_or_404(event_id))


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
    data = read_json()
    if isinstance(data, list):
        data = {"attendees": data}
    if not isinstance(data, dict):
        raise ApiError(400, f"request body must be {{\"attendees\": [...]}} or an array, got {_json_type(data)}",
                       code="validation_error")
    limit = current_app.config["MAX_BATCH"]
    items = data.get("attendees")
    if isinstance(items, list) and len(items) > limit:
        msg = f"at most {limit} attendees per request; got {len(items)} (split the batch)"
        raise ApiError(400, msg, code="validation_error", details=[{"field": "attendees", "message": msg}])
    batch = validate(AttendeeBatch, data).attendees
    check_ids((f"attendees[{i}].id", a.id) for i, a in enumerate(batch))
    created_n, updated_n = ingest(row, batch)
    version = services().store.get_event(g.tenant_id, event_id)
    return {"upserted": len(batch), "created": created_n, "updated": updated_n,
            "version": version.seq if version else row.seq}


@bp.get("/events/<event_id>/attendees")
def list_attendees(event_id: str):
    row = event_or_404(event_id)
    limit = query_int("limit", 100, 1, 1000)
    offset = query_int("offset", 0, 0, 10**9)
    ids, total = services().store.list_attendee_ids(row.pk, limit, offset)
    return {"attendees": ids, "total": total, "limit": limit, "offset": offset}


@bp.get("/events/<event_id>/attendees/<attendee_id>")
def get_attendee(event_id: str, attendee_id: str):
    row = event_or_404(event_id)
    a = services().store.get_attendee(row.pk, attendee_id)
    if a is None:
        raise attendee_404(event_id, attendee_id)
    return a.model_dump(mode="json")


@bp.patch("/events/<event_id>/attendees/<attendee_id>")
def patch_attendee(event_id: str, attendee_id: str):
    row = event_or_404(event_id)
    change = read_object()
    a = services().store.get_attendee(row.pk, attendee_id)
    if a is None:
        raise attendee_404(event_id, attendee_id)
    if "id" in change and change["id"] != attendee_id:
        msg = "the id cannot change; delete the attendee and create a new one"
        raise ApiError(400, f"invalid input: id: {msg}", code="validation_error",
                       details=[{"field": "id", "message": msg}])
    merged = a.model_dump(mode="json") | change
    new = validate(Attendee, merged)
    ingest(row, [new])
    return new.model_dump(mode="json")


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


def _register_optional() -> None:
    from service import tableplans

    tableplans.register(bp)


_register_optional()
