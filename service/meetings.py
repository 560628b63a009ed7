"""Meetings under ``/v1/events/{event}/``: the setup (slots, locations, availability, limits, quotas), meeting
requests and their transitions, must-meet pairs, the organizer's schedule run, agendas (JSON and ``.ics``), stats
and the declined pairs.

Rules every route keeps: a tenant sees only its own events (another's answers 404); every state change goes
through :func:`models.meetings.check_transition` and is recorded (``GET .../transitions``); a refused change is a
4xx whose message names the reason (409 for a state that does not allow it, 403 for someone who may not do it,
422 for a rule: availability, limits, the event's matching rules); acceptance books the earliest slot both can
make, serialised per event (the meeting lock in :mod:`service.meetings_store`) and guarded by the database (one
row per person and slot), so two workers accepting the same request at once give one meeting. Every POST takes an
``Idempotency-Key`` header: a retry with the same key and body gets the first answer again
(``Idempotent-Replayed: true``); the same key with another body is a 422, and while the first is still running a
409.

Who acts is said in the body: ``{"actor": "<attendee id>"}`` for an attendee (the platform authenticates its
users), ``{"organizer": true}`` for the organizer.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from flask import Response, current_app, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr
from sqlalchemy.exc import IntegrityError

from matcher.meetings import NoSlot, blocked_pairs_from_scores
from matcher.meetings.outputs import agenda_ics, agendas, stats
from matcher.meetings.schedule import book_request, schedule_meetings
from models import Attendee, Feedback, InvalidInput
from models.meetings import (
    Availability,
    IllegalTransition,
    Location,
    Meeting,
    MeetingRequests,
    MeetingSetup,
    check_transition,
)
from service import webhooks
from service.errors import ApiError, error_response, input_error
from service.http import (
    api_blueprint,
    attendee_404,
    check_ids,
    created,
    event_or_404,
    read_object,
    services,
    validate,
)
from service.meetings_store import SLOTTED, MeetingStore, StoredRequest, fingerprint, now

bp = api_blueprint("meetings", __name__)

#: POST path suffix -> target state
ACTIONS = {"accept": "accepted", "decline": "declined", "cancel": "cancelled", "schedule": "scheduled",
           "unschedule": "accepted", "held": "held", "no-show": "no_show"}
MAX_RUN_SECONDS = 60.0


@bp.record_once
def _setup(state) -> None:
    app = state.app  # the tables are part of service.db's schema: Store.create_all made them
    engine = app.extensions["matchmaker"].store.engine
    app.extensions["meetings"] = MeetingStore(engine)
    app.extensions["webhook_sender"] = webhooks.Sender(engine)


@bp.after_request
def _send_webhooks(resp: Response) -> Response:
    """Writes may have queued webhooks: make sure this process's sender runs."""
    if g.get("webhooks_queued") and current_app.config.get("WEBHOOK_SENDER", True):
        current_app.extensions["webhook_sender"].kick()
    return resp


def mstore() -> MeetingStore:
    return current_app.extensions["meetings"]


# ------------------------------------------------------------------------------------------------ bodies
class RequestIn(BaseModel):
    """A meeting request: ``requester`` asks ``recipient``."""

    model_config = ConfigDict(extra="forbid")

    requester: StrictStr = Field(min_length=1, max_length=200)
    recipient: StrictStr = Field(min_length=1, max_length=200)
    note: StrictStr = Field("", max_length=2000)


class ActionIn(BaseModel):
    """Who acts (an attendee, or the organizer) and, to schedule by hand, where and when."""

    model_config = ConfigDict(extra="forbid")

    actor: StrictStr | None = Field(None, min_length=1, max_length=200)
    organizer: StrictBool = False
    slot: StrictStr | None = None
    location: StrictStr | None = None
    reason: StrictStr = Field("", max_length=500)


class MustMeetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: StrictStr = Field(min_length=1, max_length=200)
    b: StrictStr = Field(min_length=1, max_length=200)
    note: StrictStr = Field("", max_length=2000)


class RunIn(BaseModel):
    """The organizer's schedule run."""

    model_config = ConfigDict(extra="forbid")

    method: str = Field("auto", pattern="^(auto|heuristic|cpsat)$")
    time_limit: float = Field(5.0, gt=0, le=MAX_RUN_SECONDS, description="CP-SAT budget (deterministic seconds).")
    seed: int = 0
    reschedule: StrictBool = Field(False, description="Move meetings already scheduled too.")


class SlotsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: StrictStr | None = None
    slots: list[dict[str, Any]] | None = None
    sessions: list[dict[str, Any]] | None = None
    breaks: list[dict[str, Any]] | None = None


class LocationsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locations: list[Location] = Field(min_length=1)


