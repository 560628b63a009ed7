"""The long versions of the service's hardening tests, against a running ``matchmaker serve`` (gunicorn):

    python -m scripts.reliability fuzz --examples 500            # schemathesis, N cases per operation
    python -m scripts.reliability kill9 --kills 20               # kill -9 mid bulk upsert, SQLite
    python -m scripts.reliability kill9 --kills 20 --database postgresql://postgres@127.0.0.1:5432/test
    python -m scripts.reliability load                           # 60 s mixed load, 32 clients, 10k attendees
    python -m scripts.reliability dbrestart --database postgresql://postgres@127.0.0.1:5432/test

Each prints what it did and a JSON summary line (the README's reliability figures come from these).
``fuzz`` runs every schemathesis check except positive-data acceptance (see ``tests/test_service_fuzz.py``).
``kill9`` writes batches of new attendees from a client thread, kills the whole server (``SIGKILL`` to its
process group) at a random moment, restarts it, and checks that every acknowledged batch is present and matchable
and that no batch is half-written.
``load`` uploads a synthetic event (``--attendees``, bulk batches, background jobs waited for), then runs a closed
loop of ``--concurrency`` client threads, each on its own keep-alive connection (a new one after an error):
``--write-share`` of the requests PATCH a random attendee's bio, the others GET a random attendee's 10 matches.
It reports requests, requests/s, p50 and p99 and the statuses per kind and overall, then reads back every
attendee whose last write was acknowledged and overlapped no other write of theirs (stale or lost: 0 expected).
``dbrestart`` runs the same load against PostgreSQL (``--database`` must be one) and restarts the database
``--restarts`` times meanwhile (``--restart-command``, ``pg_ctlcluster`` by default: it needs root or the
postgres user): only 503 with ``Retry-After`` may fail, no acknowledged write may be lost, and the server's log
may hold no traceback and none of the names and bios of the people written. Exit status 1 otherwise.
The load generator is Python on the server's machine: its threads take CPU from the server.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

ROOT = Path(__file__).resolve().parent.parent
METRICS_KEY = "reliability-metrics"
#: The meetings and webhooks operations (``--meetings`` includes them).
MEETINGS = r"meeting|/slots|/locations|availability|must-meet|schedule-runs|agenda|declined-pairs|webhook"


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


@contextmanager
def _served(prefix: str, database: str | None, workers: int) -> Iterator[tuple[Server, str]]:
    """A fresh database (a temporary SQLite file, or a new schema of ``database``), an API key, and a
    :class:`Server` on it, not started; stopped and the schema dropped at the end."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    url, schema_name = _database(database, tmp)
    store = _store(url, schema_name)
    key = store.create_key("acme")
    server = Server(url, workers, tmp / "server.log", schema_name)
    try:
        yield server, key
    finally:
        server.stop()
        if schema_name:
            store.drop_all()
        store.dispose()


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
@click.option("--meetings", is_flag=True, help="Also fuzz the meetings and webhooks operations.")
def fuzz(examples: int, workers: int, database: str | None, seed: int, meetings: bool) -> None:
    """Schemathesis against /v1/openapi.json of a running server: N cases per operation, every check but
    positive-data acceptance; counts answers, 5xx and check failures."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    statuses: Counter = Counter()
    failures: Counter = Counter()
    examples_of: dict[str, str] = {}
    with _served("matchmaker-fuzz-", database, workers) as (server, key):
        server.start()
        started = time.monotonic()
        call(server.base, key, "POST", "/v1/events", {"id": "e1", "name": "Fuzz"})
        call(server.base, key, "POST", "/v1/events/e1/attendees", TOY)
        spec = schemathesis.openapi.from_url(server.base + "/v1/openapi.json")
        if not meetings:
            spec = spec.exclude(path_regex=MEETINGS)
        for result in spec.get_all_operations():
            op = result.ok()
            label = f"{op.method.upper()} {op.path}"

            def make_case_runner(label: str):
                def run_case(case):
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

                return run_case

            run = settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                           suppress_health_check=list(HealthCheck))(given(case=op.as_strategy())(make_case_runner(label)))
            random.seed(seed)
            run()
            click.echo(f"{label}: done ({sum(statuses.values())} requests so far)")
    five = sum(n for s, n in statuses.items() if s >= 500)
    for name, n in failures.most_common():
        click.echo(f"FAIL {n:5d}  {name}  e.g. {examples_of[name]}")
    summary = {"requests": sum(statuses.values()), "operations": len(list(spec.get_all_operations())),
               "examples_per_operation": examples, "server_errors_5xx": five,
               "check_failures": sum(failures.values()), "statuses": dict(sorted(statuses.items())),
               "seconds": round(time.monotonic() - started, 1), "workers": workers,
               "database": "postgresql" if database else "sqlite"}
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
    acked: list[list[str]] = []
    sent: list[list[str]] = []
    lost = half = unmatchable = 0
    started = time.monotonic()
    with _served("matchmaker-kill9-", database, workers) as (server, key):
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
    summary = {"kills": kills, "batches_sent": len(sent), "batches_acknowledged": len(acked),
               "acknowledged_lost": lost, "half_written": half, "acknowledged_not_matchable": unmatchable,
               "attendees_stored": count, "batch": batch, "workers": workers,
               "database": "postgresql" if database else "sqlite",
               "seconds": round(time.monotonic() - started, 1)}
    click.echo(json.dumps(summary))
    if lost or half or unmatchable:
        raise SystemExit(1)



# ------------------------------------------------------------------------------------------ load, dbrestart
EVENT = "/v1/events/e1"
#: The kinds of request of the mixed load.
KINDS = ("match", "patch")


def _synthetic_event(server: Server, key: str, n: int, seed: int, batch: int = 1000) -> list[Any]:
    """Event ``e1`` of ``n`` synthetic attendees (:mod:`matcher.evaluation.datasets.synthetic`), upserted in
    batches (a batch that answers 202 is a background job: wait for it); each worker then loads it."""
    from matcher.evaluation.datasets.synthetic import generate_event

    ef = generate_event(n, seed, event_id="e1").event_file
    status, body = call(server.base, key, "POST", "/v1/events", ef.event.model_dump(mode="json"))
    if status != 201:
        raise click.ClickException(f"create event: {status} {body}")
    people = [a.model_dump(mode="json") for a in ef.attendees]
    for i in range(0, n, batch):
        status, body = call(server.base, key, "POST", f"{EVENT}/attendees", people[i:i + batch], timeout=600)
        while status == 202 or (status == 200 and body.get("status") in ("queued", "running")):
            time.sleep(0.5)
            status, body = call(server.base, key, "GET", f"/v1/jobs/{body['id']}")
        if status != 200 or body.get("status", "done") != "done":
            raise click.ClickException(f"upsert of attendees {i}-{i + batch}: {status} {body}")
    warm = [threading.Thread(target=call, args=(server.base, key, "GET", f"{EVENT}/attendees/{a.id}/matches?limit=1"),
                             kwargs={"timeout": 600}) for a in ef.attendees[:4 * server.workers]]
    for t in warm:  # each worker loads the event on its first match request
        t.start()
    for t in warm:
        t.join()
    return ef.attendees


class Client:
    """One keep-alive HTTP connection of the load; after an error, the next request opens a new one."""

    def __init__(self, port: int, key: str, timeout: float):
        self.port, self.timeout = port, timeout
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bool, bytes]:
        """The status, whether it carried ``Retry-After``, the body; raises ``OSError`` or ``HTTPException``."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, None if body is None else json.dumps(body), self.headers)
            r = self.conn.getresponse()
            return r.status, r.getheader("Retry-After") is not None, r.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise


