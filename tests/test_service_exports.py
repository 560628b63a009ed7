"""Bulk reads over HTTP, SQLite and PostgreSQL: every attendee's profile page by page (cursor and next links,
``updated_since`` and ``since_version`` syncs), many lists in one request (equal to one-by-one GETs), the event's
feedback; and the ``updated_at`` column added to a database made before it existed."""

from __future__ import annotations

import time

import pytest
from service_support import TOY, Api, api_for, assert_error, make_app, match_ids, seed


@pytest.fixture
def api(app) -> Api:
    return api_for(app, "acme")


def _walk(api: Api, url: str) -> tuple[list, list[dict]]:
    """Follow ``next`` links from ``url``; every item and every page body."""
    items, pages = [], []
    while url:
        r = api.get(url)
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        pages.append(body)
        items += body["attendees"]
        assert (r.headers.get("Link") is not None) == (body["next"] is not None)
        url = body["next"]
    return items, pages


def test_full_profiles_page_by_page_round_trip(api):
    seed(api)
    ids = sorted(a["id"] for a in TOY)
    items, pages = _walk(api, "/v1/events/e1/attendees?limit=2")
    assert [len(p["attendees"]) for p in pages] == [2, 2, 1]
    assert [a["id"] for a in items] == ids
    assert all(p["total"] == 5 and p["limit"] == 2 for p in pages)
    assert pages[0]["offset"] == 0 and pages[1]["offset"] is None  # the first page by offset, then by cursor
    assert pages[-1]["next_cursor"] is None and pages[0]["next"].startswith("/v1/events/e1/attendees?")
    # full profiles: what was sent, field for field (defaults filled)
    by_id = {a["id"]: a for a in items}
    for a in TOY:
        assert {k: by_id[a["id"]][k] for k in a} == a
        assert by_id[a["id"]] == api.get(f"/v1/events/e1/attendees/{a['id']}").get_json()
    # the page is the upsert's own input: it loads into another event unchanged
    api.post("/v1/events", json={"id": "copy", "name": "Copy"})
    assert api.post("/v1/events/copy/attendees", json={"attendees": items}).status_code == 200
    assert _walk(api, "/v1/events/copy/attendees")[0] == items
    # ids only, and offset paging as before
    body = api.get("/v1/events/e1/attendees?fields=id&limit=2&offset=1").get_json()
    assert body["attendees"] == ids[1:3] and body["offset"] == 1 and body["total"] == 5
    assert _walk(api, "/v1/events/e1/attendees?fields=id&limit=3")[0] == ids


def test_cursor_pages_hold_under_writes(api):
    seed(api)
    first = api.get("/v1/events/e1/attendees?limit=2").get_json()
    assert [a["id"] for a in first["attendees"]] == ["engineer", "founder"]
    # a new attendee sorting before the cursor does not shift the next page (offset paging would)
    api.post("/v1/events/e1/attendees", json=[{"id": "aaron", "name": "Aaron"}])
    rest, _ = _walk(api, first["next"])
    assert [a["id"] for a in rest] == ["gardener", "hiring", "investor"]


def test_updated_since_and_since_version_list_what_changed(api):
    seed(api)
    base = api.get("/v1/events/e1/attendees").get_json()
    assert base["as_of"] and base["version"] >= 1
    # nothing written since: both filters give an empty page
    assert api.get("/v1/events/e1/attendees", query_string={"updated_since": base["as_of"]}).get_json()[
        "attendees"] == []
    assert api.get(f"/v1/events/e1/attendees?since_version={base['version']}").get_json()["attendees"] == []
    time.sleep(0.01)
    assert api.patch("/v1/events/e1/attendees/gardener", json={"bio": "Grows tomatoes."}).status_code == 200
    api.post("/v1/events/e1/attendees", json=[{"id": "zed", "name": "Zed"}])
    for q in ({"updated_since": base["as_of"]}, {"since_version": base["version"]}):
        body = api.get("/v1/events/e1/attendees", query_string=q).get_json()
        assert [a["id"] for a in body["attendees"]] == ["gardener", "zed"], q
        assert body["total"] == 2 and body["attendees"][0]["bio"] == "Grows tomatoes."
    # the filter travels with the next link
    items, pages = _walk(api, f"/v1/events/e1/attendees?since_version={base['version']}&limit=1")
    assert [a["id"] for a in items] == ["gardener", "zed"] and "since_version=" in pages[0]["next"]
    # the new watermark lists nothing again
    later = api.get("/v1/events/e1/attendees").get_json()
    assert later["version"] > base["version"] and later["as_of"] > base["as_of"]
    assert api.get("/v1/events/e1/attendees", query_string={"updated_since": later["as_of"]}).get_json()[
        "attendees"] == []
    # a day before: everyone; a time with an offset (an unescaped '+' arrives as a space)
    assert api.get("/v1/events/e1/attendees?updated_since=2000-01-01").get_json()["total"] == 6
    assert api.get("/v1/events/e1/attendees?updated_since=2000-01-01T00:00:00+01:00").get_json()["total"] == 6


