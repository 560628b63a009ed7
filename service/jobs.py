"""``GET /v1/jobs/{job}``: a background job (:mod:`service.background`) queued, running, done or failed."""

from __future__ import annotations

from flask import g

from service.background import PENDING
from service.errors import ApiError
from service.http import api_blueprint, services

bp = api_blueprint("jobs", __name__)


@bp.get("/jobs/<job_id>")
def get_job(job_id: str):
    sv = services()
    row = sv.jobs.jobs.get(g.tenant_id, job_id) if len(job_id) <= 64 else None
    if row is None:
        raise ApiError(404, "unknown job (finished jobs are kept a day; jobs go with their event)")
    ev = sv.store.events_by_pk([row.event_pk]).get(row.event_pk)
    if ev is None:
        raise ApiError(404, "unknown job (finished jobs are kept a day; jobs go with their event)")
    body = sv.jobs.view(row, ev.event.id)
    headers = {"Retry-After": "1"} if body["status"] in PENDING else {}
    return body, 200, headers
