"""``POST /v1/events/{event}/table-plans``: seating plans from the engine's table planner.

A blueprint of its own: the request is validated into :class:`~models.tables.TablePlanRequest`, its cost is
bounded before any work starts (:func:`check_request`), it is planned by :func:`matcher.tables.plan_event` over
the event's matcher, and rules no plan can honour answer 422.
"""

from __future__ import annotations

from collections.abc import Container

from matcher.tables import plan_event
from models import InvalidInput
from models.tables import InfeasibleRules, TablePlanRequest
from service.errors import input_error, validation_error
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
        errors = [{"field": f"attendees[{k}]", "message": f"unknown attendee id {x!r}"}
                  for k, x in enumerate(req.attendees) if x not in known][:1000]
        seen: set[str] = set()
        for x in req.attendees:
            if x in seen:
                errors.append({"field": "attendees", "message": f"duplicate id {x!r}"})
                break
            seen.add(x)
        if errors:
            raise InvalidInput(errors)
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


@bp.post("/events/<event_id>/table-plans")
def table_plans(event_id: str):
    row = event_or_404(event_id)
    req = validate(TablePlanRequest, read_object())
    entry = services().registry.use(row)
    try:
        with entry.lock:
            try:
                check_request(req, entry.matcher, len(entry.matcher))
            except InvalidInput as exc:
                raise validation_error(exc) from None
            plan = plan_event(entry.matcher, req)
    except InfeasibleRules as exc:
        raise input_error(exc, 422, "infeasible", "no plan honours the rules") from None
    return plan.model_dump(mode="json")
