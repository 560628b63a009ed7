"""One JSON error shape for every 4xx and 5xx answer.

``{"error": {"status": 404, "code": "not_found", "message": "...", "details": [{"field", "message"}]}}``

>>> error_body(404, "not_found", "unknown event 'x'")
{'error': {'status': 404, 'code': 'not_found', 'message': "unknown event 'x'", 'details': []}}
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from models import InvalidInput

log = logging.getLogger("matchmaker.service")

#: Error code of each HTTP status werkzeug can raise.
CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 408: "request_timeout", 409: "conflict", 411: "length_required",
    412: "precondition_failed", 413: "payload_too_large", 414: "uri_too_long", 415: "unsupported_media_type",
    417: "expectation_failed", 422: "validation_error", 429: "too_many_requests",
    431: "request_header_fields_too_large", 500: "internal_error", 501: "not_implemented",
    503: "service_unavailable",
}


class ApiError(Exception):
    """An error answer: status, code, message and optional field details."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 details: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.details = details or []
        self.headers = headers or {}


def error_body(status: int, code: str, message: str, details: list[dict[str, str]] | None = None) -> dict:
    """The error document."""
    return {"error": {"status": status, "code": code, "message": message, "details": list(details or [])}}


def error_response(status: int, code: str, message: str, details: list[dict[str, str]] | None = None,
                   headers: dict[str, Any] | None = None) -> Response:
    resp = jsonify(error_body(status, code, message, details))
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def input_error(exc: InvalidInput, status: int, code: str, lead: str) -> ApiError:
    """An answer naming each of ``exc``'s problems: ``"{lead}: {field}: {message} (and N more problems)"``."""
    details = [{"field": e["field"], "message": e["message"]} for e in exc.errors]
    n = len(details)
    first = details[0]
    where = f"{first['field']}: " if first["field"] else ""
    more = f" (and {n - 1} more problem{'s' if n > 2 else ''})" if n > 1 else ""
    return ApiError(status, f"{lead}: {where}{first['message']}{more}", code=code, details=details[:1000])


def validation_error(exc: InvalidInput) -> ApiError:
    """A 400 naming each bad field."""
    return input_error(exc, 400, "validation_error", "invalid input")


_MESSAGES = {
    404: "no such endpoint; see /v1/openapi.json",
    413: "request body too large",
    405: "method not allowed",
}


def init_app(app: Flask) -> None:
    """Register the handlers that turn every error into the one shape."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.errorhandler(InvalidInput)
    def _invalid(exc: InvalidInput):
        err = validation_error(exc)
        return error_response(err.status, err.code, err.message, err.details)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        headers = {}
        message = _MESSAGES.get(status) or (exc.description or exc.name)
        if status == 405:
            allowed = [m for m in (exc.valid_methods or []) if m not in {"HEAD", "OPTIONS"}]
            if allowed:
                message = f"method not allowed; this endpoint accepts {', '.join(sorted(allowed))}"
                headers["Allow"] = ", ".join(exc.valid_methods or [])
        if status == 429:
            message = f"rate limit exceeded: at most {exc.description} per API key; retry after the seconds in " \
                      "Retry-After"
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            if limit:
                message = f"request body too large: at most {limit} bytes"
        return error_response(status, CODES.get(status, "error"), message, headers=headers)

    from service.storage import Gone, StorageError

    @app.errorhandler(Gone)
    def _gone(exc: Gone):
        # deleted by another request while this one ran (e.g. the event, under a write to it)
        return error_response(404, "not_found", str(exc))

    @app.errorhandler(StorageError)
    def _storage(exc: StorageError):
        # a write that cannot be done as asked because of another one (Conflict, Stale)
        return error_response(409, "conflict", str(exc))

    from sqlalchemy import exc as sa

    @app.errorhandler(sa.DataError)
    def _data(exc: sa.DataError):
        # the database refused a value the models accept (e.g. a NUL character under PostgreSQL); nothing
        # was written: the transaction rolled back
        return error_response(400, "bad_request", "a value in the request cannot be stored (control characters "
                                                  "such as NUL are not allowed in ids)")

    @app.errorhandler(sa.IntegrityError)
    def _integrity(exc: sa.IntegrityError):
        log.warning("write refused by the database: %s", _kind(exc))
        return error_response(409, "conflict", "the write conflicts with a concurrent change (e.g. its event was "
                                               "deleted meanwhile); nothing was written")

    @app.errorhandler(sa.OperationalError)
    @app.errorhandler(sa.InterfaceError)
    @app.errorhandler(sa.DBAPIError)
    @app.errorhandler(sa.TimeoutError)
    @app.errorhandler(sa.DisconnectionError)
    def _unavailable(exc: Exception):
        # the database is down, restarting, locked or out of connections: retryable, and nothing of the
        # request's data goes to the log (statements are logged without their parameters, and not at all here)
        log.warning("database unavailable: %s", _kind(exc))
        return error_response(503, "service_unavailable", "the database is unavailable; retry shortly",
                              headers={"Retry-After": str(RETRY_AFTER_S)})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.error("unhandled %s at %s", type(exc).__name__, where(exc))
        return error_response(500, "internal_error", "internal error; it was logged")


#: Seconds a client should wait before retrying after a database fault.
RETRY_AFTER_S = 2


def _kind(exc: BaseException) -> str:
    """The error's type and its driver error's type: no message (a message may quote a row)."""
    orig = getattr(exc, "orig", None)
    return type(exc).__name__ + (f" ({type(orig).__module__}.{type(orig).__name__})" if orig is not None else "")


def where(exc: BaseException, depth: int = 8) -> str:
    """Where ``exc`` was raised, innermost first (``file:line function``), without its message or any value:
    what a log line may hold when the data is people's."""
    frames = traceback.extract_tb(exc.__traceback__)[-depth:]
    return " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames)) or "?"
