"""``matchmaker keys create/list/revoke`` and ``matchmaker serve`` argument errors, through click's runner."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from scripts.cli import main


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path}/keys.sqlite"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_keys_create_list_revoke(db_url):
    from service.storage import Store

    r = run("keys", "create", "acme", "--label", "platform A", "--database", db_url)
    assert r.exit_code == 0, r.output
    key = r.output.strip()
    assert key.startswith("mm_") and len(key) > 40
    store = Store(db_url)
    assert store.tenant_for_key(key) == store.tenant_id("acme")
    # only the hash is stored
    from sqlalchemy import select

    from service import db as t

    with store.engine.connect() as c:
        stored = [tuple(row) for row in c.execute(select(t.api_keys))]
    assert key not in repr(stored)

    listed = run("keys", "list", "--database", db_url).output
    assert "acme" in listed and "platform A" in listed and "live" in listed and key not in listed
    prefix = key[:11]
    assert prefix in listed

    r = run("keys", "revoke", prefix, "--database", db_url)
    assert r.exit_code == 0 and "revoked 1 key" in r.output
    assert store.tenant_for_key(key) is None
    assert "revoked" in run("keys", "list", "--database", db_url).output
    r = CliRunner().invoke(main, ["keys", "revoke", prefix, "--database", db_url])
    assert r.exit_code == 1 and "no live key matches" in r.output
    store.dispose()


def test_keys_errors(db_url, tmp_path):
    r = CliRunner().invoke(main, ["keys", "create", "  ", "--database", db_url])
    assert r.exit_code == 2 and "TENANT must be 1 to 200 characters" in r.output
    r = CliRunner().invoke(main, ["keys", "list", "--database", "nosuchdb://x"])
    assert r.exit_code == 1 and "cannot open database nosuchdb://x" in r.output
    assert "Traceback" not in r.output
    r = CliRunner().invoke(main, ["keys", "list", "--database", db_url])
    assert r.exit_code == 0 and "no keys" in r.output


def test_serve_refuses_a_busy_port(db_url):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = CliRunner().invoke(main, ["serve", "--port", str(port), "--database", db_url, "--encoder", "hashing"])
    assert r.exit_code == 2 and f"127.0.0.1:{port} is in use" in r.output


def test_serve_rejects_bad_arguments(db_url):
    r = CliRunner().invoke(main, ["serve", "--encoder", "gpt", "--database", db_url])
    assert r.exit_code == 2 and "'gpt' is not one of 'model', 'hashing'" in r.output
    r = CliRunner().invoke(main, ["serve", "--workers", "0"])
    assert r.exit_code == 2 and "--workers" in r.output