def test_listing_errors_name_the_parameter(api):
    seed(api)
    url = "/v1/events/e1/attendees"
    assert_error(api.get(f"{url}?cursor=bm9wZQ"), 400, "validation_error", "cursor")
    assert_error(api.get(f"{url}?cursor=!!"), 400, "validation_error", "cursor")
    cur = api.get(f"{url}?limit=1").get_json()["next_cursor"]
    assert_error(api.get(f"{url}?cursor={cur}&offset=2"), 400, "validation_error", "offset")
    assert_error(api.get(f"{url}?updated_since=yesterday"), 400, "validation_error", "updated_since")
    assert_error(api.get(f"{url}?since_version=-1"), 400, "validation_error", "since_version")
    assert_error(api.get(f"{url}?fields=name"), 400, "validation_error", "fields")
    assert_error(api.get(f"{url}?limit=1001"), 400, "validation_error", "limit")
    assert_error(api.get("/v1/events/nope/attendees"), 404, "not_found")


def test_batch_lists_equal_one_by_one(api):
    seed(api)
    api.post("/v1/events/e1/feedback", json={"from_id": "founder", "to_id": "investor", "kind": "declined"})
    api.post("/v1/events/e1/feedback", json={"from_id": "gardener", "to_id": "engineer", "kind": "blocked"})
    ids = ["founder", "engineer", "hiring", "gardener", "investor"]
    r = api.post("/v1/events/e1/matches:batch", json={"attendees": ids, "limit": 3})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["event"] == "e1" and body["limit"] == 3
    assert [x["attendee"] for x in body["lists"]] == ids
    for x in body["lists"]:
        one = api.get(f"/v1/events/e1/attendees/{x['attendee']}/matches?limit=3").get_json()["matches"]
        assert x["matches"] == one, x["attendee"]
    lists = {x["attendee"]: [m["id"] for m in x["matches"]] for x in body["lists"]}
    assert "investor" not in lists["founder"]  # declined
    assert "gardener" not in lists["engineer"] and "engineer" not in lists["gardener"]  # blocked either way
    assert lists["hiring"][0] == "engineer"  # the known answer: he offers what she seeks
    # without reasons: the same ranking and scores
    bare = api.post("/v1/events/e1/matches:batch", json={"attendees": ids, "limit": 3, "explain": False}).get_json()
    for x, y in zip(body["lists"], bare["lists"], strict=True):
        assert [(m["id"], m["score"]) for m in x["matches"]] == [(m["id"], m["score"]) for m in y["matches"]]
        assert all(m["reasons"]["they_offer_what_you_seek"] == [] for m in y["matches"])
    # the policy's list length by default
    assert api.post("/v1/events/e1/matches:batch", json={"attendees": ["founder"]}).get_json()["limit"] == 10
    assert match_ids(api, "e1", "hiring", limit=3) == lists["hiring"]


