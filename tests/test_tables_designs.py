"""Repeat-free designs: finite fields, constructions checked against their definition, brute force on tiny shapes,
published designs (Kirkman's schoolgirls, affine planes, round robins), the social-golfer search, and the planner
returning them with every rule held."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from matcher.tables import SeatingProblem, count_repeats, find_violations, plan_tables, solve_seating
from matcher.tables.designs import (
    cyclic_design,
    design,
    field,
    is_schedule,
    max_design_rounds,
    meetings,
    prime_power,
    round_robin,
)
from matcher.tables.golfers import conflict_search, meeting_costs
from models import TablePlanRequest


def groups(table: np.ndarray, r: int) -> list[list[int]]:
    return sorted(sorted(np.flatnonzero(table[r] == t).tolist()) for t in np.unique(table[r]))


def repeats_of(table: np.ndarray) -> int:
    return int(np.clip(meetings(table) - 1, 0, None).sum() // 2)


# -------------------------------------------------------------------------------------------- finite fields
@pytest.mark.parametrize("q", [2, 3, 4, 5, 7, 8, 9, 11, 16])
def test_field_axioms(q):
    add, mul = field(q)
    e = np.arange(q)
    assert (add[0] == e).all() and (mul[1] == e).all() and (mul[0] == 0).all()
    assert (add == add.T).all() and (mul == mul.T).all()
    for a in range(q):
        assert sorted(add[a].tolist()) == list(range(q))  # every element has a negative: a row is a permutation
        if a:
            assert sorted(mul[a].tolist()) == list(range(q))  # and a nonzero one an inverse
    for a, b, c in itertools.product(range(q), repeat=3):
        assert add[add[a, b], c] == add[a, add[b, c]]
        assert mul[mul[a, b], c] == mul[a, mul[b, c]]
        assert mul[a, add[b, c]] == add[mul[a, b], mul[a, c]]


def test_no_field_of_order_six():
    assert prime_power(6) is None and prime_power(12) is None and prime_power(1) is None
    with pytest.raises(ValueError, match="GF\\(6\\) does not exist"):
        field(6)


# ------------------------------------------------------------------------------------------ constructions
@pytest.mark.parametrize("g,s,w", [(3, 3, 4), (4, 4, 5), (5, 5, 6), (7, 7, 8), (8, 8, 9), (9, 9, 10), (8, 4, 9),
                                   (8, 4, 8), (9, 3, 13), (16, 4, 21), (4, 2, 7), (16, 2, 31), (5, 3, 7),
                                   (4, 3, 4), (11, 5, 11), (7, 7, 7), (7, 3, 10)])
def test_designs_are_repeat_free(g, s, w):
    t = design(g, s, w)
    assert t is not None and t.shape == (w, g * s)
    for r in range(w):
        assert sorted(np.bincount(t[r]).tolist()) == [s] * g  # g groups of s every round
    M = meetings(t)
    assert M.max() == 1
    if w == max_design_rounds(g, s) and (g * s - 1) == w * (s - 1):
        assert (M + np.eye(g * s, dtype=int)).min() == 1  # a complete design: everyone meets everyone once


def test_affine_plane_of_order_three_is_the_textbook_one():
    """AG(2, 3): 12 lines in 4 parallel classes; every pair of the 9 points on exactly one line."""
    t = design(3, 3, 4)
    lines = [tuple(g) for r in range(4) for g in groups(t, r)]
    assert len(set(lines)) == 12
    for a, b in itertools.combinations(range(9), 2):
        assert sum(a in ln and b in ln for ln in lines) == 1


def test_kirkmans_schoolgirls():
    """Fifteen schoolgirls walk out three abreast for seven days: no two walk together twice (35 triples, each of
    the 105 pairs exactly once)."""
    t = design(5, 3, 7)
    triples = [tuple(g) for r in range(7) for g in groups(t, r)]
    assert len(triples) == 35 and all(len(x) == 3 for x in triples)
    pairs = [p for x in triples for p in itertools.combinations(x, 2)]
    assert len(pairs) == len(set(pairs)) == 105


def test_kirkman_triple_system_of_21():
    """21 people in threes over 10 rounds: all 210 pairs exactly once (a complete resolvable design)."""
    t = design(7, 3, 10)
    assert t is not None and is_schedule(t, 7, 3)
    assert (meetings(t) + np.eye(21, dtype=int)).min() == 1 and meetings(t).sum() == 2 * 210


def test_round_robin_every_pair_once():
    for g in range(1, 9):
        t = round_robin(g)
        assert t.shape == (2 * g - 1, 2 * g) and is_schedule(t, g, 2)
        assert (meetings(t) + np.eye(2 * g, dtype=int)).min() == 1


def test_no_design_where_none_is_known():
    assert design(6, 6, 3) is None  # 6x6x3 exists (a Latin square), but needs the search: no field of order 6
    assert design(4, 4, 6) is None  # impossible: 6 rounds would need 18 table-mates of 15 people
    assert max_design_rounds(4, 4) == 5 and max_design_rounds(6, 3) == 1


def _max_rounds_brute_force(g: int, s: int) -> int:
    """The most pairwise repeat-free rounds of ``g`` groups of ``s``, by exhaustive clique search over every
    partition of the people into groups."""
    n = g * s

    def partitions(rest: tuple[int, ...]):
        if not rest:
            yield ()
            return
        first, others = rest[0], rest[1:]
        for mates in itertools.combinations(others, s - 1):
            left = tuple(x for x in others if x not in mates)
            for p in partitions(left):
                yield ((first, *mates), *p)

    parts = [frozenset(pair for grp in p for pair in itertools.combinations(grp, 2)) for p in partitions(tuple(range(n)))]
    best = 0

    def grow(chosen: list[int], used: frozenset, start: int) -> None:
        nonlocal best
        best = max(best, len(chosen))
        for k in range(start, len(parts)):
            if not (parts[k] & used):
                grow(chosen + [k], used | parts[k], k + 1)

    grow([], frozenset(), 0)
    return best


@pytest.mark.parametrize("g,s", [(2, 2), (3, 2), (4, 2), (2, 3), (3, 3)])
def test_designs_reach_the_brute_force_maximum(g, s):
    assert max_design_rounds(g, s) == _max_rounds_brute_force(g, s)
    assert design(g, s, max_design_rounds(g, s)) is not None


# ------------------------------------------------------------------------------------------ cyclic designs
def test_cyclic_design_finds_the_resolvable_design_on_28_points():
    """7x4x9: 28 people in fours over 9 rounds, everyone meets each of the other 27 exactly once (a resolvable
    2-(28, 4, 1) design), and its rounds are closed under the shift of the first coordinate; same seed, same
    schedule."""
    t = cyclic_design(7, 4, 9, seed=3)
    assert t is not None and is_schedule(t, 7, 4)
    met = meetings(t)
    assert (met + np.eye(28, dtype=met.dtype) == 1).all()
    shift = np.array([(p // 7) * 7 + (p % 7 + 1) % 7 for p in range(28)])
    as_sets = {frozenset(frozenset(np.flatnonzero(r == k)) for k in range(7)) for r in t}
    shifted = {frozenset(frozenset(shift[list(grp)]) for grp in rnd) for rnd in as_sets}
    assert shifted == as_sets
    assert np.array_equal(cyclic_design(7, 4, 9, seed=3), t)


def test_cyclic_design_says_none_where_that_form_has_no_schedule():
    # 6x6x4 would be two orthogonal Latin squares of order 6 (Euler's officers: none exist); 5x3x7 has no
    # schedule closed under a shift of Z_5 (the search proves it); more rounds than the counting bound: none
    assert cyclic_design(6, 6, 4) is None and cyclic_design(5, 3, 7) is None and cyclic_design(7, 4, 10) is None


@pytest.mark.parametrize("g,s,w", [(9, 4, 10), (4, 3, 4), (5, 4, 5)])
def test_cyclic_designs_are_schedules(g, s, w):
    t = cyclic_design(g, s, w)
    assert t is not None and t.shape == (w, g * s) and is_schedule(t, g, s)


# -------------------------------------------------------------------------------------------- the search
def test_meeting_costs_prefer_two_doubles_to_one_triple():
    c = meeting_costs(5)
    assert c[0] == c[1] == 0 and c[3] > 2 * c[2] and 3 * c[2] > c[3]


def _flat(g: int, s: int, w: int, seed: int = 0) -> tuple[np.ndarray, int]:
    n = g * s
    rng = np.random.default_rng(seed)
    tab = np.array([rng.permutation(np.arange(n) // s) for _ in range(w)])
    out, cost, _ = conflict_search(np.tile(np.arange(n), (w, 1)), np.full(w, n), tab, np.full(w, g),
                                   np.zeros((w, n), bool), np.zeros((w, n), bool), np.zeros((w, n), np.int64),
                                   np.zeros(1, np.int64), np.full(1, 99), np.ones((n, n), np.uint8),
                                   np.zeros((n, n), np.uint8), seed=seed, max_steps=200_000)
    return out, cost


@pytest.mark.parametrize("g,s,w", [(6, 6, 3), (5, 3, 7), (4, 4, 5), (10, 5, 5)])
def test_search_finds_repeat_free_schedules_from_random_rounds(g, s, w):
    out, cost = _flat(g, s, w)
    assert cost == 0 and is_schedule(out, g, s)


def test_search_keeps_locked_people_roles_and_forbidden_pairs():
    """Person 0 is locked at table 0 every round, people 1-4 hold a role with at most one per table, and 5 and 6
    may never meet: the search removes every repeat and never breaks those."""
    g, s, w = 4, 4, 4
    n = g * s
    tab = np.tile(np.arange(n) % g, (w, 1))  # 0, 4, 8, 12 share table 0 ... every round: all repeats
    roles = np.where((np.arange(n) >= 1) & (np.arange(n) <= 4), 0, 1)
    tab[:, [1, 2, 3, 4]] = [1, 2, 3, 0]  # role holders at different tables
    tab[:, [5, 6, 7, 8]] = [2, 3, 0, 1]  # keep four per table
    for r in range(w):
        assert sorted(np.bincount(tab[r]).tolist()) == [4] * 4
    locked = np.zeros((w, n), bool)
    locked[:, 0] = True
    forb = np.zeros((n, n), np.uint8)
    forb[5, 6] = forb[6, 5] = 1
    out, cost, _ = conflict_search(np.tile(np.arange(n), (w, 1)), np.full(w, n), tab, np.full(w, g), locked,
                                   np.zeros((w, n), bool), np.tile(roles, (w, 1)), np.array([0, 0]),
                                   np.array([1, 99]), np.ones((n, n), np.uint8), forb, seed=3, max_steps=300_000)
    assert (out[:, 0] == tab[:, 0]).all()
    for r in range(w):
        assert np.bincount(out[r, 1:5], minlength=g).max() == 1 and out[r, 5] != out[r, 6]
    assert cost == 0 and repeats_of(out) == 0


# ------------------------------------------------------------------------------------------- the planner
@pytest.mark.parametrize("g,s,w", [(8, 4, 9), (7, 7, 7), (5, 3, 7), (4, 4, 5), (7, 3, 10), (7, 4, 9), (9, 4, 10)])
def test_planner_finds_published_designs(g, s, w):
    n = g * s
    prob = SeatingProblem(np.zeros((n, n), np.float32), rounds=w, table_size=s)
    sol = solve_seating(prob, seed=0)
    assert count_repeats(sol, prob)[0] == 0 and find_violations(sol, prob) == []


@pytest.mark.parametrize("n,odd", [(12, "trio"), (11, "bye")])
def test_one_to_one_round_robin_every_pair_at_most_once(n, odd):
    """N-1 rounds of 1:1 (N rounds with a bye, one empty seat): nobody meets anyone twice, and with a bye everyone
    sits out exactly once."""
    w = n - 1 if odd == "trio" else n
    prob = SeatingProblem(np.zeros((n, n), np.float32), rounds=w, table_size=2, odd=odd)
    sol = solve_seating(prob, seed=0)
    assert count_repeats(sol, prob)[0] == 0 and find_violations(sol, prob) == []
    if odd == "bye":
        assert sorted((sol.table == -2).sum(axis=0).tolist()) == [1] * n


def test_round_robin_lets_affinity_choose_who_meets_first():
    """12 people, 10 of the 11 rounds of a round robin: with affinity, the plan still has no repeat and is well
    above a random one."""
    rng = np.random.default_rng(4)
    a = rng.random((12, 12)).astype(np.float32)
    a = (a + a.T) / 2
    np.fill_diagonal(a, 0)
    plan = plan_tables([f"p{i}" for i in range(12)], a, TablePlanRequest(rounds=10, table_size=2))
    assert plan.report.repeats == 0 and plan.report.ratio > plan.report.random_ratio


def test_impossible_shapes_spread_repeats_evenly():
    """4 tables of 4 for 6 rounds: everyone has 18 table-mates among 15 people, so repeats are forced; nobody meets
    anyone three times."""
    prob = SeatingProblem(np.zeros((16, 16), np.float32), rounds=6, table_size=4)
    sol = solve_seating(prob, seed=0)
    M = meetings(sol.table)
    assert M.max() == 2 and find_violations(sol, prob) == []


def test_rules_hold_when_the_golfer_search_runs():
    """24 people in threes over 10 rounds (the greedy rounds leave a repeat; repeat-free plans exist): a keep-apart
    pair, a fixed seat, a role maximum and a late arrival all hold in the repeat-free plan the search returns."""
    n, R = 24, 10
    ids = [f"p{i}" for i in range(n)]
    roles = ["mentor" if i in (3, 4, 5, 6) else "" for i in range(n)]
    rules = {"keep_apart": [["p0", "p1"]], "fixed_seats": [{"id": "p2", "table": 1}],
             "role_mix": [{"role": "mentor", "max": 1}], "attendance": {"p7": list(range(2, R + 1))}}
    plan = plan_tables(ids, np.zeros((n, n), np.float32),
                       TablePlanRequest(rounds=R, table_size=3, rules=rules), roles=roles)
    for r in plan.rounds:
        for t in r.tables:
            assert not {"p0", "p1"} <= set(t.seats)
            assert sum(x in ("p3", "p4", "p5", "p6") for x in t.seats) <= 1
        assert plan.seat_of("p2", r.round) == 1
    assert "p7" in plan.rounds[0].absent and all("p7" not in r.absent for r in plan.rounds[1:])
    assert plan.report.violations == 0 and plan.report.repeats == 0


@pytest.mark.parametrize("seed", [0, 1])
def test_the_32_social_golfers_over_ten_weeks_meet_nobody_twice(seed):
    """CSPLib prob010 at its optimum, 32 golfers in fours for 10 weeks (Aguado 2004): the design of 9 weeks from
    GF(8) plus a greedy tenth week holds 16 repeats (each tenth-week group must hold two pairs of one ninth-week
    group: a column of GF(8)'s plane has 8 people split 4 + 4 in week 9); the golfer search, with the rounds beyond
    the design built anew for each run, ends with everyone meeting 30 different people (10 of 10 seeds measured)."""
    prob = SeatingProblem(np.zeros((32, 32), np.float32), rounds=10, table_size=4)
    sol = solve_seating(prob, seed=seed)
    for r in range(10):
        assert sorted(np.bincount(sol.table[r]).tolist()) == [4] * 8
    met = meetings(sol.table)
    assert met.max() == 1 and ((met > 0).sum(axis=1) == 30).all()
    assert count_repeats(sol, prob)[0] == 0 and find_violations(sol, prob) == []


def test_the_search_move_tables_match_the_cost_change_of_each_swap():
    """The golfer search prices a swap from move tables kept right move by move; after random swaps (with roles,
    an empty seat, pairs that do not count and a forbidden pair) every swap's price equals the change of the total
    cost recomputed from scratch."""
    from matcher.tables import golfers as G

    rng = np.random.default_rng(5)
    R, n, T, k = 3, 10, 3, 4
    N = n + 1
    idx = np.array([rng.permutation(N)[:n] for _ in range(R)], np.int64)  # someone is away each round
    tab = np.array([rng.permutation(np.arange(n) % T) for _ in range(R)], np.int64)
    m, Ts = np.full(R, n, np.int64), np.full(R, T, np.int64)
    roles = rng.integers(0, 2, (R, n)).astype(np.int64)
    counted = np.ones((N, N), np.uint8)
    counted[0, 1] = counted[1, 0] = 0
    forb = np.zeros((N, N), np.uint8)
    forb[2, 3] = forb[3, 2] = 1
    cost = meeting_costs(R)
    M = np.zeros((N, N), np.int32)
    members = np.zeros((R, T, k), np.int64)
    size = np.zeros((R, T), np.int64)
    slot = np.zeros((R, n), np.int64)
    cnt = np.zeros((R, T, 2), np.int64)
    loc = np.full((R, N), -1, np.int64)
    for r in range(R):
        loc[r, idx[r]] = np.arange(n)
    enter = np.zeros((R, n, T), np.int64)
    leave = np.zeros((R, n), np.int64)
    G._rebuild(idx, m, tab, Ts, roles, 2, M, members, size, slot, cnt, counted, forb, cost, enter, leave)
    checked = 0
    for _ in range(40):
        r, i, j = int(rng.integers(R)), int(rng.integers(n)), int(rng.integers(n))
        if tab[r, i] == tab[r, j]:
            continue
        G._move(r, i, j, idx, m, tab, Ts, roles, loc, M, members, size, slot, cnt, counted, forb, cost, enter, leave)
        total = G._total(idx, Ts, M, members, size, counted, forb, cost)
        for r2 in range(R):
            for a, b in itertools.combinations(range(n), 2):
                if tab[r2, a] == tab[r2, b]:
                    continue
                gi, gj = idx[r2, a], idx[r2, b]
                priced = (leave[r2, a] + leave[r2, b] + enter[r2, a, tab[r2, b]] + enter[r2, b, tab[r2, a]]
                          - G._inc(counted, forb, cost, gi, gj, M[gi, gj]) - G._inc(counted, forb, cost, gj, gi, M[gj, gi]))
                t2, M2 = tab.copy(), M.copy()
                t2[r2, a], t2[r2, b] = t2[r2, b], t2[r2, a]
                G._build(idx, m, t2, Ts, roles, 2, M2, members.copy(), size.copy(), slot.copy(), cnt.copy())
                after = G._total(idx, Ts, M2, members, size, counted, forb, cost)
                assert priced == after - total
                checked += 1
    assert checked > 1000


def test_lower_bound_on_repeats_against_brute_force():
    """Two rounds of 6 people at two tables of 3: every pair of partitions repeats at least twice (exhaustive)."""
    from matcher.tables.checks import repeats_lower_bound

    people = range(6)
    parts = [(set(a), set(people) - set(a)) for a in itertools.combinations(people, 3) if 0 in a]
    fewest = min(sum(len(x & y) * (len(x & y) - 1) // 2 for x in p for y in q) for p in parts for q in parts)
    assert fewest == repeats_lower_bound([[3, 3], [3, 3]]) == 2
