"""The learned sides (``matcher/sides.py``): k-means on a known answer, and the store's rule that the sides are
refitted only when a person they were fitted on changed, with the same result as a fit from scratch."""

from __future__ import annotations

import numpy as np
import pytest

from matcher import Matcher, sides
from matcher.encoder import make_encoder
from matcher.evaluation.datasets.synthetic import generate_event


def test_kmeans_finds_planted_centres_and_is_seeded():
    rng = np.random.default_rng(3)
    truth = np.eye(8)[:4] * 10
    x = np.concatenate([c + 0.1 * rng.standard_normal((50, 8)) for c in truth])
    got = sides.kmeans(x, 4)
    # every planted centre has a found centre within 0.1, and the same rows give the same centres
    dist = np.linalg.norm(got[:, None, :] - truth[None, :, :], axis=2)
    assert sorted(dist.argmin(axis=1).tolist()) == [0, 1, 2, 3]
    assert float(dist.min(axis=0).max()) < 0.1
    assert np.array_equal(got, sides.kmeans(x, 4))


@pytest.fixture
def counted_fits(monkeypatch):
    calls = []
    real = sides.fit_model

    def counting(*args, **kwargs):
        calls.append(len(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(sides, "fit_model", counting)
    monkeypatch.setattr(sides, "FIT_SAMPLE", 60)  # fit on every ~5th of 300 people
    return calls


def _sides_of(m: Matcher):
    s = m.store.snapshot().sides
    return s.side.copy(), s.prior.copy()


def test_sides_refit_only_when_a_fitted_person_changes(counted_fits):
    ef = generate_event(300, 0).event_file
    people = list(ef.attendees)
    enc = make_encoder("hashing", dim=64)
    m = Matcher.from_event_file(ef, enc)
    m.recommend(people[0].id, k=5)
    assert counted_fits == [60]
    # evenly spaced over 300 keys, 60 picks: key 0 is fitted on, key 1 is not
    outside = people[1].model_copy(update={"bio": "a new bio about compost and tomatoes"})
    m.upsert([outside])
    m.recommend(people[0].id, k=5)
    assert counted_fits == [60], "a change outside the fitted people must not refit"
    inside = people[0].model_copy(update={"bio": "a new bio about seed funding for robots"})
    m.upsert([inside])
    m.recommend(people[2].id, k=5)
    assert counted_fits == [60, 60]
    # the store's sides (cached fit, people placed on it) are what a fit from scratch gives on the same people
    final = [inside, outside] + people[2:]
    fresh = Matcher.from_event_file(ef.model_copy(update={"attendees": final}), enc)
    for a, b in zip(_sides_of(m), _sides_of(fresh), strict=True):
        assert np.array_equal(a, b)


def _unit_rows(x):
    x = np.asarray(x, np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_a_peer_group_keeps_its_prior_and_substitutes_lose_theirs():
    """Three kinds on known vectors: founders (seek funding f, give a product p) and investors (seek products,
    give funding) are each other's counterparts; researchers (seek collaborators c, give work w close to c) are
    met by nobody else. Founders meet founders worse than investors do, so their same-side prior goes to 0;
    researchers meet each other best, so they are a peer group and keep theirs."""
    f, p, c, w = np.eye(6)[0], np.eye(6)[1], np.eye(6)[2], 0.6 * np.eye(6)[2] + 0.8 * np.eye(6)[3]
    rng = np.random.default_rng(0)
    rows = [(f, p), (p, f), (c, w)]
    goals = np.concatenate([np.tile(g, (20, 1)) for g, _ in rows]) + 0.01 * rng.standard_normal((60, 6))
    give = np.concatenate([np.tile(v, (20, 1)) for _, v in rows]) + 0.01 * rng.standard_normal((60, 6))
    dirs = _unit_rows(goals - give)
    model = sides.fit_model(dirs.astype(np.float32), _unit_rows(goals), _unit_rows(give))
    s = model.sides(np.arange(60), dirs.astype(np.float32), 60)
    founder, investor, researcher = s.side[0], s.side[20], s.side[40]
    assert len({founder, investor, researcher}) == 3
    assert s.prior[founder, investor] > 0.9 and s.prior[founder, founder] == 0.0
    # their whole fit (goals c met by work w: 0.6), no substitute or direction penalty
    assert s.peer[researcher, researcher] == 1.0 and s.prior[researcher, researcher] > 0.55
    assert s.peer[founder, founder] == 0.0 and s.peer[founder, investor] == 0.0


@pytest.mark.parametrize(("gap", "want"), [(0.05, 0.0), (0.08, 0.0), (0.11, 0.5), (0.14, 1.0), (0.3, 1.0)])
def test_peer_weight_ramps_with_the_gap(gap, want):
    # side 0 meets itself `gap` better than side 1 meets it; side 2 is of side 0's kind (directions agree)
    # (side 3 meets nobody, so the event has the four sides peer groups are judged among)
    hm = np.array([[0.5 + gap, 0.5, 0.5 + gap, 0.1], [0.5, 0.2, 0.5, 0.1], [0.5 + gap, 0.5, 0.5 + gap, 0.1],
                   [0.1, 0.1, 0.1, 0.1]])
    agree = np.array([[1.0, 0.0, 0.9, 0.0], [0.0, 1.0, 0.0, 0.0], [0.9, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    got = sides.peers(hm, agree)
    assert got[0, 0] == pytest.approx(want) and got[0, 2] == pytest.approx(want)
    assert got[0, 1] == 0.0 and got[1, 1] == 0.0  # another kind is never a peer; side 1 is met better by 0
