"""The OpenAPI document is generated from the pydantic schemas, covers every route, and every $ref resolves;
the docs page works offline (no external URL)."""

from __future__ import annotations

import re

from service_support import make_app, make_db


def _refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def test_spec_covers_every_route_and_resolves(tmp_path):
    app = make_app(make_db("sqlite", tmp_path))
    spec = app.test_client().get("/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "docs", "index", "openapi"):
            continue
        path = re.sub(r"<(\w+)>", lambda m: "{" + m.group(1).removesuffix("_id") + "}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in documented, (method, path)
    for ref in _refs(spec):
        kind, name = ref.split("/")[-2:]
        assert name in spec["components"][kind], ref
    schemas = spec["components"]["schemas"]
    # generated from the models: field constraints and descriptions come through
    assert schemas["Attendee"]["properties"]["id"]["maxLength"] == 200
    assert "goals" in schemas["Attendee"]["properties"]
    assert set(schemas["Feedback"]["properties"]["kind"]["enum"]) == {"accepted", "declined", "met", "hidden",
                                                                      "blocked"}
    # the Match dataclasses, through TypeAdapter
    assert set(schemas["Match"]["properties"]) == {"id", "score", "reasons"}
    assert "they_offer_what_you_seek" in schemas["Reasons"]["properties"]
    assert set(schemas["ErrorInfo"]["required"]) == {"status", "code", "message", "details"}
    matches = spec["paths"]["/v1/events/{event}/attendees/{attendee}/matches"]["get"]
    assert {p["name"] for p in matches["parameters"]} == {"event", "attendee", "limit", "offset"}
    assert matches["responses"]["404"] == {"$ref": "#/components/responses/Error"}


def test_docs_page_is_self_contained(tmp_path):
    app = make_app(make_db("sqlite", tmp_path))
    html = app.test_client().get("/docs").get_data(as_text=True)
    assert "/v1/openapi.json" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the docs page must not load anything remote"
    assert app.test_client().get("/").headers["Location"] == "/docs"