@dataclass
class Write:
    """A PATCH of a bio: when it was sent, answered (or given up: the client's timeout), and its status (None:
    no answer)."""

    start: float
    end: float
    bio: str
    status: int | None


class Load:
    """A closed-loop mixed load: ``concurrency`` threads, each with its own keep-alive connection, each sending
    a GET of a random attendee's matches or (``write_share`` of them) a PATCH of a random attendee's bio."""

    def __init__(self, server: Server, key: str, people: list[Any], *, concurrency: int, seconds: float,
                 write_share: float, seed: int, timeout: float = 30.0):
        self.server, self.key, self.people, self.concurrency = server, key, people, concurrency
        self.ids = [a.id for a in people]
        self.seconds, self.write_share, self.seed, self.timeout = seconds, write_share, seed, timeout
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {k: [] for k in KINDS}
        self.statuses: dict[str, Counter] = {k: Counter() for k in KINDS}
        self.conn_errors: Counter = Counter()
        self.retry_after = 0  # 503 answers carrying Retry-After
        self.writes: dict[str, list[Write]] = defaultdict(list)
        self.failures: list[float] = []  # when each request answered 5xx or not at all
        self.started = self.elapsed = 0.0

    def run(self, during: Callable[[float], None] | None = None) -> None:
        """Run for ``seconds``; ``during(end)`` runs meanwhile in this thread (e.g. restarting the database)."""
        self.started = time.monotonic()
        end = self.started + self.seconds
        threads = [threading.Thread(target=self._client, args=(i, end), daemon=True) for i in range(self.concurrency)]
        for t in threads:
            t.start()
        if during is not None:
            during(end)
        for t in threads:
            t.join()
        self.elapsed = time.monotonic() - self.started

    def _client(self, i: int, end: float) -> None:
        rng = random.Random(self.seed * 1000 + i)
        client = Client(self.server.port, self.key, self.timeout)
        while time.monotonic() < end:
            aid = rng.choice(self.ids)
            write = rng.random() < self.write_share
            bio = f"reliability-bio-{uuid.uuid4().hex[:16]}"
            kind, method, path, body = (("patch", "PATCH", f"{EVENT}/attendees/{aid}", {"bio": bio}) if write else
                                        ("match", "GET", f"{EVENT}/attendees/{aid}/matches?limit=10", None))
            t0 = time.monotonic()
            try:
                status, retry_after, _ = client.request(method, path, body)
            except (OSError, http.client.HTTPException):
                status, retry_after = None, False
            t1 = time.monotonic()
            with self.lock:
                if status is None or status >= 500:
                    self.failures.append(t1)
                if status is None:
                    self.conn_errors[kind] += 1
                else:
                    self.latency[kind].append((t1 - t0) * 1000)
                    self.statuses[kind][status] += 1
                    self.retry_after += int(status == 503 and retry_after)
                if write:  # without an answer the server may still apply it, until the client's timeout
                    self.writes[aid].append(Write(t0, t1 if status is not None else t0 + self.timeout, bio, status))
            if status is None:
                time.sleep(0.05)  # the server is away: do not spin

    def check_writes(self) -> dict[str, int]:
        """Read back every attendee whose last write was acknowledged (200) and overlapped no other write of
        theirs: their bio must be that write's. Returns checked and lost (stale or missing)."""
        client = Client(self.server.port, self.key, self.timeout)
        checked = lost = 0
        for aid, writes in self.writes.items():
            last = max(writes, key=lambda w: w.start)
            if last.status != 200 or any(w is not last and w.end > last.start for w in writes):
                continue
            checked += 1
            for _ in range(10):  # a 503 (the database restarting) is retried, as a client would
                status, _, raw = client.request("GET", f"{EVENT}/attendees/{aid}")
                if status != 503:
                    break
                time.sleep(1)
            if status != 200 or json.loads(raw)["bio"] != last.bio:
                lost += 1
                click.echo(f"LOST attendee {aid}: {status}, not the bio acknowledged at "
                           f"{last.end - self.started:.2f} s")
        return {"writes_checked": checked, "writes_lost": lost}

    def report(self) -> dict[str, Any]:
        """Per kind and overall: requests, requests/s, p50 and p99 (ms), statuses, 5xx, connection errors."""
        rows = {}
        for kind in (*KINDS, "all"):
            kinds = KINDS if kind == "all" else (kind,)
            lat = sorted(x for k in kinds for x in self.latency[k])
            statuses = sum((self.statuses[k] for k in kinds), Counter())
            errors = self.conn_errors.total() if kind == "all" else self.conn_errors[kind]
            q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) > 1 else lat * 99 or [0.0] * 99
            rows[kind] = {"requests": statuses.total() + errors, "rps": round(statuses.total() / self.elapsed, 1),
                          "p50_ms": round(q[49], 2), "p99_ms": round(q[98], 2),
                          "statuses": dict(sorted(statuses.items())),
                          "errors_5xx": sum(n for s, n in statuses.items() if s >= 500), "connection_errors": errors}
            click.echo(f"{kind:5s}: {rows[kind]['requests']:7d} requests, {rows[kind]['rps']:8.1f}/s, "
                       f"p50 {rows[kind]['p50_ms']:7.2f} ms, p99 {rows[kind]['p99_ms']:8.2f} ms, "
                       f"statuses {rows[kind]['statuses']}, 5xx {rows[kind]['errors_5xx']}, "
                       f"connection errors {errors}")
        return rows


