"""``matchmaker serve`` (gunicorn) and ``matchmaker keys create/revoke/list``.

``matchmaker serve --demo`` creates the SQLite database, a ``demo`` tenant with a key (kept in a file and reused by
the next run while it is live), loads the bundled sample event, starts the server on 127.0.0.1 and prints a working
curl command. Each worker warms up as it starts (model, recent events); ``/readyz`` is 200 once it has.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from scripts.common import ENCODER_KINDS

SAMPLE_EVENT = Path(__file__).parent / "data" / "sample_event.json"
DEMO_TENANT = "demo"


def _database_option(f):
    return click.option("--database", "database_url", default=None, metavar="URL", envvar="MATCHMAKER_DATABASE_URL",
                        help="SQLAlchemy URL (default: $DATABASE_URL or sqlite:///var/matchmaker.sqlite).")(f)


def _store(database_url: str | None):
    from service.storage import Store

    try:
        store = Store(database_url, schema=os.environ.get("MATCHMAKER_DATABASE_SCHEMA") or None)
        store.create_all()
    except Exception as exc:  # bad URL, server down, no permission: all say "cannot use this database"
        raise click.ClickException(f"cannot open database {database_url or '(default)'}: "
                                   f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    return store


# ------------------------------------------------------------------------------------------------------ keys
@click.group()
def keys() -> None:
    """Create, list and revoke API keys (one tenant per key; only hashes are stored)."""


@keys.command("create")
@click.argument("tenant")
@click.option("--label", default="", help="A note to recognise the key by (e.g. the platform's name).")
@_database_option
def keys_create(tenant: str, label: str, database_url: str | None) -> None:
    """Create a key for TENANT (created if new) and print it: it is shown once, only its hash is stored."""
    tenant = tenant.strip()
    if not tenant or len(tenant) > 200:
        raise click.UsageError("TENANT must be 1 to 200 characters")
    key = _store(database_url).create_key(tenant, label)
    click.echo(key)


@keys.command("revoke")
@click.argument("key_or_prefix")
@_database_option
def keys_revoke(key_or_prefix: str, database_url: str | None) -> None:
    """Revoke a key, given whole or by the prefix 'keys list' shows."""
    n = _store(database_url).revoke_key(key_or_prefix.strip())
    if n == 0:
        raise click.ClickException(f"no live key matches {key_or_prefix!r} (see 'matchmaker keys list')")
    click.echo(f"revoked {n} key{'s' if n > 1 else ''}")


@keys.command("list")
@_database_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def keys_list(database_url: str | None, as_json: bool) -> None:
    """List keys: prefix, tenant, label, created, revoked."""
    rows = _store(database_url).list_keys()
    if as_json:
        click.echo(json.dumps(rows, default=str, indent=2))
        return
    if not rows:
        click.echo("no keys; create one with 'matchmaker keys create TENANT'")
    for r in rows:
        state = f"revoked {r['revoked_at']:%Y-%m-%d %H:%M}" if r["revoked_at"] else "live"
        click.echo(f"{r['prefix']}…  {r['tenant']:<20} {state:<24} {r['label']}")


# ----------------------------------------------------------------------------------------------------- serve
def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _demo_event():
    from scripts.common import read_event_or_fail

    return read_event_or_fail(str(SAMPLE_EVENT)), str(SAMPLE_EVENT.name)


def _demo_load(database_url: str, config: dict[str, Any]) -> None:
    """Runs in a spawned child: loads the sample event, encoding with the configured encoder.

    A child keeps torch out of the gunicorn master, so workers fork from a process that never started
    torch's thread pools.
    """
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)  # this short-lived child must leave no metric files
    from matcher import CachedEncoder
    from service.app import encoder_factory
    from service.ingest import load_event_file
    from service.storage import DbEmbeddingCache, Store

    store = Store(database_url, schema=config.get("DATABASE_SCHEMA"))
    ef, _ = _demo_event()
    enc = CachedEncoder(encoder_factory(config)(), DbEmbeddingCache(store))
    load_event_file(store, enc, DEMO_TENANT, ef)


def _setup_demo(database_url: str, config: dict[str, Any]) -> tuple[str, Any, str]:
    import multiprocessing

    store = _store(database_url)
    ef, source = _demo_event()
    click.echo(f"Loading the demo event {ef.event.id!r} ({len(ef.attendees)} attendees) from {source} ...")
    proc = multiprocessing.get_context("spawn").Process(target=_demo_load, args=(database_url, config))
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise click.ClickException("loading the demo event failed (see the error above)")
    key = _demo_key(store, database_url)
    store.dispose()
    return key, ef, source


def demo_key_file(database_url: str) -> Path:
    """Where the demo key is kept between runs: ``$MATCHMAKER_DEMO_KEY_FILE``, else beside a SQLite database
    file (``var/matchmaker.sqlite.demo-key``), else ``var/demo-key``."""
    if os.environ.get("MATCHMAKER_DEMO_KEY_FILE"):
        return Path(os.environ["MATCHMAKER_DEMO_KEY_FILE"])
    if database_url.startswith("sqlite:///") and database_url[len("sqlite:///"):] not in ("", ":memory:"):
        return Path(database_url[len("sqlite:///"):] + ".demo-key")
    return Path("var") / "demo-key"


def _demo_key(store, database_url: str) -> str:
    """The demo tenant's key: the one kept from the last run while it is still live in this database, else a
    new one (kept for the next run; the demo tenant's other demo keys are revoked, so one stays live)."""
    path = demo_key_file(database_url)
    tid = store.tenant_id(DEMO_TENANT)
    try:
        kept = path.read_text().strip()
    except OSError:
        kept = ""
    if kept and tid is not None and store.tenant_for_key(kept) == tid:
        return kept
    key = store.create_key(DEMO_TENANT, label="demo")
    for k in store.list_keys():
        if k["tenant"] == DEMO_TENANT and k["label"] == "demo" and not k["revoked_at"] and k["prefix"] != key[:11]:
            store.revoke_key(k["prefix"])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)  # a key: readable by its owner only
        path.write_text(key + "\n")
    except OSError as exc:
        click.echo(f"(cannot keep the demo key in {path}: {exc.strerror}; the next run makes a new one)")
    return key


