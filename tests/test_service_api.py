"""Every endpoint through the Flask test client, against SQLite and PostgreSQL, on a toy event whose right
answers a person can see: the founder seeks what the investor offers, the hiring manager what the engineer
offers."""

from __future__ import annotations

import pytest
from service_support import TOY, Api, api_for, assert_error, match_ids, seed


@pytest.fixture
def api(app) -> Api:
    return api_for(app, "acme")


def test_event_lifecycle(api):
    r = api.post("/v1/events", json={"id": "e1", "name": "Summit"})
    assert r.status_code == 201 and r.headers["Location"] == "/v1/events/e1"
    body = r.get_json()
    assert body["id"] == "e1" and body["attendee_count"] == 0 and body["policy"]["default_limit"] == 10
    assert api.get("/v1/events/e1").get_json()["name"] == "Summit"
    assert [e["id"] for e in api.get("/v1/events").get_json()["events"]] == ["e1"]

    r = api.patch("/v1/events/e1", json={"policy": {"allow_same_company": True, "default_limit": 3}})
    assert r.status_code == 200
    body = r.get_json()
    assert body["name"] == "Summit" and body["policy"]["allow_same_company"] and body["policy"]["default_limit"] == 3
    assert api.patch("/v1/events/e1", json={"name": "Summit 2"}).get_json()["policy"]["default_limit"] == 3

    assert api.delete("/v1/events/e1").status_code == 204
    assert_error(api.get("/v1/events/e1"), 404, "not_found", "unknown event 'e1'")
    assert api.get("/v1/events").get_json() == {"events": []}


def test_attendees_bulk_upsert_is_idempotent(api):
    seed(api)
    r = api.post("/v1/events/e1/attendees", json={"attendees": TOY})
    assert r.get_json()["created"] == 0 and r.get_json()["updated"] == len(TOY)
    # a bare array is accepted too
    assert api.post("/v1/events/e1/attendees", json=TOY[:2]).get_json()["upserted"] == 2
    assert api.get("/v1/events/e1").get_json()["attendee_count"] == len(TOY)
    page = api.get("/v1/events/e1/attendees?fields=id&limit=2&offset=1").get_json()
    assert {k: page[k] for k in ("attendees", "total", "limit", "offset")} == {
        "attendees": sorted(a["id"] for a in TOY)[1:3], "total": 5, "limit": 2, "offset": 1}
    got = api.get("/v1/events/e1/attendees/founder").get_json()
    assert got["goals"] == ["seed funding for fintech"] and got["company"] == "PayFlow"


def test_bulk_upsert_of_1000(api):
    people = [{"id": f"p{i:04d}", "role": "founder" if i % 2 else "investor",
               "goals": [f"topic {i % 37} funding"], "offers": [f"topic {i % 37} advice"]} for i in range(1000)]
    api.post("/v1/events", json={"id": "big"})
    r = api.post("/v1/events/big/attendees", json={"attendees": people})
    assert r.status_code == 200 and r.get_json()["created"] == 1000
    assert api.get("/v1/events/big").get_json()["attendee_count"] == 1000
    assert len(match_ids(api, "big", "p0001", limit=5)) == 5


def test_matches_known_answer_reasons_and_pagination(api):
    seed(api)
    assert match_ids(api, "e1", "founder")[0] == "investor"
    assert match_ids(api, "e1", "hiring")[0] == "engineer"
    body = api.get("/v1/events/e1/attendees/founder/matches?limit=1").get_json()
    assert body["event"] == "e1" and body["attendee"] == "founder" and body["limit"] == 1 and body["offset"] == 0
    m = body["matches"][0]
    assert set(m) == {"id", "score", "reasons"} and 0 < m["score"] <= 1
    assert m["reasons"]["they_offer_what_you_seek"][0]["theirs"] == "seed funding for fintech"
    full = match_ids(api, "e1", "founder", limit=4)
    pages = match_ids(api, "e1", "founder", limit=2, offset=0) + match_ids(api, "e1", "founder", limit=2, offset=2)
    assert len(full) == 4 and set(pages) == set(full)
    assert match_ids(api, "e1", "founder", limit=2, offset=4) == []


def test_policy_change_applies_to_next_list(api):
    seed(api)
    assert len(match_ids(api, "e1", "founder")) == 4
    api.patch("/v1/events/e1", json={"policy": {"role_rules": {"founder": ["investor"]}}})
    assert match_ids(api, "e1", "founder") == ["investor"]


def test_patch_attendee_changes_their_matches(api):
    seed(api)
    r = api.patch("/v1/events/e1/attendees/gardener", json={"goals": ["senior rust engineers"]})
    assert r.status_code == 200 and r.get_json()["goals"] == ["senior rust engineers"]
    assert r.get_json()["offers"] == ["compost advice"]  # untouched fields stay
    assert api.get("/v1/events/e1/attendees/gardener").get_json()["goals"] == ["senior rust engineers"]
    assert match_ids(api, "e1", "gardener")[0] == "engineer"


@pytest.mark.parametrize("kind,leaves", [("declined", True), ("hidden", True), ("blocked", True),
                                         ("met", True), ("accepted", False)])