# ------------------------------------------------------------------------------------------------ helpers
def idempotent(view):
    """``Idempotency-Key`` on a POST: the first answer (below 500) is stored and replayed for the same key and
    body; another body under the same key is a 422; a retry while the first runs is a 409."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        key = key.strip()
        if not key or len(key) > 200 or any(ord(ch) < 32 for ch in key):
            raise ApiError(400, "Idempotency-Key must be 1 to 200 printable characters", code="validation_error",
                           details=[{"field": "Idempotency-Key", "message": "1 to 200 printable characters"}])
        fp = fingerprint(request.method, request.path, request.get_data(cache=True))
        ms = mstore()
        found = ms.claim_key(g.tenant_id, key, fp)
        if found is not None:
            if found["fingerprint"] != fp:
                raise ApiError(422, "Idempotency-Key was already used for a different request; use a new key",
                               code="idempotency_key_reused")
            if found["status"] is None:
                raise ApiError(409, "a request with this Idempotency-Key is still being processed; retry later",
                               code="idempotency_in_progress", headers={"Retry-After": "1"})
            resp = Response(found["body"], status=found["status"], mimetype="application/json")
            if found["location"]:
                resp.headers["Location"] = found["location"]
            resp.headers["Idempotent-Replayed"] = "true"
            return resp
        try:
            resp = current_app.make_response(view(*args, **kwargs))
        except ApiError as exc:
            resp = error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
        except InvalidInput as exc:
            err = input_error(exc, 400, "validation_error", "invalid input")
            resp = error_response(err.status, err.code, err.message, err.details)
        except BaseException:
            ms.release_key(g.tenant_id, key)
            raise
        if resp.status_code >= 500:
            ms.release_key(g.tenant_id, key)
        else:
            ms.finish_key(g.tenant_id, key, resp.status_code, resp.get_data(as_text=True),
                          resp.headers.get("Location"))
        return resp

    return wrapper


def setup_or_409(event_id: str, pk: int, c=None) -> MeetingSetup:
    setup = mstore().get_setup(pk, c)
    if setup is None:
        raise ApiError(409, f"event {event_id!r} has no meeting setup yet; PUT /v1/events/{event_id}/meeting-setup "
                            "first (time zone, slots or sessions, locations)", code="no_setup")
    return setup


def attendee_or_422(pk: int, event_id: str, field: str, aid: str) -> Attendee:
    a = services().store.get_attendee(pk, aid)
    if a is None:
        raise ApiError(422, f"{field}: unknown attendee {aid!r} in event {event_id!r}", code="unknown_attendee",
                       details=[{"field": field, "message": f"unknown attendee {aid!r}"}])
    return a


def rules_block(policy, a: Attendee, b: Attendee) -> str | None:
    """Why the event's matching rules keep ``a`` and ``b`` apart, or None."""
    if a.opt_out or b.opt_out:
        who = a.id if a.opt_out else b.id
        return f"{who} opted out of matchmaking"
    if b.id in a.blocked or a.id in b.blocked:
        return "one of them blocked the other"
    if not policy.allow_same_company and a.company and a.company.strip().lower() == b.company.strip().lower():
        return f"both work at {a.company} (the event keeps colleagues apart)"
    if not policy.may_meet(a.role, b.role):
        return f"the event's role rules do not let a {a.role or 'attendee'} meet a {b.role or 'attendee'}"
    if not policy.allow_repeat_meetings and (b.id in a.connections or a.id in b.connections):
        return "already connected (the event does not repeat meetings)"
    return None


def who_acts(body: ActionIn) -> tuple[str | None, bool, str]:
    if body.organizer and body.actor is not None:
        raise ApiError(400, "give actor (an attendee) or organizer: true, not both", code="validation_error")
    if not body.organizer and body.actor is None:
        raise ApiError(400, 'say who acts: {"actor": "<attendee id>"} or {"organizer": true}',
                       code="validation_error", details=[{"field": "actor", "message": "field required"}])
    return body.actor, body.organizer, ("organizer" if body.organizer else f"attendee:{body.actor}")


def request_or_404(event_id: str, pk: int, request_id: str, c=None) -> StoredRequest:
    r = mstore().get_request(pk, request_id, c)
    if r is None:
        raise ApiError(404, f"unknown meeting request {request_id!r} in event {event_id!r}")
    return r


def ids_of(pk: int) -> list[str]:
    store = services().store
    n = store.count_attendees(pk)
    return store.list_attendee_ids(pk, max(n, 1), 0)[0]


def for_people(setup: MeetingSetup, docs: MeetingRequests, ids: list[str]) -> tuple[MeetingSetup, MeetingRequests]:
    """The setup and documents without references to people no longer in the event (erased attendees)."""
    known = set(ids)
    setup = setup.model_copy(update={
        "availability": {k: v for k, v in setup.availability.items() if k in known},
        "quotas": [q for q in setup.quotas if q.attendee in known],
        "limits": setup.limits.model_copy(update={"attendees": {k: v for k, v in setup.limits.attendees.items()
                                                                if k in known}})})
    docs = MeetingRequests(requests=[r for r in docs.requests if r.requester in known and r.recipient in known],
                           must_meet=[m for m in docs.must_meet if m.a in known and m.b in known])
    return setup, docs


