"""Benchmark of the table planner (``python -m scripts.bench_tables [--quick]``).

Synthetic affinity (low rank + noise, seeded) so that the figures do not depend on the encoder. For each case it
prints wall time, peak memory of a fresh process (``resource.getrusage``), avoidable repeats, rule violations,
affinity / upper bound (each person's best R(k-1) partners) and the same ratio for a random plan; on instances
small enough to solve exactly it also solves with OR-Tools CP-SAT and prints our affinity / CP-SAT's.

Targets (DESIGN.md): N=500, k=5, R=5 in <= 10 s with 0 repeats; N=5,000, k=10, R=3 in <= 2 min and <= 2 GB;
within 5% of the exact optimum on small instances.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import time

import numpy as np

from matcher.tables import (
    SeatingProblem,
    affinity_bound,
    count_repeats,
    find_violations,
    plan_affinity,
    random_seating,
    solve_seating,
    table_capacities,
)


def synthetic_affinity(n: int, seed: int = 0, rank: int = 8, noise: float = 0.25) -> np.ndarray:
    """Symmetric ``(n, n)`` float32 affinities in [0, 1]: people with similar hidden interests like each other."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n, rank)).astype(np.float32)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    a = u @ u.T
    a += noise * rng.normal(size=(n, n)).astype(np.float32)
    a = (a + a.T) / 2
    a -= a.min()
    a /= a.max()
    np.fill_diagonal(a, 0.0)
    return a


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_case(n: int, k: int, rounds: int, seed: int = 0, flat: bool = False) -> dict:
    a = np.zeros((n, n), np.float32) if flat else synthetic_affinity(n, seed)
    mem_before = peak_mb()
    prob = SeatingProblem(a, rounds=rounds, table_size=k)
    t0, c0 = time.perf_counter(), time.process_time()
    s = solve_seating(prob, seed=seed)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    bound = affinity_bound(prob, s.capacities)
    rep, forced, _ = count_repeats(s, prob)
    achieved = plan_affinity(s, prob)
    rand = plan_affinity(random_seating(prob, seed), prob)
    return {"n": n, "k": k, "rounds": rounds, "seconds": round(secs, 2), "cpu_s": round(cpu, 2), "peak_mb": round(peak_mb(), 1),
            "peak_mb_before": round(mem_before, 1), "repeats": rep, "violations": len(find_violations(s, prob)),
            "ratio": round(achieved / bound, 4) if bound else None,
            "random_ratio": round(rand / bound, 4) if bound else None, "affinity": achieved}


def in_child(n: int, k: int, rounds: int, flat: bool = False) -> dict:
    """Run one case in a fresh interpreter so that its peak memory is its own."""
    args = [sys.executable, "-m", "scripts.bench_tables", "--one", f"{n},{k},{rounds}"] + (["--flat"] if flat else [])
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cpsat_optimum(a: np.ndarray, k: int, rounds: int, time_limit: float = 60.0) -> tuple[float, float, str]:
    """Exact (or best found within the limit) total affinity over distinct pairs with no repeats, by CP-SAT.
    Returns (objective, best bound, status)."""
    from ortools.sat.python import cp_model

    n = a.shape[0]
    caps, _ = table_capacities(n, k)
    T = len(caps)
    scale = 10_000
    w = np.rint(a * scale).astype(int)
    m = cp_model.CpModel()
    x = {(i, t, r): m.NewBoolVar(f"x{i}_{t}_{r}") for i in range(n) for t in range(T) for r in range(rounds)}
    for r in range(rounds):
        for i in range(n):
            m.AddExactlyOne(x[i, t, r] for t in range(T))
        for t in range(T):
            m.Add(sum(x[i, t, r] for i in range(n)) == caps[t])
            if t and caps[t] == caps[t - 1]:
                # symmetry: equal tables are used in order of their lowest-numbered guest
                for i in range(n):
                    m.Add(x[i, t, r] <= sum(x[j, t - 1, r] for j in range(i)))
    size = {(i, r): caps[0] for i in range(n) for r in range(rounds)}  # k divides N here: all tables equal
    objective = []
    pair_round: dict[tuple[int, int], list] = {}
    for i, j in itertools.combinations(range(n), 2):
        meets = []
        for r in range(rounds):
            zs = []
            for t in range(T):
                z = m.NewBoolVar("")
                m.AddImplication(z, x[i, t, r])
                m.AddImplication(z, x[j, t, r])
                zs.append(z)
            y = m.NewBoolVar("")
            m.Add(sum(zs) == y)
            pair_round.setdefault((i, r), []).append(y)
            pair_round.setdefault((j, r), []).append(y)
            meets.append(y)
        meet = m.NewBoolVar("")
        m.Add(sum(meets) == meet)  # at most once over all rounds: no repeats
        objective.append(int(w[i, j]) * meet)
    for (i, r), ys in pair_round.items():
        m.Add(sum(ys) == size[i, r] - 1)  # everyone meets exactly k-1 people a round (tightens the bound)
    m.Maximize(sum(objective))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    status = solver.Solve(m)
    return solver.ObjectiveValue() / scale, solver.BestObjectiveBound() / scale, solver.StatusName(status)


