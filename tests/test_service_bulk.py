"""Large attendee upserts as background jobs, over HTTP on SQLite and PostgreSQL: above ``UPSERT_SYNC_TEXTS`` new
texts (or with ``Prefer: respond-async``) the upsert answers 202 and a job URL whose answer is the synchronous one;
re-sending the same people (every text encoded already) and small batches stay synchronous; a bad batch is refused
at once, with no job and nothing written; the job row keeps no attendee data."""

from __future__ import annotations

import time

import pytest
from service_support import TOY, api_for, assert_error, make_app, match_ids

E = "/v1/events/e1"


@pytest.fixture
def setup(db):
    app = make_app(db, UPSERT_SYNC_TEXTS=8)
    api = api_for(app, "acme")
    assert api.post("/v1/events", json={"id": "e1", "name": "Toy"}).status_code == 201
    yield app, api
    app.extensions["matchmaker"].store.dispose()


def wait(api, url: str, timeout: float = 60.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        body = api.get(url).get_json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"job {url} still pending")


def test_a_large_upsert_is_a_job_with_the_synchronous_answer(setup):
    app, api = setup
    r = api.post(f"{E}/attendees", json={"attendees": TOY})  # 5 people, 20 distinct texts > 8
    assert r.status_code == 202, r.get_json()
    job = r.get_json()
    assert job["kind"] == "attendee-upsert" and job["event"] == "e1"
    assert r.headers["Location"] == f"/v1/jobs/{job['id']}" and r.headers["Retry-After"] == "1"
    done = wait(api, r.headers["Location"])
    assert done["status"] == "done" and done["error"] is None
    assert done["result"] == {"upserted": 5, "created": 5, "updated": 0, "version": 1}
    assert api.get(f"{E}/attendees?fields=id").get_json()["attendees"] == sorted(a["id"] for a in TOY)
    assert match_ids(api, "e1", "founder")[0] == "investor"
    # the job row holds a count, not the people
    from sqlalchemy import select

    from service import db as t

    with app.extensions["matchmaker"].store.engine.connect() as c:
        assert c.execute(select(t.jobs.c.request).where(t.jobs.c.id == job["id"])).scalar() == '{"attendees": 5}'
    # the same people again: every text is encoded already, so it answers at once
    r = api.post(f"{E}/attendees", json={"attendees": TOY})
    assert r.status_code == 200 and r.get_json()["updated"] == 5
    # a small batch with few new texts: at once; asked for, a job anyway
    r = api.post(f"{E}/attendees", json=[{"id": "zoe", "goals": ["climate founders"]}])
    assert r.status_code == 200 and r.get_json()["created"] == 1
    r = api.post(f"{E}/attendees", json=[{"id": "zed", "goals": ["a co-founder"]}],
                 headers={"Prefer": "respond-async"})
    assert r.status_code == 202 and wait(api, r.headers["Location"])["result"]["created"] == 1


def test_a_spreadsheet_upload_can_be_a_job_too(setup):
    _, api = setup
    csv = "id,Looking for,Can offer\n" + "".join(f"p{i},goal number {i},offer number {i}\n" for i in range(10))
    r = api.client.post(f"{E}/attendees", data=csv, headers=api._h({"Content-Type": "text/csv"}))
    assert r.status_code == 202, r.get_json()
    assert wait(api, r.headers["Location"])["result"]["created"] == 10
    assert api.get(f"{E}/attendees/p3").get_json()["goals"] == ["goal number 3"]


def test_a_bad_large_batch_is_refused_at_once(setup):
    app, api = setup
    bad = [dict(a) for a in TOY] + [{"id": "x", "goals": "not a list"}]
    assert_error(api.post(f"{E}/attendees", json=bad), 400, "validation_error", r"attendees\[5\]\.goals")
    assert app.extensions["matchmaker"].jobs.pending() == 0
    assert api.get(f"{E}/attendees").get_json()["total"] == 0
