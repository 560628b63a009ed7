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
        from models.tables import TablePlanRequest
        from service.api import event_or_404, read_object, services, validate

        row = event_or_404(event_id)
        req = validate(TablePlanRequest, read_object())
        entry = services().registry.use(row)
        with entry.lock:
            plan = plan_event(entry.matcher, req)
        return plan.model_dump(mode="json")