def _log_lines(server: Server, *needles: str) -> list[str]:
    """The server log's lines holding any of ``needles``."""
    return [line for line in server.log_path.read_text(errors="replace").splitlines()
            if any(n in line for n in needles)]


@contextmanager
def _mixed_load(prefix: str, database: str | None, workers: int, attendees: int, seed: int, concurrency: int,
                seconds: int, write_share: float, note: str = "") -> Iterator[Load]:
    """A started server (:func:`_served`) on a synthetic event, and the :class:`Load` to run on it."""
    with _served(prefix, database, workers) as (server, key):
        server.start()
        people = _synthetic_event(server, key, attendees, seed)
        click.echo(f"event: {attendees} synthetic attendees; {workers} workers, {concurrency} clients, {seconds} s, "
                   f"{write_share:.0%} writes{note}")
        yield Load(server, key, people, concurrency=concurrency, seconds=seconds, write_share=write_share,
                   seed=seed)


def _load_options(f: Callable) -> Callable:
    """The options ``load`` and ``dbrestart`` share."""
    for option in reversed([
        click.option("--attendees", default=10_000, show_default=True, type=click.IntRange(100, 200_000),
                     help="Synthetic attendees of the event."),
        click.option("--write-share", default=0.2, show_default=True, type=click.FloatRange(0, 1),
                     help="Share of the requests that PATCH a bio (the others GET matches)."),
        click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16)),
        click.option("--seed", default=0, show_default=True, type=int),
    ]):
        f = option(f)
    return f


