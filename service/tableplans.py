"""``POST /v1/events/{event}/table-plans``: seating plans from the engine's table planner.

Registered only when the planner (``matcher.tables.plan_event``) is installed.
"""

from __future__ import annotations

from flask import Blueprint


def planner_available() -> bool:
    try:
        from matcher.tables import plan_event  # noqa: F401
    except ImportError:
        return False
    return True


def register(bp: Blueprint) -> None:
    """Add the route to the API blueprint when the planner exists (once)."""
    if not planner_available() or getattr(bp, "_table_plans", False):
        return
    bp._table_plans = True

    @bp.post("/events/<event_id>/table-plans")
    def table_plans(event_id: str):
        from matcher.tables import plan_event
        from models.tables import InfeasibleRules, TablePlanRequest
        from service.api import event_or_404, read_object, services, validate
        from service.errors import ApiError, validation_error

        row = event_or_404(event_id)
        req = validate(TablePlanRequest, read_object())
        entry = services().registry.use(row)
        try:
            with entry.lock:
                plan = plan_event(entry.matcher, req)
        except InfeasibleRules as exc:
            err = validation_error(exc)
            raise ApiError(422, err.message.replace("invalid input", "no plan honours the rules", 1),
                           code="infeasible", details=err.details) from None
        return plan.model_dump(mode="json")