def check_meetings_fit(setup: MeetingSetup, held: list[StoredRequest]) -> None:
    """409 naming the first scheduled meeting a new setup would strand (slot or location gone, closed, unavailable)."""
    slots = {s.id for s in setup.slots}
    locs = {loc.id: loc for loc in setup.locations}
    for r in held:
        if r.slot not in slots:
            why = f"slot {r.slot!r} would no longer exist"
        elif r.location not in locs:
            why = f"location {r.location!r} would no longer exist"
        elif locs[r.location].slots is not None and r.slot not in locs[r.location].slots:
            why = f"location {r.location!r} would be closed in slot {r.slot}"
        else:
            bad = [p for p in (r.requester, r.recipient) if r.slot not in setup.available_slots(p)]
            if not bad:
                continue
            why = f"{bad[0]} would not be available in slot {r.slot}"
        raise ApiError(409, f"meeting {r.id} ({r.requester} & {r.recipient}) is scheduled there: {why}; cancel or "
                            "unschedule it first", code="meetings_in_the_way")


def _put_setup(event_id: str, pk: int, change) -> MeetingSetup:
    """Apply ``change(old_setup_or_None) -> new MeetingSetup`` under the meeting lock, keeping meetings valid."""
    ms = mstore()
    with ms.engine.begin() as c:
        ms.lock(c, pk)
        new = change(ms.get_setup(pk, c))
        held = [r for r in ms.list_requests(pk, c=c) if r.state in SLOTTED and r.slot is not None]
        check_meetings_fit(new, held)
        ms.put_setup(c, pk, new)
    return new


def _validate_setup(data: dict[str, Any], event_id: str, pk: int) -> MeetingSetup:
    setup = validate(MeetingSetup, data)
    known = set(ids_of(pk))
    bad = ([f"availability.{a}" for a in setup.availability if a not in known]
           + [f"quotas.{q.attendee}" for q in setup.quotas if q.attendee not in known]
           + [f"limits.attendees.{a}" for a in setup.limits.attendees if a not in known])
    if bad:
        field = bad[0]
        raise ApiError(422, f"{field}: unknown attendee {field.rsplit('.', 1)[1]!r} in event {event_id!r}",
                       code="unknown_attendee", details=[{"field": f, "message": "unknown attendee"} for f in bad])
    return setup


def setup_json(setup: MeetingSetup) -> dict[str, Any]:
    return setup.model_dump(mode="json", exclude={"sessions"})


# ------------------------------------------------------------------------------------------------ setup
@bp.get("/events/<event_id>/meeting-setup")
def get_setup(event_id: str):
    row = event_or_404(event_id)
    return setup_json(setup_or_409(event_id, row.pk))


@bp.put("/events/<event_id>/meeting-setup")
def put_setup(event_id: str):
    row = event_or_404(event_id)
    setup = _validate_setup(read_object(), event_id, row.pk)
    return setup_json(_put_setup(event_id, row.pk, lambda _old: setup))


@bp.get("/events/<event_id>/slots")
def get_slots(event_id: str):
    row = event_or_404(event_id)
    s = setup_or_409(event_id, row.pk)
    doc = setup_json(s)
    return {"timezone": s.timezone, "slots": doc["slots"], "breaks": doc["breaks"]}


@bp.put("/events/<event_id>/slots")
def put_slots(event_id: str):
    row = event_or_404(event_id)
    body = validate(SlotsIn, read_object())
    old = setup_or_409(event_id, row.pk)
    doc = setup_json(old)
    doc.update({k: v for k, v in body.model_dump().items() if v is not None})
    if body.sessions is not None and body.slots is None:
        doc["slots"] = []
    setup = _validate_setup(doc, event_id, row.pk)
    s = _put_setup(event_id, row.pk, lambda _old: setup)
    d = setup_json(s)
    return {"timezone": s.timezone, "slots": d["slots"], "breaks": d["breaks"]}


@bp.get("/events/<event_id>/locations")
def get_locations(event_id: str):
    row = event_or_404(event_id)
    return {"locations": setup_json(setup_or_409(event_id, row.pk))["locations"]}


@bp.put("/events/<event_id>/locations")
def put_locations(event_id: str):
    row = event_or_404(event_id)
    body = validate(LocationsIn, read_object())
    doc = setup_json(setup_or_409(event_id, row.pk))
    doc["locations"] = [loc.model_dump(mode="json") for loc in body.locations]
    setup = _validate_setup(doc, event_id, row.pk)
    return {"locations": setup_json(_put_setup(event_id, row.pk, lambda _old: setup))["locations"]}


@bp.get("/events/<event_id>/attendees/<attendee_id>/availability")
def get_availability(event_id: str, attendee_id: str):
    row = event_or_404(event_id)
    if services().store.get_attendee(row.pk, attendee_id) is None:
        raise attendee_404(event_id, attendee_id)
    s = setup_or_409(event_id, row.pk)
    return {"attendee": attendee_id, "slots": s.available_slots(attendee_id),
            "rule": s.availability.get(attendee_id, Availability()).model_dump()}


