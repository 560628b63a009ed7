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
