"""Social-golfer benchmark of the table planner (``python -m scripts.bench_golfers [--only 8x4x9,...]``).

Instances ``g x s x w`` (``g`` tables of ``s`` over ``w`` rounds) from the social golfer literature (Warwick Harvey's
table of results, CSPLib prob010): every one below has a published repeat-free schedule, most of them classical
designs (affine planes of order 3, 4, 5, 7; Kirkman's schoolgirls; Kirkman triple systems of 21 and 27; the
32-golfer instance up to its 10-week optimum). Uniform affinity (zeros), so only repeats matter; ``solve_seating``
with its default effort, seed 0, in this process. Beside it the planner of an earlier commit (``--baseline``,
default the last commit before the designs and the golfer search), loaded from git in the same run, so both are
measured on the same machine at the same time.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np

from matcher.tables import SeatingProblem, count_repeats, find_violations, solve_seating

#: (groups, size, rounds, where the repeat-free schedule comes from)
INSTANCES = [
    (3, 3, 4, "affine plane of order 3"),
    (4, 4, 5, "affine plane of order 4"),
    (5, 5, 6, "affine plane of order 5"),
    (5, 4, 5, "affine plane of order 5, 4 columns"),
    (6, 6, 3, "a Latin square of order 6"),
    (5, 3, 7, "Kirkman's schoolgirls"),
    (6, 3, 8, "Harvey's table"),
    (7, 3, 10, "Kirkman triple system of 21"),
    (8, 3, 10, "exists (found by the search here)"),
    (9, 3, 10, "Kirkman triple system of 27"),
    (7, 7, 7, "affine plane of order 7"),
    (7, 7, 8, "affine plane of order 7"),
    (7, 6, 7, "affine plane of order 7, 6 columns"),
    (8, 4, 8, "CSPLib prob010"),
    (8, 4, 9, "CSPLib prob010"),
    (8, 4, 10, "CSPLib prob010 (Aguado 2004)"),
    (7, 4, 9, "resolvable 2-(28, 4, 1) design (Hanani 1972)"),
    (9, 4, 10, "exists (found by the cyclic search here)"),
    (10, 4, 10, "resolvable 2-(40, 4, 1) design (Hanani 1972)"),
    (10, 5, 5, "exists (found by the search here)"),
    (11, 4, 10, "affine plane of order 11, 4 columns"),
    (16, 3, 10, "affine plane of order 16, 3 columns"),
    (10, 2, 19, "round robin (circle method)"),
    (25, 2, 10, "round robin (circle method)"),
]

BASELINE = "3c5fb61"
CURRENT = types.SimpleNamespace(SeatingProblem=SeatingProblem, solve_seating=solve_seating, count_repeats=count_repeats,
                                find_violations=find_violations)


def load_baseline(rev: str) -> types.ModuleType | None:
    """The planner module of commit ``rev`` (one file then: ``matcher/tables.py``), or None without git."""
    root = Path(__file__).resolve().parent.parent
    try:
        src = subprocess.run(["git", "show", f"{rev}:matcher/tables.py"], cwd=root, capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    spec = importlib.util.spec_from_loader(f"tables_at_{rev}", loader=None)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    exec(compile(src, f"{rev}:matcher/tables.py", "exec"), mod.__dict__)  # our own history, not outside input
    return mod


def run(module, g: int, s: int, w: int, seed: int = 0) -> tuple[int, int, float]:
    n = g * s
    prob = module.SeatingProblem(np.zeros((n, n), np.float32), rounds=w, table_size=s)
    t0 = time.perf_counter()
    sol = module.solve_seating(prob, seed=seed)
    secs = time.perf_counter() - t0
    return module.count_repeats(sol, prob)[0], len(module.find_violations(sol, prob)), secs


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="comma-separated instances, e.g. 8x4x9,6x3x8")
    ap.add_argument("--baseline", default=BASELINE, help="git revision of the planner to compare with ('' for none)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    cases = INSTANCES
    if args.only:
        want = {tuple(int(x) for x in c.split("x")) for c in args.only.split(",")}
        cases = [c for c in INSTANCES if c[:3] in want] + [(*c, "") for c in want - {x[:3] for x in INSTANCES}]
    old = load_baseline(args.baseline) if args.baseline else None
    if args.baseline and old is None:
        print(f"(git show {args.baseline}:matcher/tables.py failed: no baseline column)", file=sys.stderr)
    head = f"{'instance':>9} {'N':>3}  {'repeats':>7} {'viol':>4} {'s':>6}"
    if old is not None:
        head += f"   {'baseline':>8} {'viol':>4} {'s':>6}"
    print(f"uniform affinity, solve_seating(seed={args.seed}); baseline = {args.baseline or '-'}")
    print(head + "  known repeat-free schedule")
    for g, s, w, where in cases:
        rep, viol, secs = run(CURRENT, g, s, w, args.seed)
        line = f"{g}x{s}x{w:<3} {g * s:>4}  {rep:>7} {viol:>4} {secs:>6.1f}"
        if old is not None:
            orep, oviol, osecs = run(old, g, s, w, args.seed)
            line += f"   {orep:>8} {oviol:>4} {osecs:>6.1f}"
        print(line + f"  {where}", flush=True)


if __name__ == "__main__":
    main()
