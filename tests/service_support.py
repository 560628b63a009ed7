"""Helpers for the service tests: a database per test (SQLite file, or a fresh PostgreSQL schema), the app on
it with the hashing encoder, and a small client that carries a key.

PostgreSQL: ``DATABASE_URL_TEST`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Its tests are
skipped when no server answers, unless the environment variable ``CI`` is set: then they fail.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

PG_URL = os.environ.get("DATABASE_URL_TEST", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

TOY = [
    {"id": "founder", "name": "Ana", "role": "founder", "company": "PayFlow",
     "goals": ["seed funding for fintech"], "offers": ["payments product demos"], "interests": ["fintech"]},
    {"id": "investor", "name": "Ben", "role": "investor", "company": "Northwind",
     "goals": ["fintech founders raising seed"], "offers": ["seed funding for fintech"], "interests": ["fintech"]},
    {"id": "hiring", "name": "Cy", "role": "hiring manager", "company": "Globex",
     "goals": ["senior rust engineers"], "offers": ["open rust engineering roles"], "interests": ["rust"]},
    {"id": "engineer", "name": "Di", "role": "engineer", "company": "Initech",
     "goals": ["open rust engineering roles"], "offers": ["senior rust engineers experience"],
     "interests": ["rust"]},
    {"id": "gardener", "name": "Ed", "role": "hobbyist", "company": "",
     "goals": ["tomato growing tips"], "offers": ["compost advice"], "interests": ["gardening"]},
]

_pg_ok: bool | None = None


def pg_available() -> bool:
    global _pg_ok
    if _pg_ok is None:
        from sqlalchemy import create_engine, text

        try:
            eng = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as c:
                c.execute(text("select 1"))
            eng.dispose()
            _pg_ok = True
        except Exception:
            _pg_ok = False
    return _pg_ok


@dataclass
class Db:
    url: str
    schema: str | None
    kind: str


def make_db(kind: str, tmp_path) -> Db:
    if kind == "sqlite":
        return Db(f"sqlite:///{tmp_path}/mm.sqlite", None, kind)
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI but {PG_URL} does not answer")
        pytest.skip(f"no PostgreSQL at {PG_URL} (set DATABASE_URL_TEST)")
    return Db(PG_URL, f"mm_test_{uuid.uuid4().hex[:12]}", kind)


def drop_db(db: Db) -> None:
    from service.storage import Store

    store = Store(db.url, schema=db.schema)
    if db.schema:
        store.drop_all()
    store.dispose()


def make_app(db: Db, **overrides: Any):
    from service import create_app

    config = {"DATABASE_URL": db.url, "DATABASE_SCHEMA": db.schema, "ENCODER": "hashing", "HASHING_DIM": 64,
              "TESTING": True}
    config.update(overrides)
    return create_app(config)


class Api:
    """The Flask test client with a key on every request."""

    def __init__(self, app, key: str | None):
        self.app = app
        self.client = app.test_client()
        self.key = key

    def _h(self, headers):
        h = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        h.update(headers or {})
        return h

    def get(self, path, headers=None, **kw):
        return self.client.get(path, headers=self._h(headers), **kw)

    def post(self, path, json=None, headers=None, **kw):
        return self.client.post(path, json=json, headers=self._h(headers), **kw)

    def patch(self, path, json=None, headers=None, **kw):
        return self.client.patch(path, json=json, headers=self._h(headers), **kw)

    def delete(self, path, headers=None, **kw):
        return self.client.delete(path, headers=self._h(headers), **kw)

    def put(self, path, json=None, headers=None, **kw):
        return self.client.put(path, json=json, headers=self._h(headers), **kw)


def api_for(app, tenant: str) -> Api:
    return Api(app, app.extensions["matchmaker"].store.create_key(tenant))


def seed(api: Api, event_id: str = "e1", attendees=None, policy=None) -> None:
    body: dict[str, Any] = {"id": event_id, "name": "Toy"}
    if policy is not None:
        body["policy"] = policy
    r = api.post("/v1/events", json=body)
    assert r.status_code == 201, r.get_json()
    r = api.post(f"/v1/events/{event_id}/attendees", json={"attendees": attendees if attendees is not None else TOY})
    assert r.status_code == 200, r.get_json()


def match_ids(api: Api, event_id: str, attendee_id: str, **params) -> list[str]:
    q = "&".join(f"{k}={v}" for k, v in params.items())
    r = api.get(f"/v1/events/{event_id}/attendees/{attendee_id}/matches" + (f"?{q}" if q else ""))
    assert r.status_code == 200, r.get_json()
    return [m["id"] for m in r.get_json()["matches"]]


def assert_error(resp, status: int, code: str, match: str | None = None) -> dict:
    """The one error shape, with this status and code (and a message containing ``match``)."""
    import re

    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.is_json, resp.get_data(as_text=True)[:200]
    body = resp.get_json()
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) == {"status", "code", "message", "details"}
    assert err["status"] == status and err["code"] == code
    assert isinstance(err["message"], str) and err["message"]
    assert all(set(d) == {"field", "message"} for d in err["details"])
    if match is not None:
        assert re.search(match, err["message"]), err["message"]
    return err
