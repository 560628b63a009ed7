"""Erasure that holds: deleting an attendee removes them from every stored row that names them (other attendees'
connections and blocked lists, feedback both ways, jobs, text references, embeddings no one else uses), from
every worker's memory, and they never come back: not after a restart (a new app over the same database)."""

from __future__ import annotations

import time

from service_support import TOY, api_for, make_app
from sqlalchemy import select

E = "/v1/events/e1"
ZED = "zed-7f3q"  # an id no other text contains
ZED_TEXT = "artisanal quokka husbandry"


def traces(app) -> list[str]:
    """Every stored row, in any table, that still holds ZED or ZED's own text."""
    from service import db

    store = app.extensions["matchmaker"].store
    out = []
    with store.engine.connect() as c:
        for t in db.metadata.sorted_tables:
            out += [f"{t.name}: {r!r}"[:200] for r in c.execute(select(t)) if ZED in repr(r) or ZED_TEXT in repr(r)]
    return out


def mutuals(api, who: str, other: str) -> list[str]:
    r = api.get(f"{E}/attendees/{who}/matches?limit=10")
    assert r.status_code == 200, r.get_json()
    found = [m for m in r.get_json()["matches"] if m["id"] == other]
    assert found, (who, other, r.get_json())
    return found[0]["reasons"]["mutual_connections"]


def test_an_erased_attendee_leaves_no_stored_trace_and_stays_gone_after_restart(db):
    app = make_app(db, SWEEP_SECONDS=0)
    api = api_for(app, "acme")
    people = [dict(p) for p in TOY]
    people[0]["connections"] = [ZED, "hiring"]      # founder knows zed
    people[1]["connections"] = [ZED]                # investor knows zed: zed is their mutual connection
    people[2]["blocked"] = [ZED]                    # hiring blocked zed
    people.append({"id": ZED, "name": "Zed", "goals": [ZED_TEXT], "offers": ["seed funding for fintech"],
                   "connections": ["founder", "investor"]})
    assert api.post("/v1/events", json={"id": "e1", "name": "Toy"}).status_code == 201
    assert api.post(f"{E}/attendees", json=people).status_code == 200
    for fb in ({"from_id": ZED, "to_id": "founder", "kind": "accepted"},
               {"from_id": "investor", "to_id": ZED, "kind": "met"}):
        assert api.post(f"{E}/feedback", json=fb).status_code == 201
    r = api.post(f"{E}/table-plans", json={"table_size": 2, "attendees": ["founder", ZED]},
                 headers={"Prefer": "respond-async"})
    deadline = time.monotonic() + 60
    while api.get(r.headers["Location"]).get_json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    other_worker = api_for(make_app(db, SWEEP_SECONDS=0), "acme")  # a second worker, loaded before the erasure
    assert mutuals(api, "founder", "investor") == [ZED]
    assert mutuals(other_worker, "founder", "investor") == [ZED]
    assert traces(app)  # the check can see them

    assert api.delete(f"{E}/attendees/{ZED}").status_code == 204

    assert traces(app) == []
    assert api.get(f"{E}/attendees/founder").get_json()["connections"] == ["hiring"]
    assert api.get(f"{E}/attendees/investor").get_json()["connections"] == []
    assert api.get(f"{E}/attendees/hiring").get_json()["blocked"] == []
    assert api.get(f"{E}/attendees/{ZED}").status_code == 404
    for worker in (api, other_worker):
        assert mutuals(worker, "founder", "investor") == []
        assert ZED not in api.get(f"{E}/attendees/founder/matches?limit=10").get_data(as_text=True)
    other_worker.app.extensions["matchmaker"].store.dispose()
    app.extensions["matchmaker"].store.dispose()

    again = make_app(db)  # restart: a new process over the same database
    api2 = api_for(again, "acme")
    assert traces(again) == []
    for who in ("founder", "investor", "hiring", "engineer", "gardener"):
        assert ZED not in api2.get(f"{E}/attendees/{who}/matches?limit=10").get_data(as_text=True)
        assert ZED not in api2.get(f"{E}/attendees/{who}").get_data(as_text=True)
        assert ZED not in api2.get(f"{E}/attendees/{who}/feedback").get_data(as_text=True)
    assert mutuals(api2, "founder", "investor") == []
    again.extensions["matchmaker"].store.dispose()
