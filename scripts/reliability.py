"""The long versions of the service's hardening tests, against a running ``matchmaker serve`` (gunicorn):

    python -m scripts.reliability fuzz --examples 500            # schemathesis, N cases per operation
    python -m scripts.reliability kill9 --kills 20               # kill -9 mid bulk upsert, SQLite
    python -m scripts.reliability kill9 --kills 20 --database postgresql://postgres@127.0.0.1:5432/test

Each prints what it did and a JSON summary line (the README's reliability figures come from these).
``fuzz`` runs every schemathesis check except positive-data acceptance (see ``tests/test_service_fuzz.py``).
``kill9`` writes batches of new attendees from a client thread, kills the whole server (``SIGKILL`` to its
process group) at a random moment, restarts it, and checks that every acknowledged batch is present and matchable
and that no batch is half-written.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import click

ROOT = Path(__file__).resolve().parent.parent
METRICS_KEY = "reliability-metrics"


class Server:
    """``matchmaker serve`` in its own process group, on a free port."""

    def __init__(self, database_url: str, workers: int, log: Path, schema: str | None = None):
        self.database_url, self.workers, self.log_path, self.schema = database_url, workers, log, schema
        self.proc: subprocess.Popen | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> None:
        env = dict(os.environ, MATCHMAKER_ENCODER="hashing", MATCHMAKER_HASHING_DIM="64",
                   MATCHMAKER_DATABASE_URL=self.database_url, MATCHMAKER_DATABASE_SCHEMA=self.schema or "",
                   MATCHMAKER_RATE_LIMIT="", MATCHMAKER_METRICS_KEY=METRICS_KEY)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        log = open(self.log_path, "a")  # noqa: SIM115 - the server writes to it until stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "scripts.cli", "serve", "--port", str(self.port),
                                      "--workers", str(self.workers)], cwd=ROOT, env=env, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise click.ClickException(f"the server did not start; see {self.log_path}")

    def kill9(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()


def call(base: str, key: str, method: str, path: str, body: Any = None, timeout: float = 30.0):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, (json.loads(raw) if raw else None)


def _database(database: str | None, tmp: Path) -> tuple[str, str | None]:
    if not database:
        return f"sqlite:///{tmp}/reliability.sqlite", None
    return database, f"mm_rel_{uuid.uuid4().hex[:10]}"


def _store(url: str, schema: str | None):
    from service.storage import Store

    store = Store(url, schema=schema)
    store.create_all()
    return store


TOY = [
    {"id": "founder", "name": "Ana", "role": "founder", "goals": ["seed funding for fintech"],
     "offers": ["payments product demos"], "interests": ["fintech"]},
    {"id": "investor", "name": "Ben", "role": "investor", "goals": ["fintech founders raising seed"],
     "offers": ["seed funding for fintech"], "interests": ["fintech"]},
    {"id": "hiring", "name": "Cy", "role": "hiring manager", "goals": ["senior rust engineers"],
     "offers": ["open rust engineering roles"], "interests": ["rust"]},
    {"id": "engineer", "name": "Di", "role": "engineer", "goals": ["open rust engineering roles"],
     "offers": ["senior rust engineers experience"], "interests": ["rust"]},
]


@click.group()
def main() -> None:
    """Long reliability runs against a running server."""


@main.command()
@click.option("--examples", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="Generated requests per operation.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16))
@click.option("--database", default=None, metavar="URL", help="Default: a temporary SQLite file.")
@click.option("--seed", default=0, show_default=True, type=int)
def fuzz(examples: int, workers: int, database: str | None, seed: int) -> None:
    """Schemathesis against /v1/openapi.json of a running server: N cases per operation, every check but
    positive-data acceptance; counts answers, 5xx and check failures."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    tmp = Path(tempfile.mkdtemp(prefix="matchmaker-fuzz-"))
    url, schema_name = _database(database, tmp)
    store = _store(url, schema_name)
    key = store.create_key("acme")
    server = Server(url, workers, tmp / "server.log", schema_name)
    server.start()
    statuses: Counter = Counter()
    failures: Counter = Counter()
    examples_of: dict[str, str] = {}
    started = time.monotonic()
    try:
        call(server.base, key, "POST", "/v1/events", {"id": "e1", "name": "Fuzz"})
        call(server.base, key, "POST", "/v1/events/e1/attendees", TOY)
        spec = schemathesis.openapi.from_url(server.base + "/v1/openapi.json")
        for result in spec.get_all_operations():
            op = result.ok()
            label = f"{op.method.upper()} {op.path}"

            @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=op.as_strategy())
            def run(case, label=label):
                params = case.path_parameters or {}
                if "event" in params and not (case.method == "DELETE" and case.path == "/v1/events/{event}"):
                    params["event"] = "e1"
                    if "attendee" in params and len(repr(case.body)) % 2 == 0:
                        params["attendee"] = TOY[len(repr(case.query)) % len(TOY)]["id"]
                if call(server.base, key, "GET", "/v1/events/e1")[0] == 404:
                    call(server.base, key, "POST", "/v1/events", {"id": "e1", "name": "Fuzz"})
                    call(server.base, key, "POST", "/v1/events/e1/attendees", TOY)
                token = METRICS_KEY if case.path == "/metrics" else key
                headers = {"Authorization": f"Bearer {token}"}
                resp = case.call(base_url=server.base, headers=headers)
                statuses[resp.status_code] += 1
                try:
                    case.validate_response(resp, excluded_checks=[positive_data_acceptance], headers=headers)
                except Exception as exc:  # a check failed: count it, keep going
                    name = f"{label}: {type(exc).__name__}"
                    failures[name] += 1
                    examples_of.setdefault(name, str(exc).splitlines()[0][:300] if str(exc) else "")

            random.seed(seed)
            run()
            click.echo(f"{label}: done ({sum(statuses.values())} requests so far)")
    finally:
        server.stop()
        if schema_name:
            store.drop_all()
        store.dispose()
    five = sum(n for s, n in statuses.items() if s >= 500)
    for name, n in failures.most_common():
        click.echo(f"FAIL {n:5d}  {name}  e.g. {examples_of[name]}")
    summary = {"requests": sum(statuses.values()), "operations": len(list(spec.get_all_operations())),
               "examples_per_operation": examples, "server_errors_5xx": five,
               "check_failures": sum(failures.values()), "statuses": dict(sorted(statuses.items())),
               "seconds": round(time.monotonic() - started, 1), "workers": workers,
               "database": "postgresql" if schema_name else "sqlite"}
    click.echo(json.dumps(summary))
    if five or failures:
        raise SystemExit(1)


