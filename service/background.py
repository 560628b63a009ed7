"""Background jobs: a request too long to answer inside an HTTP exchange (a large table plan) answers
``202 Accepted`` with ``Location: /v1/jobs/{id}``; ``GET /v1/jobs/{id}`` shows it queued, running, done (with the
answer) or failed (with the error, in the one error shape).

Jobs live in the database (``mm_jobs``), so any worker answers the poll. Each process runs its own jobs on a few
daemon threads behind a bounded queue (a full queue answers 503 with ``Retry-After``), and beats a heartbeat
into their rows; a pending job whose heartbeat stops (its worker died or was restarted) reads as failed with a
503 error: submit it again. A job goes with its event, and with any attendee it names when they are erased.
Finished jobs are forgotten after a day. The poll's route is :mod:`service.jobs`.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from service.errors import ApiError, where
from service.http import iso, services
from service.storage import JobRow, JobStore, now

log = logging.getLogger("matchmaker.service")

PENDING = ("queued", "running")


class JobRunner:
    """Runs jobs of this process: ``threads`` daemon threads, at most ``max_queued`` waiting."""

    def __init__(self, jobs: JobStore, *, threads: int = 1, max_queued: int = 8, heartbeat_s: float = 5.0,
                 stale_s: float = 60.0, keep_s: float = 86400.0,
                 prune_every_s: float = 600.0):
        self.jobs = jobs
        self.threads = threads
        self.max_queued = max_queued
        self.heartbeat_s = heartbeat_s
        self.stale_s = stale_s
        self.keep_s = keep_s
        self.prune_every_s = prune_every_s
        self._queue: queue.Queue = queue.Queue()
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._started = False
        self._pruned = 0.0

    def _start(self) -> None:
        for i in range(self.threads):
            threading.Thread(target=self._work, name=f"matchmaker-job-{i}", daemon=True).start()
        threading.Thread(target=self._beat, name="matchmaker-job-heartbeat", daemon=True).start()
        self._started = True

    def submit(self, tenant_id: int, event_pk: int, kind: str, request: str, work: Callable[[], str]) -> JobRow:
        """Queue ``work`` (which returns the answer's JSON or raises :class:`ApiError`); the new job's row."""
        with self._lock:
            if len(self._pending) >= self.max_queued:
                raise ApiError(503, f"this worker already holds {len(self._pending)} background jobs; try again "
                                    "shortly", headers={"Retry-After": "5"})
            if not self._started:
                self._start()
            if time.monotonic() - self._pruned >= self.prune_every_s:  # forget finished jobs past keep_s
                self.jobs.prune(now() - timedelta(seconds=self.keep_s))
                self._pruned = time.monotonic()
            row = self.jobs.create(tenant_id, event_pk, kind, request)
            self._pending.add(row.id)
        self._queue.put((row.id, kind, work))
        return row

    def pending(self) -> int:
        return len(self._pending)

    def _work(self) -> None:
        while True:
            job_id, kind, work = self._queue.get()
            try:
                self._run(job_id, kind, work)
            except Exception as exc:  # the database went away while recording the outcome: the poll sees it stale
                log.error("job %s (%s): outcome not recorded: %s", job_id, kind, type(exc).__name__)
            finally:
                with self._lock:
                    self._pending.discard(job_id)

    def _run(self, job_id: str, kind: str, work: Callable[[], str]) -> None:
        if not self.jobs.set_status(job_id, "running", only_if_pending=True):
            return  # erased meanwhile
        result = error = None
        try:
            result = work()
        except ApiError as exc:
            error = json.dumps({"status": exc.status, "code": exc.code, "message": exc.message,
                                "details": exc.details})
        except (SQLAlchemyError, OSError) as exc:
            log.warning("job %s (%s): database unavailable: %s", job_id, kind, type(exc).__name__)
            error = json.dumps({"status": 503, "code": "service_unavailable",
                                "message": "the database was unavailable; submit it again", "details": []})
        except Exception as exc:  # no message: it may quote attendee data
            log.error("job %s (%s) failed: %s at %s", job_id, kind, type(exc).__name__, where(exc))
            error = json.dumps({"status": 500, "code": "internal_error", "message": "internal error; it was logged",
                                "details": []})
        self.jobs.set_status(job_id, "done" if error is None else "failed", result=result, error=error,
                             only_if_pending=True)

    def _beat(self) -> None:
        while True:
            time.sleep(self.heartbeat_s)
            with self._lock:
                ids = list(self._pending)
            if not ids:
                continue
            try:
                self.jobs.touch(ids)
            except Exception as exc:  # a database hiccup: the next beat tries again
                log.warning("job heartbeat failed: %s", type(exc).__name__)

    def view(self, row: JobRow, event_id: str) -> dict[str, Any]:
        """The job document; a pending job whose heartbeat stopped reads (and is recorded) as failed."""
        status, result, error = row.status, row.result, row.error
        updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=now().tzinfo)
        if status in PENDING and (now() - updated).total_seconds() > self.stale_s:
            status = "failed"
            error = json.dumps({"status": 503, "code": "service_unavailable",
                                "message": "the worker running this job stopped; submit it again", "details": []})
            self.jobs.set_status(row.id, status, error=error, only_if_pending=True)
        return {"id": row.id, "kind": row.kind, "status": status, "event": event_id,
                "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
                "result": json.loads(result) if result else None, "error": json.loads(error) if error else None}


def accepted(row: JobRow, event_id: str) -> Response:
    """``202 Accepted``: the job document, ``Location`` to poll and ``Retry-After``."""
    resp = jsonify(services().jobs.view(row, event_id))
    resp.status_code = 202
    resp.headers["Location"] = f"/v1/jobs/{row.id}"
    resp.headers["Retry-After"] = "1"
    return resp
