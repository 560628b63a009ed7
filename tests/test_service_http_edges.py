"""Against a running ``matchmaker serve`` (gunicorn, 2 workers): slow clients cannot starve the workers (threaded
workers, bodies read under a deadline: 408), and what gunicorn answers itself (414, 431, a bad Content-Length)
or the app answers for a chunked body over the limit (413) comes in the one JSON error shape."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import pytest
from test_service_gunicorn import _start, _stop

BODY_TIMEOUT = 3


def raw(base: str, data: bytes, timeout: float = 15.0) -> tuple[int, dict]:
    """Send ``data`` as is; the answer's status and JSON body."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        return _answer(s)


def _answer(s: socket.socket) -> tuple[int, dict]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    n = int(headers.get("content-length", "0"))
    while len(body) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    assert headers.get("content-type", "").startswith("application/json"), (lines[0], body[:200])
    return int(lines[0].split()[1]), json.loads(body)


def _shape(status: int, doc: dict, want: int, code: str) -> dict:
    assert status == want, (status, doc)
    err = doc["error"]
    assert set(doc) == {"error"} and set(err) == {"status", "code", "message", "details"}
    assert err["status"] == want and err["code"] == code and err["message"]
    return err


@pytest.fixture
def server(tmp_path, monkeypatch):
    from service.storage import Store

    monkeypatch.setenv("MATCHMAKER_BODY_TIMEOUT", str(BODY_TIMEOUT))
    monkeypatch.setenv("MATCHMAKER_MAX_BODY", "2000")
    store = Store(f"sqlite:///{tmp_path}/mm.sqlite")
    store.create_all()
    key = store.create_key("acme")
    store.dispose()
    proc, base, log = _start(tmp_path, "--workers", "2")
    yield base, key
    _stop(proc, log)


def _request(key: str, path: str = "/v1/events", extra: str = "") -> str:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\n{extra}")


def test_slow_clients_do_not_starve_the_workers_and_time_out_with_408(server):
    base, key = server
    slow = []
    for _ in range(6):  # three per worker: more than a sync worker model could hold (2 in all)
        s = socket.create_connection(base.removeprefix("http://").split(":"), timeout=BODY_TIMEOUT + 10)
        s.sendall((_request(key) + "Content-Length: 500\r\n\r\n{\"id\":").encode())
        slow.append(s)
    time.sleep(0.5)
    started = time.monotonic()
    with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
        assert r.status == 200
    assert time.monotonic() - started < 2, "a health check waited behind slow clients"
    for s in slow:
        status, doc = _answer(s)
        err = _shape(status, doc, 408, "request_timeout")
        assert f"within {BODY_TIMEOUT} s" in err["message"]
        s.close()


def test_gunicorn_level_errors_use_the_one_shape(server):
    base, key = server
    _shape(*raw(base, f"GET /v1/events/{'x' * 10_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode()), 414, "uri_too_long")
    _shape(*raw(base, f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {'y' * 9000}\r\n\r\n".encode()), 431,
           "request_header_fields_too_large")
    _shape(*raw(base, (_request(key) + "Content-Length: abc\r\n\r\n{}").encode()), 400, "bad_request")
    # a chunked body (no Content-Length) over MATCHMAKER_MAX_BODY
    chunk = b"x" * 1500
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3)) + b"0\r\n\r\n"
    err = _shape(*raw(base, (_request(key) + "Transfer-Encoding: chunked\r\n\r\n").encode() + body), 413,
                 "payload_too_large")
    assert "at most 2000 bytes" in err["message"]
    # and the server still answers
    with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
        assert r.status == 200