@main.command()
@click.option("--kills", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16))
@click.option("--batch", default=200, show_default=True, type=click.IntRange(1, 5000))
@click.option("--database", default=None, metavar="URL", help="Default: a temporary SQLite file.")
@click.option("--seed", default=0, show_default=True, type=int)
def kill9(kills: int, workers: int, batch: int, database: str | None, seed: int) -> None:
    """kill -9 the server mid bulk upsert, restart, and check every acknowledged write (present, matchable) and
    that no batch is half-written."""
    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="matchmaker-kill9-"))
    url, schema_name = _database(database, tmp)
    store = _store(url, schema_name)
    key = store.create_key("acme")
    server = Server(url, workers, tmp / "server.log", schema_name)
    acked: list[list[str]] = []
    sent: list[list[str]] = []
    lost = half = unmatchable = 0
    started = time.monotonic()
    try:
        server.start()
        call(server.base, key, "POST", "/v1/events", {"id": "e1", "name": "Kill -9"})
        call(server.base, key, "POST", "/v1/events/e1/attendees", TOY)
        for k in range(kills):
            stop = threading.Event()

            def writer(k=k, stop=stop):
                i = 0
                while not stop.is_set():
                    ids = [f"k{k}-b{i}-{j}" for j in range(batch)]
                    people = [{"id": x, "name": f"P {x}", "goals": ["seed funding for fintech"],
                               "offers": [f"advice {x}"]} for x in ids]
                    sent.append(ids)
                    try:
                        status, _ = call(server.base, key, "POST", "/v1/events/e1/attendees", people, timeout=10)
                    except OSError:
                        return  # the server died under us: this batch is unacknowledged
                    if status == 200:
                        acked.append(ids)
                    i += 1

            t = threading.Thread(target=writer, daemon=True)
            t.start()
            time.sleep(rng.uniform(0.3, 1.5))
            server.kill9()
            stop.set()
            t.join(timeout=15)
            server.start()
            click.echo(f"kill {k + 1}/{kills}: {len(acked)} batches acknowledged so far")
        # every acknowledged batch whole, every batch whole or absent, the acknowledged ones matchable
        status, body = call(server.base, key, "GET", "/v1/events/e1")
        count = body["attendee_count"] if status == 200 else -1
        for _ in range(2 * workers):  # each worker loads the event (all of it) on its first match request
            call(server.base, key, "GET", "/v1/events/e1/attendees/founder/matches?limit=1", timeout=600)
        for ids in sent:
            present = sum(call(server.base, key, "GET", f"/v1/events/e1/attendees/{x}", timeout=300)[0] == 200
                          for x in (ids[0], ids[len(ids) // 2], ids[-1]))
            if ids in acked and present < 3:
                lost += 1
            elif 0 < present < 3:
                half += 1
        for ids in acked:
            status, found = call(server.base, key, "GET", f"/v1/events/e1/attendees/{ids[0]}/matches?limit=1",
                                 timeout=600)
            if status != 200 or not found["matches"]:
                unmatchable += 1
    finally:
        server.stop()
        if schema_name:
            store.drop_all()
        store.dispose()
    summary = {"kills": kills, "batches_sent": len(sent), "batches_acknowledged": len(acked),
               "acknowledged_lost": lost, "half_written": half, "acknowledged_not_matchable": unmatchable,
               "attendees_stored": count, "batch": batch, "workers": workers,
               "database": "postgresql" if schema_name else "sqlite",
               "seconds": round(time.monotonic() - started, 1)}
    click.echo(json.dumps(summary))
    if lost or half or unmatchable:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