@bp.put("/events/<event_id>/attendees/<attendee_id>/availability")
def put_availability(event_id: str, attendee_id: str):
    row = event_or_404(event_id)
    if services().store.get_attendee(row.pk, attendee_id) is None:
        raise attendee_404(event_id, attendee_id)
    av = validate(Availability, read_object())
    doc = setup_json(setup_or_409(event_id, row.pk))
    doc["availability"][attendee_id] = av.model_dump()
    setup = _validate_setup(doc, event_id, row.pk)
    s = _put_setup(event_id, row.pk, lambda _old: setup)
    return {"attendee": attendee_id, "slots": s.available_slots(attendee_id), "rule": av.model_dump()}


# ------------------------------------------------------------------------------------------------ requests
@bp.post("/events/<event_id>/meeting-requests")
@idempotent
def create_request(event_id: str):
    row = event_or_404(event_id)
    body = validate(RequestIn, read_object())
    check_ids([("requester", body.requester), ("recipient", body.recipient)])
    if body.requester == body.recipient:
        raise ApiError(400, "invalid input: recipient: one cannot request a meeting with oneself",
                       code="validation_error", details=[{"field": "recipient", "message": "same as requester"}])
    a = attendee_or_422(row.pk, event_id, "requester", body.requester)
    b = attendee_or_422(row.pk, event_id, "recipient", body.recipient)
    why = rules_block(row.event.policy, a, b)
    if why:
        raise ApiError(422, f"{a.id} and {b.id} cannot meet: {why}", code="not_allowed")
    ms = mstore()
    ms.expire_due(row.pk)
    with ms.engine.begin() as c:
        ms.lock(c, row.pk)
        setup = ms.get_setup(row.pk, c)
        for r in ms.between(c, row.pk, a.id, b.id):
            if r.state == "declined":
                raise ApiError(409, f"{r.recipient} declined a meeting with {r.requester} (request {r.id}); a "
                                    "decline is a no for both", code="declined")
            if r.state in ("requested", "accepted", "scheduled"):
                raise ApiError(409, f"{a.id} and {b.id} already have an open request ({r.id}, {r.state})",
                               code="duplicate_request")
        limit = setup.limits.for_attendee(a.id, a.role).max_pending_outgoing if setup else None
        if limit is not None and ms.pending_outgoing(c, row.pk, a.id) >= limit:
            raise ApiError(422, f"{a.id} has {limit} requests waiting for an answer, the most the event allows; "
                                "wait for answers or cancel one", code="limit_reached")
        expires = now() + timedelta(hours=setup.request_ttl_hours) if setup and setup.request_ttl_hours else None
        r = ms.insert_request(c, row.pk, requester=a.id, recipient=b.id, note=body.note, expires_at=expires,
                              actor=f"attendee:{a.id}")
    return created(r.to_json(), f"/v1/events/{event_id}/meeting-requests/{r.id}")


@bp.get("/events/<event_id>/meeting-requests")
def list_requests(event_id: str):
    row = event_or_404(event_id)
    mstore().expire_due(row.pk)
    attendee = request.args.get("attendee") or None
    state = request.args.get("state") or None
    if state is not None and state not in ("requested", "accepted", "declined", "cancelled", "expired",
                                           "scheduled", "held", "no_show"):
        raise ApiError(400, f"query parameter state: unknown state {state!r}", code="validation_error")
    return {"requests": [r.to_json() for r in mstore().list_requests(row.pk, attendee=attendee, state=state)]}


@bp.get("/events/<event_id>/meeting-requests/<request_id>")
def get_request(event_id: str, request_id: str):
    row = event_or_404(event_id)
    mstore().expire_due(row.pk)
    return request_or_404(event_id, row.pk, request_id).to_json()


@bp.get("/events/<event_id>/meeting-requests/<request_id>/transitions")
def get_transitions(event_id: str, request_id: str):
    row = event_or_404(event_id)
    request_or_404(event_id, row.pk, request_id)
    return {"request": request_id, "transitions": mstore().history(row.pk, request_id)}


