"""What a plan achieved: affinity, its upper bound, a random baseline, and the :class:`models.TablePlan` with
its report."""

from __future__ import annotations

import numpy as np

from matcher.tables.checks import count_repeats, pairs_by_round
from matcher.tables.problem import ABSENT, BYE, Seating, SeatingProblem, table_capacities
from models import PlanReport, PlanRound, PlanTable, RepeatPair, TablePlan

#: Repeated pairs listed in a report (the count is always complete).
MAX_LISTED_REPEATS = 1000


def plan_affinity(s: Seating, prob: SeatingProblem) -> float:
    """Total affinity of the distinct pairs that share a table at least once."""
    met = pairs_by_round(s)
    if not met:
        return 0.0
    ij = np.asarray(list(met), dtype=np.int64)
    return float(prob.affinity[ij[:, 0], ij[:, 1]].astype(np.float64).sum())


def affinity_bound(prob: SeatingProblem, capacities: list[list[int]] | None = None) -> float:
    """Upper bound on :func:`plan_affinity`: every person with their best R(k-1) allowed partners (k: the largest
    table of each round they attend), halved since each pair counts once."""
    if capacities is None:
        capacities = [table_capacities(int(c), prob.table_size, prob.capacities, prob.odd)[0]
                      for c in prob.present.sum(axis=1)]
    kmax = np.asarray([max(c) - 1 if c else 0 for c in capacities], dtype=np.int64)
    slots = (prob.present * kmax[:, None]).sum(axis=0)
    total = 0.0
    a = prob.affinity.astype(np.float64)
    for i in range(prob.n):
        row = np.where(prob.forbidden[i], -np.inf, a[i])
        row[i] = -np.inf
        L = int(min(slots[i], prob.n - 1))
        if L <= 0:
            continue
        top = -np.partition(-row, L - 1)[:L]
        total += float(np.clip(top[np.isfinite(top)], 0, None).sum())
    return total / 2.0


def random_seating(prob: SeatingProblem, seed: int = 0) -> Seating:
    """A random plan of the same shape (rules ignored): the baseline in the report."""
    rng = np.random.default_rng(seed)
    table = np.full((prob.rounds, prob.n), ABSENT, np.int64)
    caps_all = []
    for r in range(prob.rounds):
        present = np.flatnonzero(prob.present[r])
        caps, _ = table_capacities(len(present), prob.table_size, prob.capacities, prob.odd)
        caps_all.append(caps)
        seats = np.repeat(np.arange(len(caps)), caps)
        rng.shuffle(seats)
        table[r, present] = seats[:len(present)]
    return Seating(table, caps_all)


def to_plan(s: Seating, prob: SeatingProblem, ids: list[str], event_id: str, seed: int,
             seconds: float) -> TablePlan:
    rounds = []
    for r in range(prob.rounds):
        tab = s.table[r]
        caps = s.capacities[r]
        tables = []
        for t in range(len(caps)):
            mem = np.flatnonzero(tab == t)
            if len(mem) == 0 and (tab == BYE).any():
                continue  # the empty seat of a 1:1 round with a bye
            pinned_first = sorted(mem, key=lambda i: (prob.pinned[r, i] < 0, ids[i]))
            tables.append(PlanTable(table=t + 1, seats=[ids[i] for i in pinned_first]))
        rounds.append(PlanRound(round=r + 1, tables=tables,
                                byes=sorted(ids[i] for i in np.flatnonzero(tab == BYE)),
                                absent=sorted(ids[i] for i in np.flatnonzero(tab == ABSENT))))
    avoid, forced, pairs = count_repeats(s, prob)
    bound = affinity_bound(prob, s.capacities)
    achieved = plan_affinity(s, prob)
    rand = plan_affinity(random_seating(prob, seed), prob)
    report = PlanReport(
        attendees=prob.n, rounds=prob.rounds, tables_per_round=[len(c) for c in s.capacities], repeats=avoid,
        forced_repeats=forced,
        repeat_pairs=[RepeatPair(a=ids[i], b=ids[j], rounds=[r + 1 for r in rs], forced=f)
                      for i, j, rs, f in pairs[:MAX_LISTED_REPEATS]],
        violations=0, affinity=round(achieved, 6), upper_bound=round(bound, 6),
        ratio=round(achieved / bound, 6) if bound > 0 else 1.0,
        random_ratio=round(rand / bound, 6) if bound > 0 else 1.0, seconds=round(seconds, 3), seed=seed)
    return TablePlan(event=event_id, rounds=rounds, report=report)
