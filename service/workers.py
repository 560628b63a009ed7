"""The gunicorn worker the service runs on: threaded (``gthread``), so a slow client holds one thread, not the
process, and its errors in the one JSON error shape.

gunicorn answers what never reaches the app itself: a request line past ``limit_request_line`` (414), header
fields past ``limit_request_field_size`` (431), a bad ``Content-Length`` or chunk (400), an unsupported
transfer coding (501). Its own answers are HTML; this worker writes ours instead, and logs one line without the
request's content. Bodies are read by the app under a deadline (``BODY_TIMEOUT``, :func:`service.http.read_body`).

``matchmaker serve`` uses it (``worker_class = "service.workers.JsonThreadWorker"``).
"""

from __future__ import annotations

import json
from ssl import SSLError

from gunicorn import util
from gunicorn.http import errors as ge
from gunicorn.workers.gthread import ThreadWorker

from service.errors import CODES, error_body

#: gunicorn's request-parsing errors -> (status, reason phrase)
_STATUS: list[tuple[tuple[type, ...], int, str]] = [
    ((ge.LimitRequestLine,), 414, "URI Too Long"),
    ((ge.LimitRequestHeaders,), 431, "Request Header Fields Too Large"),
    ((ge.UnsupportedTransferCoding,), 501, "Not Implemented"),
    ((ge.ExpectationFailed,), 417, "Expectation Failed"),
    ((ge.ForbiddenProxyRequest, SSLError), 403, "Forbidden"),
    ((ge.InvalidRequestLine, ge.InvalidRequestMethod, ge.InvalidHTTPVersion, ge.InvalidHeader,
      ge.InvalidHeaderName, ge.InvalidProxyLine, ge.InvalidSchemeHeaders, ge.ObsoleteFolding,
      ge.InvalidChunkSize, ge.ChunkMissingTerminator, ge.InvalidChunkExtension, ge.InvalidH2CPreface),
     400, "Bad Request"),
]

_MESSAGES = {
    414: "request line too long: at most {line} bytes (ids in the path are at most 200 characters)",
    431: "request header fields too large: at most {field} bytes per header line, {count} headers",
    400: "malformed HTTP request: {kind}",
    501: "unsupported transfer coding",
    417: "expectation failed",
    403: "forbidden",
    500: "internal error; it was logged",
}


def error_answer(status: int, reason: str, message: str) -> bytes:
    """A complete HTTP/1.1 answer carrying the one error shape (the connection closes after it)."""
    body = json.dumps(error_body(status, CODES.get(status, "error"), message)).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


class JsonThreadWorker(ThreadWorker):
    """gunicorn's threaded worker, answering parse errors in the one JSON error shape."""

    def handle_error(self, req, client, addr, exc):
        status, reason = 500, "Internal Server Error"
        for kinds, code, phrase in _STATUS:
            if isinstance(exc, kinds):
                status, reason = code, phrase
                break
        ip = (addr or ("", -1))[0]
        if status == 500:
            self.log.error("error handling a request from ip=%s: %s", ip, type(exc).__name__)
        else:
            self.log.warning("invalid request from ip=%s: %s", ip, type(exc).__name__)
        message = _MESSAGES[status].format(line=self.cfg.limit_request_line,
                                           field=self.cfg.limit_request_field_size,
                                           count=self.cfg.limit_request_fields, kind=type(exc).__name__)
        try:
            util.write_nonblock(client, error_answer(status, reason, message))
        except Exception:
            self.log.debug("failed to send the error answer")
