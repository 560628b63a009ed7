"""Exact and HNSW indexes pass one shared suite; both agree with numpy brute force."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.index import FacetIndex, IndexError_


def _unit(rng, n, d=32):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _brute(vectors, owners, alive, queries, k):
    sims = queries @ vectors.T
    sims[:, ~alive] = -np.inf
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, order, axis=1), owners[order]


@pytest.fixture(params=["flat", "hnsw"])
def kind(request):
    return request.param


def test_search_matches_brute_force(kind):
    rng = np.random.default_rng(0)
    vecs = _unit(rng, 2000)
    owners = rng.integers(0, 500, size=2000)
    idx = FacetIndex(32, kind=kind)
    idx.add(owners, vecs)
    q = _unit(rng, 50)
    sims, got = idx.search(q, 10)
    ref_sims, _ = _brute(vecs, owners, np.ones(2000, bool), q, 10)
    if kind == "flat":
        np.testing.assert_allclose(sims, ref_sims, rtol=0, atol=1e-5)
    else:  # approximate: nearly every true top-10 similarity is found
        recall = np.mean([len(np.intersect1d(np.round(a, 5), np.round(b, 5))) / 10 for a, b in zip(sims, ref_sims,
                                                                                                  strict=True)])
        assert recall >= 0.95
    assert got.shape == (50, 10)


def test_removed_rows_never_come_back(kind):
    rng = np.random.default_rng(1)
    vecs = _unit(rng, 300)
    idx = FacetIndex(32, kind=kind)
    rows = idx.add(np.arange(300), vecs)
    idx.remove(rows[:150])
    assert len(idx) == 150
    _, owners = idx.search(vecs[:150], 20)  # query with the removed vectors themselves
    assert (owners >= 150).all()
    sims, owners = idx.search(vecs[200:201], 1)
    assert owners[0, 0] == 200 and sims[0, 0] == pytest.approx(1.0, abs=1e-5)


def test_compaction_remaps_rows(kind):
    rng = np.random.default_rng(2)
    vecs = _unit(rng, 2400)
    idx = FacetIndex(32, kind=kind)
    rows = idx.add(np.arange(2400), vecs)
    idx.remove(rows[:1200])
    assert idx.needs_compaction()
    mapping = idx.compact()
    assert idx.ntotal == 1200 and len(idx) == 1200
    assert (mapping[:1200] == -1).all() and (mapping[1200:] == np.arange(1200)).all()
    np.testing.assert_array_equal(idx.vectors(), vecs[1200:])


def test_save_load_round_trip(kind, tmp_path):
    rng = np.random.default_rng(3)
    vecs = _unit(rng, 400)
    idx = FacetIndex(32, kind=kind)
    rows = idx.add(np.arange(400) * 7, vecs)
    idx.remove(rows[:10])
    idx.save(tmp_path / "i")
    back = FacetIndex.load(tmp_path / "i")
    q = _unit(rng, 5)
    for a, b in zip(idx.search(q, 8), back.search(q, 8), strict=True):
        np.testing.assert_array_equal(a, b)


def test_switches_to_hnsw_above_threshold_keeping_rows():
    rng = np.random.default_rng(4)
    vecs = _unit(rng, 150)
    idx = FacetIndex(32, hnsw_threshold=100)
    r1 = idx.add(np.arange(80), vecs[:80])
    assert idx.kind == "flat"
    r2 = idx.add(np.arange(80, 150), vecs[80:])
    assert idx.kind == "hnsw"
    assert r1.tolist() == list(range(80)) and r2.tolist() == list(range(80, 150))
    np.testing.assert_array_equal(idx.vectors(), vecs)


def test_errors_name_the_problem(tmp_path):
    idx = FacetIndex(4)
    with pytest.raises(IndexError_, match=r"shape \(n, 4\)"):
        idx.add(np.zeros(2), np.zeros((2, 3), np.float32))
    with pytest.raises(IndexError_, match="expected 2 owners"):
        idx.add(np.zeros(3), np.zeros((2, 4), np.float32))
    with pytest.raises(IndexError_, match="kind must be"):
        FacetIndex(4, kind="ivf")
    with pytest.raises(IndexError_, match="cannot load index"):
        FacetIndex.load(tmp_path / "missing")
    assert idx.search(np.zeros((1, 4), np.float32), 5)[1].shape == (1, 0)