def _check_manual(setup: MeetingSetup, c, pk: int, r: StoredRequest, slot: str, location: str | None) -> str:
    """Validate a hand-placed meeting; returns the location. 422/409 naming the rule it would break."""
    ms = mstore()
    slots = {s.id: s for s in setup.slots}
    if slot not in slots:
        raise ApiError(422, f"unknown slot {slot!r}", code="unknown_slot",
                       details=[{"field": "slot", "message": "unknown slot"}])
    for p in (r.requester, r.recipient):
        if slot not in setup.available_slots(p):
            raise ApiError(422, f"{p} is not available in slot {slot}", code="unavailable",
                           details=[{"field": "slot", "message": f"{p} is not available"}])
    held = [x for x in ms.list_requests(pk, c=c) if x.state in SLOTTED and x.id != r.id and x.slot is not None]
    for p in (r.requester, r.recipient):
        clash = next((x for x in held if x.slot == slot and p in (x.requester, x.recipient)), None)
        if clash:
            raise ApiError(409, f"{p} already has a meeting in slot {slot} ({clash.id})", code="busy")
        day = slots[slot].day
        lim = setup.limits.for_attendee(p, services().store.get_attendee(pk, p).role if
                                        services().store.get_attendee(pk, p) else "").max_per_day
        n = sum(1 for x in held if p in (x.requester, x.recipient) and x.slot in slots and slots[x.slot].day == day)
        if lim is not None and n >= lim:
            raise ApiError(422, f"{p} already has {n} meetings on {day}, the most the event allows",
                           code="limit_reached")
    used = {}
    for x in held:
        if x.slot == slot:
            used[x.location] = used.get(x.location, 0) + 1
    open_here = [loc for loc in setup.locations if loc.slots is None or slot in loc.slots]
    if location is not None:
        loc = next((x for x in setup.locations if x.id == location), None)
        if loc is None:
            raise ApiError(422, f"unknown location {location!r}", code="unknown_location")
        if loc not in open_here:
            raise ApiError(422, f"location {location} is closed in slot {slot}", code="closed")
        if used.get(location, 0) >= loc.capacity:
            raise ApiError(409, f"location {location} is full in slot {slot}", code="full")
        return location
    free = next((x for x in open_here if used.get(x.id, 0) < x.capacity), None)
    if free is None:
        raise ApiError(409, f"no location is free in slot {slot}", code="full")
    return free.id


@bp.post("/events/<event_id>/meeting-requests/<request_id>/<action>")
@idempotent
def transition(event_id: str, request_id: str, action: str):
    row = event_or_404(event_id)
    if action not in ACTIONS:
        raise ApiError(404, f"unknown action {action!r}; actions are {', '.join(ACTIONS)}")
    body = validate(ActionIn, read_object())
    actor, organizer, label = who_acts(body)
    to = ACTIONS[action]
    ms = mstore()
    ms.expire_due(row.pk)
    booking: dict[str, Any] | None = None
    ids = ids_of(row.pk) if to in ("accepted", "scheduled") else []
    try:
        with ms.engine.begin() as c:
            ms.lock(c, row.pk)
            r = request_or_404(event_id, row.pk, request_id, c)
            if action == "accept" and r.state != "requested" and r.state not in ("declined", "cancelled",
                                                                                "expired", "held", "no_show"):
                raise ApiError(409, f"request {r.id!r} is {r.state}: it was accepted already",
                               code="illegal_transition")
            if action == "unschedule" and r.state != "scheduled":
                raise IllegalTransition(f"request {r.id!r} is {r.state}; only a scheduled meeting can be "
                                        "unscheduled")
            try:
                check_transition(r.model(), to, actor, organizer=organizer)
            except IllegalTransition as exc:
                status = 403 if ("not a party" in str(exc) or "only the" in str(exc)) else 409
                raise ApiError(status, str(exc), code="forbidden" if status == 403 else "illegal_transition") \
                    from None
            slot = location = None
            if to == "scheduled":
                setup = setup_or_409(event_id, row.pk, c)
                if body.slot is None:
                    raise ApiError(400, "give the slot to schedule in (and optionally the location)",
                                   code="validation_error", details=[{"field": "slot", "message": "field required"}])
                slot = body.slot
                location = _check_manual(setup, c, row.pk, r, slot, body.location)
            detail = body.reason or ("unscheduled by the organizer" if action == "unschedule" else "")
            if not ms.set_state(c, row.pk, r, to, label, detail, slot=slot, location=location):
                raise ApiError(409, f"request {r.id} changed meanwhile; read it again", code="conflict")
            if to == "accepted" and action == "accept":
                setup = ms.get_setup(row.pk, c)
                if setup is None:
                    booking = {"booked": False, "reason": "the event has no meeting slots yet"}
                else:
                    s2, d2 = for_people(setup, ms.documents(row.pk, c), ids)
                    try:
                        slot, location = book_request(s2, d2, ids, r.id)
                    except NoSlot as exc:
                        booking = {"booked": False, "reason": str(exc)}
                    except InvalidInput as exc:
                        booking = {"booked": False, "reason": str(exc)}
                    else:
                        fresh = ms.get_request(row.pk, r.id, c)
                        ms.set_state(c, row.pk, fresh, "scheduled", "system", "booked on acceptance: the "
                                     "earliest slot both can make", slot=slot, location=location)
                        booking = {"booked": True, "slot": slot, "location": location}
    except IntegrityError:
        raise ApiError(409, "one of them was booked in that slot at the same moment; try again",
                       code="busy") from None
    if to == "declined":  # the decliner's list leaves the requester out at once
        services().store.add_feedback(row.pk, Feedback(from_id=r.recipient, to_id=r.requester, kind="declined"))
    out = ms.get_request(row.pk, request_id).to_json()
    if booking is not None:
        out["booking"] = booking
    return out


