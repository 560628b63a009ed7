"""Storage behaviour, against SQLite and PostgreSQL: tenant isolation on every endpoint, restart without
re-encoding, two app instances ("workers") on one database seeing each other's writes, all-or-nothing batches."""

from __future__ import annotations

from service_support import TOY, Api, api_for, assert_error, make_app, match_ids, seed


def test_tenant_isolation_on_every_endpoint(db):
    app = make_app(db)
    acme, other = api_for(app, "acme"), api_for(app, "globex")
    seed(acme)
    E = "/v1/events/e1"
    calls = [
        ("get", E, None), ("patch", E, {"name": "hijack"}), ("delete", E, None),
        ("post", f"{E}/attendees", {"attendees": [{"id": "mole"}]}), ("get", f"{E}/attendees", None),
        ("get", f"{E}/attendees/founder", None), ("patch", f"{E}/attendees/founder", {"name": "x"}),
        ("delete", f"{E}/attendees/founder", None), ("get", f"{E}/attendees/founder/matches", None),
        ("get", f"{E}/attendees/founder/feedback", None),
        ("post", f"{E}/feedback", {"from_id": "founder", "to_id": "investor", "kind": "blocked"}),
        ("post", f"{E}/table-plans", {"rounds": 1, "table_size": 2}),
    ]
    for method, path, body in calls:
        kwargs = {"json": body} if body is not None else {}
        err = assert_error(getattr(other, method)(path, **kwargs), 404, "not_found")
        assert err["message"] == "unknown event 'e1'", (method, path)
    assert other.get("/v1/events").get_json() == {"events": []}
    # the other tenant may use the same event id for its own event, independently
    seed(other, attendees=TOY[:2])
    assert other.get(E).get_json()["attendee_count"] == 2
    # and acme's event is untouched by all of the above
    assert acme.get(E).get_json()["name"] == "Toy"
    assert acme.get(E).get_json()["attendee_count"] == len(TOY)
    assert acme.get(f"{E}/attendees/founder").get_json()["name"] == "Ana"
    assert "investor" in match_ids(acme, "e1", "founder")
    app.extensions["matchmaker"].store.dispose()


def test_restart_reencodes_nothing(db):
    app = make_app(db)
    api = api_for(app, "acme")
    seed(api)
    before = match_ids(api, "e1", "founder")
    first = app.extensions["matchmaker"].registry.encoder.encoded_
    n_texts = len({t for a in TOY for f in ("goals", "offers", "interests") for t in a[f]})
    assert first >= n_texts  # the first process encoded every text (identity items too)
    app.extensions["matchmaker"].store.dispose()

    again = make_app(db)  # a new process: empty memory, same database
    api2 = Api(again, api.key)
    for aid in ("founder", "hiring", "gardener"):
        match_ids(api2, "e1", aid)
    reg = again.extensions["matchmaker"].registry
    assert reg.encoder.encoded_ == 0, "the restarted service must rebuild its indexes from stored vectors"
    assert reg.full_loads_ == 1
    assert match_ids(api2, "e1", "founder") == before
    # re-sending the same attendees encodes nothing either
    api2.post("/v1/events/e1/attendees", json={"attendees": TOY})
    assert reg.encoder.encoded_ == 0
    again.extensions["matchmaker"].store.dispose()


