"""Optimistic concurrency: attendees and events carry an ETag; a write with a stale ``If-Match`` answers 412 and
changes nothing; without ``If-Match`` concurrent PATCHes of different fields of one attendee, from several
threads or processes (each its own app, like gunicorn workers), never lose a field. SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing as mp
import threading
import traceback

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


def _patch_once(api: Api, field: str, r: int) -> str | None:
    """One PATCH of ``field``; what went wrong, or None."""
    try:
        resp = api.patch(f"{E}/attendees/founder", json={field: f"{field}-{r}"})
    except Exception:  # the app raised (TESTING propagates): report it, never die silently
        return f"{field} round {r}: " + traceback.format_exc(limit=8)
    if resp.status_code != 200:
        return f"{field} round {r}: {resp.status_code} {resp.get_data(as_text=True)[:200]}"
    return None


def _worker(db, key: str, field: str, conn) -> None:
    """One worker process: its own app (engine, pool, matcher cache); one PATCH of its own field per message
    (the round number), answered with what went wrong or None; None ends it."""
    try:
        app = make_app(db)
        api = Api(app, key)
        conn.send("ready")
        while (r := conn.recv()) is not None:
            conn.send(_patch_once(api, field, r))
        app.extensions["matchmaker"].store.dispose()
    except BaseException:
        conn.send(traceback.format_exc(limit=8))
        raise


def _run(api, db, kind: str) -> list[str]:
    """``ROUNDS`` rounds; in each, every field's worker PATCHes at the same moment, then the checker reads.
    Threads: one app each (built here, in turn) behind a barrier. Processes: forked workers driven by pipes.
    Every wait is bounded and every failure comes back as text, so a fault fails the test with its reason."""
    key = api.key
    lost: list[str] = []
    if kind == "threads":
        apps = [make_app(db) for _ in FIELDS]
        clients = [Api(a, key) for a in apps]
        try:
            for r in range(ROUNDS):
                barrier = threading.Barrier(len(FIELDS))
                out: list[str | None] = [None] * len(FIELDS)

                def go(k: int, r=r, barrier=barrier, out=out) -> None:
                    try:
                        barrier.wait(timeout=30)
                    except threading.BrokenBarrierError:
                        pass  # start anyway
                    out[k] = _patch_once(clients[k], FIELDS[k], r)

                ts = [threading.Thread(target=go, args=(k,), daemon=True) for k in range(len(FIELDS))]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join(timeout=120)
                lost += [f"round {r}: a PATCH still runs after 120 s" for t in ts if t.is_alive()]
                lost += [x for x in out if x]
                got = api.get(f"{E}/attendees/founder").get_json()
                lost += [f"round {r}: {f} is {got[f]!r}" for f in FIELDS if got[f] != f"{f}-{r}"]
                if lost:
                    break
        finally:
            for a in apps:
                a.extensions["matchmaker"].store.dispose()
        return lost
    ctx = mp.get_context("fork")
    pipes = [ctx.Pipe() for _ in FIELDS]
    workers = [ctx.Process(target=_worker, args=(db, key, f, child), daemon=True)
               for f, (_, child) in zip(FIELDS, pipes, strict=True)]
    for w in workers:
        w.start()

    def answer(conn, what: str):
        if not conn.poll(120):
            return f"{what}: no answer within 120 s"
        return conn.recv()

    try:
        for (conn, _), f in zip(pipes, FIELDS, strict=True):
            if (got := answer(conn, f"{f} start")) != "ready":
                return [got]
        for r in range(ROUNDS):
            for conn, _ in pipes:
                conn.send(r)
            lost += [x for (conn, _), f in zip(pipes, FIELDS, strict=True) if (x := answer(conn, f"{f} round {r}"))]
            got = api.get(f"{E}/attendees/founder").get_json()
            lost += [f"round {r}: {f} is {got[f]!r}" for f in FIELDS if got[f] != f"{f}-{r}"]
            if lost:
                break
    finally:
        for conn, _ in pipes:
            try:
                conn.send(None)
            except OSError:
                pass
        for w in workers:
            w.join(timeout=30)
            if w.is_alive():
                w.kill()
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