def test_feedback_changes_the_next_list(api, kind, leaves):
    seed(api)
    assert "investor" in match_ids(api, "e1", "founder")
    r = api.post("/v1/events/e1/feedback", json={"from_id": "founder", "to_id": "investor", "kind": kind})
    assert r.status_code == 201 and r.get_json()["recorded"] is True
    again = api.post("/v1/events/e1/feedback", json={"from_id": "founder", "to_id": "investor", "kind": kind})
    assert again.status_code == 200 and again.get_json()["recorded"] is False
    assert ("investor" not in match_ids(api, "e1", "founder")) is leaves
    # blocking, declining and meeting work both ways (a decline is a "no" for both); hiding is personal
    assert ("founder" not in match_ids(api, "e1", "investor")) is (kind in ("blocked", "declined", "met"))
    fb = api.get("/v1/events/e1/attendees/founder/feedback").get_json()["feedback"]
    assert fb == [{"from_id": "founder", "to_id": "investor", "kind": kind}]


def test_met_stays_when_the_event_allows_repeats(api):
    seed(api, policy={"allow_repeat_meetings": True})
    api.post("/v1/events/e1/feedback", json={"from_id": "founder", "to_id": "investor", "kind": "met"})
    assert "investor" in match_ids(api, "e1", "founder")
    api.patch("/v1/events/e1", json={"policy": {"allow_repeat_meetings": False}})
    assert "investor" not in match_ids(api, "e1", "founder")


def test_delete_attendee_is_an_erasure(api, app):
    from service.storage import text_hash

    store = app.extensions["matchmaker"].store
    seed(api)
    api.post("/v1/events/e1/feedback", json={"from_id": "founder", "to_id": "investor", "kind": "accepted"})
    api.post("/v1/events/e1/feedback", json={"from_id": "hiring", "to_id": "founder", "kind": "met"})
    assert "founder" in match_ids(api, "e1", "investor")
    tid = store.tenant_id("acme")  # vectors are keyed per tenant

    def sha256(text):
        return text_hash(text, tid)

    own = {sha256(t) for t in ["payments product demos", "founder: PayFlow"]}
    shared = {sha256("fintech"), sha256("seed funding for fintech")}  # the investor lists these too
    assert own <= store.embedding_hashes()

    assert api.delete("/v1/events/e1/attendees/founder").status_code == 204
    assert_error(api.get("/v1/events/e1/attendees/founder"), 404, "not_found", "unknown attendee 'founder'")
    assert_error(api.get("/v1/events/e1/attendees/founder/matches"), 404, "not_found")
    assert_error(api.delete("/v1/events/e1/attendees/founder"), 404, "not_found")
    for other in ("investor", "hiring", "engineer", "gardener"):
        assert "founder" not in match_ids(api, "e1", other, limit=10)
    assert "founder" not in api.get("/v1/events/e1/attendees?fields=id").get_json()["attendees"]
    assert api.get("/v1/events/e1/attendees/hiring/feedback").get_json()["feedback"] == []
    left = store.embedding_hashes()
    assert not (own & left), "embeddings only the erased person used must go"
    assert shared <= left, "embeddings someone else still uses must stay"
    assert store.referenced_text_hashes() >= left


def test_delete_event_erases_everything(api, app):
    store = app.extensions["matchmaker"].store
    seed(api)
    assert store.embedding_hashes()
    assert api.delete("/v1/events/e1").status_code == 204
    assert store.embedding_hashes() == set() and store.referenced_text_hashes() == set()
    seed(api)  # the same id can be created again, from scratch
    assert api.get("/v1/events/e1").get_json()["attendee_count"] == len(TOY)
    assert match_ids(api, "e1", "founder")[0] == "investor"


def test_health_metrics_and_docs(app, api):
    c = app.test_client()
    assert c.get("/healthz").get_json() == {"status": "ok"}
    assert c.get("/readyz").get_json() == {"status": "ok"}
    seed(api)
    match_ids(api, "e1", "founder")
    assert_error(c.get("/metrics"), 404, "not_found", "metrics are off")  # no METRICS_KEY configured
    app.config["METRICS_KEY"] = "scrape-secret"
    assert_error(c.get("/metrics"), 401, "unauthorized", "metrics key")
    assert_error(api.get("/metrics"), 401, "unauthorized", "metrics key")  # a tenant's key is not the metrics key
    text = c.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).get_data(as_text=True)
    assert 'matchmaker_http_requests_total{endpoint="/v1/events/<event_id>/attendees/<attendee_id>/matches"' in text
    assert "matchmaker_http_request_duration_seconds_bucket" in text
    assert "matchmaker_index_attendees" in text and 'matchmaker_index_vectors{facet="goals"}' in text
    page = c.get("/docs")
    assert page.status_code == 200 and b"/v1/openapi.json" in page.data
    assert c.get("/v1/openapi.json").get_json()["openapi"].startswith("3.")


def test_control_characters_in_ids_are_refused_not_500(api):
    seed(api)
    assert_error(api.post("/v1/events", json={"id": "bad\u0000id"}), 400, "validation_error", "control characters")
    err = assert_error(api.post("/v1/events/e1/attendees", json=[{"id": "ok"}, {"id": "nul\u0000"}]), 400,
                       "validation_error")
    assert err["details"][0]["field"] == "attendees[1].id"
    assert_error(api.get("/v1/events/e1/attendees/ok"), 404, "not_found")  # nothing of the batch was written
    assert_error(api.post("/v1/events/e1/feedback", json={"from_id": "founder", "to_id": "x\u0000",
                                                          "kind": "met"}), 400, "validation_error")
    assert_error(api.get("/v1/events/e%00/attendees"), 404, "not_found")
    assert_error(api.get("/v1/events/e1/attendees/a%00b/matches"), 404, "not_found")
    # free text may hold them (stored as JSON escapes)
    r = api.patch("/v1/events/e1/attendees/founder", json={"bio": "tab\there, nul\u0000there"})
    assert r.status_code == 200
    assert api.get("/v1/events/e1/attendees/founder").get_json()["bio"] == "tab\there, nul\u0000there"
