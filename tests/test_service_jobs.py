"""Long table plans run as background jobs: 202 + a URL to poll, the same plan as the synchronous answer, errors in
the one shape, jobs that go with their event or an erased attendee, stale jobs of a dead worker, bounded work."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from service_support import TOY, api_for, assert_error, make_app, seed

E = "/v1/events/e1"
ASYNC = {"Prefer": "respond-async"}


@pytest.fixture
def api(db):
    app = make_app(db)
    a = api_for(app, "acme")
    seed(a, attendees=TOY[:4])  # founder+investor, hiring+engineer
    yield a
    app.extensions["matchmaker"].store.dispose()


def wait(api, url: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = api.get(url)
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        if body["status"] in ("done", "failed"):
            assert "Retry-After" not in r.headers
            return body
        assert r.headers["Retry-After"] == "1"
        time.sleep(0.05)
    raise AssertionError(f"job {url} still pending after {timeout} s")


def test_a_job_answers_202_and_polls_to_the_synchronous_plan(api):
    body = {"rounds": 2, "table_size": 2, "seed": 7}
    sync = api.post(f"{E}/table-plans", json=body)
    assert sync.status_code == 200
    r = api.post(f"{E}/table-plans", json=body, headers=ASYNC)
    assert r.status_code == 202, r.get_json()
    job = r.get_json()
    assert r.headers["Location"] == f"/v1/jobs/{job['id']}" and r.headers["Retry-After"] == "1"
    assert job["status"] in ("queued", "running", "done") and job["kind"] == "table-plan" and job["event"] == "e1"
    done = wait(api, r.headers["Location"])
    assert done["status"] == "done" and done["error"] is None
    plan, ref = done["result"], sync.get_json()
    ref["report"]["seconds"] = plan["report"]["seconds"]  # the only field that may differ
    assert plan == ref
    tables = {frozenset(t["seats"]) for t in plan["rounds"][0]["tables"]}
    assert tables == {frozenset({"founder", "investor"}), frozenset({"hiring", "engineer"})}


def test_large_plans_become_jobs_by_their_work(db):
    app = make_app(db, PLAN_SYNC_WORK=7)  # 4 people x 2 rounds = 8 > 7
    api = api_for(app, "acme")
    seed(api, attendees=TOY[:4])
    assert api.post(f"{E}/table-plans", json={"rounds": 1, "table_size": 2}).status_code == 200  # 4 <= 7
    r = api.post(f"{E}/table-plans", json={"rounds": 2, "table_size": 2})
    assert r.status_code == 202
    assert wait(api, r.headers["Location"])["status"] == "done"
    app.extensions["matchmaker"].store.dispose()


def test_job_errors_use_the_one_shape(api):
    body = {"table_size": 2, "rules": {"keep_together": [["founder", "investor", "hiring"]]}}
    r = api.post(f"{E}/table-plans", json=body, headers=ASYNC)
    assert r.status_code == 202
    done = wait(api, r.headers["Location"])
    assert done["status"] == "failed" and done["result"] is None
    err = done["error"]
    assert err["status"] == 422 and err["code"] == "infeasible" and err["message"].startswith("no plan honours")
    assert err["details"][0]["field"].startswith("rules.keep_together")
    # bad requests are refused before any job exists
    assert_error(api.post(f"{E}/table-plans", json={"table_size": 2, "attendees": ["ghost"]}, headers=ASYNC),
                 400, "validation_error", "unknown attendee id 'ghost'")


def test_jobs_are_per_tenant_and_go_with_their_event(api):
    r = api.post(f"{E}/table-plans", json={"table_size": 2}, headers=ASYNC)
    url = r.headers["Location"]
    wait(api, url)
    other = api_for(api.app, "globex")
    assert_error(other.get(url), 404, "not_found", "unknown job")
    assert_error(api.get("/v1/jobs/nope"), 404, "not_found")
    assert_error(api.get("/v1/jobs/" + "x" * 5000), 404, "not_found")
    assert api.delete(E).status_code == 204
    assert_error(api.get(url), 404, "not_found")


def test_erasing_an_attendee_erases_the_jobs_that_name_them(api):
    url = api.post(f"{E}/table-plans", json={"table_size": 2}, headers=ASYNC).headers["Location"]
    assert "founder" in str(wait(api, url)["result"])
    assert api.delete(f"{E}/attendees/founder").status_code == 204
    assert_error(api.get(url), 404, "not_found")


def test_a_pending_job_whose_worker_died_reads_failed(api):
    from sqlalchemy import update

    from service import db as t

    store = api.app.extensions["matchmaker"].store
    jobs = api.app.extensions["matchmaker"].jobs
    row = jobs.jobs.create(store.tenant_id("acme"), store.get_event(store.tenant_id("acme"), "e1").pk,
                           "table-plan", "{}")  # queued by a worker that then died: nobody beats its heartbeat
    with store.engine.begin() as c:
        c.execute(update(t.jobs).where(t.jobs.c.id == row.id)
                  .values(status="running", updated_at=row.updated_at - timedelta(seconds=jobs.stale_s + 1)))
    body = api.get(f"/v1/jobs/{row.id}").get_json()
    assert body["status"] == "failed" and body["error"]["status"] == 503
    assert "submit it again" in body["error"]["message"]
    assert jobs.jobs.get(row.tenant_id, row.id).status == "failed"  # recorded, not only shown


def test_plan_size_is_bounded_before_work_starts(db):
    app = make_app(db, MAX_PLAN_PEOPLE=3)
    api = api_for(app, "acme")
    seed(api, attendees=TOY[:4])
    err = assert_error(api.post(f"{E}/table-plans", json={"table_size": 2}), 400, "validation_error",
                       "at most 3 people per plan; this one seats 4")
    assert err["details"][0]["field"] == "attendees"
    r = api.post(f"{E}/table-plans", json={"table_size": 2, "attendees": ["founder", "investor", "hiring"]})
    assert r.status_code == 200
    app.extensions["matchmaker"].store.dispose()


def test_a_full_job_queue_answers_503_with_retry_after(db):
    app = make_app(db, JOB_QUEUE=0)
    api = api_for(app, "acme")
    seed(api, attendees=TOY[:4])
    r = api.post(f"{E}/table-plans", json={"table_size": 2}, headers=ASYNC)
    assert_error(r, 503, "service_unavailable", "background jobs")
    assert r.headers["Retry-After"] == "5"
    app.extensions["matchmaker"].store.dispose()


def test_finished_jobs_are_forgotten_after_keep_s(api):
    from sqlalchemy import update

    from service import db as t

    url = api.post(f"{E}/table-plans", json={"table_size": 2}, headers=ASYNC).headers["Location"]
    wait(api, url)
    sv = api.app.extensions["matchmaker"]
    with sv.store.engine.begin() as c:  # finished two days ago
        c.execute(update(t.jobs).values(updated_at=sv.store.get_event(sv.store.tenant_id("acme"), "e1").created_at
                                        - timedelta(days=2)))
    sv.jobs.prune_every_s = 0  # the next submission prunes
    url2 = api.post(f"{E}/table-plans", json={"table_size": 2}, headers=ASYNC).headers["Location"]
    assert_error(api.get(url), 404, "not_found")
    assert wait(api, url2)["status"] == "done"
