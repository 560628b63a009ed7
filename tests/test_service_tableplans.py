"""``POST /v1/events/{event}/table-plans``: validated into TablePlanRequest, planned by the engine, known answer
on a toy event (two obvious pairs), and its error paths in the one error shape."""

from __future__ import annotations

import pytest
from service_support import TOY, api_for, assert_error, make_app, make_db, seed


@pytest.fixture
def api(tmp_path):
    app = make_app(make_db("sqlite", tmp_path))
    a = api_for(app, "acme")
    seed(a, attendees=TOY[:4])  # founder+investor, hiring+engineer
    return a


def test_plan_pairs_the_obvious_pairs(api):
    r = api.post("/v1/events/e1/table-plans", json={"rounds": 1, "table_size": 2, "seed": 1})
    assert r.status_code == 200, r.get_json()
    plan = r.get_json()
    assert plan["event"] == "e1"
    tables = {frozenset(t["seats"]) for t in plan["rounds"][0]["tables"]}
    assert tables == {frozenset({"founder", "investor"}), frozenset({"hiring", "engineer"})}


def test_three_rounds_of_pairs_never_repeat(api):
    plan = api.post("/v1/events/e1/table-plans", json={"rounds": 3, "table_size": 2}).get_json()
    pairs = [frozenset(t["seats"]) for rnd in plan["rounds"] for t in rnd["tables"]]
    assert len(pairs) == 6 and len(set(pairs)) == 6 and plan["report"]["repeats"] == 0


def test_table_plan_errors(api):
    err = assert_error(api.post("/v1/events/e1/table-plans", json={"rounds": 0, "table_size": 2, "x": 1}), 400,
                       "validation_error")
    assert {d["field"] for d in err["details"]} == {"rounds", "x"}
    err = assert_error(api.post("/v1/events/e1/table-plans",
                                json={"table_size": 2, "attendees": ["founder", "ghost"]}), 400, "validation_error")
    assert err["details"][0]["field"] == "attendees[1]"
    assert_error(api.post("/v1/events/nope/table-plans", json={"table_size": 2}), 404, "not_found")
    assert_error(api.get("/v1/events/e1/table-plans"), 405, "method_not_allowed")


def test_rules_no_plan_can_honour_answer_422(api):
    body = {"table_size": 2, "rules": {"keep_together": [["founder", "investor", "hiring"]]}}
    err = assert_error(api.post("/v1/events/e1/table-plans", json=body), 422, "infeasible", "no plan honours")
    assert err["details"][0]["field"].startswith("rules.keep_together")