# ------------------------------------------------------------------------------------------------ must-meet
@bp.post("/events/<event_id>/must-meet")
@idempotent
def add_must_meet(event_id: str):
    row = event_or_404(event_id)
    body = validate(MustMeetIn, read_object())
    if body.a == body.b:
        raise ApiError(400, "invalid input: b: a must-meet pair needs two different people", code="validation_error")
    a = attendee_or_422(row.pk, event_id, "a", body.a)
    b = attendee_or_422(row.pk, event_id, "b", body.b)
    why = rules_block(row.event.policy, a, b)
    if why:
        raise ApiError(422, f"{a.id} and {b.id} cannot meet: {why}", code="not_allowed")
    ms = mstore()
    with ms.engine.begin() as c:
        ms.lock(c, row.pk)
        new = ms.add_must_meet(c, row.pk, a.id, b.id, body.note)
    body_out = {"a": min(a.id, b.id), "b": max(a.id, b.id), "note": body.note, "created": new}
    return created(body_out, f"/v1/events/{event_id}/must-meet") if new else body_out


@bp.get("/events/<event_id>/must-meet")
def list_must_meet(event_id: str):
    row = event_or_404(event_id)
    return {"must_meet": [m.model_dump() for m in mstore().documents(row.pk).must_meet]}


# ------------------------------------------------------------------------------------------------ schedule run
@bp.post("/events/<event_id>/schedule-runs")
@idempotent
def schedule_run(event_id: str):
    row = event_or_404(event_id)
    body = validate(RunIn, read_object() if request.get_data(cache=True).strip() else {})
    ms = mstore()
    ms.expire_due(row.pk)
    setup = setup_or_409(event_id, row.pk)
    version = ms.version(row.pk)
    people = {a.id: a for a in services().store.all_attendees(row.pk)}
    ids = sorted(people)
    setup, docs = for_people(setup, ms.documents(row.pk), ids)
    policy = row.event.policy
    blocked: dict[tuple[str, str], str] = {}
    for p in [(r.requester, r.recipient) for r in docs.requests] + [(m.a, m.b) for m in docs.must_meet]:
        why = rules_block(policy, people[p[0]], people[p[1]])
        if why:
            blocked[tuple(sorted(p))] = why
    scores = None
    if setup.fill.enabled and len(ids) > 1:
        entry = services().registry.use(row)
        with entry.lock:
            ps = entry.matcher.pair_scores(ids)
        scores = ps.scores
        for p in blocked_pairs_from_scores(ps, allow_same_company=policy.allow_same_company,
                                           allow_repeat_meetings=policy.allow_repeat_meetings):
            blocked.setdefault(tuple(sorted(p)), "the event's matching rules keep them apart")
        for a in people.values():
            if a.opt_out:
                blocked.update({tuple(sorted((a.id, b))): f"{a.id} opted out of matchmaking" for b in ids
                                if b != a.id})
    sched = schedule_meetings(setup, docs, ids, event=event_id, roles={k: v.role for k, v in people.items()},
                              blocked=list(blocked), blocked_reason=lambda x, y: blocked[tuple(sorted((x, y)))],
                              scores=scores, keep=not body.reschedule, method=body.method,
                              time_limit=body.time_limit, seed=body.seed)
    applied = {"scheduled": 0, "moved": 0, "created": 0, "unscheduled": 0}
    with ms.engine.begin() as c:
        if ms.lock(c, row.pk) != version + 1:
            raise ApiError(409, "meetings of this event changed while the run was solving (a request was answered "
                                "or booked); run it again", code="conflict")
        current = {r.id: r for r in ms.list_requests(row.pk, c=c)}
        placed = {m.request for m in sched.meetings if m.request}
        moving: list[tuple[StoredRequest, Meeting]] = []
        for rid, r in current.items():  # dropped by a full reschedule: back to accepted
            if r.state == "scheduled" and rid not in placed:
                ms.set_state(c, row.pk, r, "accepted", "system", "no longer fits the schedule")
                applied["unscheduled"] += 1
        for m in sched.meetings:
            r = current.get(m.request) if m.request else None
            if r is None:
                kind = "must_meet" if m.kind == "must_meet" else "fill"
                note = next((x.note for x in docs.must_meet if {x.a, x.b} == {m.a, m.b}), "") \
                    if kind == "must_meet" else ""
                new = ms.insert_request(c, row.pk, requester=m.a, recipient=m.b, kind=kind, note=note,
                                        state="scheduled", slot=m.slot, location=m.location,
                                        actor="organizer" if kind == "must_meet" else "system",
                                        detail="must-meet pair scheduled" if kind == "must_meet"
                                        else "filled in: a best mutual match with free time")
                m.request = new.id
                applied["created"] += 1
            elif r.state == "accepted":
                ms.set_state(c, row.pk, r, "scheduled", "system", "placed by the schedule run", slot=m.slot,
                             location=m.location)
                applied["scheduled"] += 1
            elif r.state == "scheduled" and (r.slot, r.location) != (m.slot, m.location):
                moving.append((r, m))
        for r, _m in moving:
            ms.free(c, row.pk, r.id)
        from service.meetings_store import requests as req_table

        for r, m in moving:
            c.execute(req_table.update().where(req_table.c.event_pk == row.pk, req_table.c.id == r.id)
                      .values(slot=m.slot, location=m.location, updated_at=now()))
            ms.occupy(c, row.pk, r.id, (r.requester, r.recipient), m.slot)
            ms.record(c, row.pk, r.id, "scheduled", "scheduled", "system",
                      f"moved from {r.slot} at {r.location} to {m.slot} at {m.location}")
            applied["moved"] += 1
    out = sched.model_dump(mode="json")
    out["applied"] = applied
    return out