@main.command()
@click.option("--seconds", default=60, show_default=True, type=click.IntRange(1, 3600))
@click.option("--concurrency", default=32, show_default=True, type=click.IntRange(1, 512))
@_load_options
@click.option("--database", default=None, metavar="URL", help="Default: a temporary SQLite file.")
def load(seconds: int, concurrency: int, attendees: int, write_share: float, workers: int, seed: int,
         database: str | None) -> None:
    """A closed-loop mixed load (GET matches, PATCH bios) on a synthetic event: throughput, latency and status
    counts per kind; then every acknowledged last write read back (0 lost expected)."""
    with _mixed_load("matchmaker-load-", database, workers, attendees, seed, concurrency, seconds,
                     write_share) as run:
        run.run()
        rows = run.report()
        checks = run.check_writes()
        tracebacks = len(_log_lines(run.server, "Traceback"))
    summary = {"seconds": seconds, "concurrency": concurrency, "workers": workers, "attendees": attendees,
               "write_share": write_share, "database": "postgresql" if database else "sqlite", **rows, **checks,
               "log_tracebacks": tracebacks}
    click.echo(json.dumps(summary))
    if rows["all"]["errors_5xx"] or checks["writes_lost"] or tracebacks:
        raise SystemExit(1)


def _postgres_restart() -> str:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else ["15"]
    return f"pg_ctlcluster --skip-systemctl-redirect {versions[0]} main restart"


