"""``POST /v1/events/{event}/table-plans``: seating plans from the engine's table planner.

A blueprint of its own: the request is validated into :class:`~models.tables.TablePlanRequest`, its cost is
bounded before any work starts (:func:`check_request`, ``MAX_PLAN_PEOPLE``), it is planned by
:func:`matcher.tables.plan_event` over the event's matcher, and rules no plan can honour answer 422. A plan
whose work (people x rounds x effort) is above ``PLAN_SYNC_WORK``, or any plan sent with
``Prefer: respond-async``, runs as a background job: ``202`` and a URL to poll (:mod:`service.background`).
"""

from __future__ import annotations

from collections.abc import Container

from flask import current_app, g, request

from matcher.tables import check_attendees, plan_event
from models import InvalidInput
from models.tables import InfeasibleRules, TablePlan, TablePlanRequest
from service.background import accepted
from service.errors import ApiError, input_error, validation_error
from service.http import api_blueprint, event_or_404, read_object, services, validate

bp = api_blueprint("tableplans", __name__)

#: Empty seats a plan may carry beyond one per person (each empty seat is a participant of the search).
SPARE_SEATS = 100


def check_request(req: TablePlanRequest, known: Container[str], n_event: int) -> int:
    """Bound the plan's work before it starts; returns how many people it seats.

    ``req.attendees`` must name known, distinct ids (checked in one pass: a body may repeat an id 100k
    times); with ``capacities``, the seats may exceed the people by at most ``max(N, SPARE_SEATS)``: the
    search treats every empty seat as a participant, so 12,000 seats for 4 people would cost 12,000 squared.

    >>> check_request(TablePlanRequest(capacities=[2, 2], attendees=["a", "b", "c"]), {"a", "b", "c"}, 3)
    3
    >>> check_request(TablePlanRequest(capacities=[1000]), {"a"}, 1)
    Traceback (most recent call last):
    ...
    models.errors.InvalidInput: capacities: 1000 seats for 1 person; at most 101 (one per person plus max(N, 100) empty)
    """
    if req.attendees is not None:
        check_attendees(req.attendees, known, limit=1000)
        n = len(req.attendees)
    else:
        n = n_event
    if req.capacities is not None:
        seats, most = sum(req.capacities), n + max(n, SPARE_SEATS)
        if seats > most:
            who = f"{n} person" if n == 1 else f"{n} people"
            raise InvalidInput([{"field": "capacities", "message": f"{seats} seats for {who}; at most {most} "
                                 f"(one per person plus max(N, {SPARE_SEATS}) empty)"}])
    return n


def _plan(matcher, req: TablePlanRequest) -> TablePlan:
    try:
        return plan_event(matcher, req)
    except InfeasibleRules as exc:
        raise input_error(exc, 422, "infeasible", "no plan honours the rules") from None
    except InvalidInput as exc:
        raise validation_error(exc) from None


def _checked(req: TablePlanRequest, matcher, max_people: int) -> int:
    try:
        n = check_request(req, matcher, len(matcher))
    except InvalidInput as exc:
        raise validation_error(exc) from None
    if n > max_people:
        msg = (f"at most {max_people} people per plan; this one seats {n} (list some in 'attendees', or ask the "
               "operator to raise MATCHMAKER_MAX_PLAN_PEOPLE)")
        raise ApiError(400, f"invalid input: attendees: {msg}", code="validation_error",
                       details=[{"field": "attendees", "message": msg}])
    return n


def wants_job(n: int, req: TablePlanRequest) -> bool:
    """A background job when the client prefers one (``Prefer: respond-async``) or the work (people x rounds x
    effort) is above ``PLAN_SYNC_WORK``."""
    prefer = {p.strip().lower() for p in request.headers.get("Prefer", "").split(",")}
    return "respond-async" in prefer or n * req.rounds * req.effort > current_app.config["PLAN_SYNC_WORK"]


@bp.post("/events/<event_id>/table-plans")
def table_plans(event_id: str):
    row = event_or_404(event_id)
    req = validate(TablePlanRequest, read_object())
    sv = services()
    max_people = int(current_app.config["MAX_PLAN_PEOPLE"])
    entry = sv.registry.use(row)
    with entry.lock:
        n = _checked(req, entry.matcher, max_people)
        if not wants_job(n, req):
            return _plan(entry.matcher, req).model_dump(mode="json")
    registry, store = sv.registry, sv.store

    def work() -> str:  # on a job thread: a private matcher of the event as stored when the job starts
        fresh = store.events_by_pk([row.pk]).get(row.pk)
        if fresh is None or fresh.created_at != row.created_at:
            raise ApiError(404, f"event {event_id!r} was deleted meanwhile")
        matcher = registry.snapshot(fresh)
        _checked(req, matcher, max_people)
        return _plan(matcher, req).model_dump_json()

    job = sv.jobs.submit(g.tenant_id, row.pk, "table-plan", req.model_dump_json(), work)
    return accepted(job, event_id)
