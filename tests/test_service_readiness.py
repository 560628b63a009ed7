"""``/readyz`` is 503 until the worker can answer at once: its model loaded and the recent events in memory;
then 200, and the first list is served from memory (no load on the request)."""

from __future__ import annotations

import threading
import time

import numpy as np
from service_support import api_for, assert_error, make_app, make_db, match_ids, seed

from matcher import HashingEncoder


class GatedEncoder(HashingEncoder):
    """A stand-in model whose first encode waits for ``gate`` (a model loading)."""

    def __init__(self, gate: threading.Event, dim: int = 64):
        super().__init__(dim=dim)
        self.gate = gate

    def encode(self, texts) -> np.ndarray:
        self.gate.wait(30)
        return super().encode(texts)


def _ready(client, within: float = 20.0):
    end = time.monotonic() + within
    while time.monotonic() < end:
        r = client.get("/readyz")
        if r.status_code == 200:
            return r
        time.sleep(0.05)
    raise AssertionError(client.get("/readyz").get_json())


def test_readyz_waits_for_the_model_and_the_events(tmp_path):
    db = make_db("sqlite", tmp_path)
    first = make_app(db)
    seed(api_for(first, "acme"))
    seed(api_for(first, "globex"), event_id="e2")
    key = api_for(first, "acme").key
    first.extensions["matchmaker"].store.dispose()

    app = make_app(db)  # a fresh worker on the same database
    gate = threading.Event()
    registry = app.extensions["matchmaker"].registry
    registry.encoder_factory = lambda: GatedEncoder(gate)
    c = app.test_client()
    err = assert_error(c.get("/readyz"), 503, "service_unavailable", "not ready: loading the model hashing-64")
    assert c.get("/readyz").headers["Retry-After"] == "1" and err["details"] == []
    assert registry.loaded() == {}
    gate.set()
    assert _ready(c).get_json() == {"status": "ok"}
    assert len(registry.loaded()) == 2 and registry.full_loads_ == 2  # both events are in memory
    from service_support import Api

    api = Api(app, key)
    assert match_ids(api, "e1", "founder")[0] == "investor"
    assert registry.full_loads_ == 2  # the first list needed no load
    app.extensions["matchmaker"].store.dispose()


def test_warm_on_start_and_a_failed_warm_up(tmp_path):
    db = make_db("sqlite", tmp_path)
    app = make_app(db, WARM_ON_START=True)
    seed(api_for(app, "acme"))
    assert _ready(app.test_client()).status_code == 200
    app.extensions["matchmaker"].store.dispose()

    from matcher.encoder import EncoderError

    class Broken(HashingEncoder):
        def encode(self, texts):
            raise EncoderError("cannot load sentence-transformers model 'nope' offline")

    app = make_app(db)
    app.extensions["matchmaker"].registry.encoder_factory = lambda: Broken(dim=64)
    c = app.test_client()
    assert_error(c.get("/readyz"), 503, "service_unavailable", "warm-up failed: cannot load .* 'nope'")
    app.extensions["matchmaker"].store.dispose()