def exact_comparison(cases, time_limit: float) -> list[dict]:
    rows = []
    for n, k, rounds, seed in cases:
        a = synthetic_affinity(n, seed)
        a = np.rint(a * 10_000) / 10_000  # the same integer weights CP-SAT sees
        a = a.astype(np.float32)
        prob = SeatingProblem(a, rounds=rounds, table_size=k)
        t0 = time.perf_counter()
        s = solve_seating(prob, seed=seed)
        ours_s = time.perf_counter() - t0
        ours = plan_affinity(s, prob)
        t0 = time.perf_counter()
        opt, bound, status = cpsat_optimum(a, k, rounds, time_limit)
        cp_s = time.perf_counter() - t0
        rows.append({"n": n, "k": k, "rounds": rounds, "ours": round(ours, 4), "ours_s": round(ours_s, 2),
                     "repeats": count_repeats(s, prob)[0], "cpsat": round(opt, 4), "cpsat_bound": round(bound, 4),
                     "cpsat_status": status, "cpsat_s": round(cp_s, 1),
                     "vs_cpsat": round(ours / opt, 4) if opt else None,
                     "vs_cpsat_bound": round(ours / bound, 4) if bound else None})
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", help="internal: run one case N,k,R and print JSON")
    ap.add_argument("--flat", action="store_true", help="internal: zero affinity (pure no-repeat design)")
    ap.add_argument("--quick", action="store_true", help="skip N=5,000 and shorten the exact comparison")
    ap.add_argument("--only", choices=["scale", "designs", "exact", "matching"], default=None,
                    help="run one section")
    ap.add_argument("--cpsat-limit", type=float, default=60.0, help="CP-SAT time limit per instance (s)")
    args = ap.parse_args(argv)
    if args.one:
        n, k, r = (int(x) for x in args.one.split(","))
        print(json.dumps(run_case(n, k, r, flat=args.flat)))
        return

    if args.only in (None, "scale"):
        scale(args.quick)
    if args.only in (None, "designs"):
        designs()
    if args.only in (None, "matching"):
        matching(args.quick)
    if args.only in (None, "exact"):
        exact(args.quick, args.cpsat_limit)


