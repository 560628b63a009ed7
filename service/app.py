"""The app factory: ``create_app(config=None)`` wires storage, errors, metrics, every resource's blueprint
(events, attendees, matches and feedback in :mod:`service.api`; table plans in :mod:`service.tableplans`;
background jobs in :mod:`service.jobs`),
OpenAPI and the docs page.

Nothing heavy happens here: the encoder and the per-event matchers load lazily, once per process.

>>> app = create_app({"DATABASE_URL": "sqlite://", "ENCODER": "hashing"})
>>> app.test_client().get("/healthz").get_json()
{'status': 'ok'}
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, render_template, request

from matcher.encoder import ENCODER_KINDS
from service import errors, metrics, ratelimit
from service.auth import presented_key
from service.background import JobRunner
from service.engines import EngineRegistry
from service.errors import ApiError
from service.readiness import Readiness
from service.storage import JobStore, Store, default_url

ENCODERS = ENCODER_KINDS


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
        # seconds a request body may take to arrive (a slow client holds one thread that long at most)
        "BODY_TIMEOUT": float(env("MATCHMAKER_BODY_TIMEOUT", "30")),
        "CREATE_TABLES": env("MATCHMAKER_CREATE_TABLES", "1") != "0",
        # adds X-Matchmaker-Worker: PID to answers (tests and load tests telling workers apart)
        "EXPOSE_WORKER": env("MATCHMAKER_EXPOSE_WORKER", "0") == "1",
        # warm up at start (model, then the WARM_EVENTS most recent events): /readyz is 503 until done; off, the
        # first /readyz starts it (matchmaker serve turns it on)
        "WARM_ON_START": env("MATCHMAKER_WARM_ON_START", "0") == "1",
        "WARM_EVENTS": int(env("MATCHMAKER_WARM_EVENTS", "20")),
        # table plans: people x rounds x effort above this run as a background job (202 + a URL to poll)
        "PLAN_SYNC_WORK": float(env("MATCHMAKER_PLAN_SYNC_WORK", "2000")),
        "MAX_PLAN_PEOPLE": int(env("MATCHMAKER_MAX_PLAN_PEOPLE", "10000")),
        # attendee upserts with more texts to encode than this run as a background job (202 + a URL to poll)
        "UPSERT_SYNC_TEXTS": int(env("MATCHMAKER_UPSERT_SYNC_TEXTS", "1000")),
        "JOB_THREADS": int(env("MATCHMAKER_JOB_THREADS", "1")),      # background jobs per worker process
        "JOB_QUEUE": int(env("MATCHMAKER_JOB_QUEUE", "8")),          # at most this many pending per worker
        # /metrics answers only 'Authorization: Bearer METRICS_KEY'; unset: /metrics is off (404)
        "METRICS_KEY": env("MATCHMAKER_METRICS_KEY") or None,
        # requests per API key on /v1 ("" turns limits off); memory:// counts per worker, redis://... shares
        "RATE_LIMIT": env("MATCHMAKER_RATE_LIMIT", "20000 per minute"),
        "RATE_LIMIT_STORAGE": env("MATCHMAKER_RATE_LIMIT_STORAGE", "memory://"),
    }


@dataclass
class Services:
    """What the app holds, under ``app.extensions["matchmaker"]``."""

    store: Store
    registry: EngineRegistry
    jobs: JobRunner


def encoder_factory(config: dict[str, Any]):
    """A function building the configured encoder (``ENCODER``, ``MODEL``, ``HASHING_DIM``) through
    :func:`matcher.encoder.make_encoder`, the one place an encoder is chosen; nothing loads until it is called."""
    from matcher.encoder import make_encoder

    kind = config["ENCODER"]
    if kind not in ENCODERS:
        raise ValueError(f"ENCODER must be one of {', '.join(ENCODERS)}; got {kind!r}")
    model = config.get("MODEL")
    dim = int(config["HASHING_DIM"])
    return lambda: make_encoder(kind, model=model, dim=dim)


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
    runner = JobRunner(JobStore(store), threads=int(app.config["JOB_THREADS"]),
                       max_queued=int(app.config["JOB_QUEUE"]))
    app.extensions["matchmaker"] = Services(store, EngineRegistry(store, encoder_factory(app.config)), runner)

    errors.init_app(app)

    @app.before_request
    def _metrics_key() -> None:
        if request.path != "/metrics":
            return
        key = app.config.get("METRICS_KEY")
        if not key:
            raise ApiError(404, "metrics are off: set MATCHMAKER_METRICS_KEY and scrape /metrics with "
                                "'Authorization: Bearer KEY'")
        if not hmac.compare_digest((presented_key() or "").encode(), str(key).encode()):
            raise ApiError(401, "missing or wrong metrics key", headers={"WWW-Authenticate": 'Bearer realm="metrics"'})

    metrics.init_app(app)
    ratelimit.init_app(app)
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

    from service import api, exports, jobs, meetings, tableplans

    for blueprint in (api.bp, tableplans.bp, meetings.bp, jobs.bp, exports.bp):
        app.register_blueprint(blueprint)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    ready = Readiness(store, registry, max_events=int(app.config["WARM_EVENTS"]))
    app.extensions["matchmaker_readiness"] = ready
    if app.config["WARM_ON_START"]:
        ready.start()

    @app.get("/readyz")
    def readyz():
        """Ready when the database answers and this worker has its model and recent events in memory."""
        try:
            store.ping()
        except Exception as exc:
            raise ApiError(503, f"database not ready: {type(exc).__name__}") from None
        if ready.wait(0.5) != "ready":
            raise ApiError(503, f"not ready: {ready.detail}", headers={"Retry-After": "1"})
        return {"status": "ok"}

    @app.get("/v1/openapi.json")
    def openapi():
        from service.openapi import build_spec

        if "spec" not in app.extensions:
            app.extensions["spec"] = build_spec()
        return app.extensions["spec"]

    @app.get("/docs")
    def docs():
        from service.docs import run_examples

        if "docs_examples" not in app.extensions:  # real answers of this code, made once per process
            app.extensions["docs_examples"] = run_examples(create_app)
        return render_template("docs.html", examples=app.extensions["docs_examples"])

    @app.get("/")
    def index():
        return Response(status=302, headers={"Location": "/docs"})

    return app
