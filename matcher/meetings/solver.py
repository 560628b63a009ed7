"""Place meetings into slots and locations: a fast heuristic, OR-Tools CP-SAT, and booking on acceptance.

Objective (see the weights in :mod:`matcher.meetings.problem`): must-meet pairs first, then meetings that bring a
sponsor up to the guaranteed minimum, then accepted requests, then quota targets, then fill-ins by score; each idle
gap in a person's day costs a little. Hard: one meeting per person per slot, availability, the meetings a slot's
open locations hold, most meetings per day, most fill-ins per person, a pair at most once, blocked pairs never
(they are not in the problem), kept meetings stay where they are.

How: the heuristic places pairs in priority order, most constrained first, each in the slot that adds the fewest
idle gaps and is least contended; then a repair pass places pairs left over by moving one blocking meeting to
another slot (or, for a higher-priority pair, evicting a lower one that goes back to the queue), fills free slots,
and moves meetings to close idle gaps. CP-SAT then takes the heuristic's schedule as a hint and either proves it
optimal or improves it within the time left; its bound is reported. Budgets are deterministic (CP-SAT's
deterministic time, move counts), so the same input and seed give the same schedule.

>>> import numpy as np
>>> p = MeetingProblem(ids=["a", "b", "c"], slot_ids=["s1", "s2"], loc_ids=["T1"],
...                    avail=np.ones((3, 2), bool), loc_open=np.ones((1, 2), bool), loc_cap=[1], day=[0, 0],
...                    max_per_day=[2, 2, 2], quota_min=[0, 0, 0], quota_target=[0, 0, 0],
...                    pairs=[[0, 1], [0, 2], [1, 2]], kind=[1, 1, 1], fill_weight=[0, 0, 0],
...                    fixed_slot=[-1, -1, -1], fixed_loc=[-1, -1, -1])
>>> sol = solve(p, seed=0)
>>> int((sol.slot_of >= 0).sum()), sol.optimal
(2, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from matcher.meetings.problem import (
    ACCEPTED,
    FILL,
    MUST,
    W_GAP,
    W_QUOTA_MIN,
    W_QUOTA_TARGET,
    MeetingProblem,
)

#: ``progress(stage, done, total)``
Progress = Callable[[str, int, int], None]
#: ``method="auto"`` runs CP-SAT after the heuristic up to this many pair x slot variables (above it CP-SAT
#: found no solution at all in 200 s on the 2,000-person benchmark, one worker; the heuristic's count is then
#: compared with the flow bound instead)
AUTO_CPSAT_MAX_VARS = 60_000


class NoSlot(ValueError):
    """No slot and location both people can make; the message says why."""


@dataclass
class Solution:
    """Slot and location of every pair (-1: not scheduled) and how the run went."""

    slot_of: np.ndarray
    loc_of: np.ndarray
    objective: int
    bound: int | None
    optimal: bool
    method: str
    seconds: float
    count_bound: int
    unpinned: list[int] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ evaluation
def gaps_of(problem: MeetingProblem, slot_of: np.ndarray) -> np.ndarray:
    """Idle gaps per person: on each day, the runs of free slots between two meetings."""
    busy = np.zeros((problem.n, problem.n_slots), dtype=bool)
    on = slot_of >= 0
    busy[problem.pairs[on, 0], slot_of[on]] = True
    busy[problem.pairs[on, 1], slot_of[on]] = True
    out = np.zeros(problem.n, np.int64)
    for d in range(problem.n_days):
        cols = np.nonzero(problem.day == d)[0]
        b = busy[:, cols]
        starts = b[:, :1].sum(axis=1) + (b[:, 1:] & ~b[:, :-1]).sum(axis=1)
        out += np.maximum(starts - 1, 0)
    return out


def evaluate(problem: MeetingProblem, slot_of: np.ndarray, *, gaps: bool = True) -> int:
    """The objective value of a schedule (the quantity both solvers maximise)."""
    on = slot_of >= 0
    kinds = problem.kind[on]
    total = int((kinds == MUST).sum()) * 1_000_000 + int((kinds == ACCEPTED).sum()) * 10_000
    total += int(problem.fill_weight[on][kinds == FILL].sum())
    cnt = np.bincount(problem.pairs[on].ravel(), minlength=problem.n)
    total -= W_QUOTA_MIN * int(np.maximum(problem.quota_min - cnt, 0).sum())
    total -= W_QUOTA_TARGET * int(np.maximum(problem.quota_target - cnt, 0).sum())
    if gaps:
        total -= W_GAP * int(gaps_of(problem, slot_of).sum())
    return total


def count_bound(problem: MeetingProblem) -> int:
    """Most requested (must-meet + accepted) pairs any schedule can place: a max flow pairs -> slots with slot
    capacities (ignoring who is busy), capped by what each person's slots and daily limits allow."""
    from ortools.graph.python import max_flow

    req = np.nonzero(problem.kind != FILL)[0]
    if not len(req):
        return 0
    cap = problem.slot_cap
    S = problem.n_slots
    flow = max_flow.SimpleMaxFlow()
    src, sink = len(req) + S, len(req) + S + 1
    tails, heads, caps = [], [], []
    for k, p in enumerate(req.tolist()):
        i, j = problem.pairs[p]
        ok = np.nonzero(problem.avail[i] & problem.avail[j] & (cap > 0))[0]
        if problem.fixed_slot[p] >= 0:
            ok = np.array([problem.fixed_slot[p]])
        tails.append(src)
        heads.append(k)
        caps.append(1)
        tails.extend([k] * len(ok))
        heads.extend((len(req) + ok).tolist())
        caps.extend([1] * len(ok))
    for s in range(S):
        tails.append(len(req) + s)
        heads.append(sink)
        caps.append(int(cap[s]))
    flow.add_arcs_with_capacity(np.array(tails), np.array(heads), np.array(caps))
    flow.solve(src, sink)
    best = int(flow.optimal_flow())
    # each person: at most one meeting per available slot and max_per_day per day
    per_person = np.zeros(problem.n, np.int64)
    for d in range(problem.n_days):
        cols = problem.day == d
        per_person += np.minimum(problem.avail[:, cols].sum(axis=1), problem.max_per_day)
    deg = np.bincount(problem.pairs[req].ravel(), minlength=problem.n)
    return int(min(best, len(req), np.minimum(deg, per_person).sum() // 2))


# ------------------------------------------------------------------------------------------------ the state
class _State:
    """Who is where, with O(1) feasibility tests and gap deltas."""

    def __init__(self, problem: MeetingProblem):
        self.pb = problem
        n, S = problem.n, problem.n_slots
        self.busy = np.full((n, S), -1, np.int64)
        self.used = np.zeros(S, np.int64)
        self.cap = problem.slot_cap.astype(np.int64)
        self.perday = np.zeros((n, max(problem.n_days, 1)), np.int64)
        self.fills = np.zeros(n, np.int64)
        self.count = np.zeros(n, np.int64)
        self.slot_of = np.full(len(problem.pairs), -1, np.int64)
        self.prev, self.next = problem.same_day_neighbours()
        self.in_slot: list[set[int]] = [set() for _ in range(S)]

    def feasible(self, p: int, exclude_slot: int = -1) -> np.ndarray:
        pb = self.pb
        i, j = pb.pairs[p]
        m = (pb.avail[i] & pb.avail[j] & (self.busy[i] < 0) & (self.busy[j] < 0) & (self.used < self.cap)
             & (self.perday[i, pb.day] < pb.max_per_day[i]) & (self.perday[j, pb.day] < pb.max_per_day[j]))
        if pb.kind[p] == FILL and (self.fills[i] >= pb.fill_per_person or self.fills[j] >= pb.fill_per_person):
            m[:] = False
        if exclude_slot >= 0:
            m[exclude_slot] = False
        return m

    def can(self, p: int, s: int) -> bool:
        pb = self.pb
        i, j = pb.pairs[p]
        d = pb.day[s]
        return bool(pb.avail[i, s] and pb.avail[j, s] and self.busy[i, s] < 0 and self.busy[j, s] < 0
                    and self.used[s] < self.cap[s] and self.perday[i, d] < pb.max_per_day[i]
                    and self.perday[j, d] < pb.max_per_day[j]
                    and (pb.kind[p] != FILL or (self.fills[i] < pb.fill_per_person
                                                and self.fills[j] < pb.fill_per_person)))

    def gap_delta(self, who: int, slots: np.ndarray) -> np.ndarray:
        """Change in ``who``'s idle gaps if a meeting were added in each of ``slots`` (all free for them)."""
        prev, nxt = self.prev[slots], self.next[slots]
        row = self.busy[who]
        left = (prev >= 0) & (row[np.maximum(prev, 0)] >= 0)
        right = (nxt >= 0) & (row[np.maximum(nxt, 0)] >= 0)
        empty = self.perday[who, self.pb.day[slots]] == 0
        return np.where(empty, 0, 1 - left.astype(np.int64) - right.astype(np.int64))

    def place(self, p: int, s: int) -> None:
        pb = self.pb
        i, j = pb.pairs[p]
        d = pb.day[s]
        self.busy[i, s] = self.busy[j, s] = p
        self.used[s] += 1
        self.perday[i, d] += 1
        self.perday[j, d] += 1
        self.count[i] += 1
        self.count[j] += 1
        if pb.kind[p] == FILL:
            self.fills[i] += 1
            self.fills[j] += 1
        self.slot_of[p] = s
        self.in_slot[s].add(p)

    def remove(self, p: int) -> int:
        pb = self.pb
        s = int(self.slot_of[p])
        i, j = pb.pairs[p]
        d = pb.day[s]
        self.busy[i, s] = self.busy[j, s] = -1
        self.used[s] -= 1
        self.perday[i, d] -= 1
        self.perday[j, d] -= 1
        self.count[i] -= 1
        self.count[j] -= 1
        if pb.kind[p] == FILL:
            self.fills[i] -= 1
            self.fills[j] -= 1
        self.slot_of[p] = -1
        self.in_slot[s].discard(p)
        return s

    def value(self, p: int) -> int:
        """What placing ``p`` is worth now (quota bonuses counted while a sponsor is short)."""
        pb = self.pb
        v = pb.weight(p)
        for w in pb.pairs[p]:
            if self.count[w] < pb.quota_min[w]:
                v += W_QUOTA_MIN
            elif self.count[w] < pb.quota_target[w]:
                v += W_QUOTA_TARGET
        return v

    def loss(self, p: int) -> int:
        """What removing the placed ``p`` costs now."""
        pb = self.pb
        v = pb.weight(p)
        for w in pb.pairs[p]:
            if self.count[w] <= pb.quota_min[w]:
                v += W_QUOTA_MIN
            elif self.count[w] <= pb.quota_target[w]:
                v += W_QUOTA_TARGET
        return v


# ------------------------------------------------------------------------------------------------ heuristic
class _Heuristic:
    def __init__(self, problem: MeetingProblem, seed: int, effort: float, progress: Progress | None):
        self.pb = problem
        self.st = _State(problem)
        self.rng = np.random.default_rng(seed)
        self.effort = effort
        self.progress = progress
        self.pinned = np.zeros(len(problem.pairs), bool)
        self.unpinned: list[int] = []
        pb = problem
        cap = pb.slot_cap
        common = pb.avail[pb.pairs[:, 0]] & pb.avail[pb.pairs[:, 1]] & (cap > 0)[None, :]
        self.flex = common.sum(axis=1)
        req = pb.kind != FILL
        # how contended each slot is: requested pairs that could use it per seat
        self.demand = common[req].sum(axis=0) / np.maximum(cap, 1)

    def _choose(self, p: int, mask: np.ndarray) -> int:
        st, pb = self.st, self.pb
        slots = np.nonzero(mask)[0]
        i, j = pb.pairs[p]
        gd = st.gap_delta(i, slots) + st.gap_delta(j, slots)
        load = (st.used[slots] + 1) / np.maximum(st.cap[slots], 1) + self.demand[slots] * 0.05
        key = gd * 10.0 + load
        return int(slots[np.argmin(key)])  # argmin takes the earliest on ties

    def order(self, kinds: tuple[int, ...]) -> list[int]:
        pb = self.pb
        idx = np.nonzero(np.isin(pb.kind, kinds) & (self.st.slot_of < 0) & ~self.pinned)[0]
        if not len(idx):
            return []
        sponsor = (pb.quota_min[pb.pairs[idx, 0]] > 0) | (pb.quota_min[pb.pairs[idx, 1]] > 0)
        target = (pb.quota_target[pb.pairs[idx, 0]] > 0) | (pb.quota_target[pb.pairs[idx, 1]] > 0)
        noise = self.rng.random(len(idx))
        fw = -pb.fill_weight[idx].astype(np.float64)
        # kind, then sponsors, then (for fill) best score, then fewest options, then a seeded tie-break
        keys = np.lexsort((noise, self.flex[idx], fw, ~target, ~sponsor, pb.kind[idx]))
        return idx[keys].tolist()

    def pin(self) -> None:
        pb, st = self.pb, self.st
        for p in np.nonzero(pb.fixed_slot >= 0)[0].tolist():
            s = int(pb.fixed_slot[p])
            if st.can(p, s):
                st.place(p, s)
                self.pinned[p] = True
            else:
                self.unpinned.append(p)

    def greedy(self, kinds: tuple[int, ...]) -> list[int]:
        st, pb = self.st, self.pb
        left = []
        order = self.order(kinds)
        for k, p in enumerate(order):
            mask = st.feasible(p)
            if mask.any():
                s = self._choose(p, mask)
                if pb.kind[p] == FILL:
                    i, j = pb.pairs[p]
                    gd = int(st.gap_delta(i, np.array([s]))[0] + st.gap_delta(j, np.array([s]))[0])
                    if pb.fill_weight[p] - W_GAP * gd <= 0:
                        left.append(p)
                        continue
                st.place(p, s)
            else:
                left.append(p)
            if self.progress and k % 500 == 0:
                self.progress("greedy", k, len(order))
        return left

    def _relocate(self, q: int, avoid: int, budget: list[int]) -> int:
        """Move placed meeting ``q`` out of slot ``avoid`` to its best other slot; -1 if it cannot move."""
        if self.pinned[q]:
            return -1
        st = self.st
        budget[0] -= 1
        s_old = st.remove(q)
        mask = st.feasible(q, exclude_slot=avoid)
        if not mask.any():
            st.place(q, s_old)
            return -1
        s = self._choose(q, mask)
        st.place(q, s)
        return s

    def repair(self, left: list[int], budget: list[int], evict: bool) -> list[int]:
        """Place leftover pairs by moving one blocking meeting per conflict (and, with ``evict``, by evicting
        lower-value ones, which are queued again). Returns what is still unplaced."""
        st, pb = self.st, self.pb
        queue = sorted(left, key=lambda p: -st.value(p))
        still: list[int] = []
        tried_evict: set[int] = set()
        while queue:
            if budget[0] <= 0:
                still.extend(queue)
                break
            p = queue.pop(0)
            if st.slot_of[p] >= 0:
                continue
            mask = st.feasible(p)
            if mask.any():
                st.place(p, self._choose(p, mask))
                continue
            i, j = pb.pairs[p]
            placed = False
            cands = np.nonzero(pb.avail[i] & pb.avail[j] & (st.cap > 0))[0]
            for s in cands.tolist():
                if budget[0] <= 0:
                    break
                d = pb.day[s]
                blockers = [q for q in (st.busy[i, s], st.busy[j, s]) if q >= 0]
                blockers = list(dict.fromkeys(blockers))
                day_full = [w for w in (i, j) if st.perday[w, d] >= pb.max_per_day[w]
                            and st.busy[w, s] < 0]
                if day_full:
                    continue
                moved: list[tuple[int, int]] = []
                ok = True
                for q in blockers:
                    s_old = int(st.slot_of[q])
                    if self._relocate(q, s, budget) < 0:
                        ok = False
                        break
                    moved.append((q, s_old))
                if ok and st.used[s] >= st.cap[s]:
                    ok = False
                    for r in sorted(st.in_slot[s]):
                        s_old = int(st.slot_of[r])
                        if self._relocate(r, s, budget) >= 0:
                            moved.append((r, s_old))
                            ok = True
                            break
                if ok and st.can(p, s):
                    st.place(p, s)
                    placed = True
                    break
                for q, s_old in reversed(moved):
                    st.remove(q)
                    st.place(q, s_old)
            if placed:
                continue
            if evict and p not in tried_evict:
                tried_evict.add(p)
                if self._evict(p, queue):
                    continue
            still.append(p)
        return still

    def _evict(self, p: int, queue: list[int]) -> bool:
        """Place ``p`` in the slot where the meetings in its way are worth least, if that is less than ``p``."""
        st, pb = self.st, self.pb
        i, j = pb.pairs[p]
        gain = st.value(p)
        best: tuple[int, int, list[int]] | None = None
        for s in np.nonzero(pb.avail[i] & pb.avail[j] & (st.cap > 0))[0].tolist():
            d = pb.day[s]
            out = list(dict.fromkeys(q for q in (st.busy[i, s], st.busy[j, s]) if q >= 0))
            if any(self.pinned[q] for q in out):
                continue
            if st.used[s] - len(out) >= st.cap[s]:
                movable = [r for r in sorted(st.in_slot[s]) if r not in out and not self.pinned[r]]
                if not movable:
                    continue
                out.append(min(movable, key=lambda r: (st.loss(r), r)))
            if any(st.perday[w, d] - sum(1 for q in out if w in pb.pairs[q]) >= pb.max_per_day[w] for w in (i, j)):
                continue
            cost = sum(st.loss(q) for q in out)
            if cost < gain and (best is None or cost < best[0]):
                best = (cost, s, out)
        if best is None:
            return False
        _, s, out = best
        for q in out:
            st.remove(q)
        if not st.can(p, s):  # pragma: no cover - the test above mirrors can()
            for q in out:
                st.place(q, s)
            return False
        st.place(p, s)
        queue.extend(out)
        queue.sort(key=lambda q: -st.value(q))
        return True

    def close_gaps(self, budget: list[int]) -> None:
        """Move single meetings to slots that leave their two people fewer idle gaps."""
        st, pb = self.st, self.pb
        improved = True
        while improved and budget[0] > 0:
            improved = False
            g = gaps_of(pb, st.slot_of)
            for i in np.nonzero(g > 0)[0].tolist():
                for s in np.nonzero(st.busy[i] >= 0)[0].tolist():
                    q = int(st.busy[i, s])
                    if self.pinned[q] or budget[0] <= 0:
                        continue
                    budget[0] -= 1
                    a, b = pb.pairs[q]
                    before = self._person_gaps(a) + self._person_gaps(b)
                    st.remove(q)
                    mask = st.feasible(q)
                    mask[s] = False
                    best_s, best_g = s, before
                    for t in np.nonzero(mask)[0].tolist():
                        st.place(q, t)
                        gg = self._person_gaps(a) + self._person_gaps(b)
                        st.remove(q)
                        if gg < best_g:
                            best_s, best_g = t, gg
                    st.place(q, best_s)
                    if best_s != s:
                        improved = True

    def _person_gaps(self, w: int) -> int:
        row = self.st.busy[w] >= 0
        total = 0
        for d in np.nonzero(self.st.perday[w] > 1)[0].tolist():
            b = row[self.pb.day == d]
            starts = int(b[0]) + int((b[1:] & ~b[:-1]).sum())
            total += max(starts - 1, 0)
        return total

    def run(self) -> np.ndarray:
        pb = self.pb
        self.pin()
        budget = [int(20_000 * self.effort + 20 * len(pb.pairs) * self.effort)]
        left = self.greedy((MUST,))
        left = self.repair(left, budget, evict=True)
        left2 = self.greedy((ACCEPTED,))
        self.repair(left + left2, budget, evict=True)
        if (pb.kind == FILL).any():
            self.greedy((FILL,))
        self.close_gaps([int(5_000 * self.effort + 2 * len(pb.pairs) * self.effort)])
        return self.st.slot_of.copy()


# ------------------------------------------------------------------------------------------------ CP-SAT
def solve_cpsat(problem: MeetingProblem, *, hint: np.ndarray | None = None, time_limit: float = 10.0,
                seed: int = 0, workers: int = 1, gaps: bool | None = None, deterministic: bool = True
                ) -> tuple[np.ndarray | None, int | None, int | None, bool, dict]:
    """Solve exactly with CP-SAT. Returns ``(slot_of, objective, bound, optimal, stats)``; ``slot_of`` is None when
    no solution was found in time. ``gaps=None`` models idle gaps when the model is small enough (people x slots
    up to 20,000); without them the bound ignores gaps (it stays an upper bound). ``deterministic``: the time
    limit is CP-SAT's deterministic time (same input and seed, same answer)."""
    from ortools.sat.python import cp_model

    pb = problem
    P, S = len(pb.pairs), pb.n_slots
    cap = pb.slot_cap
    if gaps is None:
        gaps = pb.n * S <= 20_000
    m = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    by_person_slot: dict[tuple[int, int], list] = {}
    by_slot: list[list] = [[] for _ in range(S)]
    by_person_day: dict[tuple[int, int], list] = {}
    fills_of: dict[int, list] = {}
    count_of: dict[int, list] = {}
    objective = []
    for p in range(P):
        i, j = (int(v) for v in pb.pairs[p])
        ok = np.nonzero(pb.avail[i] & pb.avail[j] & (cap > 0))[0].tolist()
        fixed = int(pb.fixed_slot[p])
        if fixed >= 0 and fixed in ok:
            ok = [fixed]
        if not ok:
            continue
        vs = []
        for s in ok:
            v = m.new_bool_var(f"x{p}_{s}")
            x[p, s] = v
            vs.append(v)
            by_slot[s].append(v)
            for w in (i, j):
                by_person_slot.setdefault((w, s), []).append(v)
                by_person_day.setdefault((w, int(pb.day[s])), []).append(v)
                count_of.setdefault(w, []).append(v)
                if pb.kind[p] == FILL:
                    fills_of.setdefault(w, []).append(v)
        if fixed >= 0 and ok == [fixed]:
            m.add(vs[0] == 1)
        elif len(vs) > 1:
            m.add_at_most_one(vs)
        objective.append(pb.weight(p) * sum(vs))
    for vs in by_person_slot.values():
        if len(vs) > 1:
            m.add_at_most_one(vs)
    for s in range(S):
        if len(by_slot[s]) > cap[s]:
            m.add(sum(by_slot[s]) <= int(cap[s]))
    for (w, _d), vs in by_person_day.items():
        if len(vs) > pb.max_per_day[w]:
            m.add(sum(vs) <= int(pb.max_per_day[w]))
    for vs in fills_of.values():
        if len(vs) > pb.fill_per_person:
            m.add(sum(vs) <= int(pb.fill_per_person))
    offset = 0
    for w in range(pb.n):
        for lim, weight in ((int(pb.quota_min[w]), W_QUOTA_MIN), (int(pb.quota_target[w]), W_QUOTA_TARGET)):
            if lim <= 0:
                continue
            short = m.new_int_var(0, lim, f"short{w}_{weight}")
            m.add(short >= lim - sum(count_of.get(w, [])))
            objective.append(-weight * short)
    if gaps:
        prev, _ = pb.same_day_neighbours()
        for w in range(pb.n):
            if len(count_of.get(w, [])) < 2:
                continue
            for d in range(pb.n_days):
                cols = np.nonzero(pb.day == d)[0].tolist()
                busy = {s: sum(by_person_slot[w, s]) for s in cols if (w, s) in by_person_slot}
                if len(busy) < 2:
                    continue
                starts = []
                for s in cols:
                    if s not in busy:
                        continue
                    st = m.new_bool_var(f"start{w}_{s}")
                    before = busy.get(int(prev[s])) if prev[s] >= 0 else None
                    m.add(st >= busy[s] - before if before is not None else st >= busy[s])
                    starts.append(st)
                anyv = m.new_bool_var(f"any{w}_{d}")
                m.add(anyv <= sum(busy.values()))
                objective.append(-W_GAP * (sum(starts) - anyv))
    m.maximize(sum(objective) + offset)
    if hint is not None:
        for (p, s), v in x.items():
            m.add_hint(v, int(hint[p] == s))
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.random_seed = int(seed)
    prm.num_workers = int(workers)
    if deterministic:
        prm.max_deterministic_time = float(time_limit)
        prm.max_time_in_seconds = float(time_limit) * 20 + 60
    else:
        prm.max_time_in_seconds = float(time_limit)
    t0 = time.perf_counter()
    status = solver.solve(m)
    stats = {"status": solver.status_name(status), "variables": len(x), "wall": time.perf_counter() - t0,
             "gaps_modelled": bool(gaps)}
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, None, None, False, stats
    slot_of = np.full(P, -1, np.int64)
    for (p, s), v in x.items():
        if solver.boolean_value(v):
            slot_of[p] = s
    bound = int(np.floor(solver.best_objective_bound + 1e-6))
    return slot_of, int(round(solver.objective_value)), bound, status == cp_model.OPTIMAL, stats


# ------------------------------------------------------------------------------------------------ locations
def assign_locations(problem: MeetingProblem, slot_of: np.ndarray) -> np.ndarray:
    """A location for every placed pair: a kept meeting keeps its location when it is still open and free; a
    person's next meeting stays at the location of their previous one when it can; otherwise the first open
    location with room (location order). Raises ``ValueError`` if a slot holds more than its locations do."""
    pb = problem
    loc_of = np.full(len(pb.pairs), -1, np.int64)
    prev, _ = pb.same_day_neighbours()
    last: dict[int, tuple[int, int]] = {}  # person -> (slot, location) of their latest meeting
    for s in range(pb.n_slots):
        here = np.nonzero(slot_of == s)[0].tolist()
        room = np.where(pb.loc_open[:, s], pb.loc_cap, 0).astype(np.int64)
        rest = []
        for p in here:
            lk = int(pb.fixed_loc[p])
            if pb.fixed_slot[p] == s and lk >= 0 and room[lk] > 0:
                loc_of[p] = lk
                room[lk] -= 1
            else:
                rest.append(p)
        again = []
        for p in rest:
            for w in pb.pairs[p].tolist():
                ls, lk = last.get(w, (-1, -1))
                if prev[s] >= 0 and ls == prev[s] and room[lk] > 0:
                    loc_of[p] = lk
                    room[lk] -= 1
                    break
            else:
                again.append(p)
        for p in again:
            free = np.nonzero(room > 0)[0]
            if not len(free):
                raise ValueError(f"slot {pb.slot_ids[s]} holds more meetings than its open locations")
            loc_of[p] = int(free[0])
            room[free[0]] -= 1
        for p in here:
            for w in pb.pairs[p].tolist():
                last[w] = (s, int(loc_of[p]))
    return loc_of


# ------------------------------------------------------------------------------------------------ entry points
def solve(problem: MeetingProblem, *, method: str = "auto", time_limit: float = 10.0, seed: int = 0,
          effort: float = 1.0, workers: int = 1, progress: Progress | None = None) -> Solution:
    """Schedule every pair it can. ``method``: ``"heuristic"``, ``"cpsat"`` (hinted by the heuristic) or
    ``"auto"`` (heuristic, then, up to :data:`AUTO_CPSAT_MAX_VARS` variables, CP-SAT within ``time_limit``
    deterministic seconds, keeping the better)."""
    if method not in ("auto", "heuristic", "cpsat"):
        raise ValueError(f"method must be auto, heuristic or cpsat, got {method!r}")
    t0 = time.perf_counter()
    h = _Heuristic(problem, seed, effort, progress)
    slot_of = h.run()
    best = evaluate(problem, slot_of)
    used = "heuristic"
    bound: int | None = None
    optimal = False
    stats: dict = {"heuristic_seconds": time.perf_counter() - t0, "heuristic_objective": best}
    n_vars = int((problem.avail[problem.pairs[:, 0]] & problem.avail[problem.pairs[:, 1]]).sum()) \
        if len(problem.pairs) else 0
    stats["variables"] = n_vars
    run_cp = method == "cpsat" or (method == "auto" and n_vars <= AUTO_CPSAT_MAX_VARS)
    if run_cp and len(problem.pairs):
        if progress:
            progress("cp-sat", 0, 1)
        cs, obj, bnd, opt, st = solve_cpsat(problem, hint=slot_of, time_limit=time_limit, seed=seed,
                                            workers=workers)
        stats["cpsat"] = st
        if cs is not None:
            bound = bnd
            val = evaluate(problem, cs)
            if val > best or (opt and val >= best):
                slot_of, best, used = cs, val, "cp-sat"
            optimal = bool(opt and st["gaps_modelled"] and best >= obj)
            if st["gaps_modelled"] and bnd is not None and best >= bnd:
                optimal = True
        if progress:
            progress("cp-sat", 1, 1)
    loc_of = assign_locations(problem, slot_of)
    return Solution(slot_of=slot_of, loc_of=loc_of, objective=best, bound=bound, optimal=optimal, method=used,
                    seconds=time.perf_counter() - t0, count_bound=count_bound(problem), unpinned=h.unpinned,
                    stats=stats)


def book(problem: MeetingProblem, slot_of: np.ndarray, loc_of: np.ndarray, p: int,
         after: int = -1) -> tuple[int, int]:
    """Booking on acceptance: the earliest slot (after slot index ``after``) both people of pair ``p`` can make
    and a free location in it. ``slot_of``/``loc_of`` hold the meetings already booked (-1: none). Raises
    :class:`NoSlot` saying why nothing fits."""
    pb = problem
    i, j = (int(v) for v in pb.pairs[p])
    a, b = pb.ids[i], pb.ids[j]
    on = (slot_of >= 0) & (np.arange(len(slot_of)) != p)
    busy_i = np.zeros(pb.n_slots, bool)
    busy_j = np.zeros(pb.n_slots, bool)
    room = (pb.loc_open * pb.loc_cap[:, None]).astype(np.int64)
    perday = np.zeros((2, max(pb.n_days, 1)), np.int64)
    for q in np.nonzero(on)[0].tolist():
        s, lk = int(slot_of[q]), int(loc_of[q])
        if lk >= 0:
            room[lk, s] -= 1
        qi, qj = pb.pairs[q]
        for k, w, busy in ((0, i, busy_i), (1, j, busy_j)):
            if w in (qi, qj):
                busy[s] = True
                perday[k, pb.day[s]] += 1
    both = pb.avail[i] & pb.avail[j]
    both[: after + 1] = False
    if not both.any():
        raise NoSlot(f"{a} and {b} have no available slot in common"
                     + (" after the given time" if after >= 0 else "")
                     + f" ({a}: {int(pb.avail[i].sum())} slots, {b}: {int(pb.avail[j].sum())})")
    why = {"busy_a": 0, "busy_b": 0, "day_a": 0, "day_b": 0, "full": 0}
    for s in np.nonzero(both)[0].tolist():
        d = pb.day[s]
        if busy_i[s]:
            why["busy_a"] += 1
        elif busy_j[s]:
            why["busy_b"] += 1
        elif perday[0, d] >= pb.max_per_day[i]:
            why["day_a"] += 1
        elif perday[1, d] >= pb.max_per_day[j]:
            why["day_b"] += 1
        else:
            free = np.nonzero(room[:, s] > 0)[0]
            if len(free):
                return s, int(free[0])
            why["full"] += 1
    parts = [f"{why['busy_a']} {a} already has a meeting in" if why["busy_a"] else "",
             f"{why['busy_b']} {b} already has a meeting in" if why["busy_b"] else "",
             f"{why['day_a']} fall on days {a} has reached the daily limit" if why["day_a"] else "",
             f"{why['day_b']} fall on days {b} has reached the daily limit" if why["day_b"] else "",
             f"{why['full']} have no free location" if why["full"] else ""]
    raise NoSlot(f"no slot both {a} and {b} can make: of the {int(both.sum())} slots both are available, "
                 + "; ".join(x for x in parts if x))


def why_unplaced(problem: MeetingProblem, slot_of: np.ndarray, loc_of: np.ndarray) -> dict[int, str]:
    """For every requested pair left out, why: no common slot, or how its common slots are taken. A pair that
    turns out to fit (a free slot both can make, with a free location) is reported as such."""
    pb = problem
    on = slot_of >= 0
    busy = np.zeros((pb.n, pb.n_slots), bool)
    busy[pb.pairs[on, 0], slot_of[on]] = True
    busy[pb.pairs[on, 1], slot_of[on]] = True
    used = np.bincount(slot_of[on], minlength=pb.n_slots)
    full = used >= pb.slot_cap
    perday = np.zeros((pb.n, max(pb.n_days, 1)), np.int64)
    np.add.at(perday, (pb.pairs[on, 0], pb.day[slot_of[on]]), 1)
    np.add.at(perday, (pb.pairs[on, 1], pb.day[slot_of[on]]), 1)
    out: dict[int, str] = {}
    for p in np.nonzero(~on & (pb.kind != FILL))[0].tolist():
        i, j = (int(v) for v in pb.pairs[p])
        a, b = pb.ids[i], pb.ids[j]
        both = pb.avail[i] & pb.avail[j] & (pb.slot_cap > 0)
        if not both.any():
            out[p] = (f"{a} and {b} have no open slot in common ({a}: {int(pb.avail[i].sum())} slots, "
                      f"{b}: {int(pb.avail[j].sum())})")
            continue
        ba, bb = both & busy[i], both & busy[j] & ~busy[i]
        rest = both & ~busy[i] & ~busy[j]
        da = rest & (perday[i, pb.day] >= pb.max_per_day[i])
        db = rest & ~da & (perday[j, pb.day] >= pb.max_per_day[j])
        fl = rest & ~da & ~db & full
        parts = [f"{a} is busy in {int(ba.sum())}" if ba.any() else "",
                 f"{b} is busy in {int(bb.sum())}" if bb.any() else "",
                 f"{a}'s daily limit rules out {int(da.sum())}" if da.any() else "",
                 f"{b}'s daily limit rules out {int(db.sum())}" if db.any() else "",
                 f"every location is taken in {int(fl.sum())}" if fl.any() else ""]
        left = int((rest & ~da & ~db & ~full).sum())
        if left:
            parts.append(f"{left} still fit")
        out[p] = (f"of the {int(both.sum())} slots both can make, " + "; ".join(x for x in parts if x))
    return out