def matching(quick: bool) -> None:
    """1:1 rounds against an exact maximum-weight matching (networkx's blossom, installed with torch)."""
    try:
        import networkx as nx
    except ImportError:  # pragma: no cover
        print("\n(networkx not installed: no exact matching reference)")
        return
    print("\n== 1:1 rounds (k=2, one round) against the exact maximum-weight matching (networkx blossom) ==")
    print(f"{'N':>5} {'ours':>9} {'ours s':>7} {'blossom':>9} {'blossom s':>9} {'ours/exact':>10}")
    for n in (50, 100) if quick else (50, 100, 200):
        a = synthetic_affinity(n, n)
        prob = SeatingProblem(a, rounds=1, table_size=2)
        t0 = time.perf_counter()
        s = solve_seating(prob, seed=0)
        ours_s = time.perf_counter() - t0
        ours = plan_affinity(s, prob)
        g = nx.Graph()
        g.add_weighted_edges_from((i, j, float(a[i, j])) for i in range(n) for j in range(i + 1, n))
        t0 = time.perf_counter()
        mate = nx.max_weight_matching(g, maxcardinality=True)
        ex_s = time.perf_counter() - t0
        exact_v = float(sum(a[i, j] for i, j in mate))
        print(f"{n:>5} {ours:>9.3f} {ours_s:>7.2f} {exact_v:>9.3f} {ex_s:>9.2f} {ours / exact_v:>10.4f}", flush=True)


def scale(quick: bool) -> None:
    print("== scale (fresh process per case; synthetic low-rank + noise affinity, seed 0) ==")
    print("(wall time on a shared machine; CPU time of the planning process beside it)")
    print(f"{'N':>6} {'k':>3} {'R':>2} {'wall s':>8} {'CPU s':>7} {'peak MB':>8} {'repeats':>7} {'viol':>4} "
          f"{'ratio':>6} {'random':>6}  target")
    cases = [(100, 5, 5, ""), (500, 5, 5, "<= 10 s, 0 repeats"), (500, 2, 5, "1:1 rotation"),
             (1000, 8, 3, "")]
    if not quick:
        cases.append((5000, 10, 3, "<= 120 s, <= 2048 MB"))
    for n, k, r, target in cases:
        row = in_child(n, k, r)
        print(f"{n:>6} {k:>3} {r:>2} {row['seconds']:>8.2f} {row['cpu_s']:>7.2f} {row['peak_mb']:>8.0f} {row['repeats']:>7} "
              f"{row['violations']:>4} {row['ratio']:>6.3f} {row['random_ratio']:>6.3f}  {target}")


def designs() -> None:
    print("\n== known no-repeat designs (zero affinity: only repeats matter) ==")
    for n, k, r in [(9, 3, 4), (16, 4, 5), (20, 4, 5), (25, 5, 6)]:
        row = in_child(n, k, r, flat=True)
        print(f"N={n:>3} k={k} R={r}: repeats {row['repeats']}, violations {row['violations']}, "
              f"{row['seconds']:.2f} s")


def exact(quick: bool, limit: float) -> None:
    print(f"\n== against the exact optimum (OR-Tools CP-SAT, no repeats, {limit:.0f} s limit) ==")
    small = [(12, 3, 1, 1), (12, 3, 2, 2), (16, 4, 2, 3), (20, 5, 1, 4), (24, 4, 1, 5), (30, 5, 1, 6)]
    if quick:
        small = small[:3]
    print(f"{'N':>4} {'k':>3} {'R':>2} {'ours':>9} {'ours s':>7} {'CP-SAT':>9} {'bound':>9} {'status':>9} "
          f"{'CP s':>6} {'ours/CP':>8} {'ours/bound':>10}")
    for case in small:
        row = exact_comparison([case], limit)[0]
        print(f"{row['n']:>4} {row['k']:>3} {row['rounds']:>2} {row['ours']:>9.3f} {row['ours_s']:>7.2f} "
              f"{row['cpsat']:>9.3f} {row['cpsat_bound']:>9.3f} {row['cpsat_status']:>9} {row['cpsat_s']:>6.1f} "
              f"{row['vs_cpsat']:>8.4f} {row['vs_cpsat_bound']:>10.4f}", flush=True)


if __name__ == "__main__":
    main()
