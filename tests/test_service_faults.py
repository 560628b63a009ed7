"""Database faults and races: a database that drops the connection mid-write answers 503 with Retry-After, logs
no traceback and none of the request's personal data, and recovers by itself; deleting an event while writes to
it are in flight ends every request in a 2xx or a 404, never a 5xx; tenants share no embedding: whether a text
is cached tells nothing about another tenant's data."""

from __future__ import annotations

import logging
import socket
import threading

import pytest
from service_support import PG_URL, TOY, Db, api_for, drop_db, make_app, make_db, pg_available, seed

E = "/v1/events/e1"
SECRET = "Zanzibar-7f3q"  # in a name and a bio: must never reach a log line


class FlakyProxy:
    """A TCP proxy to PostgreSQL that drops a connection (both ways) when the client sends ``poison``: the
    database "restarts" exactly while a statement carrying that value is on the wire."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.poison: bytes | None = None
        self.drops = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            for a, b, check in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pump, args=(a, b, check, (client, server)), daemon=True).start()

    def _pump(self, src, dst, check, pair) -> None:
        try:
            while data := src.recv(65536):
                if check and self.poison and self.poison in data:
                    self.drops += 1
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.sock.close()


def test_a_database_fault_mid_write_is_a_503_without_personal_data_in_the_log(tmp_path, caplog):
    if not pg_available():
        pytest.skip("no PostgreSQL")
    from sqlalchemy.engine import make_url

    real = make_url(PG_URL)
    proxy = FlakyProxy((real.host or "127.0.0.1", real.port or 5432))
    db = make_db("postgresql", tmp_path)
    db = Db(real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), db.schema, db.kind)
    app = make_app(db)
    api = api_for(app, "acme")
    seed(api, attendees=TOY[:4])
    person = {"id": "zed", "name": f"Zed {SECRET}", "bio": f"private bio {SECRET}", "goals": ["fintech seed"]}
    caplog.set_level(logging.DEBUG)
    proxy.poison = SECRET.encode()
    for _ in range(3):  # as often as a client retries while the database is down
        r = api.post(f"{E}/attendees", json=[person])
        assert r.status_code == 503, r.get_data(as_text=True)
        assert r.headers["Retry-After"] == "2"
        assert r.get_json()["error"]["code"] == "service_unavailable"
        assert SECRET not in r.get_data(as_text=True)
    assert proxy.drops >= 3
    logged = "\n".join(f"{rec.getMessage()} {rec.exc_text or ''}" for rec in caplog.records)
    assert "database unavailable" in logged
    assert SECRET not in logged and "Traceback" not in logged, logged[:2000]
    assert all(rec.exc_info is None for rec in caplog.records if rec.name.startswith("matchmaker"))

    proxy.poison = None  # the database is back: the same request succeeds, nothing was half-written
    assert api.get(f"{E}/attendees/zed").status_code == 404
    assert api.post(f"{E}/attendees", json=[person]).status_code == 200
    assert api.get(f"{E}/attendees/zed").get_json()["name"] == f"Zed {SECRET}"
    assert api.get(E).get_json()["attendee_count"] == 5
    app.extensions["matchmaker"].store.dispose()
    proxy.close()
    drop_db(Db(PG_URL, db.schema, "postgresql"))


def test_deleting_an_event_under_concurrent_writes_never_answers_5xx(db):
    apps = [make_app(db) for _ in range(3)]  # three workers
    key = apps[0].extensions["matchmaker"].store.create_key("acme")
    from service_support import Api

    apis = [Api(a, key) for a in apps]
    statuses: list[int] = []
    lock = threading.Lock()

    def write(api, i):
        for j in range(4):
            r = api.post(f"{E}/attendees", json=[{"id": f"w{i}-{j}", "goals": ["fintech"]}])
            r2 = api.patch(f"{E}/attendees/founder", json={"title": f"t{i}{j}"})
            r3 = api.post(f"{E}/feedback", json={"from_id": "founder", "to_id": "investor", "kind": "met"})
            with lock:
                statuses.extend([r.status_code, r2.status_code, r3.status_code])

    for _ in range(6):
        seed(apis[0])
        threads = [threading.Thread(target=write, args=(apis[i % 3], i)) for i in range(4)]
        killer = threading.Thread(target=lambda: statuses.append(apis[2].delete(E).status_code))
        for t in threads:
            t.start()
        killer.start()
        for t in threads + [killer]:
            t.join()
        apis[0].delete(E)
    assert statuses and all(s < 500 for s in statuses), sorted(set(statuses))
    assert set(statuses) <= {200, 201, 204, 404}, sorted(set(statuses))
    for a in apps:
        a.extensions["matchmaker"].store.dispose()


def test_tenants_share_no_embedding(db):
    app = make_app(db)
    a, b = api_for(app, "acme"), api_for(app, "globex")
    reg, store = app.extensions["matchmaker"].registry, app.extensions["matchmaker"].store
    for api in (a, b):
        assert api.post("/v1/events", json={"id": "e1"}).status_code == 201
    text = "a very particular goal nobody else has"
    assert a.post(f"{E}/attendees", json=[{"id": "x", "goals": [text]}]).status_code == 200
    before = reg.texts_encoded()
    assert b.post(f"{E}/attendees", json=[{"id": "y", "goals": [text]}]).status_code == 200
    seen = reg.texts_encoded() - before
    assert b.post(f"{E}/attendees", json=[{"id": "z", "goals": ["another text entirely new"]}]).status_code == 200
    fresh = reg.texts_encoded() - before - seen
    assert seen == fresh >= 1  # B's copy of A's text costs exactly what a text no one sent costs
    from service.storage import text_hash

    ta, tb = store.tenant_id("acme"), store.tenant_id("globex")
    assert {text_hash(text, ta), text_hash(text, tb)} <= store.embedding_hashes()
    assert a.delete(f"{E}/attendees/x").status_code == 204  # A's erasure takes A's vector, not B's
    left = store.embedding_hashes()
    assert text_hash(text, ta) not in left and text_hash(text, tb) in left
    store.dispose()
