"""``POST /v1/events/{event}/table-plans``: seating plans from the engine's table planner.

A blueprint of its own: the request is validated into :class:`~models.tables.TablePlanRequest`, planned by
:func:`matcher.tables.plan_event` over the event's matcher, and rules no plan can honour answer 422.
"""

from __future__ import annotations

from matcher.tables import plan_event
from models.tables import InfeasibleRules, TablePlanRequest
from service.errors import input_error
from service.http import api_blueprint, event_or_404, read_object, services, validate

bp = api_blueprint("tableplans", __name__)


@bp.post("/events/<event_id>/table-plans")
def table_plans(event_id: str):
    row = event_or_404(event_id)
    req = validate(TablePlanRequest, read_object())
    entry = services().registry.use(row)
    try:
        with entry.lock:
            plan = plan_event(entry.matcher, req)
    except InfeasibleRules as exc:
        raise input_error(exc, 422, "infeasible", "no plan honours the rules") from None
    return plan.model_dump(mode="json")
