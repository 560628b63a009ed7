"""Benchmark the meeting scheduler against CP-SAT given 10x the time and first-come-first-served booking.

    python -m scripts.bench_meetings                       # 2,000 attendees, 3 days x 16 slots, 60 tables
    python -m scripts.bench_meetings --tables 200          # tables sized for the demand (b2match's rule)
    python -m scripts.bench_meetings --people 300 --tables 20 --cpsat-factor 10

Synthetic, seeded instance: each person attends two or three of the days and is away for a random hour, has 8
accepted requests (pairs chosen with a popularity skew), a daily limit of 8; a few must-meet pairs; sponsors with a
guaranteed minimum. Prints, for each method: requested pairs scheduled (share of all, share of CP-SAT's), must-meets
placed, sponsors at their minimum, idle gaps per person with meetings, seconds. First-come-first-served books each
accepted request, in the order they were accepted, into the earliest slot both can make with a free table (what
platforms do when attendees pick slots themselves); must-meets are booked first by the organizer.
"""

from __future__ import annotations

import time

import click
import numpy as np

from matcher.meetings import MUST, MeetingProblem, evaluate, gaps_of, solve, solve_cpsat
from matcher.meetings.checks import check_arrays
from matcher.meetings.problem import FILL
from matcher.meetings.solver import NoSlot, assign_locations, count_bound


def synthetic_problem(people: int = 2000, days: int = 3, slots_per_day: int = 16, tables: int = 60,
                      per_person: int = 8, must_meet: int | None = None, sponsors: int | None = None,
                      sponsor_min: int = 8, max_per_day: int = 8, seed: int = 0) -> MeetingProblem:
    """The benchmark instance (also used by the tests at small sizes)."""
    rng = np.random.default_rng(seed)
    n, S = people, days * slots_per_day
    day = np.repeat(np.arange(days), slots_per_day)
    avail = np.zeros((n, S), bool)
    for i in range(n):
        k = rng.choice([2, 3], p=[0.4, 0.6]) if days >= 3 else days
        for d in sorted(rng.choice(days, size=min(k, days), replace=False).tolist()):
            avail[i, d * slots_per_day:(d + 1) * slots_per_day] = True
        d = rng.integers(days)
        h = rng.integers(0, max(slots_per_day - 4, 1))
        avail[i, d * slots_per_day + h: d * slots_per_day + h + 4] = False  # away for an hour
    pop = rng.pareto(2.0, n) + 1.0
    pop /= pop.sum()
    target = n * per_person // 2
    pairs: set[tuple[int, int]] = set()
    deg = np.zeros(n, np.int64)
    tries = 0
    while len(pairs) < target and tries < target * 50:
        tries += 1
        i = int(rng.integers(n))
        if deg[i] >= per_person:
            continue
        j = int(rng.choice(n, p=pop))
        if i == j or deg[j] >= per_person + 4:
            continue
        key = (min(i, j), max(i, j))
        if key in pairs or not (avail[i] & avail[j]).any():
            continue
        pairs.add(key)
        deg[i] += 1
        deg[j] += 1
    pair_list = sorted(pairs)
    order = rng.permutation(len(pair_list))  # acceptance order (first-come-first-served)
    pair_arr = np.array([pair_list[k] for k in order], np.int64)
    m = n // 20 if must_meet is None else must_meet
    kind = np.ones(len(pair_arr), np.int8)
    kind[rng.choice(len(pair_arr), size=min(m, len(pair_arr)), replace=False)] = MUST
    n_sp = n // 50 if sponsors is None else sponsors
    qmin = np.zeros(n, np.int64)
    sp = rng.choice(n, size=n_sp, replace=False)
    qmin[sp] = np.minimum(sponsor_min, deg[sp])
    loc_open = np.ones((tables, S), bool)
    P = len(pair_arr)
    return MeetingProblem(
        ids=[f"p{i:05d}" for i in range(n)], slot_ids=[f"d{d + 1}s{s % slots_per_day + 1:02d}" for s, d in
                                                       enumerate(day)],
        loc_ids=[f"T{k + 1}" for k in range(tables)], avail=avail, loc_open=loc_open,
        loc_cap=np.ones(tables, np.int64), day=day, max_per_day=np.full(n, max_per_day), quota_min=qmin,
        quota_target=qmin, pairs=pair_arr, kind=kind, fill_weight=np.zeros(P, np.int64),
        fixed_slot=np.full(P, -1), fixed_loc=np.full(P, -1))


def fcfs(problem: MeetingProblem) -> np.ndarray:
    """First-come-first-served: must-meets first, then each request in acceptance order, earliest slot."""
    slot_of = np.full(len(problem.pairs), -1, np.int64)
    loc_of = np.full(len(problem.pairs), -1, np.int64)
    order = [p for p in range(len(problem.pairs)) if problem.kind[p] == MUST]
    order += [p for p in range(len(problem.pairs)) if problem.kind[p] not in (MUST, FILL)]
    busy = np.zeros((problem.n, problem.n_slots), bool)
    room = problem.slot_cap.copy()
    perday = np.zeros((problem.n, problem.n_days), np.int64)
    for p in order:
        i, j = problem.pairs[p]
        ok = (problem.avail[i] & problem.avail[j] & ~busy[i] & ~busy[j] & (room > 0)
              & (perday[i, problem.day] < problem.max_per_day[i]) & (perday[j, problem.day] < problem.max_per_day[j]))
        if ok.any():
            s = int(np.argmax(ok))
            slot_of[p] = s
            busy[i, s] = busy[j, s] = True
            room[s] -= 1
            perday[i, problem.day[s]] += 1
            perday[j, problem.day[s]] += 1
    loc_of[:] = assign_locations(problem, slot_of)
    return slot_of