# ------------------------------------------------------------------------------------------------ outputs
def _meetings(pk: int, attendee: str | None = None) -> list[Meeting]:
    out = []
    for r in mstore().list_requests(pk, attendee=attendee):
        if r.state in SLOTTED and r.slot is not None:
            kind = r.kind if r.kind in ("must_meet", "fill") else "accepted"
            out.append(Meeting(a=r.requester, b=r.recipient, slot=r.slot, location=r.location, kind=kind,
                               request=r.id))
    return out


def _agenda(event_id: str, attendee_id: str):
    row = event_or_404(event_id)
    store = services().store
    if store.get_attendee(row.pk, attendee_id) is None:
        raise attendee_404(event_id, attendee_id)
    setup = setup_or_409(event_id, row.pk)
    meetings = _meetings(row.pk, attendee_id)
    people = {}
    for m in meetings:
        for p in (m.a, m.b):
            if p not in people:
                a = store.get_attendee(row.pk, p)
                people[p] = {"name": (a.name or p) if a else p,
                             "title": ", ".join(x for x in (a.title, a.company) if x) if a else ""}
    docs = mstore().documents(row.pk)
    items = agendas(meetings, setup, people=people, requests=docs, everyone=[attendee_id],
                    reasons=_engine_reasons(row, attendee_id, {p for p in people if p != attendee_id})
                    ).get(attendee_id, [])
    return row, setup, items, people


def _engine_reasons(row, attendee_id: str, partners: set[str]) -> dict[tuple[str, str], str]:
    """The engine's one-line reason (written to the attendee) for each partner found in the attendee's list;
    the others fall back on the request's note."""
    if not partners:
        return {}
    out: dict[tuple[str, str], str] = {}
    entry = services().registry.use(row)
    with entry.lock:
        m = entry.matcher
        k = min(max(len(m.ids()) - 1, 1), 200)
        for match in m.recommend(attendee_id, k=k):
            if match.id in partners and match.reasons.summary:
                out[attendee_id, match.id] = match.reasons.summary
    return out


@bp.get("/events/<event_id>/attendees/<attendee_id>/agenda")
def agenda(event_id: str, attendee_id: str):
    _row, setup, items, _ = _agenda(event_id, attendee_id)
    return {"attendee": attendee_id, "timezone": setup.timezone, "meetings": items}


@bp.get("/events/<event_id>/attendees/<attendee_id>/agenda.ics")
def agenda_calendar(event_id: str, attendee_id: str):
    row, setup, items, _ = _agenda(event_id, attendee_id)
    data = agenda_ics(attendee_id, items, setup, event=event_id, title=row.event.name or event_id)
    resp = Response(data, mimetype="text/calendar")
    resp.headers["Content-Disposition"] = f'attachment; filename="{event_id}-{attendee_id}.ics"'
    return resp


@bp.get("/events/<event_id>/meeting-stats")
def meeting_stats(event_id: str):
    row = event_or_404(event_id)
    mstore().expire_due(row.pk)
    return stats(mstore().documents(row.pk), None, ids_of(row.pk))


@bp.get("/events/<event_id>/declined-pairs")
def declined_pairs(event_id: str):
    row = event_or_404(event_id)
    return jsonify({"pairs": [list(p) for p in mstore().declined_pairs(row.pk)]})


# ------------------------------------------------------------------------------------------------ webhooks
class WebhookIn(BaseModel):
    """A webhook endpoint: where to POST, and which event types (default: all)."""

    model_config = ConfigDict(extra="forbid")

    url: StrictStr = Field(min_length=8, max_length=2000, pattern=r"^https?://")
    types: list[StrictStr] = Field(default_factory=lambda: ["*"])


@bp.post("/events/<event_id>/webhooks")
@idempotent
def add_webhook(event_id: str):
    row = event_or_404(event_id)
    body = validate(WebhookIn, read_object())
    bad = [x for x in body.types if x != "*" and x not in webhooks.TYPES]
    if bad:
        raise ApiError(400, f"invalid input: types: unknown type {bad[0]!r}; types are {', '.join(webhooks.TYPES)}",
                       code="validation_error", details=[{"field": "types", "message": f"unknown type {bad[0]!r}"}])
    with mstore().engine.begin() as c:
        out = webhooks.add_endpoint(c, row.pk, body.url, body.types)
    return created(out, f"/v1/events/{event_id}/webhooks/{out['id']}")


