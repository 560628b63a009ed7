"""Benchmark of the HTTP service against the engine, measured in one run (prints figures; not a test).

1. Engine, in this process: raw ingest of an N-attendee synthetic event (attendees/s, encoding included) and
   the latency of ``Matcher.recommend`` for a sample of attendees.
2. Service: ``matchmaker serve`` (gunicorn, SQLite file in a temporary directory) on 127.0.0.1; bulk upsert of
   the same event in batches (attendees/s: validation, encoding, storage), then the match endpoint under
   closed-loop load from ``wrk`` at each concurrency (requests/s, p50, p99), every request for a different
   attendee.
3. Ratios: endpoint latency / engine recommend latency (service overhead), service ingest / engine ingest.

    python -m scripts.bench_service                  # 10k attendees, hashing encoder, 2 workers, 10 s per level
    python -m scripts.bench_service --encoder model  # the real model (slow to ingest on a CPU)

Traffic goes only to 127.0.0.1 and every phase is bounded in time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent

WRK_SCRIPT = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local i = 0
local thread_offset = 0
setup = function(thread) thread:set("offset", thread_offset); thread_offset = thread_offset + 7919 end
request = function()
  i = i + 1
  local id = ids[((i + (offset or 0)) %% #ids) + 1]
  return wrk.format("GET", "/v1/events/%(event)s/attendees/" .. id .. "/matches?limit=%(limit)d", {
    ["Authorization"] = "Bearer %(key)s"})
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(method: str, url: str, key: str, body=None, timeout: float = 600) -> tuple[int, dict, str]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}"), r.headers.get("X-Matchmaker-Worker", "")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}"), ""


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _wrk_ms(text: str, label: str) -> float:
    m = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not m:
        raise click.ClickException(f"cannot read {label} from wrk output:\n{text}")
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


@click.command()
@click.option("-n", "--attendees", "n", default=10_000, show_default=True, type=click.IntRange(100, 200_000))
@click.option("--seed", default=0, show_default=True)
@click.option("--encoder", type=click.Choice(["hashing", "model"]), default="hashing", show_default=True)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32))
@click.option("--duration", default=10, show_default=True, type=click.IntRange(2, 120), help="Seconds per level.")
@click.option("--concurrency", default="1,8,32", show_default=True, help="Comma-separated wrk connection counts.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100), help="Matches per request.")
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(1, 5000), help="Attendees per upsert.")
@click.option("--samples", default=300, show_default=True, help="Attendees timed through the engine directly.")
def main(n: int, seed: int, encoder: str, workers: int, duration: int, concurrency: str, limit: int, batch: int,
         samples: int) -> None:
    """Service vs engine: ingest throughput and match latency (wrk, closed loop)."""
    if shutil.which("wrk") is None:
        raise click.ClickException("wrk is not installed (apt-get install -y wrk)")
    levels = [int(c) for c in concurrency.split(",") if c.strip()]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from matcher import CachedEncoder, Matcher
    from matcher.encoder import make_encoder
    from matcher.evaluation.datasets.synthetic import generate_event

    ef = generate_event(n, seed).event_file
    people = [a.model_dump(mode="json") for a in ef.attendees]
    click.echo(f"event: {n} synthetic attendees (matcher.evaluation.datasets.synthetic, seed {seed}); encoder: "
               f"{'HashingEncoder(dim=384)' if encoder == 'hashing' else 'all-MiniLM-L6-v2 (bf16 auto)'}; "
               f"{workers} gunicorn workers; {os.cpu_count()} CPUs")

    # ---- engine
    base_enc = make_encoder(encoder, dim=384)
    if encoder == "model":
        base_enc.encode(["warm up"])
    t0 = time.perf_counter()
    m = Matcher(ef.event, CachedEncoder(base_enc))
    m.upsert(ef.attendees)
    engine_ingest_s = time.perf_counter() - t0
    ids = m.ids()
    step = max(1, len(ids) // samples)
    sample = ids[::step][:samples]
    for aid in sample[:20]:
        m.recommend(aid, k=limit)
    lat = []
    for aid in sample:
        t = time.perf_counter()
        m.recommend(aid, k=limit)
        lat.append((time.perf_counter() - t) * 1000)
    eng_p50, eng_p99, eng_mean = _pct(lat, 0.5), _pct(lat, 0.99), statistics.fmean(lat)
    click.echo(f"engine ingest: {n} attendees in {engine_ingest_s:.2f} s = {n / engine_ingest_s:,.0f} attendees/s "
               f"(encode + index, one process)")
    click.echo(f"engine recommend (k={limit}, {len(sample)} attendees): p50 {eng_p50:.2f} ms, "
               f"p99 {eng_p99:.2f} ms, mean {eng_mean:.2f} ms")
    del m

    # ---- service
    tmp = Path(tempfile.mkdtemp(prefix="mm-bench-"))
    url = f"sqlite:///{tmp}/bench.sqlite"
    from service.storage import Store

    store = Store(url)
    store.create_all()
    key = store.create_key("bench")
    store.dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, MATCHMAKER_ENCODER=encoder, MATCHMAKER_HASHING_DIM="384", MATCHMAKER_EXPOSE_WORKER="1",
               MATCHMAKER_DATABASE_URL=url)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = open(tmp / "server.log", "w")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen([sys.executable, "-m", "scripts.cli", "serve", "--port", str(port), "--workers",
                             str(workers), "--timeout", "600"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        end = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > end:
                    raise click.ClickException("server did not start: "
                                               + (tmp / "server.log").read_text()[-2000:]) from None
                time.sleep(0.3)
        status, body, _ = _http("POST", base + "/v1/events", key, ef.event.model_dump(mode="json"))
        if status != 201:
            raise click.ClickException(f"create event: {status} {body}")
        ev = ef.event.id
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            status, body, _ = _http("POST", f"{base}/v1/events/{ev}/attendees", key, people[i:i + batch])
            if status != 200:
                raise click.ClickException(f"upsert: {status} {body}")
        service_ingest_s = time.perf_counter() - t0
        click.echo(f"service bulk upsert ({batch}/request): {n} attendees in {service_ingest_s:.2f} s = "
                   f"{n / service_ingest_s:,.0f} attendees/s (validate + encode + store)")

        # every worker builds its matcher from stored vectors: time the first request each answers
        seen: dict[str, float] = {}
        from concurrent.futures import ThreadPoolExecutor

        t0 = time.perf_counter()
        end = time.monotonic() + 300
        with ThreadPoolExecutor(max(2, workers * 2)) as pool:
            while len(seen) < workers and time.monotonic() < end:
                def one(aid):
                    t = time.perf_counter()
                    _, _, pid = _http("GET", f"{base}/v1/events/{ev}/attendees/{aid}/matches?limit={limit}", key)
                    return pid, time.perf_counter() - t
                for pid, dt in pool.map(one, sample[: workers * 2]):
                    seen.setdefault(pid, dt)
        click.echo(f"first request per worker (loads the event from the database, re-encoding nothing): "
                   f"{', '.join(f'{v:.2f} s' for v in seen.values())}")

        idfile = tmp / "ids.txt"
        idfile.write_text("\n".join(ids) + "\n")
        script = tmp / "matches.lua"
        script.write_text(WRK_SCRIPT % {"ids": idfile, "event": ev, "limit": limit, "key": key})
        rows = []
        for c in levels:
            threads = max(1, min(c, 2))
            out = subprocess.run(["wrk", f"-t{threads}", f"-c{c}", f"-d{duration}s", "--latency", "--timeout", "30s",
                                  "-s", str(script), f"{base}/"], capture_output=True, text=True,
                                 timeout=duration + 60).stdout
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
            p50, p99 = _wrk_ms(out, "50%"), _wrk_ms(out, "99%")
            rows.append((c, rps, p50, p99, int(errors.group(1)) if errors else 0))
        click.echo("")
        click.echo(f"match endpoint, GET .../matches?limit={limit}, wrk closed loop, {duration} s per level:")
        click.echo(f"{'conns':>6} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'non-2xx':>8} {'p50 / engine p50':>17}")
        for c, rps, p50, p99, errs in rows:
            click.echo(f"{c:>6} {rps:>9.1f} {p50:>9.2f} {p99:>9.2f} {errs:>8} {p50 / eng_p50:>17.2f}")
        click.echo("")
        click.echo(f"service overhead at 1 connection: endpoint p50 / engine recommend p50 = "
                   f"{rows[0][2]:.2f} / {eng_p50:.2f} ms = {rows[0][2] / eng_p50:.2f}x")
        click.echo(f"ingest: service {n / service_ingest_s:,.0f} vs engine {n / engine_ingest_s:,.0f} attendees/s "
                   f"= {engine_ingest_s / service_ingest_s:.2f}x of the engine's rate")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
