"""One suite for both scoring backends: every function of :data:`matcher.scoring.BACKEND_TWINS` runs in the numpy
reference and in the compiled twin on the same cases, against a plain definition or a known answer (implicit's
pattern: one test suite, parametrized by backend)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_engine import varied_crowd

from matcher import HashingEncoder, Matcher, ranking, scoring
from matcher.lexical import N_FEATURES, LexicalIndex
from matcher.scoring import FLOOR, compiled, reference
from models import Attendee, Event, MatchPolicy

BACKENDS = {"reference": reference, "compiled": compiled}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request):
    return BACKENDS[request.param]


def test_the_table_names_functions_both_backends_have_and_tests_that_exist():
    here = globals()
    for name, _, test in scoring.BACKEND_TWINS:
        assert callable(getattr(reference, name)) and callable(getattr(compiled, name)), name
        assert test in here, test


# ------------------------------------------------------------------------------------------- list_channels
def _unit(rng, n, dim=8):
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _pool(values, t=scoring.POOL_TEMPERATURE):
    w = [math.exp(v / t) for v in values]
    return sum(a * b for a, b in zip(w, values, strict=True)) / sum(w)


def _channels_plainly(q_goals, q_give, q_interests, theirs):
    """The formula written per pair in plain Python: ``theirs`` is ``{facet: (n, dim) array}`` of one candidate."""
    def best(rows, cols):
        return [max(float(r @ c) for c in cols) for r in rows]

    give = np.concatenate([theirs["offers"], theirs["identity"]])
    q_to_c = _pool(best(q_goals, give)) if len(q_goals) and len(give) else math.nan
    c_to_q = _pool(best(theirs["goals"], q_give)) if len(theirs["goals"]) and len(q_give) else math.nan
    clip = lambda x: min(max(x, 0.0), 1.0)  # noqa: E731
    if not math.isnan(q_to_c) and not math.isnan(c_to_q):
        x, y = clip(q_to_c), clip(c_to_q)
        intent = 2 * x * y / (x + y) if x + y > 0 else 0.0
    elif not math.isnan(q_to_c) or not math.isnan(c_to_q):
        intent = scoring.ONE_SIDED * clip(q_to_c if not math.isnan(q_to_c) else c_to_q)
    else:
        intent = 0.0
    shared = 0.0
    if len(q_interests) and len(theirs["interests"]):
        shared = clip(0.5 * (_pool(best(q_interests, theirs["interests"]))
                             + _pool(best(theirs["interests"], q_interests))))
    give_qc = _pool(best(q_give, give)) if len(q_give) and len(give) else math.nan
    give_cq = _pool(best(give, q_give)) if len(q_give) and len(give) else math.nan
    return intent, q_to_c, c_to_q, shared, give_qc, give_cq


@pytest.mark.parametrize("seed", range(6))
def test_list_channels(backend, seed):
    rng = np.random.default_rng(seed)
    n_keys = 25
    counts = rng.integers(0, 4, size=(4, n_keys))  # some keys have no items in some facets
    vectors, flats = [], []
    for f in range(4):
        total = int(counts[f].sum())
        vectors.append(_unit(rng, total + 3))          # spare rows nobody owns
        flats.append(rng.permutation(total + 3)[:total].astype(np.int64))  # rows scattered in storage
    starts = (np.cumsum(counts, axis=1) - counts).astype(np.int64)
    q_goals, q_give, q_interests = _unit(rng, int(rng.integers(0, 3))), _unit(rng, 2), _unit(rng, 2)
    cands = rng.choice(n_keys, size=12, replace=False).astype(np.int64)
    out = np.empty((len(cands), len(scoring.LIST_CHANNELS)))
    backend.list_channels(cands, q_goals, q_give, q_interests, tuple(vectors), starts, counts.astype(np.int64),
                          tuple(flats), 1 / scoring.POOL_TEMPERATURE, scoring.ONE_SIDED, out, True, True)
    for j, c in enumerate(cands):
        theirs = {name: vectors[f][flats[f][starts[f, c]:starts[f, c] + counts[f, c]]]
                  for f, name in enumerate(("goals", "offers", "identity", "interests"))}
        want = _channels_plainly(q_goals, q_give, q_interests, theirs)
        np.testing.assert_allclose(out[j], want, atol=1e-5, equal_nan=True)


# ------------------------------------------------------------------------------------------------ lexical
WORDS = ["rust", "compilers", "seed", "funding", "fintech", "lorawan", "series", "robotics", "hiring", "python"]


@pytest.mark.parametrize("seed", range(5))
def test_lexical_dots(backend, seed):
    rng = np.random.default_rng(seed)
    lex = LexicalIndex()
    pick = lambda: " ".join(rng.choice(WORDS, int(rng.integers(0, 5))))  # noqa: E731 - may be empty
    lex.set_many(list(range(40)), [{"seek": pick(), "give": pick(), "topic": pick()} for _ in range(40)])
    lex.remove(5)
    seek, give, topic = (lex.matrix(k) for k in ("seek", "give", "topic"))
    both = lex.combined()
    cands = np.array([0, 1, 2, 3, 5, 9, 39])
    for q in (0, 3, 5, 17):
        out = np.empty((len(cands), 3))
        backend.lexical_dots(both.indptr, both.indices, both.data, q, cands, N_FEATURES, *lex.table(), out)
        want = ((seek[q] @ give[cands].T).toarray()[0], (give[q] @ seek[cands].T).toarray()[0],
                (topic[q] @ topic[cands].T).toarray()[0])
        for col, w in enumerate(want):
            np.testing.assert_allclose(out[:, col], w, rtol=1e-12, atol=1e-12)
    assert not lex.table()[0].any() and not lex.table()[1].any()  # the scratch is left all zero


@pytest.mark.parametrize(("args", "want"), [
    ((0.5, 0.5, 1.0, True, True, True, True), 0.75),   # harmonic 0.5, topics 1.0: their mean
    ((0.8, 0.2, 0.0, True, True, False, False), 0.32),  # both seek: harmonic mean only
    ((0.8, 0.0, 0.0, True, False, False, False), 0.4),  # one seeks: half the larger dot
    ((0.0, 0.0, 0.6, False, False, True, True), 0.6),   # topics only
    ((0.0, 0.0, 0.6, False, False, True, False), 0.0),  # one has topics, nobody seeks
])
def test_lexical_score(backend, args, want):
    assert float(backend.lexical_score(*args, scoring.ONE_SIDED)) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize(("aa", "want"), [(0.0, 0.0), (math.log(2), 0.5), (math.log(4), 0.75)])
def test_mutual_score(backend, aa, want):
    assert float(backend.mutual_score(aa)) == pytest.approx(want, abs=1e-12)


NAN = math.nan
SIDES, HALF = scoring.SIDES, 0.5 * scoring.SIDES


@pytest.mark.parametrize(("args", "want"), [
    # (intent, q_to_c, c_to_q, give_qc, give_cq, direction, prior, complement) -> (adjusted, penalty, gate)
    # give alike (0.1 more than give meets goals, each way) and the same direction (0.5 x DIRECTION)
    ((0.8, 0.8, 0.8, 0.9, 0.9, 0.5, NAN, 1.0), (0.7 - 0.5 * scoring.DIRECTION,) * 2),
    ((0.8, 0.8, 0.8, 0.3, 0.3, -0.5, 0.6, 1.0),                      # a counterpart: prior averaged in
     ((0.8 + SIDES * 0.6) / (1 + SIDES), 0.0, (0.8 + SIDES * 0.6) / (1 + SIDES))),
    ((0.8, 0.8, 0.8, 0.9, 0.9, 0.5, 0.6, 0.0), (0.8, 0.0, 1.0)),      # complement off: plain intent, full gate
    ((0.4, NAN, 0.8, 0.9, 0.9, 0.0, NAN, 1.0), (0.35, 0.05, 0.35)),   # one direction undefined: the other counts
    ((0.1, 0.2, 0.2, 1.0, 1.0, 1.0, NAN, 1.0), (0.0, 0.8 + scoring.DIRECTION, 0.0)),  # clipped at 0
    ((0.0, NAN, NAN, NAN, NAN, 0.0, NAN, 1.0), (0.0, 0.0, 1.0)),      # nobody states goals: gate open
    ((0.8, 0.8, 0.8, 0.9, 0.9, 0.0, 0.6, 0.5),                       # half: half the penalty and prior weight
     ((0.75 + HALF * 0.6) / (1 + HALF), 0.05, 0.5 + 0.5 * (0.75 + HALF * 0.6) / (1 + HALF))),
])
def test_fuse(backend, args, want):
    got = backend.fuse(*args)
    if len(want) == 2:  # adjusted and penalty given; the gate equals the adjusted intent at complement 1
        want = (want[0], 0.1 + 0.5 * scoring.DIRECTION, want[0])
    assert tuple(float(x) for x in got) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize(("peer", "left"), [(0.0, 0.7 - 0.5 * scoring.DIRECTION), (0.5, 0.75 - 0.25 * scoring.DIRECTION),
                                            (1.0, 0.8)])
def test_fuse_excuses_a_peer_group(backend, peer, left):
    # alike in what they give, pointing the same way: the penalty shrinks by the pair's peer weight
    got = backend.fuse(0.8, 0.8, 0.8, 0.9, 0.9, 0.5, 0.6, 1.0, scoring.SUBSTITUTE, scoring.DIRECTION,
                       scoring.SIDES, peer)
    want_adjusted = (left + SIDES * 0.6) / (1 + SIDES)
    assert tuple(float(x) for x in got) == pytest.approx((want_adjusted, 0.8 - left, want_adjusted), abs=1e-12)


# ------------------------------------------------------------------------------------------ diversity
@pytest.mark.parametrize("seed", range(30))
def test_rerank_pool_size(backend, seed):
    rng = np.random.default_rng(seed)
    scores = np.sort(np.round(rng.uniform(0, 1, int(rng.integers(1, 60))), 3))[::-1]
    k, div, cap = int(rng.integers(1, 20)), float(rng.choice([0.1, 0.3, 1.0])), int(rng.integers(5, 40))
    kth = scores[min(k, len(scores)) - 1]
    reachable = sum(1 for s in scores if s >= (1 - div) * kth)
    assert backend.rerank_pool_size(scores, k, div, cap) == min(len(scores), cap, max(reachable, k))
    assert backend.rerank_pool_size(np.array([0.9, 0.8, 0.5, 0.3]), 2, 0.5, 500) == 3


def _rerank_plainly(scores, profiles, k, div):
    """The greedy re-rank written plainly: every step scans the whole pool."""
    n = len(scores)
    picked, left = [], np.ones(n, dtype=bool)
    max_sim = np.full(n, -1.0)
    for _ in range(min(k, n)):
        red = np.clip((max_sim - FLOOR) / (1.0 - FLOOR), 0.0, 1.0)
        adj = np.where(left, scores * (1.0 - div * red), -np.inf)
        i = int(np.argmax(adj))
        picked.append(i)
        left[i] = False
        max_sim = np.maximum(max_sim, profiles @ profiles[i])
    return picked


def near_copies(seed):
    """A sorted list of scores (with ties) over clusters of near-copies among distinct profiles."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(2, 120)), int(rng.integers(1, 30))
    centres = rng.standard_normal((max(1, n // 6), 16))
    prof = centres[rng.integers(0, len(centres), n)] + rng.uniform(0.05, 0.6) * rng.standard_normal((n, 16))
    prof = (prof / np.linalg.norm(prof, axis=1, keepdims=True)).astype(np.float32)
    scores = np.sort(np.round(rng.uniform(0.2, 0.9, n), 2))[::-1]
    return scores, prof, k, float(rng.choice([0.3, 0.6, 1.0])), rng.permutation(n)


@pytest.mark.parametrize("seed", range(40))
def test_rerank(backend, seed):
    # the head-only search must agree exactly with the plain greedy; profiles are read as profiles[rows]
    scores, prof, k, div, rows = near_copies(seed)
    want = _rerank_plainly(scores, prof, k, div)
    table = np.empty_like(prof)
    table[rows] = prof
    assert backend.rerank(scores, table, rows, k, div, FLOOR).tolist() == want


@pytest.mark.parametrize("seed", range(20))
def test_picked_scores(backend, seed):
    scores, prof, k, div, rows = near_copies(seed)
    table = np.empty_like(prof)
    table[rows] = prof
    picks = np.asarray(_rerank_plainly(scores, prof, k, div), dtype=np.int64)
    got = np.asarray(backend.picked_scores(scores, table, rows, picks, div, FLOOR))
    # by hand: the pick's score less div x its largest redundancy with the picks before it
    want = [scores[p] * (1 - div * max([float(np.clip((prof[q] @ prof[p] - FLOOR) / (1 - FLOOR), 0, 1))
                                        for q in picks[:j]], default=0.0)) for j, p in enumerate(picks)]
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert np.all(np.diff(got) <= 1e-9)  # the greedy takes the best adjusted score: never increasing


# ----------------------------------------------------------------------------------------- candidates
def _candidate_lists_plainly(owners, counts, fetch):
    """Per query: each channel's hits interleaved by rank, first ``fetch`` distinct owners; the channels united."""
    out = []
    for q in range(counts.shape[1]):
        found = set()
        for c, hits in enumerate(owners):
            r0 = int(counts[c, :q].sum())
            block = hits[r0:r0 + counts[c, q]]
            seen = []
            for t in range(block.shape[1] if len(block) else 0):
                for j in range(len(block)):
                    o = int(block[j, t])
                    if o >= 0 and o not in seen and len(seen) < fetch:
                        seen.append(o)
            found.update(seen)
        out.append(sorted(found))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_candidate_lists(backend, seed):
    rng = np.random.default_rng(seed)
    n_q, fetch = int(rng.integers(1, 12)), int(rng.integers(1, 9))
    counts = rng.integers(0, 4, size=(5, n_q))
    owners = tuple(np.where(rng.random((int(c.sum()), 6)) < 0.1, -1, rng.integers(0, 30, (int(c.sum()), 6)))
                   for c in counts)
    marks = np.zeros(31, dtype=np.int64)
    for _ in range(2):  # twice: stamps carried over between calls must not leak
        keys, offsets = backend.candidate_lists(owners, counts, fetch, marks)
        got = [keys[offsets[q]:offsets[q + 1]].tolist() for q in range(n_q)]
        assert got == _candidate_lists_plainly(owners, counts, fetch)


# ------------------------------------------------------------------------------------------ whole lists
def _policies():
    yield "default", MatchPolicy(), 1000
    yield "retrieval", MatchPolicy(), 0
    yield "no-diversity", MatchPolicy(diversity=0), 0
    yield "strong-diversity", MatchPolicy(diversity=0.9), 1000
    yield "lexical-and-mutual", MatchPolicy(weights={"intent": 1, "interests": 0, "lexical": 1, "mutual": 2}), 0
    yield "same-company", MatchPolicy(allow_same_company=True), 1000
    yield "no-complement", MatchPolicy(complement=0), 0
    yield "half-complement-no-intent-weight", MatchPolicy(complement=0.5, weights={"intent": 0, "interests": 1,
                                                                                     "lexical": 1, "mutual": 1}), 1000


def _event_with_rules(seed):
    people = varied_crowd(80, seed=seed)
    # rules to exercise: opt-outs, blocks, connections (mutual friends), shared companies
    out = []
    for i, p in enumerate(people):
        upd = {"company": f"co{i % 7}" if i % 3 else ""}
        if i % 17 == 0:
            upd["opt_out"] = True
        if i % 5 == 0:
            upd["connections"] = [people[(i + d) % len(people)].id for d in (1, 2, 9)]
        if i % 11 == 0:
            upd["blocked"] = [people[(i + 4) % len(people)].id]
        out.append(p.model_copy(update=upd))
    return out


@pytest.mark.parametrize(("name", "policy", "exhaustive_below"), list(_policies()), ids=[p[0] for p in _policies()])
def test_rank_lists(name, policy, exhaustive_below):
    m = Matcher(Event(id="e", policy=policy), HashingEncoder(dim=64), exhaustive_below=exhaustive_below)
    m.upsert(_event_with_rules(3))
    store = m.store
    st = store.snapshot()
    ids = m.ids()
    k = 12
    extras = [ids[(i + 3) % len(ids):(i + 3) % len(ids) + 2] for i in range(len(ids))]  # feedback exclusions
    inputs = ranking.list_inputs(store, st, ids, extras, k, max(ranking.FETCH_FACTOR * k, ranking.FETCH_MIN))
    got = {}
    for bname, be in BACKENDS.items():
        out = ranking.RankedLists.empty(ids, k, store.names())
        be.rank_lists(*inputs, scoring.Out(out.keys, out.scores, out.components, out.lengths))
        got[bname] = out
    ref, cmp = got["reference"], got["compiled"]
    assert ref.lengths.sum() > len(ids) * k // 2  # the lists are not trivially empty
    np.testing.assert_array_equal(ref.lengths, cmp.lengths)
    np.testing.assert_array_equal(ref.keys, cmp.keys)
    np.testing.assert_allclose(ref.scores, cmp.scores, atol=1e-5)
    np.testing.assert_allclose(ref.components, cmp.components, atol=1e-4, equal_nan=True)
    # and the compiled lists are what the engine serves
    assert cmp.lists() == m.rank_all(k=k, exclude=dict(zip(ids, extras, strict=True)), threads=1).lists()


def test_rank_lists_rules_on_a_toy_event():
    # a toy whose right answer a person can see: q seeks what a offers; b is blocked; c opted out; d same company
    people = [Attendee(id="q", company="Q", goals=["rust compilers"]),
              Attendee(id="a", offers=["rust compilers"]),
              Attendee(id="b", offers=["rust compilers"]),
              Attendee(id="c", offers=["rust compilers"], opt_out=True),
              Attendee(id="d", company="Q", offers=["rust compilers"]),
              Attendee(id="e", offers=["pottery classes"])]
    people[0] = people[0].model_copy(update={"blocked": ["b"]})
    m = Matcher(Event(id="e"), HashingEncoder(dim=64))
    m.upsert(people)
    st = m.store.snapshot()
    inputs = ranking.list_inputs(m.store, st, ["q"], [()], 5, 30)
    for be in BACKENDS.values():
        out = scoring.Out(np.full((1, 5), -1, np.int64), np.zeros((1, 5)),
                          np.full((1, 5, len(scoring.COMPONENTS)), np.nan, np.float32), np.zeros(1, np.int64))
        be.rank_lists(*inputs, out)
        names = m.store.names()
        assert [names[x] for x in out.keys[0, :out.lengths[0]]] == ["a", "e"]