class _Gunicorn:
    """gunicorn's BaseApplication, built lazily so importing this module stays cheap."""

    @staticmethod
    def run(options: dict[str, Any], app_config: dict[str, Any]) -> None:
        from gunicorn.app.base import BaseApplication

        class App(BaseApplication):
            def load_config(self):
                for k, v in options.items():
                    self.cfg.set(k, v)

            def load(self):
                from service import create_app

                return create_app(app_config)

        App().run()


def _child_exit(server, worker) -> None:  # pragma: no cover - runs in the gunicorn master
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _remove_prom_dir(server) -> None:  # pragma: no cover - runs in the gunicorn master
    import shutil

    shutil.rmtree(os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""), ignore_errors=True)


def _post_worker_init(worker) -> None:  # pragma: no cover - runs in gunicorn workers
    """Cap the worker's compute threads (workers x threads <= cores: no oversubscription), then load the
    encoder, so the first request does not wait for the model."""
    threads = int(os.environ.get("MATCHMAKER_WORKER_THREADS", "0"))
    if threads > 0:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)  # BLAS and OpenMP (FAISS) pools
        try:
            import faiss

            faiss.omp_set_num_threads(threads)
        except ImportError:
            pass
        if "torch" in sys.modules or worker.wsgi.config.get("ENCODER") == "model":
            import torch

            torch.set_num_threads(threads)
    try:
        _ = worker.wsgi.extensions["matchmaker"].registry.encoder.model_id
    except Exception:  # a broken model shows up, with its message, on the first request that needs it
        pass


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="gunicorn worker processes (each holds its own in-memory matchers).")
@_database_option
@click.option("--encoder", type=click.Choice(ENCODER_KINDS), default=None,
              help="model: all-MiniLM-L6-v2 (default); multilingual: Universal Sentence Encoder Multilingual v3 "
                   "(16 languages in one space); hashing: the fast stand-in (tests, load tests).")
@click.option("--timeout", default=120, show_default=True, type=click.IntRange(10, 3600),
              help="gunicorn worker timeout, seconds (a first request may load the model).")
@click.option("--threads", default=0, type=click.IntRange(0, 256),
              help="Compute threads per worker (default: CPU cores / workers, at least 1).")
@click.option("--demo", is_flag=True,
              help="Create the database, a demo tenant and key, load the sample event, print a curl example.")
def serve(host: str, port: int, workers: int, database_url: str | None, encoder: str | None, timeout: int,
          threads: int, demo: bool) -> None:
    """Run the HTTP API with gunicorn."""
    os.environ["MATCHMAKER_WORKER_THREADS"] = str(threads or max(1, (os.cpu_count() or 1) // workers))
    # multiprocess metrics: must be set before prometheus_client is first imported (by the service package)
    own_prom_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if own_prom_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="matchmaker-prom-")
    from service.storage import default_url, normalize_url

    database_url = normalize_url(database_url or default_url())
    app_config: dict[str, Any] = {"DATABASE_URL": database_url, "CREATE_TABLES": False, "WARM_ON_START": True}
    if encoder:
        app_config["ENCODER"] = encoder
    if not _port_free(host, port):
        raise click.UsageError(f"{host}:{port} is in use; pass another --port")
    from service.app import default_config

    full = default_config() | app_config
    if full["ENCODER"] not in ENCODER_KINDS:
        raise click.UsageError(f"MATCHMAKER_ENCODER must be one of {', '.join(ENCODER_KINDS)}; "
                               f"got {full['ENCODER']!r}")
    _store(database_url).dispose()  # create tables once, before any worker; no connection crosses the fork
    if demo:
        key, ef, _ = _setup_demo(database_url, full)
        first = ef.attendees[0].id if ef.attendees else "ATTENDEE"
        base = f"http://{host}:{port}"
        click.echo("")
        click.echo(f"Demo tenant key: {key}   (kept in {demo_key_file(database_url)}; the next run reuses it)")
        click.echo("Try:")
        click.echo(f"  curl -s -H 'Authorization: Bearer {key}' "
                   f"'{base}/v1/events/{ef.event.id}/attendees/{first}/matches?limit=3'")
        click.echo(f"API docs: {base}/docs   OpenAPI: {base}/v1/openapi.json   metrics: {base}/metrics")
        click.echo(f"(each worker loads the model and the event as it starts: {base}/readyz answers 200 once "
                   "they are in memory)")
        click.echo("")
    options = {"bind": f"{host}:{port}", "workers": workers, "timeout": timeout, "graceful_timeout": 10,
               "child_exit": _child_exit, "post_worker_init": _post_worker_init, "accesslog": None,
               "errorlog": "-", "loglevel": "info", "proc_name": "matchmaker",
               "control_socket_disable": True, "worker_class": "service.workers.JsonThreadWorker",
               "threads": int(os.environ.get("MATCHMAKER_HTTP_THREADS", "8"))}
    if own_prom_dir:
        options["on_exit"] = _remove_prom_dir
    _Gunicorn.run(options, app_config)
