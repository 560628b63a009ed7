"""Prometheus metrics: request counts and latencies by endpoint, index sizes.

Works under several gunicorn workers: ``matchmaker serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before any worker
starts, every worker writes its samples there, and ``/metrics`` (answered by any worker) merges them all.
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from matcher.profile import FACETS

REQUESTS = Counter("matchmaker_http_requests_total", "HTTP requests answered.", ["method", "endpoint", "status"])
LATENCY = Histogram("matchmaker_http_request_duration_seconds", "Time to answer a request.",
                    ["method", "endpoint"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
LOADED_EVENTS = Gauge("matchmaker_loaded_events", "Events whose matcher is in memory (largest worker).",
                      multiprocess_mode="livemax")
INDEX_ATTENDEES = Gauge("matchmaker_index_attendees", "Attendees held by the in-memory matchers (largest worker).",
                        multiprocess_mode="livemax")
INDEX_VECTORS = Gauge("matchmaker_index_vectors", "Vectors in the per-facet indexes (largest worker).", ["facet"],
                      multiprocess_mode="livemax")
TEXTS_ENCODED = Gauge("matchmaker_texts_encoded", "Texts this worker sent to the model since it started.",
                      multiprocess_mode="livesum")


def _endpoint() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def update_gauges(app: Flask) -> None:
    """Refresh the index-size gauges from this process's matchers."""
    sv = app.extensions["matchmaker"]
    loaded = sv.registry.loaded()
    LOADED_EVENTS.set(len(loaded))
    INDEX_ATTENDEES.set(sum(len(m) for m in loaded.values()))
    totals: dict[str, int] = {}
    for m in loaded.values():
        for facet in FACETS:
            index = m.store.index(facet)
            if index is not None:
                totals[facet] = totals.get(facet, 0) + len(index)
    for facet, n in totals.items():
        INDEX_VECTORS.labels(facet).set(n)
    TEXTS_ENCODED.set(sv.registry.texts_encoded())


def render() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _record(resp: Response) -> Response:
        started = g.pop("started", None)
        endpoint = _endpoint()
        REQUESTS.labels(request.method, endpoint, str(resp.status_code)).inc()
        if started is not None:
            LATENCY.labels(request.method, endpoint).observe(time.perf_counter() - started)
        if endpoint.startswith("/v1/events/"):
            update_gauges(app)
        return resp

    @app.get("/metrics")
    def metrics() -> Response:
        update_gauges(app)
        return render()
