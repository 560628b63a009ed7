"""Two real gunicorn workers (``matchmaker serve --workers 2``) on one database (SQLite file, PostgreSQL): a write
answered by one worker is visible to the next request the other answers; /metrics merges both workers' counts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

DEADLINE_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    def __init__(self, base: str, key: str):
        self.base, self.key = base, key

    def call(self, method: str, path: str, body=None) -> tuple[int, dict, str]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {self.key}",
                                              "Content-Type": "application/json", "Connection": "close"})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                raw, status, headers = r.read(), r.status, r.headers
        except urllib.error.HTTPError as e:
            raw, status, headers = e.read(), e.code, e.headers
        return status, (json.loads(raw) if raw and headers.get_content_type() == "application/json" else {}), \
            headers.get("X-Matchmaker-Worker", "")

    def matches(self, aid: str) -> tuple[list[str], str]:
        status, body, pid = self.call("GET", f"/v1/events/e1/attendees/{aid}/matches?limit=20")
        assert status == 200, body
        return [m["id"] for m in body["matches"]], pid

    def read_from_other(self, writer: str, aid: str) -> list[str]:
        """The list as the *other* worker answers it (concurrent requests spread over both)."""
        end = time.monotonic() + DEADLINE_S / 2
        with ThreadPoolExecutor(4) as pool:
            while time.monotonic() < end:
                for ids, pid in pool.map(lambda _: self.matches(aid), range(4)):
                    if pid != writer:
                        return ids
        raise AssertionError("the other worker never answered")


def _start(tmp_path, *args: str, db=None):
    """``matchmaker serve ARGS`` on a free port; returns (process, base url, log file)."""
    url = db.url if db else f"sqlite:///{tmp_path}/mm.sqlite"
    port = _free_port()
    env = dict(os.environ, MATCHMAKER_ENCODER="hashing", MATCHMAKER_HASHING_DIM="64", MATCHMAKER_EXPOSE_WORKER="1",
               MATCHMAKER_METRICS_KEY="scrape-secret",
               MATCHMAKER_DATABASE_URL=url, MATCHMAKER_DATABASE_SCHEMA=(db.schema or "") if db else "")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed by _stop
    proc = subprocess.Popen([sys.executable, "-m", "scripts.cli", "serve", "--port", str(port), *args],
                            cwd=Path(__file__).parent.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    _wait(proc, base, tmp_path, log)
    return proc, base, log


def _stop(proc, log) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


def _wait(proc, base, tmp_path, log) -> None:
    end = time.monotonic() + DEADLINE_S
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > end:
            _stop(proc, log)
            pytest.fail("server did not start:\n" + (tmp_path / "server.log").read_text()[-3000:])
        time.sleep(0.2)


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path):
    from service_support import drop_db, make_db

    from service.storage import Store

    db = make_db(request.param, tmp_path)
    store = Store(db.url, schema=db.schema)
    store.create_all()
    key = store.create_key("acme")
    store.dispose()
    proc, base, log = _start(tmp_path, "--workers", "2", db=db)
    yield Http(base, key)
    _stop(proc, log)
    drop_db(db)


def test_demo_prints_a_working_curl_command(tmp_path):
    import re
    import shlex

    proc, base, log = _start(tmp_path, "--demo", "--workers", "1")
    try:
        out = (tmp_path / "server.log").read_text()
        line = next(x for x in out.splitlines() if x.strip().startswith("curl "))
        argv = shlex.split(line)
        key = re.search(r"Bearer ([\w-]+)", line).group(1)
        url = argv[-1]
        assert url.startswith(base + "/v1/events/") and url.endswith("/matches?limit=3")
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(req, timeout=20) as r:
            body = json.loads(r.read())
        assert len(body["matches"]) == 3 and body["matches"][0]["reasons"]["summary"]
        _wait_ready(base)
    finally:
        _stop(proc, log)
    # a second run reuses the key: still one live demo key
    proc, base, log = _start(tmp_path, "--demo", "--workers", "1")
    try:
        again = next(x for x in (tmp_path / "server.log").read_text().splitlines() if x.strip().startswith("curl "))
        assert re.search(r"Bearer ([\w-]+)", again).group(1) == key
        assert (tmp_path / "mm.sqlite.demo-key").read_text().strip() == key
        assert (tmp_path / "mm.sqlite.demo-key").stat().st_mode & 0o077 == 0
        url = shlex.split(again)[-1]
        assert url.startswith(base)
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"}),
                                    timeout=20) as r:
            assert r.status == 200
    finally:
        _stop(proc, log)
    from service.storage import Store

    store = Store(f"sqlite:///{tmp_path}/mm.sqlite")
    live = [k for k in store.list_keys() if k["tenant"] == "demo" and not k["revoked_at"]]
    assert [k["prefix"] for k in live] == [key[:11]]
    store.dispose()


def _wait_ready(base: str) -> None:
    """/readyz turns 200 (the worker warmed up) within the deadline."""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("/readyz never answered 200")


def test_two_gunicorn_workers_see_each_others_writes(server):
    from service_support import TOY

    assert server.call("POST", "/v1/events", {"id": "e1"})[0] == 201
    assert server.call("POST", "/v1/events/e1/attendees", {"attendees": TOY})[0] == 200
    # both workers load the event
    pids: set[str] = set()
    end = time.monotonic() + DEADLINE_S / 2
    with ThreadPoolExecutor(4) as pool:
        while len(pids) < 2 and time.monotonic() < end:
            for ids, pid in pool.map(lambda _: server.matches("founder"), range(4)):
                assert ids[0] == "investor"
                pids.add(pid)
    assert len(pids) == 2, "expected answers from two workers"

    status, _, writer = server.call("POST", "/v1/events/e1/attendees",
                                    [{"id": "angel", "role": "investor", "goals": ["fintech founders raising seed"],
                                      "offers": ["seed funding for fintech"]}])
    assert status == 200 and "angel" in server.read_from_other(writer, "founder")

    status, _, writer = server.call("POST", "/v1/events/e1/feedback",
                                    {"from_id": "founder", "to_id": "investor", "kind": "hidden"})
    assert status == 201 and "investor" not in server.read_from_other(writer, "founder")

    status, _, writer = server.call("DELETE", "/v1/events/e1/attendees/angel")
    assert status == 204 and "angel" not in server.read_from_other(writer, "founder")

    # /metrics, answered by either worker, counts the requests of both
    scrape = urllib.request.Request(server.base + "/metrics", headers={"Authorization": "Bearer scrape-secret"})
    with urllib.request.urlopen(scrape, timeout=10) as r:
        text = r.read().decode()
    served = [line for line in text.splitlines() if line.startswith("matchmaker_http_requests_total{")
              and "/matches" in line and 'status="200"' in line]
    assert served and float(served[0].rsplit(" ", 1)[1]) >= 8