@main.command()
@click.option("--database", required=True, metavar="URL", help="A PostgreSQL database (a new schema is used).")
@click.option("--seconds", default=45, show_default=True, type=click.IntRange(1, 3600))
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 512))
@click.option("--restarts", default=3, show_default=True, type=click.IntRange(1, 100))
@click.option("--restart-command", default=_postgres_restart, show_default="pg_ctlcluster "
              "--skip-systemctl-redirect <version under /etc/postgresql> main restart",
              help="The shell command that restarts the database.")
@_load_options
def dbrestart(database: str, seconds: int, concurrency: int, restarts: int, restart_command: str, attendees: int,
              write_share: float, workers: int, seed: int) -> None:
    """Restart PostgreSQL under the mixed load: no 5xx but 503 (with Retry-After), no acknowledged write lost,
    no traceback and none of the load's names or bios in the server's log."""
    if not database.startswith(("postgresql:", "postgresql+", "postgres:")):
        raise click.BadParameter("must be a PostgreSQL URL (postgresql://...): the database is restarted",
                                 param_hint="'--database'")
    done: list[tuple[float, float, int]] = []  # each restart's start, end and exit status

    def restart(end: float) -> None:
        start = end - seconds
        for i in range(restarts):
            time.sleep(max(0.0, start + seconds * (i + 1) / (restarts + 1) - time.monotonic()))
            t0 = time.monotonic()
            proc = subprocess.run(shlex.split(restart_command), capture_output=True, text=True)
            done.append((t0, time.monotonic(), proc.returncode))
            click.echo(f"restart {i + 1}/{restarts} at {t0 - start:.1f} s: rc {proc.returncode} in "
                       f"{time.monotonic() - t0:.1f} s {(proc.stdout + proc.stderr).strip()[:300]}")

    with _mixed_load("matchmaker-dbrestart-", database, workers, attendees, seed, concurrency, seconds,
                     write_share, f", {restarts} restarts: {restart_command}") as run:
        run.run(restart)
        rows = run.report()
        checks = run.check_writes()
        written = {w.bio for ws in run.writes.values() for w in ws}
        names = {a.name for a in run.people if a.id in run.writes and len(a.name) >= 6}
        tracebacks = len(_log_lines(run.server, "Traceback"))
        personal = len(_log_lines(run.server, *written, *names))
    statuses = rows["all"]["statuses"]
    restarted = []
    for i, (t0, t1, rc) in enumerate(done):  # the last failure before the next restart: when it recovered
        until = done[i + 1][0] if i + 1 < len(done) else run.started + run.elapsed
        last = max((t for t in run.failures if t0 <= t < until), default=t0)
        restarted.append({"at_s": round(t0 - run.started, 1), "took_s": round(t1 - t0, 1), "rc": rc,
                          "failures_until_s": round(last - t0, 1)})
    not_503 = sum(n for s, n in statuses.items() if s >= 500 and s != 503)
    summary = {"seconds": seconds, "concurrency": concurrency, "workers": workers, "attendees": attendees,
               "write_share": write_share, "restarts": restarted, "requests": rows["all"]["requests"],
               "statuses": statuses, "errors_5xx_not_503": not_503, "answers_503": statuses.get(503, 0),
               "answers_503_with_retry_after": run.retry_after,
               "connection_errors": rows["all"]["connection_errors"], **checks, "log_tracebacks": tracebacks,
               "log_lines_with_names_or_bios": personal}
    click.echo(json.dumps(summary))
    failed_restarts = sum(rc != 0 for _, _, rc in done)
    if (not_503 or run.retry_after != statuses.get(503, 0) or checks["writes_lost"] or tracebacks or personal
            or failed_restarts):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
