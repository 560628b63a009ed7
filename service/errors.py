"""One JSON error shape for every 4xx and 5xx answer.

``{"error": {"status": 404, "code": "not_found", "message": "...", "details": [{"field", "message"}]}}``

>>> error_body(404, "not_found", "unknown event 'x'")
{'error': {'status': 404, 'code': 'not_found', 'message': "unknown event 'x'", 'details': []}}
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from models import InvalidInput

log = logging.getLogger("matchmaker.service")

#: Error code of each HTTP status werkzeug can raise.
CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 411: "length_required", 412: "precondition_failed",
    413: "payload_too_large",
    414: "uri_too_long", 415: "unsupported_media_type", 422: "validation_error", 429: "too_many_requests",
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

    from sqlalchemy.exc import DataError

    @app.errorhandler(DataError)
    def _data(exc: DataError):
        # the database refused a value the models accept (e.g. a NUL character under PostgreSQL); nothing
        # was written: the transaction rolled back
        return error_response(400, "bad_request", "a value in the request cannot be stored (control characters "
                                                  "such as NUL are not allowed in ids)")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal error; it was logged")