def test_two_workers_see_each_others_writes(db):
    a, b = make_app(db), make_app(db)
    wa = api_for(a, "acme")
    wb = Api(b, wa.key)
    seed(wa)
    assert match_ids(wb, "e1", "founder")[0] == "investor"  # b loads from the database
    assert match_ids(wa, "e1", "founder")[0] == "investor"
    loads = b.extensions["matchmaker"].registry.full_loads_

    # a write through a: visible to the very next request on b (incremental sync, no reload)
    wa.post("/v1/events/e1/attendees", json=[{"id": "angel", "role": "investor", "company": "Angels",
                                              "goals": ["fintech founders raising seed"],
                                              "offers": ["seed funding for fintech"]}])
    assert "angel" in match_ids(wb, "e1", "founder")
    wa.patch("/v1/events/e1/attendees/gardener", json={"goals": ["senior rust engineers"]})
    assert match_ids(wb, "e1", "gardener")[0] == "engineer"
    wa.post("/v1/events/e1/feedback", json={"from_id": "founder", "to_id": "investor", "kind": "declined"})
    assert "investor" not in match_ids(wb, "e1", "founder")
    wb.delete("/v1/events/e1/attendees/angel")
    assert "angel" not in match_ids(wa, "e1", "founder")
    assert "angel" not in b.extensions["matchmaker"].registry.loaded()[_pk(b)]
    wa.patch("/v1/events/e1", json={"policy": {"role_rules": {"hiring manager": ["engineer"]}}})
    assert match_ids(wb, "e1", "hiring") == ["engineer"]
    reg = b.extensions["matchmaker"].registry
    assert reg.full_loads_ == loads and reg.incremental_syncs_ >= 4
    # the event deleted through b is gone for a, and recreated from scratch
    wb.delete("/v1/events/e1")
    assert_error(wa.get("/v1/events/e1/attendees/founder/matches"), 404, "not_found")
    seed(wb, attendees=TOY[:2])
    assert match_ids(wa, "e1", "founder") == ["investor"]
    for app in (a, b):
        app.extensions["matchmaker"].store.dispose()


def _pk(app) -> int:
    (pk,) = app.extensions["matchmaker"].registry.loaded()
    return pk


def test_worker_far_behind_reloads(db, monkeypatch):
    import service.storage as storage

    monkeypatch.setattr(storage, "KEEP_CHANGES", 2)
    a, b = make_app(db), make_app(db)
    wa = api_for(a, "acme")
    wb = Api(b, wa.key)
    seed(wa)
    match_ids(wb, "e1", "founder")
    for i in range(70):  # pruning runs every 64th write
        wa.post("/v1/events/e1/attendees", json=[{"id": f"n{i}", "goals": ["seed funding for fintech"]}])
    wa.delete("/v1/events/e1/attendees/n0")
    ids = match_ids(wb, "e1", "investor", limit=100)
    assert "n0" not in ids and "n69" in ids
    assert b.extensions["matchmaker"].registry.full_loads_ == 2
    for app in (a, b):
        app.extensions["matchmaker"].store.dispose()


def test_a_failing_batch_writes_nothing(db, monkeypatch):
    app = make_app(db)
    api = api_for(app, "acme")
    seed(api)
    store = app.extensions["matchmaker"].store
    import service.db as t

    # break the last statement of the transaction: the rows written before it must roll back
    real = store._collect

    def boom(c, hashes):
        real(c, hashes)
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_collect", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    changed = [dict(TOY[0], name="CHANGED"), {"id": "newbie", "goals": ["x"]}]
    assert_error(api.post("/v1/events/e1/attendees", json=changed), 500, "internal_error")
    monkeypatch.setattr(store, "_collect", real)
    assert api.get("/v1/events/e1/attendees/founder").get_json()["name"] == "Ana"
    assert_error(api.get("/v1/events/e1/attendees/newbie"), 404, "not_found")
    with store.engine.connect() as c:
        from sqlalchemy import func, select

        assert c.execute(select(func.count()).select_from(t.attendees)).scalar() == len(TOY)
    store.dispose()


def test_other_workers_forget_erased_data_without_being_asked(db):
    a, b = make_app(db), make_app(db, SWEEP_SECONDS=0)
    wa = api_for(a, "acme")
    wb = Api(b, wa.key)
    seed(wa)
    seed(wa, event_id="e2", attendees=TOY[:2])
    match_ids(wb, "e1", "founder")
    match_ids(wb, "e2", "founder")
    reg = b.extensions["matchmaker"].registry
    assert len(reg.loaded()) == 2
    wa.delete("/v1/events/e1/attendees/gardener")
    wa.delete("/v1/events/e2")
    b.test_client().get("/healthz")  # any request to b, about anything
    (m,) = reg.loaded().values()
    assert "gardener" not in m and "founder" in m
    for app in (a, b):
        app.extensions["matchmaker"].store.dispose()