@bp.get("/events/<event_id>/webhooks")
def list_webhooks(event_id: str):
    row = event_or_404(event_id)
    return {"webhooks": webhooks.list_endpoints(mstore().engine, row.pk)}


@bp.delete("/events/<event_id>/webhooks/<webhook_id>")
def delete_webhook(event_id: str, webhook_id: str):
    row = event_or_404(event_id)
    with mstore().engine.begin() as c:
        if not webhooks.delete_endpoint(c, row.pk, webhook_id):
            raise ApiError(404, f"unknown webhook {webhook_id!r} in event {event_id!r}")
    return Response(status=204)


@bp.get("/events/<event_id>/webhook-deliveries")
def list_deliveries(event_id: str):
    row = event_or_404(event_id)
    status = request.args.get("status") or None
    if status not in (None, "pending", "delivered", "failed"):
        raise ApiError(400, f"query parameter status: unknown status {status!r}", code="validation_error")
    return {"deliveries": webhooks.list_deliveries(mstore().engine, row.pk, status)}


@bp.post("/events/<event_id>/webhook-deliveries/<delivery_id>/replay")
@idempotent
def replay_delivery(event_id: str, delivery_id: str):
    row = event_or_404(event_id)
    with mstore().engine.begin() as c:
        if not webhooks.replay(c, row.pk, delivery_id):
            raise ApiError(404, f"unknown webhook delivery {delivery_id!r} in event {event_id!r}")
    return {"replayed": delivery_id}


#: (method, path, summary, body, answers) for the OpenAPI document
OPENAPI = [
    ("get", "/v1/events/{event}/meeting-setup", "The meeting setup: time zone, slots, breaks, locations, "
     "availability, limits, quotas, fill-ins", None, {200: MeetingSetup}),
    ("put", "/v1/events/{event}/meeting-setup", "Replace the meeting setup (409 if a scheduled meeting would no "
     "longer fit)", MeetingSetup, {200: MeetingSetup}),
    ("get", "/v1/events/{event}/slots", "Meeting slots and breaks", None, {}),
    ("put", "/v1/events/{event}/slots", "Replace slots (or sessions), breaks, time zone", SlotsIn, {}),
    ("get", "/v1/events/{event}/locations", "Tables, booths and rooms", None, {}),
    ("put", "/v1/events/{event}/locations", "Replace the locations", LocationsIn, {}),
    ("get", "/v1/events/{event}/attendees/{attendee}/availability", "The slots an attendee can meet in", None, {}),
    ("put", "/v1/events/{event}/attendees/{attendee}/availability", "Set an attendee's availability",
     Availability, {}),
    ("post", "/v1/events/{event}/meeting-requests", "Request a meeting (Idempotency-Key honoured)", RequestIn, {}),
    ("get", "/v1/events/{event}/meeting-requests", "Meeting requests (query: attendee, state)", None, {}),
    ("get", "/v1/events/{event}/meeting-requests/{request}", "One meeting request", None, {}),
    ("get", "/v1/events/{event}/meeting-requests/{request}/transitions", "Every recorded state change", None, {}),
    ("post", "/v1/events/{event}/meeting-requests/{request}/{action}", "accept (books the earliest common slot), "
     "decline, cancel, schedule (by hand), unschedule, held, no-show", ActionIn, {}),
    ("post", "/v1/events/{event}/must-meet", "Mark a pair as must-meet", MustMeetIn, {}),
    ("get", "/v1/events/{event}/must-meet", "The must-meet pairs", None, {}),
    ("post", "/v1/events/{event}/schedule-runs", "Schedule every accepted and must-meet pair (then fill-ins); "
     "returns the schedule and its report", RunIn, {}),
    ("get", "/v1/events/{event}/attendees/{attendee}/agenda", "An attendee's meetings", None, {}),
    ("get", "/v1/events/{event}/attendees/{attendee}/agenda.ics", "An attendee's meetings as iCalendar", None, {}),
    ("get", "/v1/events/{event}/meeting-stats", "Requests, meetings, people without a meeting", None, {}),
    ("get", "/v1/events/{event}/declined-pairs", "Pairs one of whom declined the other", None, {}),
    ("post", "/v1/events/{event}/webhooks", "Register a webhook endpoint (returns its signing secret once)",
     WebhookIn, {}),
    ("get", "/v1/events/{event}/webhooks", "The event's webhook endpoints", None, {}),
    ("delete", "/v1/events/{event}/webhooks/{webhook}", "Remove a webhook endpoint", None, {204: None}),
    ("get", "/v1/events/{event}/webhook-deliveries", "Recorded deliveries (query: status)", None, {}),
    ("post", "/v1/events/{event}/webhook-deliveries/{delivery}/replay", "Send a recorded delivery again",
     None, {}),
]