def test_batch_errors(api):
    seed(api)
    url = "/v1/events/e1/matches:batch"
    err = assert_error(api.post(url, json={"attendees": ["founder", "ghost", "nobody"]}), 404, "not_found",
                       r"attendees\[1\]: unknown attendee 'ghost'.*\(and 1 more\)")
    assert [d["field"] for d in err["details"]] == ["attendees[1]", "attendees[2]"]
    assert_error(api.post(url, json={"attendees": ["founder", "founder"]}), 400, "validation_error",
                 r"attendees\[1\]: id 'founder' repeats attendees\[0\]")
    assert_error(api.post(url, json={"attendees": []}), 400, "validation_error", "attendees")
    assert_error(api.post(url, json={"attendees": ["founder"], "limit": 101}), 400, "validation_error", "limit")
    assert_error(api.post(url, json={"attendees": ["founder"], "k": 3}), 400, "validation_error", "k")
    assert_error(api.post(url, json={"attendees": [f"p{i}" for i in range(300)], "limit": 100}), 400,
                 "validation_error", "at most 20000 matches")
    assert_error(api.get(url), 405, "method_not_allowed")


def test_event_feedback_lists_and_filters(api):
    seed(api)
    for fb in ({"from_id": "founder", "to_id": "investor", "kind": "accepted"},
               {"from_id": "investor", "to_id": "founder", "kind": "met"},
               {"from_id": "founder", "to_id": "gardener", "kind": "hidden"}):
        assert api.post("/v1/events/e1/feedback", json=fb).status_code == 201
    body = api.get("/v1/events/e1/feedback").get_json()
    assert body["total"] == 3 and len(body["feedback"]) == 3
    assert body["feedback"][0] == {"from_id": "founder", "to_id": "investor", "kind": "accepted"}
    assert [f["kind"] for f in api.get("/v1/events/e1/feedback?from_id=founder").get_json()["feedback"]] == [
        "accepted", "hidden"]
    assert api.get("/v1/events/e1/feedback?to_id=founder").get_json()["feedback"] == [
        {"from_id": "investor", "to_id": "founder", "kind": "met"}]
    assert api.get("/v1/events/e1/feedback?kind=hidden&limit=1").get_json()["total"] == 1
    page = api.get("/v1/events/e1/feedback?limit=2&offset=2").get_json()
    assert len(page["feedback"]) == 1 and page["total"] == 3
    assert_error(api.get("/v1/events/e1/feedback?kind=liked"), 400, "validation_error", "kind")


def test_updated_at_column_is_added_to_an_older_database(db, tmp_path):
    """A database made before ``mm_attendees.updated_at``: the store adds the column and fills it; listing,
    syncing and upserts work on it."""
    from sqlalchemy import inspect, text

    from service.storage import Store

    app = make_app(db)
    api = api_for(app, "acme")
    seed(api)
    store = app.extensions["matchmaker"].store
    name = f'"{db.schema}".mm_attendees' if db.schema else "mm_attendees"
    with store.engine.begin() as c:
        c.execute(text(f"ALTER TABLE {name} DROP COLUMN updated_at"))
    assert "updated_at" not in {c["name"] for c in inspect(store.engine).get_columns("mm_attendees",
                                                                                     schema=db.schema)}
    store.dispose()
    again = Store(db.url, schema=db.schema)
    again.create_all()
    cols = {c["name"] for c in inspect(again.engine).get_columns("mm_attendees", schema=db.schema)}
    assert "updated_at" in cols
    with again.engine.connect() as c:
        assert c.execute(text(f"SELECT COUNT(*) FROM {name} WHERE updated_at IS NULL")).scalar() == 0
    again.create_all()  # a second time changes nothing
    again.dispose()
    app2 = make_app(db)
    api2 = Api(app2, api.key)
    base = api2.get("/v1/events/e1/attendees").get_json()
    assert base["total"] == 5 and base["as_of"]
    time.sleep(0.01)
    api2.patch("/v1/events/e1/attendees/founder", json={"title": "CEO"})
    assert [a["id"] for a in api2.get("/v1/events/e1/attendees", query_string={"updated_since": base["as_of"]})
            .get_json()["attendees"]] == ["founder"]
    app2.extensions["matchmaker"].store.dispose()
    app.extensions["matchmaker"].store.dispose()
