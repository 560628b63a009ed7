"""The HTTP toolkit every route uses: the app's services, reading and validating JSON bodies, query integers,
ids, the 404s of events and attendees, and the ``/v1`` blueprint every resource is built on.

>>> from service.errors import ApiError
>>> try:
...     check_ids([("id", "a\\x00b")])
... except ApiError as exc:
...     print(exc.status, exc.details[0]["field"])
400 id
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from models import from_pydantic
from service.auth import require_key
from service.errors import ApiError, validation_error
from service.storage import EventRow

#: The longest integer a body may hold (64-bit integers have at most 19 digits).
MAX_INT_DIGITS = 40


def services():
    """What the app holds (:class:`service.app.Services`): the store and the engine registry."""
    return current_app.extensions["matchmaker"]


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under ``/v1`` whose every request carries an API key and whose path ids are checked."""
    bp = Blueprint(name, import_name, url_prefix="/v1")
    bp.before_request(require_key)
    bp.before_request(check_path_ids)
    return bp


# ------------------------------------------------------------------------------------------------ bodies
class _BadNumber(ValueError):
    """A number JSON grammar allows but no JSON stack reads back alike (or NaN/Infinity, which it does not)."""


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS + 1:
        raise _BadNumber(f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumber(f"{text[:40]}, beyond the range of a double")
    return value


def _parse_constant(name: str) -> Any:
    raise _BadNumber(f"{name}, which JSON does not allow")


def read_body() -> bytes:
    """The request body, read in chunks under a deadline and a size limit: 408 when it has not all arrived
    within ``BODY_TIMEOUT`` seconds (a client trickling a body holds a thread that long at most), 413 past
    ``MAX_CONTENT_LENGTH`` (chunked bodies, without a Content-Length, included)."""
    cfg = current_app.config
    limit = cfg.get("MAX_CONTENT_LENGTH")
    if limit and request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    timeout = float(cfg.get("BODY_TIMEOUT", 30.0))
    sock = request.environ.get("gunicorn.socket")  # elsewhere (the test client) the body is in memory
    deadline = time.monotonic() + timeout
    parts, size = [], 0
    try:
        while True:
            if sock is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                sock.settimeout(left)
            try:
                chunk = request.stream.read(65536)
            except ClientDisconnected:  # werkzeug's name for a read that failed, our timeout included
                if sock is not None and time.monotonic() >= deadline - 0.05:
                    raise TimeoutError from None
                raise
            if not chunk:
                break
            size += len(chunk)
            if limit and size > limit:
                raise RequestEntityTooLarge()
            parts.append(chunk)
    except TimeoutError:  # socket.timeout
        raise ApiError(408, f"the request body did not arrive within {timeout:g} s", code="request_timeout",
                       headers={"Connection": "close"}) from None
    finally:
        if sock is not None:
            sock.settimeout(None)
    return b"".join(parts)


def read_json() -> Any:
    """The decoded request body; 400 naming the problem when it is not JSON (NaN, Infinity, numbers that
    overflow a double and integers of more than :data:`MAX_INT_DIGITS` digits included)."""
    raw = read_body()
    if not raw.strip():
        raise ApiError(400, "request body is empty; send a JSON object", code="invalid_json")
    try:
        return json.loads(raw.decode("utf-8"), parse_int=_parse_int, parse_float=_parse_float,
                          parse_constant=_parse_constant)
    except UnicodeDecodeError:
        raise ApiError(400, "request body is not UTF-8 text", code="invalid_json") from None
    except RecursionError:
        raise ApiError(400, "request body is nested too deeply", code="invalid_json") from None
    except _BadNumber as exc:
        raise ApiError(400, f"request body holds {exc}", code="invalid_json") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                       code="invalid_json") from None


def read_object() -> dict[str, Any]:
    """The request body, which must be a JSON object."""
    data = read_json()
    if not isinstance(data, dict):
        raise ApiError(400, f"request body must be a JSON object, got {json_type(data)}", code="validation_error",
                       details=[{"field": "", "message": f"expected an object, got {json_type(data)}"}])
    return data


def json_type(v: Any) -> str:
    """How a decoded JSON value is named in messages."""
    return {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number",
            type(None): "null"}.get(type(v), type(v).__name__)


def validate(model, data: Any, prefix: str = ""):
    """``model.model_validate(data)``, or a 400 naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(from_pydantic(exc, prefix)) from None


def query_int(name: str, default: int, lo: int, hi: int) -> int:
    """Query parameter ``name`` as an integer from ``lo`` to ``hi`` (``default`` when absent)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not lo <= value <= hi:
        msg = f"must be an integer from {lo} to {hi}; got {raw!r}"
        raise ApiError(400, f"query parameter {name} {msg}", code="validation_error",
                       details=[{"field": name, "message": msg}])
    return value


# --------------------------------------------------------------------------------------------------- ids
def has_control(value: str) -> bool:
    return any(ord(ch) < 32 for ch in value)


def check_ids(pairs) -> None:
    """400 naming each id that holds a control character (PostgreSQL cannot store NUL; none is sensible)."""
    bad = [{"field": field, "message": f"id {value!r} must not contain control characters"}
           for field, value in pairs if has_control(value)]
    if bad:
        raise ApiError(400, f"invalid input: {bad[0]['field']}: {bad[0]['message']}", code="validation_error",
                       details=bad)


def check_path_ids() -> None:
    """Ids in the path with control characters name nothing stored: 404 before any query."""
    args = request.view_args or {}
    if has_control(args.get("event_id", "")):
        raise event_404(args["event_id"])
    if has_control(args.get("attendee_id", "")):
        raise attendee_404(args.get("event_id"), args["attendee_id"])


# ------------------------------------------------------------------------------------------------- 404s
def event_404(event_id: str) -> ApiError:
    return ApiError(404, f"unknown event {event_id!r}")


def attendee_404(event_id: str, attendee_id: str) -> ApiError:
    return ApiError(404, f"unknown attendee {attendee_id!r} in event {event_id!r}")


def event_or_404(event_id: str) -> EventRow:
    """The caller's tenant's event ``event_id``; 404 when missing or another tenant's (the same answer)."""
    if has_control(event_id):
        raise event_404(event_id)
    row = services().store.get_event(g.tenant_id, event_id)
    if row is None:
        raise event_404(event_id)
    return row


# ------------------------------------------------------------------------------------------------ versions
def precondition(version: int, what: str) -> None:
    """412 when the request carries ``If-Match`` and none of its tags is ``version`` (the current ETag)."""
    wanted = request.if_match
    if wanted and not wanted.contains(str(version)):
        raise ApiError(412, f"{what} has changed since the version in If-Match; its current ETag is "
                            f"\"{version}\": read it again and retry", code="precondition_failed",
                       headers={"ETag": f'"{version}"'})


def with_etag(body: Any, version: int, status: int = 200) -> Response:
    """A JSON answer carrying ``ETag: "version"``."""
    resp = jsonify(body)
    resp.status_code = status
    resp.set_etag(str(version))
    return resp


# ------------------------------------------------------------------------------------------------ answers
def created(body: Any, location: str) -> Response:
    """201 with ``Location``."""
    resp = jsonify(body)
    resp.status_code = 201
    resp.headers["Location"] = location
    return resp


def iso(ts: datetime) -> str:
    """ISO 8601 in UTC (SQLite hands datetimes back without their zone)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat()
