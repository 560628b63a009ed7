"""Rate limits per API key on ``/v1``: over the limit answers 429 (the one error shape) with ``Retry-After``;
every limited answer carries ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset`` (seconds) and
``RateLimit-Policy`` (the IETF httpapi draft's fields).

Counting is Flask-Limiter's (a fixed window per key, storage from the ``limits`` library): ``RATE_LIMIT`` (e.g.
``600 per minute``; empty: off) per key, ``RATE_LIMIT_STORAGE`` ``memory://`` (each worker process counts on its
own: the limit holds per worker) or a shared store such as ``redis://host:6379`` (needs the ``redis`` package),
so the limit holds across workers and machines. The key is the sha256 of the API key presented (never the key);
requests without one count by client address.
"""

from __future__ import annotations

import time

from flask import Flask, Response, request

from service.auth import presented_key
from service.storage import sha256


def _bucket() -> str:
    key = presented_key()
    return f"key:{sha256(key)}" if key else f"ip:{request.remote_addr or '?'}"


def _exempt() -> bool:
    return not request.path.startswith("/v1/") or request.path == "/v1/openapi.json"


def init_app(app: Flask) -> None:
    """Install the limiter when ``RATE_LIMIT`` is set."""
    rule = (app.config.get("RATE_LIMIT") or "").strip()
    if not rule:
        return
    from flask_limiter import Limiter
    from limits import parse

    parsed = parse(rule)  # raises ValueError naming a bad rule
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)  # ours below, in the draft standard's names
    limiter = Limiter(_bucket, app=app, application_limits=[rule], application_limits_exempt_when=_exempt,
                      storage_uri=app.config.get("RATE_LIMIT_STORAGE") or "memory://", strategy="fixed-window")
    app.extensions["matchmaker_limiter"] = limiter
    policy = f"{parsed.amount};w={parsed.get_expiry()}"

    @app.after_request
    def _headers(resp: Response) -> Response:
        current = limiter.current_limit
        if current is None:
            return resp
        reset = max(0, int(current.reset_at - time.time()))
        resp.headers["RateLimit-Limit"] = str(current.limit.amount)
        resp.headers["RateLimit-Remaining"] = str(max(0, current.remaining))
        resp.headers["RateLimit-Reset"] = str(reset)
        resp.headers["RateLimit-Policy"] = policy
        if resp.status_code == 429:
            resp.headers["Retry-After"] = str(max(1, reset))
        return resp