def figures(problem: MeetingProblem, slot_of: np.ndarray, seconds: float, ref: int | None) -> dict:
    req = problem.kind != FILL
    placed = (slot_of >= 0) & req
    cnt = np.bincount(problem.pairs[slot_of >= 0].ravel(), minlength=problem.n)
    sponsors = problem.quota_min > 0
    g = gaps_of(problem, slot_of)
    with_meetings = cnt > 0
    return {
        "scheduled": int(placed.sum()), "share": placed.sum() / max(req.sum(), 1),
        "of_ref": (placed.sum() / ref) if ref else float("nan"),
        "must": f"{int(((slot_of >= 0) & (problem.kind == MUST)).sum())}/{int((problem.kind == MUST).sum())}",
        "quota": f"{int((cnt[sponsors] >= problem.quota_min[sponsors]).sum())}/{int(sponsors.sum())}",
        "quota_fill": float(np.minimum(cnt[sponsors], problem.quota_min[sponsors]).sum()
                            / max(problem.quota_min[sponsors].sum(), 1)),
        "gaps": float(g[with_meetings].mean()) if with_meetings.any() else 0.0, "seconds": seconds,
        "objective": evaluate(problem, slot_of),
    }


@click.command()
@click.option("--people", default=2000, show_default=True)
@click.option("--days", default=3, show_default=True)
@click.option("--slots-per-day", default=16, show_default=True)
@click.option("--tables", default=60, show_default=True)
@click.option("--per-person", default=8, show_default=True, help="Accepted requests per person.")
@click.option("--time-limit", default=20.0, show_default=True, help="CP-SAT polish time inside our solver.")
@click.option("--cpsat-factor", default=10.0, show_default=True, help="CP-SAT alone gets this many times our time.")
@click.option("--cpsat-seconds", default=None, type=float, help="CP-SAT alone gets this many seconds instead.")
@click.option("--workers", default=2, show_default=True, help="CP-SAT workers (both runs).")
@click.option("--seed", default=0, show_default=True)
def main(people, days, slots_per_day, tables, per_person, time_limit, cpsat_factor, cpsat_seconds, workers,
         seed) -> None:
    t = time.perf_counter()
    pb = synthetic_problem(people, days, slots_per_day, tables, per_person, seed=seed)
    print(f"instance: {pb.n} people, {pb.n_days} days x {slots_per_day} slots, {len(pb.loc_ids)} tables, "
          f"{int((pb.kind != FILL).sum())} requested pairs ({int((pb.kind == MUST).sum())} must-meet), "
          f"{int((pb.quota_min > 0).sum())} sponsors; capacity {int(pb.slot_cap.sum())} meetings; "
          f"count bound {count_bound(pb)}  [{time.perf_counter() - t:.1f}s to build]")
    rows = {}
    t = time.perf_counter()
    sol = solve(pb, method="auto", time_limit=time_limit, seed=seed, workers=workers)
    ours_s = time.perf_counter() - t
    bad = check_arrays(pb, sol.slot_of, sol.loc_of)
    rows["ours (auto)"] = (sol.slot_of, ours_s)
    t = time.perf_counter()
    heur = solve(pb, method="heuristic", seed=seed)
    rows["ours (heuristic only)"] = (heur.slot_of, time.perf_counter() - t)
    t = time.perf_counter()
    rows["first-come-first-served"] = (fcfs(pb), time.perf_counter() - t)
    limit = cpsat_seconds if cpsat_seconds else max(ours_s * cpsat_factor, 1.0)
    t = time.perf_counter()
    cs, obj, bnd, opt, st = solve_cpsat(pb, time_limit=limit, seed=seed, workers=workers, deterministic=False)
    cs_s = time.perf_counter() - t
    if cs is not None:
        rows[f"CP-SAT alone ({limit:.0f}s)"] = (cs, cs_s)
    ref = int(((cs >= 0) & (pb.kind != FILL)).sum()) if cs is not None else None
    print(f"{'method':28s} {'scheduled':>9s} {'share':>6s} {'vs CP-SAT':>9s} {'must':>9s} {'sponsors':>9s} "
          f"{'quota':>6s} {'gaps/p':>6s} {'seconds':>8s}")
    for name, (so, secs) in rows.items():
        f = figures(pb, so, secs, ref)
        print(f"{name:28s} {f['scheduled']:9d} {f['share']:6.1%} {f['of_ref']:9.1%} {f['must']:>9s} "
              f"{f['quota']:>9s} {f['quota_fill']:6.1%} {f['gaps']:6.2f} {f['seconds']:8.1f}")
    print(f"ours: method {sol.method}, objective {sol.objective}, CP-SAT bound {sol.bound}, "
          f"count bound {sol.count_bound}, hard-rule violations {len(bad)}, {sol.stats['variables']} pair x slot "
          f"variables")
    print(f"CP-SAT alone: status {st['status']}, objective {obj}, bound {bnd}, {st['variables']} variables")


if __name__ == "__main__":  # pragma: no cover
    try:
        main()
    except NoSlot as exc:
        raise SystemExit(str(exc)) from None
