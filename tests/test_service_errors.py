"""One test walks every error path: each answers the one JSON error shape with the right status and code, none
is a 500, and none changes stored data."""

from __future__ import annotations

import pytest
from service_support import TOY, Api, api_for, assert_error, drop_db, make_app, make_db, match_ids, seed


@pytest.fixture
def setup(tmp_path):
    db = make_db("sqlite", tmp_path)
    app = make_app(db, MAX_CONTENT_LENGTH=64 * 1024, MAX_BATCH=50)
    api = api_for(app, "acme")
    seed(api)
    yield app, api
    app.extensions["matchmaker"].store.dispose()
    drop_db(db)


def _snapshot(api: Api) -> tuple:
    people = {i: api.get(f"/v1/events/e1/attendees/{i}").get_json() for i in
              api.get("/v1/events/e1/attendees?fields=id").get_json()["attendees"]}
    ev = api.get("/v1/events/e1").get_json()
    return ev["policy"], ev["name"], people, match_ids(api, "e1", "founder")


def test_every_error_path_has_the_one_shape(setup):
    app, api = setup
    before = _snapshot(api)
    anon = Api(app, None)
    c = app.test_client()
    E = "/v1/events/e1"

    # 401: missing, malformed, unknown, revoked keys
    assert_error(anon.get("/v1/events"), 401, "unauthorized", "missing API key")
    assert_error(anon.get(E, headers={"Authorization": "Basic abc"}), 401, "unauthorized", "missing API key")
    assert_error(anon.get(E, headers={"Authorization": "Bearer mm_nope"}), 401, "unauthorized", "invalid or revoked")
    assert_error(anon.get(E, headers={"X-API-Key": "x" * 500}), 401, "unauthorized")
    store = app.extensions["matchmaker"].store
    key = store.create_key("acme")
    assert Api(app, key).get(E).status_code == 200
    store.revoke_key(key)
    assert_error(Api(app, key).get(E), 401, "unauthorized", "revoked")

    # 404: unknown endpoint, event, attendee
    assert_error(c.get("/nope"), 404, "not_found", "no such endpoint")
    assert_error(api.get("/v1/events/nope"), 404, "not_found", "unknown event 'nope'")
    for method in ("get", "patch", "delete"):
        assert_error(getattr(api, method)("/v1/events/nope"), 404, "not_found")
    assert_error(api.post("/v1/events/nope/attendees", json=TOY), 404, "not_found")
    assert_error(api.get("/v1/events/nope/attendees/founder/matches"), 404, "not_found")
    assert_error(api.get(f"{E}/attendees/ghost"), 404, "not_found", "unknown attendee 'ghost'")
    assert_error(api.patch(f"{E}/attendees/ghost", json={"name": "x"}), 404, "not_found")
    assert_error(api.delete(f"{E}/attendees/ghost"), 404, "not_found")
    assert_error(api.get(f"{E}/attendees/ghost/matches"), 404, "not_found")
    assert_error(api.get(f"{E}/attendees/ghost/feedback"), 404, "not_found")
    err = assert_error(api.post(f"{E}/feedback", json={"from_id": "founder", "to_id": "ghost", "kind": "met"}),
                       404, "not_found", "to_id: unknown attendee 'ghost'")
    assert err["details"][0]["field"] == "to_id"

    # 405: wrong method, with Allow
    r = api.put(E, json={})
    assert_error(r, 405, "method_not_allowed", "accepts DELETE, GET, PATCH")
    assert "PATCH" in r.headers["Allow"]
    assert_error(api.delete("/v1/events"), 405, "method_not_allowed")
    assert_error(c.post("/healthz"), 405, "method_not_allowed")

    # 409: create an event twice
    assert_error(api.post("/v1/events", json={"id": "e1"}), 409, "conflict", "exists already")

    # 413: body over MAX_CONTENT_LENGTH
    huge = [{"id": f"x{i}", "bio": "b" * 4000} for i in range(20)]
    assert_error(api.post(f"{E}/attendees", json=huge), 413, "payload_too_large", "at most 65536 bytes")

    # 400: not JSON, wrong JSON type, empty body
    r = api.post("/v1/events", data="{not json", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json", "not valid JSON: .* line 1 column 2")
    assert_error(api.post("/v1/events", data=b"\xff\xfe", headers={"Content-Type": "application/json"}),
                 400, "invalid_json", "not UTF-8")
    assert_error(api.post("/v1/events", data=""), 400, "invalid_json", "empty")
    assert_error(api.post("/v1/events", json=[1, 2]), 400, "validation_error", "must be a JSON object, got an array")
    assert_error(api.post(f"{E}/attendees", json="x"), 400, "validation_error", "got a string")

    # 400: validation errors name each bad field
    err = assert_error(api.post("/v1/events", json={"id": "has space", "policy": {"diversity": 3}, "x": 1}),
                       400, "validation_error", r"id: .*whitespace.*\(and 2 more problems\)")
    assert {d["field"] for d in err["details"]} == {"id", "policy.diversity", "x"}
    bad_batch = {"attendees": [TOY[0], {"id": "ok2"}, {"id": "b", "goals": "not a list"}, {"name": "no id"}]}
    err = assert_error(api.post(f"{E}/attendees", json=bad_batch), 400, "validation_error")
    assert [d["field"] for d in err["details"]] == ["attendees[2].goals", "attendees[3].id"]
    assert err["details"][0]["message"].startswith("expected a list of strings")
    dup = {"attendees": [TOY[0], {"id": "z"}, TOY[0]]}
    assert_error(api.post(f"{E}/attendees", json=dup), 400, "validation_error", "duplicate id 'founder'")
    assert_error(api.post(f"{E}/attendees", json={"attendees": TOY, "extra": 1}), 400, "validation_error")
    too_many = [{"id": f"n{i}"} for i in range(51)]
    assert_error(api.post(f"{E}/attendees", json=too_many), 400, "validation_error", "at most 50 attendees")
    err = assert_error(api.patch(E, json={"policy": {"weights": {"intent": 0, "interests": 0, "lexical": 0,
                                                                 "mutual": 0}}}), 400, "validation_error")
    assert err["details"][0]["field"] == "policy.weights"
    assert_error(api.patch(E, json={"id": "other"}), 400, "validation_error")
    err = assert_error(api.patch(f"{E}/attendees/founder", json={"id": "other"}), 400, "validation_error",
                       "id cannot change")
    assert err["details"] == [{"field": "id", "message": err["details"][0]["message"]}]
    err = assert_error(api.patch(f"{E}/attendees/founder", json={"goals": [1], "colour": "red"}), 400,
                       "validation_error")
    assert {d["field"] for d in err["details"]} == {"goals[0]", "colour"}
    for q, field in (("limit=0", "limit"), ("limit=abc", "limit"), ("limit=101", "limit"), ("offset=-1", "offset"),
                     ("offset=450&limit=100", "offset")):
        err = assert_error(api.get(f"{E}/attendees/founder/matches?{q}"), 400, "validation_error")
        assert err["details"][0]["field"] == field
    assert_error(api.get(f"{E}/attendees?limit=5000"), 400, "validation_error", "limit")
    for body, field in (({"from_id": "founder", "to_id": "investor", "kind": "love"}, "kind"),
                        ({"from_id": "founder", "to_id": "founder", "kind": "met"}, "to_id"),
                        ({"from_id": "founder"}, "to_id")):
        err = assert_error(api.post(f"{E}/feedback", json=body), 400, "validation_error")
        assert field in {d["field"] for d in err["details"]}

    # nothing above changed stored data
    assert _snapshot(api) == before


def test_an_unexpected_error_is_a_500_in_the_same_shape(setup, monkeypatch):
    app, api = setup
    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(app.extensions["matchmaker"].store, "count_attendees",
                        lambda pk: (_ for _ in ()).throw(RuntimeError("boom")))
    err = assert_error(api.get("/v1/events/e1"), 500, "internal_error", "internal error")
    assert "boom" not in err["message"]


def test_readyz_is_503_when_the_database_is_gone(tmp_path):
    db = make_db("sqlite", tmp_path)
    app = make_app(db, CREATE_TABLES=False)
    assert_error(app.test_client().get("/readyz"), 503, "service_unavailable", "database not ready")
