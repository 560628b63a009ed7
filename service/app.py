"""The app factory: ``create_app(config=None)`` wires storage, errors, metrics, every resource's blueprint
(events, attendees, matches and feedback in :mod:`service.api`; table plans in :mod:`service.tableplans`),
OpenAPI and the docs page.

Nothing heavy happens here: the encoder and the per-event matchers load lazily, once per process.

>>> app = create_app({"DATABASE_URL": "sqlite://", "ENCODER": "hashing"})
>>> app.test_client().get("/healthz").get_json()
{'status': 'ok'}
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, render_template

from service import errors, metrics
from service.engines import EngineRegistry
from service.errors import ApiError
from service.storage import Store, default_url

ENCODERS = ("model", "hashing")


def default_config() -> dict[str, Any]:
    """Settings, each overridable by an environment variable of the same name prefixed ``MATCHMAKER_``."""
    env = os.environ.get
    return {
        "DATABASE_URL": default_url(),
        "DATABASE_SCHEMA": env("MATCHMAKER_DATABASE_SCHEMA") or None,
        "ENCODER": env("MATCHMAKER_ENCODER", "model"),      # model (all-MiniLM-L6-v2) | hashing (tests, benches)
        "MODEL": env("MATCHMAKER_MODEL") or None,           # another sentence-transformers model on disk
        "HASHING_DIM": int(env("MATCHMAKER_HASHING_DIM", "384")),
        "MAX_CONTENT_LENGTH": int(env("MATCHMAKER_MAX_BODY", str(16 * 1024 * 1024))),
        "MAX_BATCH": int(env("MATCHMAKER_MAX_BATCH", "5000")),
        "CREATE_TABLES": env("MATCHMAKER_CREATE_TABLES", "1") != "0",
        # adds X-Matchmaker-Worker: PID to answers (tests and load tests telling workers apart)
        "EXPOSE_WORKER": env("MATCHMAKER_EXPOSE_WORKER", "0") == "1",
    }


@dataclass
class Services:
    """What the app holds, under ``app.extensions["matchmaker"]``."""

    store: Store
    registry: EngineRegistry


def encoder_factory(config: dict[str, Any]):
    kind = config["ENCODER"]
    if kind not in ENCODERS:
        raise ValueError(f"ENCODER must be one of {', '.join(ENCODERS)}; got {kind!r}")
    if kind == "hashing":
        from matcher import HashingEncoder

        dim = int(config["HASHING_DIM"])
        return lambda: HashingEncoder(dim=dim)
    from matcher import Encoder

    model = config.get("MODEL")
    return lambda: Encoder(model)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app. ``config`` overrides :func:`default_config` (e.g. ``{"ENCODER": "hashing"}``)."""
    app = Flask(__name__)
    app.config.update(default_config())
    app.config.update(config or {})
    app.json.sort_keys = False

    store = Store(app.config["DATABASE_URL"], schema=app.config["DATABASE_SCHEMA"])
    if app.config["CREATE_TABLES"]:
        try:
            store.create_all()
        except Exception:  # another worker created them at the same moment; /readyz reports real trouble
            pass
    app.extensions["matchmaker"] = Services(store, EngineRegistry(store, encoder_factory(app.config)))

    errors.init_app(app)
    metrics.init_app(app)
    registry = app.extensions["matchmaker"].registry
    every = float(app.config.get("SWEEP_SECONDS", 5.0))

    @app.teardown_request
    def _sweep(_exc) -> None:
        try:
            registry.sweep(every)
        except Exception:  # a database hiccup here must not affect the answer already sent
            pass

    if app.config["EXPOSE_WORKER"]:
        pid = str(os.getpid())

        @app.after_request
        def _worker(resp: Response) -> Response:
            resp.headers["X-Matchmaker-Worker"] = pid
            return resp

    from service import api, meetings, tableplans

    for blueprint in (api.bp, tableplans.bp, meetings.bp):
        app.register_blueprint(blueprint)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz():
        try:
            store.ping()
        except Exception as exc:
            raise ApiError(503, f"database not ready: {type(exc).__name__}") from None
        return {"status": "ok"}

    @app.get("/v1/openapi.json")
    def openapi():
        from service.openapi import build_spec

        if "spec" not in app.extensions:
            app.extensions["spec"] = build_spec()
        return app.extensions["spec"]

    @app.get("/docs")
    def docs():
        return render_template("docs.html")

    @app.get("/")
    def index():
        return Response(status=302, headers={"Location": "/docs"})

    return app
