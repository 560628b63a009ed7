"""Rate limits per API key: RateLimit-* headers on every /v1 answer, 429 in the one error shape with Retry-After
once a key is over its limit, other keys and the health checks unaffected."""

from __future__ import annotations

import pytest
from service_support import api_for, assert_error, make_app, make_db


@pytest.fixture
def app(tmp_path):
    a = make_app(make_db("sqlite", tmp_path), RATE_LIMIT="5 per minute")
    yield a
    a.extensions["matchmaker"].store.dispose()


def test_a_key_over_its_limit_gets_429_and_others_do_not(app):
    acme, globex = api_for(app, "acme"), api_for(app, "globex")
    for i in range(5):
        r = acme.get("/v1/events")
        assert r.status_code == 200
        assert r.headers["RateLimit-Limit"] == "5"
        assert r.headers["RateLimit-Remaining"] == str(4 - i)
        assert 0 <= int(r.headers["RateLimit-Reset"]) <= 60
        assert r.headers["RateLimit-Policy"] == "5;w=60"
    r = acme.get("/v1/events")
    assert_error(r, 429, "too_many_requests", r"rate limit exceeded: at most 5 per 1 minute per API key")
    assert r.headers["RateLimit-Remaining"] == "0"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert_error(acme.post("/v1/events", json={"id": "e9"}), 429, "too_many_requests")
    assert globex.get("/v1/events").status_code == 200  # another key has its own budget
    c = app.test_client()
    for _ in range(10):  # health checks, docs and the OpenAPI document are not limited
        assert c.get("/healthz").status_code == 200
        assert "RateLimit-Limit" not in c.get("/v1/openapi.json").headers


def test_limits_can_be_turned_off_and_bad_rules_are_refused(tmp_path):
    app = make_app(make_db("sqlite", tmp_path), RATE_LIMIT="")
    api = api_for(app, "acme")
    r = api.get("/v1/events")
    assert r.status_code == 200 and "RateLimit-Limit" not in r.headers
    app.extensions["matchmaker"].store.dispose()
    with pytest.raises(ValueError):
        make_app(make_db("sqlite", tmp_path), RATE_LIMIT="lots please")
