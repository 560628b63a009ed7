"""Optimistic concurrency: attendees and events carry an ETag; a write with a stale ``If-Match`` answers 412 and
changes nothing; without ``If-Match`` concurrent PATCHes of different fields of one attendee, from several
threads or processes (each its own app, like gunicorn workers), never lose a field. SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing as mp
import threading

import pytest
from service_support import TOY, Api, api_for, assert_error, make_app, seed

E = "/v1/events/e1"
FIELDS = ("name", "title", "company", "bio")
ROUNDS = 12


@pytest.fixture
def api(db):
    app = make_app(db)
    a = api_for(app, "acme")
    seed(a, attendees=TOY[:4])
    yield a
    app.extensions["matchmaker"].store.dispose()


def test_etags_and_if_match(api):
    r = api.get(f"{E}/attendees/founder")
    tag = r.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"')
    ok = api.patch(f"{E}/attendees/founder", json={"title": "CEO"}, headers={"If-Match": tag})
    assert ok.status_code == 200 and ok.headers["ETag"] != tag
    assert ok.headers["ETag"] == api.get(f"{E}/attendees/founder").headers["ETag"]
    # the old tag is stale now: 412, nothing written
    stale = api.patch(f"{E}/attendees/founder", json={"title": "CTO"}, headers={"If-Match": tag})
    assert_error(stale, 412, "precondition_failed", "has changed since the version in If-Match")
    assert stale.headers["ETag"] == ok.headers["ETag"]
    assert api.get(f"{E}/attendees/founder").get_json()["title"] == "CEO"
    # several tags, one current; and *
    both = f'"1", {ok.headers["ETag"]}'
    assert api.patch(f"{E}/attendees/founder", json={"title": "CFO"}, headers={"If-Match": both}).status_code == 200
    assert api.patch(f"{E}/attendees/founder", json={"role": "cto"}, headers={"If-Match": "*"}).status_code == 200
    assert api.get(f"{E}/attendees/founder").get_json()["title"] == "CFO"
    # a write to someone else does not make this attendee's tag stale
    mine = api.get(f"{E}/attendees/founder").headers["ETag"]
    api.patch(f"{E}/attendees/investor", json={"title": "GP"})
    assert api.patch(f"{E}/attendees/founder", json={"bio": "x"}, headers={"If-Match": mine}).status_code == 200
    assert_error(api.patch(f"{E}/attendees/ghost", json={"bio": "x"}, headers={"If-Match": "*"}), 404, "not_found")

    ev = api.get(E)
    assert ev.headers["ETag"] == f'"{ev.get_json()["version"]}"'
    assert_error(api.patch(E, json={"name": "New"}, headers={"If-Match": '"0"'}), 412, "precondition_failed")
    assert api.get(E).get_json()["name"] == "Toy"
    r = api.patch(E, json={"name": "New"}, headers={"If-Match": ev.headers["ETag"]})
    assert r.status_code == 200 and r.get_json()["name"] == "New"


def _patcher(db, key: str, field: str, barrier, rounds: int, errors) -> None:
    """One worker: its own app (engine, pool, matcher cache); each round one PATCH of its own field."""
    app = make_app(db)
    api = Api(app, key)
    try:
        for r in range(rounds):
            barrier.wait(timeout=60)
            resp = api.patch(f"{E}/attendees/founder", json={field: f"{field}-{r}"})
            if resp.status_code != 200:
                errors.put(f"{field} round {r}: {resp.status_code} {resp.get_data(as_text=True)[:200]}")
            barrier.wait(timeout=60)  # everyone wrote this round; the checker reads
            barrier.wait(timeout=60)  # the checker has read
    finally:
        app.extensions["matchmaker"].store.dispose()


def _run(api, db, kind: str) -> list[str]:
    key = api.key
    n = len(FIELDS) + 1  # the writers and the checker
    if kind == "threads":
        barrier, errors = threading.Barrier(n), __import__("queue").Queue()
        workers = [threading.Thread(target=_patcher, args=(db, key, f, barrier, ROUNDS, errors)) for f in FIELDS]
    else:
        ctx = mp.get_context("fork")
        barrier, errors = ctx.Barrier(n), ctx.Queue()
        workers = [ctx.Process(target=_patcher, args=(db, key, f, barrier, ROUNDS, errors)) for f in FIELDS]
    for w in workers:
        w.start()
    lost = []
    try:
        for r in range(ROUNDS):
            barrier.wait(timeout=60)
            barrier.wait(timeout=60)
            got = api.get(f"{E}/attendees/founder").get_json()
            lost += [f"round {r}: {f} is {got[f]!r}" for f in FIELDS if got[f] != f"{f}-{r}"]
            barrier.wait(timeout=60)
    finally:
        for w in workers:
            w.join(timeout=60)
    while not errors.empty():
        lost.append(errors.get())
    return lost


@pytest.mark.parametrize("kind", ["threads", "processes"])
def test_concurrent_patches_of_different_fields_lose_nothing(api, db, kind):
    lost = _run(api, db, kind)
    assert lost == [], f"{len(lost)} lost fields, e.g. {lost[:5]}"


def test_concurrent_event_patches_of_name_and_policy_lose_neither(api, db):
    other = Api(make_app(db), api.key)  # a second worker
    for r in range(8):
        barrier = threading.Barrier(2)
        results = []

        def patch(client, body, barrier=barrier, results=results):
            barrier.wait(timeout=30)
            results.append(client.patch(E, json=body).status_code)

        ts = [threading.Thread(target=patch, args=(api, {"name": f"name-{r}"})),
              threading.Thread(target=patch, args=(other, {"policy": {"default_limit": r + 1}}))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        ev = api.get(E).get_json()
        assert results == [200, 200]
        assert (ev["name"], ev["policy"]["default_limit"]) == (f"name-{r}", r + 1), r
    other.app.extensions["matchmaker"].store.dispose()
