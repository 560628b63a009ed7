"""How long a synchronous attendee upsert takes by batch size and by texts to encode (prints figures; not a test).

Each size posts a fresh slice of a seeded synthetic event through the app (SQLite file, the configured encoder, in
this process, the request answered synchronously) and prints seconds, texts encoded and texts per second; then the
same batch again (every text cached: what a re-send costs). The upsert's ``UPSERT_SYNC_TEXTS`` threshold (texts
not yet encoded above which an upsert runs as a background job) is chosen from these figures.

    python -m scripts.bench_upsert --sizes 100,250,500,1000          # the real model
    python -m scripts.bench_upsert --sizes 1000,5000 --encoder hashing
"""

from __future__ import annotations

import json
import tempfile
import time

import click


@click.command()
@click.option("--sizes", default="100,250,500,1000", show_default=True, help="Batch sizes, comma-separated.")
@click.option("--encoder", type=click.Choice(["model", "hashing"]), default="model", show_default=True)
@click.option("--seed", default=0, show_default=True)
def main(sizes: str, encoder: str, seed: int) -> None:
    from matcher.evaluation.datasets.synthetic import generate_event
    from matcher.profile import FACETS, facet_items
    from service import create_app

    ns = [int(x) for x in sizes.split(",") if x.strip()]
    ef = generate_event(sum(ns), seed=seed).event_file
    tmp = tempfile.mkdtemp(prefix="matchmaker-bench-upsert-")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite", "ENCODER": encoder,
                      "UPSERT_SYNC_TEXTS": 10**9, "RATE_LIMIT": ""})
    key = app.extensions["matchmaker"].store.create_key("bench")
    c = app.test_client()
    h = {"Authorization": f"Bearer {key}"}
    assert c.post("/v1/events", json={"id": "bench", "name": "Bench"}, headers=h).status_code == 201
    # load the model first (not counted)
    c.post("/v1/events/bench/attendees", json=[{"id": "warm", "goals": ["warm up the model"]}], headers=h)
    click.echo(f"encoder {app.extensions['matchmaker'].registry.encoder.model_id}")
    click.echo("size | distinct texts | upsert s | texts/s | re-send s (all cached)")
    start = 0
    for n in ns:
        batch = [a.model_dump(mode="json") for a in ef.attendees[start:start + n]]
        start += n
        texts = {x for a in ef.attendees[start - n:start] for f in FACETS for x in facet_items(a)[f]}
        t0 = time.perf_counter()
        r = c.post("/v1/events/bench/attendees", data=json.dumps(batch), headers=h | {"Content-Type":
                                                                                        "application/json"})
        dt = time.perf_counter() - t0
        assert r.status_code == 200, r.get_json()
        t0 = time.perf_counter()
        c.post("/v1/events/bench/attendees", json=batch, headers=h)
        again = time.perf_counter() - t0
        click.echo(f"{n} | {len(texts)} | {dt:.2f} | {len(texts) / dt:,.0f} | {again:.2f}")


if __name__ == "__main__":
    main()
