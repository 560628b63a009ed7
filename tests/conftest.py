"""Shared fixtures. The real model loads once per test session (``real_encoder``); unit tests use the
deterministic ``HashingEncoder``."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MATCHMAKER_NO_CACHE", "1")  # CLI tests must not read or write ~/.cache

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def real_encoder():
    """The default all-MiniLM-L6-v2 encoder (bf16 where the CPU supports it), loaded once."""
    from matcher import Encoder

    enc = Encoder()
    enc.encode(["warm up"])
    return enc


@pytest.fixture
def hashing_encoder():
    from matcher import HashingEncoder

    return HashingEncoder(dim=64)


# --------------------------------------------------------------------------------- service tests (shared)
@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A fresh database of each kind (PostgreSQL skips only on a developer machine without a server)."""
    from service_support import drop_db, make_db

    d = make_db(request.param, tmp_path)
    yield d
    drop_db(d)


@pytest.fixture
def app(db):
    """The app over :func:`db`, its storage closed afterwards."""
    from service_support import make_app

    a = make_app(db)
    yield a
    a.extensions["matchmaker"].store.dispose()
