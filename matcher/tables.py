"""Seating plans, roundtables and 1:1 speed-networking rotations over an affinity matrix.

The planner seats N people at tables over R rounds so that people who share a table like each other (affinity
from :meth:`matcher.Matcher.pair_scores`, or any symmetric matrix), no pair meets twice when that can be avoided
(the social golfer problem), and the hard rules hold (keep apart, keep together, same company apart, blocked
pairs apart, fixed seats, role mix per table, attendance per round).

How: every round is built greedily and then improved by swapping two people at different tables, picking for a
person the best partner to swap with over the whole room (one vectorised numpy expression per move, from an
``(n, tables)`` matrix of "affinity of person i to table t" kept up to date in O(n) per swap). Rules enter as
weights (a forbidden pair costs far more than any affinity gain, a repeat costs more than any single swap can
win) plus masks (fixed seats and teams never move; a swap never breaks a role bound). Rounds are revisited in
turn, each against the meetings of all the others; while repeats or rule conflicts remain, a tabu search
(Dotú and Van Hentenryck's social-golfer local search) moves conflicted people even when that costs affinity.
A plan that still breaks a rule is never returned: the planner raises :class:`models.InfeasibleRules` naming the
conflict. Deterministic for a seed: budgets are counted in moves, not seconds.

>>> import numpy as np
>>> from models import TablePlanRequest
>>> aff = np.zeros((4, 4), np.float32); aff[0, 1] = aff[1, 0] = aff[2, 3] = aff[3, 2] = 1.0
>>> plan = plan_tables(["a", "b", "c", "d"], aff, TablePlanRequest(rounds=1, table_size=2))
>>> sorted(sorted(t.seats) for t in plan.rounds[0].tables)
[['a', 'b'], ['c', 'd']]
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from models import InfeasibleRules, InvalidInput, PlanReport, PlanRound, PlanTable, RepeatPair, TablePlan
from models.tables import TablePlanRequest

#: ``progress(done, total)`` is called as rounds are built and improved.
Progress = Callable[[int, int], None]

ABSENT = -1
BYE = -2
_MAX_LISTED_REPEATS = 1000
#: Above this many people in a round, the local search looks for a swap partner only at the NEAR_TABLES tables a
#: person likes best (and the partner's side is covered when the partner's own turn comes).
NEAR_TABLES_ABOVE = 10_000
NEAR_TABLES = 12
#: Up to this many people, leftover conflicts go to a tabu search over all rounds at once.
GLOBAL_TABU_MAX = 300


# ----------------------------------------------------------------------------------------------- the problem
@dataclass
class SeatingProblem:
    """A seating problem over people ``0..n-1`` (index-based; :func:`plan_tables` builds it from ids and rules).

    ``forbidden`` pairs never share a table; ``present[r, i]`` says who attends round ``r``; ``pinned[r, i]`` is a
    0-based table or -1; ``teams`` are index groups that always share a table; ``roles[i]`` is a code into
    ``role_min``/``role_max`` (per-table bounds) or -1. ``table_size`` or ``capacities`` as in the request.
    """

    affinity: np.ndarray
    rounds: int
    table_size: int | None = None
    capacities: Sequence[int] | None = None
    odd: str = "trio"
    forbidden: np.ndarray | None = None
    present: np.ndarray | None = None
    pinned: np.ndarray | None = None
    teams: list[list[int]] = field(default_factory=list)
    roles: np.ndarray | None = None
    role_min: Sequence[int] = ()
    role_max: Sequence[int | None] = ()
    role_names: Sequence[str] = ()
    names: Sequence[str] | None = None
    why_apart: Callable[[int, int], str] | None = None

    def __post_init__(self) -> None:
        a = np.asarray(self.affinity, dtype=np.float32)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise InvalidInput([{"field": "affinity", "message": f"expected a square matrix, got shape {a.shape}"}])
        if not np.isfinite(a).all():
            raise InvalidInput([{"field": "affinity", "message": "contains NaN or infinite values"}])
        self.affinity = a
        n = a.shape[0]
        if self.table_size is None and self.capacities is None:
            raise InvalidInput([{"field": "table_size", "message": "give table_size or capacities"}])
        self.forbidden = (np.zeros((n, n), bool) if self.forbidden is None
                          else np.asarray(self.forbidden, dtype=bool))
        self.forbidden = self.forbidden | self.forbidden.T
        np.fill_diagonal(self.forbidden, False)
        self.present = (np.ones((self.rounds, n), bool) if self.present is None
                        else np.asarray(self.present, dtype=bool))
        self.pinned = (np.full((self.rounds, n), -1, np.int64) if self.pinned is None
                       else np.asarray(self.pinned, dtype=np.int64))
        self.roles = np.full(n, -1, np.int64) if self.roles is None else np.asarray(self.roles, dtype=np.int64)
        if self.names is None:
            self.names = [str(i) for i in range(n)]

    @property
    def n(self) -> int:
        return self.affinity.shape[0]

    def name(self, i: int) -> str:
        return repr(self.names[i])

    def apart_reason(self, i: int, j: int) -> str:
        return self.why_apart(i, j) if self.why_apart else "the rules keep them apart"


def table_capacities(n_present: int, table_size: int | None = None, capacities: Sequence[int] | None = None,
                     odd: str = "trio") -> tuple[list[int], int]:
    """Seats per table for ``n_present`` people, and how many seats stay empty.

    Uniform tables: as few tables of at most ``table_size`` as fit everyone, sizes differing by at most one.
    ``table_size=2`` (1:1 rounds) with an odd head count: one trio (``odd="trio"``) or one empty seat, a bye.

    >>> table_capacities(23, 5)
    ([5, 5, 5, 4, 4], 0)
    >>> table_capacities(7, 2), table_capacities(7, 2, odd="bye")
    (([3, 2, 2], 0), ([2, 2, 2, 2], 1))
    >>> table_capacities(7, capacities=[4, 4])
    ([4, 4], 1)
    """
    if n_present <= 0:
        return [], 0
    if capacities is not None:
        caps = [int(c) for c in capacities]
        return caps, max(0, sum(caps) - n_present)
    k = int(table_size)
    if k == 2 and n_present % 2 == 1 and n_present > 1:
        if odd == "bye":
            return [2] * ((n_present + 1) // 2), 1
        t = n_present // 2
    else:
        t = -(-n_present // k)
    base, extra = divmod(n_present, t)
    return [base + 1] * extra + [base] * (t - extra), 0


# -------------------------------------------------------------------------------------------- the solution
@dataclass
class Seating:
    """``table[r, i]``: person ``i``'s 0-based table in round ``r``, :data:`ABSENT` or :data:`BYE`."""

    table: np.ndarray
    capacities: list[list[int]]
    moves: int = 0


def _table_sums(X: np.ndarray, tab: np.ndarray, T: int) -> np.ndarray:
    """``out[i, t] = sum of X[i, j] over the people j at table t`` (float64), without a dense one-hot product."""
    order = np.argsort(tab, kind="stable")
    counts = np.bincount(tab, minlength=T)
    out = np.zeros((X.shape[0], T), dtype=np.float64)
    nonempty = np.flatnonzero(counts)
    if len(nonempty):
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[nonempty]
        src = X[:, order]
        if src.dtype == bool:
            src = src.view(np.uint8)
        out[:, nonempty] = np.add.reduceat(src, starts, axis=1, dtype=np.float64)
    return out


def _fail(field_: str, message: str) -> InfeasibleRules:
    return InfeasibleRules([{"field": field_, "message": message}])


class _Round:
    """One round's local view: participants (real people then empty seats) and their table arrays."""

    def __init__(self, r: int, prob: SeatingProblem, ghost_base: int):
        self.r = r
        real = np.flatnonzero(prob.present[r])
        caps, ghosts = table_capacities(len(real), prob.table_size, prob.capacities, prob.odd)
        if prob.capacities is not None and len(real) > sum(caps):
            raise _fail("capacities", f"round {r + 1}: {len(real)} attendees but only {sum(caps)} seats "
                                      f"({len(caps)} tables); add tables or capacity")
        self.caps = np.asarray(caps, dtype=np.int64)
        self.idx = np.concatenate([real, ghost_base + np.arange(ghosts)]).astype(np.int64)
        self.n_real = len(real)
        self.m = len(self.idx)
        self.T = len(caps)
        pins = np.full(self.m, -1, np.int64)
        pins[:self.n_real] = prob.pinned[r, real]
        if ghosts and prob.capacities is None and prob.table_size == 2 and prob.odd == "bye":
            pins[self.n_real:] = self.T - 1  # the bye "table" is the last one; who sits there sits out
        self.pinned = pins
        roles = np.full(self.m, -1, np.int64)
        roles[:self.n_real] = prob.roles[real]
        self.roles = roles


class _Solver:
    def __init__(self, prob: SeatingProblem, seed: int, effort: float, progress: Progress | None,
                 tabu_budget: int | None = None, noise: float = 0.0):
        self.p = prob
        self.noise = noise
        self.tabu_budget = tabu_budget
        self.rng = np.random.default_rng(seed)
        self.effort = effort
        self.progress = progress
        n = prob.n
        self.ghost_base = n
        self.n_ghost = max(table_capacities(int(c), prob.table_size, prob.capacities, prob.odd)[1]
                           for c in prob.present.sum(axis=1)) if prob.rounds else 0
        self.bye = prob.table_size == 2 and prob.capacities is None and prob.odd == "bye"
        self.rounds = [_Round(r, prob, n) for r in range(prob.rounds)]
        kmax = max([int(rd.caps.max()) for rd in self.rounds if rd.T] + [2])
        amax = float(np.abs(prob.affinity).max()) if n else 0.0
        amax = max(amax, 1e-6)
        self.scale = amax
        self.P_rep = 4.0 * kmax + 1.0             # in units of amax: above what one swap can win in affinity
        self.P_forb = 1000.0 * self.P_rep * max(1, prob.rounds)
        self.P_ghost = 0.5 * self.P_rep
        total = n + self.n_ghost
        self.M = np.zeros((total, total), dtype=np.int16)  # how many rounds each pair shares a table
        self.table = np.full((prob.rounds, n), ABSENT, np.int64)
        self.moves = 0
        # team of each person (index into teams) for construction
        self.team_of = np.full(n, -1, np.int64)
        for t, members in enumerate(prob.teams):
            self.team_of[np.asarray(members, dtype=np.int64)] = t
        n_roles = len(prob.role_min)
        self.n_roles = n_roles
        # role code -1 (no bound) indexes the last entry: no minimum, no maximum
        self.rmin = np.zeros(n_roles + 1, np.int64)
        self.rmax = np.full(n_roles + 1, 1 << 30, np.int64)
        for c in range(n_roles):
            self.rmin[c] = prob.role_min[c]
            if prob.role_max[c] is not None:
                self.rmax[c] = prob.role_max[c]

    # ------------------------------------------------------------------------------ per-round matrices
    def _weights(self, rd: _Round) -> tuple[np.ndarray, np.ndarray]:
        """Swap weights (affinity minus penalties) and the conflict matrix of one round, against the other
        rounds' meetings (``self.M`` must not hold this round)."""
        p = self.p
        idx = rd.idx
        nr = rd.n_real
        real = idx[:nr]
        m = rd.m
        W = np.zeros((m, m), dtype=np.float32)
        C = np.zeros((m, m), dtype=bool)
        if nr:
            everyone = nr == p.n  # then plain views, no fancy-index copies of (n, n) arrays
            sub = np.s_[:nr, :nr] if everyone else np.ix_(real, real)
            Wr = W[:nr, :nr]
            np.multiply(p.affinity[sub], 1.0 / self.scale, out=Wr)
            forb = p.forbidden[sub]
            met = C[:nr, :nr]
            np.greater(self.M[sub], 0, out=met)
            np.putmask(Wr, met, -self.P_rep)  # a pair that met already gains no new affinity, only a repeat
            np.putmask(Wr, forb, -self.P_forb)
            met |= forb
        if m > nr:
            W[nr:, nr:] = -self.P_ghost
            if self.bye and nr:
                met = self.M[np.ix_(real, idx[nr:])] > 0
                W[:nr, nr:] -= self.P_rep * met
                W[nr:, :nr] -= self.P_rep * met.T
                C[:nr, nr:] = met
                C[nr:, :nr] = met.T
        np.fill_diagonal(W, 0.0)
        np.fill_diagonal(C, False)
        return W, C

    def _add_meetings(self, rd: _Round, tab: np.ndarray, sign: int) -> None:
        order = np.argsort(tab, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(tab, minlength=rd.T))])
        for t in range(rd.T):
            mem = rd.idx[order[bounds[t]:bounds[t + 1]]]
            if len(mem) > 1:
                self.M[np.ix_(mem, mem)] += sign
        self.M[np.arange(len(self.M)), np.arange(len(self.M))] = 0

    def _locked(self, rd: _Round) -> np.ndarray:
        locked = rd.pinned >= 0
        if self.p.teams:
            locked[:rd.n_real] |= self.team_of[rd.idx[:rd.n_real]] >= 0
        return locked

    # ------------------------------------------------------------------------------------- construction
    def _construct(self, rd: _Round, W: np.ndarray) -> np.ndarray:
        p = self.p
        m, T = rd.m, rd.T
        tab = np.full(m, -1, np.int64)
        free = rd.caps.copy()
        S = np.zeros((m, T), dtype=np.float64)
        cnt = np.zeros((T, self.n_roles + 1), np.int64)
        filled = np.zeros(T, np.int64)
        mean_aff = np.zeros(m)
        if rd.n_real > 1:
            a = W[:rd.n_real, :rd.n_real]
            mean_aff[:rd.n_real] = np.clip(a, 0, None).sum(axis=1) / (rd.n_real - 1)
        local = {int(g): i for i, g in enumerate(rd.idx[:rd.n_real])}

        def place(i: int, t: int) -> None:
            tab[i] = t
            free[t] -= 1
            filled[t] += 1
            S[:, t] += W[:, i]
            cnt[t, rd.roles[i]] += 1

        def role_ok(i: int) -> np.ndarray:
            c = rd.roles[i]
            return cnt[:, c] + 1 <= self.rmax[c]

        # 1. fixed seats, with their teams
        for i in np.flatnonzero(rd.pinned >= 0):
            if tab[i] < 0:
                place(int(i), int(rd.pinned[i]))
        for team in p.teams:
            members = [local[g] for g in team if g in local]
            if not members:
                continue
            pinned_at = {int(tab[i]) for i in members if tab[i] >= 0}
            rest = [i for i in members if tab[i] < 0]
            if pinned_at:
                t = pinned_at.pop()
            else:
                room = free >= len(rest)
                if self.n_roles:
                    add = np.bincount(rd.roles[rest] % (self.n_roles + 1), minlength=self.n_roles + 1)
                    fits = ((cnt + add[None, :]) <= self.rmax[None, :]).all(axis=1)
                    if (room & fits).any():
                        room &= fits
                if not room.any():
                    raise _fail("rules.keep_together",
                                f"round {rd.r + 1}: no table has {len(rest)} free seats for the team of "
                                f"{', '.join(p.name(rd.idx[i]) for i in members)}")
                score = S[rest].sum(axis=0) - 1e3 * self.P_rep * ~room + 1e-6 * free
                t = int(np.argmax(score))
            for i in rest:
                place(i, t)
        # 2. people whose role has a per-table minimum, spread over the tables
        order = self.rng.permutation(m)
        for c in np.flatnonzero(self.rmin[:self.n_roles] > 0):
            for i in order:
                if tab[i] >= 0 or rd.roles[i] != c:
                    continue
                need = (cnt[:, c] < self.rmin[c]) & (free > 0)
                if not need.any():
                    break
                t = int(np.argmax(np.where(need, S[i] - mean_aff[i] * filled, -np.inf)))
                place(int(i), t)
        # 3. people whose role has a per-table maximum (scarcest seats first), then everyone else, each where they
        #    like the table best (compared with their average), room and roles allowing
        limited = self.rmax[rd.roles] < (1 << 30)
        if limited.any():
            order = np.concatenate([order[limited[order]], order[~limited[order]]])
        for i in order:
            if tab[i] >= 0:
                continue
            ok = (free > 0) & role_ok(int(i))
            if not ok.any():
                ok = free > 0
            score = S[i] - mean_aff[i] * filled + 1e-9 * free
            t = int(np.argmax(np.where(ok, score, -np.inf)))
            place(int(i), t)
        return tab

    # ------------------------------------------------------------------------------------- local search
    def _improve(self, rd: _Round, W: np.ndarray, C: np.ndarray, tab: np.ndarray, steps: int,
                 tabu_steps: int) -> np.ndarray:
        """Best-swap local search on one round, then tabu search while conflicts remain."""
        m, T = rd.m, rd.T
        if T < 2 or m < 2:
            return tab
        locked = self._locked(rd)
        movable = np.flatnonzero(~locked)
        if len(movable) == 0:
            return tab
        S = np.asfortranarray(_table_sums(W, tab, T))  # columns (tables) are what a swap updates
        K = np.asfortranarray(_table_sums(C, tab, T))
        ar = np.arange(m)
        own = S[ar, tab]  # affinity of each person to their own table
        use_roles = self.n_roles > 0
        roles = rd.roles
        cnt = np.zeros((T, self.n_roles + 1), np.int64)
        np.add.at(cnt, (tab, roles), 1)
        rmin, rmax = self.rmin, self.rmax
        is_ghost = ar >= rd.n_real
        # seats: members[t] lists who sits at table t (-1: unused slot); slot[x] is x's column there
        members = np.full((T, int(rd.caps.max())), -1, np.int64)
        slot = np.zeros(m, np.int64)

        def index_seats() -> None:
            members[:] = -1
            order = np.argsort(tab, kind="stable")
            starts = np.concatenate([[0], np.cumsum(np.bincount(tab, minlength=T))])
            for t in range(T):
                mem = order[starts[t]:starts[t + 1]]
                members[t, :len(mem)] = mem
                slot[mem] = np.arange(len(mem))

        index_seats()
        near = m > NEAR_TABLES_ABOVE  # large rooms: look for partners at one's best-liked tables only
        n_near = min(T - 1, NEAR_TABLES)

        def deltas(i: int) -> np.ndarray:
            a = tab[i]
            d = S[i, tab] - 2.0 * W[i] - own[i] + S[:, a] - own
            bad = (tab == a) | locked
            if is_ghost[i]:
                bad |= is_ghost
            if use_roles:
                ri = roles[i]
                rj = roles
                ok = (rj == ri) | ((cnt[a, rj] + 1 <= rmax[rj]) & (cnt[tab, ri] + 1 <= rmax[ri])
                                   & (cnt[a, ri] - 1 >= rmin[ri]) & (cnt[tab, rj] - 1 >= rmin[rj]))
                bad |= ~ok
            d[bad] = -np.inf
            return d

        def swap(i: int, j: int) -> None:
            a, b = tab[i], tab[j]
            wi, wj = W[i].astype(np.float64), W[j].astype(np.float64)
            S[:, a] += wj - wi
            S[:, b] += wi - wj
            ci, cj = C[i].astype(np.float64), C[j].astype(np.float64)
            K[:, a] += cj - ci
            K[:, b] += ci - cj
            if use_roles:
                cnt[a, roles[i]] -= 1
                cnt[b, roles[i]] += 1
                cnt[b, roles[j]] -= 1
                cnt[a, roles[j]] += 1
            tab[i], tab[j] = b, a
            members[a, slot[i]] = j
            members[b, slot[j]] = i
            slot[i], slot[j] = slot[j], slot[i]
            mem = members[[a, b]].ravel()
            mem = mem[mem >= 0]
            own[mem] = S[mem, tab[mem]]
            self.moves += 1

        def best_partner(i: int) -> tuple[int, float]:
            if not near:
                d = deltas(i)
                j = int(np.argmax(d))
                return j, float(d[j])
            a = tab[i]
            row = S[i].copy()
            row[a] = -np.inf
            tops = np.argpartition(-row, n_near - 1)[:n_near]
            cand = members[tops].ravel()
            cand = cand[cand >= 0]
            cand = cand[~locked[cand]]
            if is_ghost[i]:
                cand = cand[~is_ghost[cand]]
            if use_roles and len(cand):
                ri = roles[i]
                rj = roles[cand]
                tb = tab[cand]
                ok = (rj == ri) | ((cnt[a, rj] + 1 <= rmax[rj]) & (cnt[tb, ri] + 1 <= rmax[ri])
                                   & (cnt[a, ri] - 1 >= rmin[ri]) & (cnt[tb, rj] - 1 >= rmin[rj]))
                cand = cand[ok]
            if len(cand) == 0:
                return i, -np.inf
            d = S[i, tab[cand]] - 2.0 * W[i, cand] - own[i] + S[cand, a] - own[cand]
            k = int(np.argmax(d))
            return int(cand[k]), float(d[k])

        def local_search(budget: int) -> int:
            """Best swap for each person in turn; after the first pass only people at tables that changed in
            the previous pass are looked at again ("don't look bits")."""
            used = 0
            active = movable
            while used < budget and len(active):
                touched = np.zeros(T, bool)
                for i in self.rng.permutation(active):
                    j, gain = best_partner(int(i))
                    used += 1
                    if gain > 1e-9:
                        touched[tab[i]] = touched[tab[j]] = True
                        swap(int(i), j)
                    if used >= budget:
                        break
                active = movable[touched[tab[movable]]]
            return used

        teams_here = []
        if self.p.teams:
            loc = {int(g): i for i, g in enumerate(rd.idx[:rd.n_real])}
            for team in self.p.teams:
                mem = [loc[g] for g in team if g in loc]
                if mem and not (rd.pinned[mem] >= 0).any():
                    teams_here.append(np.asarray(mem, np.int64))

        def broken(*tables_: np.ndarray) -> int:
            """Role bounds broken by these groups of people (role -1, no bound, goes to the last bin)."""
            out = 0
            for mem in tables_:
                c = np.bincount(roles[mem] % (self.n_roles + 1), minlength=self.n_roles + 1)
                out += int(np.clip(c - rmax, 0, None).sum() + np.clip(rmin - c, 0, None).sum())
            return out

        def team_moves() -> bool:
            """Move a whole team to another table, swapping with as many people from there who would rather sit
            at the team's table; the best such move per team, when it pays."""
            moved = False
            for team in teams_here:
                a = tab[team[0]]
                best_gain, best_plan = 1e-9, None
                for b in range(T):
                    if b == a:
                        continue
                    cand = members[b][members[b] >= 0]
                    cand = cand[~locked[cand]]
                    if len(cand) < len(team):
                        continue
                    if math.comb(len(cand), len(team)) <= 64:
                        picks = [np.asarray(c, np.int64) for c in itertools.combinations(cand, len(team))]
                    else:  # those who would most rather sit at the team's table
                        picks = [cand[np.argsort(-(S[cand, a] - own[cand]), kind="stable")[:len(team)]]]
                    old_a = members[a][members[a] >= 0]
                    old_b = members[b][members[b] >= 0]
                    for pick in picks:
                        new_a = np.concatenate([np.setdiff1d(old_a, team), pick])
                        new_b = np.concatenate([np.setdiff1d(old_b, pick), team])
                        gain = 0.5 * float(W[np.ix_(new_a, new_a)].sum() + W[np.ix_(new_b, new_b)].sum()
                                           - W[np.ix_(old_a, old_a)].sum() - W[np.ix_(old_b, old_b)].sum())
                        if use_roles:
                            before, after = broken(old_a, old_b), broken(new_a, new_b)
                            if after > before:
                                continue
                            gain += self.P_forb * (before - after)
                        if gain > best_gain:
                            best_gain, best_plan = gain, pick
                if best_plan is not None:
                    for x, y in zip(team, best_plan, strict=True):
                        swap(int(x), int(y))
                    moved = True
            return moved

        local_search(steps)
        for _ in range(10):
            if not teams_here or not team_moves():
                break
            local_search(steps)
        conflicted = np.flatnonzero((K[ar, tab] > 0.5) & ~locked)
        if len(conflicted) and tabu_steps:
            value = 0.5 * float(S[ar, tab].sum())
            best_value, best_tab = value, tab.copy()
            tabu_until = np.zeros((m, T), np.int64)  # person may not return to a table it left until then
            width = 8 if m <= 200 else 1
            for step in range(tabu_steps):
                conflicted = np.flatnonzero((K[ar, tab] > 0.5) & ~locked)
                if len(conflicted) == 0:
                    break
                self.tabu_used += 1
                pick = self.rng.choice(conflicted, size=min(width, len(conflicted)), replace=False)
                best_move, best_d, best_any, best_any_d = None, -np.inf, None, -np.inf
                for i in pick:
                    i = int(i)
                    d = deltas(i)
                    j = int(np.argmax(d))
                    if d[j] > best_any_d:
                        best_any, best_any_d = (i, j), float(d[j])
                    d[(tabu_until[i, tab] > step) | (tabu_until[:, tab[i]] > step)] = -np.inf
                    j = int(np.argmax(d))
                    if d[j] > best_d:
                        best_move, best_d = (i, j), float(d[j])
                if best_any is not None and value + best_any_d > best_value + 1e-9:
                    best_move, best_d = best_any, best_any_d  # aspiration: a tabu move that beats the best
                if best_move is None or not np.isfinite(best_d):
                    continue
                i, j = best_move
                a, b = tab[i], tab[j]
                value += best_d
                swap(i, j)
                tabu_until[i, a] = step + int(self.rng.integers(3, 10))
                tabu_until[j, b] = step + int(self.rng.integers(3, 10))
                if value > best_value + 1e-9:
                    best_value, best_tab = value, tab.copy()
            if value < best_value - 1e-9:
                tab[:] = best_tab
                S = np.asfortranarray(_table_sums(W, tab, T))
                K = np.asfortranarray(_table_sums(C, tab, T))
                own = S[ar, tab]
                cnt[:] = 0
                np.add.at(cnt, (tab, roles), 1)
                index_seats()
            local_search(steps)
        self.conflicts[rd.r] = int((K[ar, tab] > 0.5).sum())
        return tab

    # ------------------------------------------------------------------------- global conflict search
    def _global_tabu(self, budget: int) -> None:
        """Tabu search over all rounds at once on conflicts only (repeats, forbidden pairs): the social-golfer
        local search of Dotú and Van Hentenryck. Moves swap two people of one round; the best non-tabu swap
        of a conflicted person over every round is taken, worsening or not; the best state seen is kept."""
        rounds = [rd for rd in self.rounds if rd.m > 1 and rd.T > 1]
        if not rounds:
            return
        N = len(self.M)
        forb = np.zeros((N, N), np.float64)
        n = self.p.n
        forb[:n, :n] = self.p.forbidden * 1000.0
        real = np.zeros(N, bool)
        real[:n] = True
        counted = np.outer(real, real)
        if self.bye:
            counted = np.outer(np.ones(N, bool), np.ones(N, bool)) & ~np.outer(~real, ~real)
        tabs = {rd.r: self._tabs[rd.r] for rd in rounds}
        locked = {rd.r: self._locked(rd) for rd in rounds}
        cnts = {}
        for rd in rounds:
            c = np.zeros((rd.T, self.n_roles + 1), np.int64)
            np.add.at(c, (tabs[rd.r], rd.roles), 1)
            cnts[rd.r] = c
        tabu = {rd.r: np.zeros((rd.m, rd.T), np.int64) for rd in rounds}

        def cost() -> float:
            Mf = self.M.astype(np.float64)
            rep = np.clip(Mf - 1, 0, None) * counted
            return float(np.triu(rep + forb * Mf, 1).sum())

        current = cost()
        best, best_tabs, best_step = current, {r: t.copy() for r, t in tabs.items()}, 0
        patience = max(500, 20 * len(self.M))
        for step in range(budget):
            if current < 0.5 or step - best_step > patience:
                break
            Mf = self.M.astype(np.float64)
            E = (Mf >= 1) * counted + forb
            D = (Mf >= 2) * counted + forb
            move, move_d, asp, asp_d = None, np.inf, None, np.inf
            for rd in rounds:
                tab = tabs[rd.r]
                idx = rd.idx
                onehot = np.zeros((rd.m, rd.T))
                onehot[np.arange(rd.m), tab] = 1.0
                El = E[np.ix_(idx, idx)]
                Dl = D[np.ix_(idx, idx)]
                JE = El @ onehot
                LD = Dl @ onehot
                ar = np.arange(rd.m)
                own = LD[ar, tab]
                conf = np.flatnonzero((own > 0.5) & ~locked[rd.r])
                if len(conf) == 0:
                    continue
                a = tab[conf]
                # delta[c, j]: conflicted person conf[c] swaps with j
                d = (-own[conf][:, None] + JE[conf][:, tab] - El[conf]
                     - own[None, :] + JE[:, a].T - El[:, conf].T)
                bad = (tab[None, :] == a[:, None]) | locked[rd.r][None, :]
                ghost = ar >= rd.n_real
                bad |= ghost[conf][:, None] & ghost[None, :]
                if self.n_roles:
                    c = cnts[rd.r]
                    ri = rd.roles[conf][:, None]
                    rj = rd.roles[None, :]
                    tb = tab[None, :]
                    aa = a[:, None]
                    ok = (rj == ri) | ((c[aa, rj] + 1 <= self.rmax[rj]) & (c[tb, ri] + 1 <= self.rmax[ri])
                                       & (c[aa, ri] - 1 >= self.rmin[ri]) & (c[tb, rj] - 1 >= self.rmin[rj]))
                    bad |= ~ok
                d = d + self.rng.random(d.shape) * 1e-3  # random tie-break
                d[bad] = np.inf
                x = np.unravel_index(int(np.argmin(d)), d.shape)
                if d[x] < asp_d:
                    asp, asp_d = (rd, int(conf[x[0]]), int(x[1])), float(d[x])
                tb = tabu[rd.r]
                d[(tb[conf][:, tab] > step) | (tb[:, a].T > step)] = np.inf
                x = np.unravel_index(int(np.argmin(d)), d.shape)
                if d[x] < move_d:
                    move, move_d = (rd, int(conf[x[0]]), int(x[1])), float(d[x])
            if asp is not None and current + asp_d < best - 0.5:
                move, move_d = asp, asp_d
            if move is None or not np.isfinite(move_d):
                break  # nobody who may move is in a conflict: what is left is forced by the rules
            rd, i, j = move
            tab = tabs[rd.r]
            a, b = tab[i], tab[j]
            gi, gj = rd.idx[i], rd.idx[j]
            mem_a = rd.idx[(tab == a) & (np.arange(rd.m) != i)]
            mem_b = rd.idx[(tab == b) & (np.arange(rd.m) != j)]
            self.M[gi, mem_a] -= 1
            self.M[mem_a, gi] -= 1
            self.M[gj, mem_b] -= 1
            self.M[mem_b, gj] -= 1
            self.M[gi, mem_b] += 1
            self.M[mem_b, gi] += 1
            self.M[gj, mem_a] += 1
            self.M[mem_a, gj] += 1
            c = cnts[rd.r]
            c[a, rd.roles[i]] -= 1
            c[b, rd.roles[i]] += 1
            c[b, rd.roles[j]] -= 1
            c[a, rd.roles[j]] += 1
            tab[i], tab[j] = b, a
            self.moves += 1
            self.tabu_used += 1
            tabu[rd.r][i, a] = step + int(self.rng.integers(3, 10))
            tabu[rd.r][j, b] = step + int(self.rng.integers(3, 10))
            current = cost()
            if current < best - 0.5:
                best, best_tabs, best_step = current, {r: t.copy() for r, t in tabs.items()}, step
                self.tabu_steps_to_best = self.tabu_used
        if current > best + 0.5:
            for rd in rounds:
                self._add_meetings(rd, tabs[rd.r], -1)
            for rd in rounds:
                tabs[rd.r][:] = best_tabs[rd.r]
                self._add_meetings(rd, tabs[rd.r], +1)
        for rd in rounds:
            self._tabs[rd.r] = tabs[rd.r]

    # ------------------------------------------------------------------------------------------- driver
    def _store(self, rd: _Round, tab: np.ndarray) -> None:
        self.table[rd.r] = ABSENT
        real = rd.idx[:rd.n_real]
        self.table[rd.r, real] = tab[:rd.n_real]
        if self.bye and rd.m > rd.n_real:
            ghost_tab = tab[rd.n_real:]
            self.table[rd.r, real[np.isin(tab[:rd.n_real], ghost_tab)]] = BYE

    def solve(self) -> Seating:
        p = self.p
        R = p.rounds
        n = max(p.n, 1)
        steps_pass = max(1, int(self.effort * 60 * n))
        tabu_total = tabu_budget(n, self.effort) if self.tabu_budget is None else self.tabu_budget
        visit = max(200, min(30 * n, 20_000))  # tabu moves per visit of a round, while conflicts remain
        # re-visits of every round, against the others' meetings; they matter only after conflicts were
        # resolved (a round at a local optimum stays one when other rounds only forbid more pairs)
        polish = max(2, int(2 * self.effort)) if R > 1 else 0
        max_sweeps = polish + (1000 if R > 1 else 0)
        self.tabu_used = 0
        self.conflicts = [0] * R
        total = R + polish * R
        done = 0
        self._tabs: list[np.ndarray] = [np.zeros(0, np.int64)] * R
        for rd in self.rounds:
            W, C = self._weights(rd)
            if rd.m and self.noise > 0:  # restarts start from different basins
                noisy = self.rng.random((rd.m, rd.m)).astype(np.float32) * self.noise
                tab = self._construct(rd, W + (noisy + noisy.T) / 2)
            else:
                tab = self._construct(rd, W) if rd.m else np.zeros(0, np.int64)
            if rd.m:
                tab = self._improve(rd, W, C, tab, steps_pass, min(visit, tabu_total - self.tabu_used))
                self._add_meetings(rd, tab, +1)
            self._tabs[rd.r] = tab
            done += 1
            if self.progress:
                self.progress(done, total)
        sweep = 0
        global_done = False
        if R > 1 and sum(self.conflicts) and n <= GLOBAL_TABU_MAX:
            self._global_tabu(tabu_total - self.tabu_used)
            global_done = True
        last = None
        while sweep < max_sweeps:
            left = sum(self.conflicts)
            if (sweep >= polish or left == 0) and (left == 0 or self.tabu_used >= tabu_total or global_done
                                    or (last is not None and left >= last)):
                break
            last = left if sweep >= polish else None
            for rd in self.rounds:
                if rd.m:
                    tab = self._tabs[rd.r]
                    self._add_meetings(rd, tab, -1)
                    W, C = self._weights(rd)
                    budget = 0 if global_done else max(0, min(visit, tabu_total - self.tabu_used))
                    tab = self._improve(rd, W, C, tab.copy(), steps_pass, budget)
                    self._tabs[rd.r] = tab
                    self._add_meetings(rd, tab, +1)
                if sweep < polish:
                    done += 1
                    if self.progress:
                        self.progress(done, total)
            sweep += 1
        for rd in self.rounds:
            if rd.m:
                self._store(rd, self._tabs[rd.r])
        if self.progress:
            self.progress(total, total)
        return Seating(self.table, [list(map(int, rd.caps)) for rd in self.rounds], self.moves)


def tabu_budget(n: int, effort: float = 1.0) -> int:
    """Tabu moves allowed while repeats or conflicts remain (shared by the restarts of one plan)."""
    return min(300_000, int(effort * min(150_000, 5_000 + 100 * n)))


def solve_seating(prob: SeatingProblem, seed: int = 0, effort: float = 1.0, progress: Progress | None = None,
                  restarts: int | None = None) -> Seating:
    """Seat everyone, every round: the best of a few seeded runs (fewest violations, then repeats, then most
    affinity). Raises :class:`models.InfeasibleRules` when a rule fails on its face (see :func:`check_rules`).

    >>> import numpy as np
    >>> s = solve_seating(SeatingProblem(np.zeros((9, 9)), rounds=4, table_size=3))
    >>> count_repeats(s, SeatingProblem(np.zeros((9, 9)), rounds=4, table_size=3))[0]
    0
    """
    check_rules(prob)
    n = max(prob.n, 1)
    if restarts is None:
        restarts = int(np.clip(round(effort * 240 / n), 1, 12))
    best, best_key = None, None
    budget = tabu_budget(n, effort)
    for k in range(restarts):
        ss = np.random.SeedSequence([seed, k])
        sub_seed = int(ss.generate_state(1)[0])
        solver = _Solver(prob, sub_seed, effort, progress if k == 0 else None, tabu_budget=budget,
                         noise=0.0 if k == 0 else 2.0 * k / restarts)
        s = solver.solve()
        budget = max(0, budget - solver.tabu_used)
        viol = len(find_violations(s, prob))
        rep, _forced, _ = count_repeats(s, prob)
        key = (viol, rep, -plan_affinity(s, prob))
        if best_key is None or key < best_key:
            best, best_key = s, key
        if viol == 0 and rep == 0 and _flat(prob):
            break
    assert best is not None
    return best


def _flat(prob: SeatingProblem) -> bool:
    return float(np.ptp(prob.affinity)) == 0.0 if prob.n else True


# -------------------------------------------------------------------------------------------- rule checks
def check_rules(prob: SeatingProblem) -> None:
    """Raise :class:`models.InfeasibleRules` when the rules contradict each other or the room on their face:
    a team holding a pair that must sit apart, a team larger than any table, two people pinned to one table who
    must sit apart, more pinned people than seats, more people of a role than the tables' maximum allows, fewer
    than their minimum needs, more mutually-apart people (a company, a keep-apart group) than tables."""
    p = prob
    for t, team in enumerate(p.teams):
        for x in range(len(team)):
            for y in range(x + 1, len(team)):
                i, j = team[x], team[y]
                if p.forbidden[i, j]:
                    raise _fail(f"rules.keep_together[{t}]",
                                f"{p.name(i)} and {p.name(j)} must sit together, but {p.apart_reason(i, j)}")
    for t, team in enumerate(p.teams):
        for c, role in enumerate(p.role_names):
            have = int((p.roles[team] == c).sum())
            if p.role_max[c] is not None and have > p.role_max[c]:
                raise _fail(f"rules.keep_together[{t}]",
                            f"the team of {', '.join(p.name(i) for i in team)} holds {have} attendees with role "
                            f"{role!r}, but rules.role_mix allows at most {p.role_max[c]} per table")
    for r in range(p.rounds):
        present = np.flatnonzero(p.present[r])
        caps, _ = table_capacities(len(present), p.table_size, p.capacities, p.odd)
        if p.capacities is not None and len(present) > sum(caps):
            raise _fail("capacities", f"round {r + 1}: {len(present)} attendees but only {sum(caps)} seats "
                                      f"({len(caps)} tables); add tables or capacity")
        T = len(caps)
        if T == 0:
            continue
        pins = p.pinned[r]
        for i in np.flatnonzero(pins >= 0):
            if not p.present[r, i]:
                raise _fail("rules.fixed_seats", f"{p.name(i)} is pinned to table {pins[i] + 1} in round {r + 1} "
                                                 f"but does not attend that round (rules.attendance)")
            if pins[i] >= T:
                raise _fail("rules.fixed_seats", f"{p.name(i)} is pinned to table {pins[i] + 1} in round {r + 1}, "
                                                 f"but that round has {T} tables")
        load = np.zeros(T, np.int64)
        for t_idx, team in enumerate(p.teams):
            members = [i for i in team if p.present[r, i]]
            if not members:
                continue
            if len(members) > max(caps):
                raise _fail(f"rules.keep_together[{t_idx}]",
                            f"round {r + 1}: a team of {len(members)} does not fit at a table of {max(caps)}")
            at = {int(pins[i]) for i in members if pins[i] >= 0}
            if len(at) > 1:
                raise _fail(f"rules.keep_together[{t_idx}]",
                            f"round {r + 1}: team members are pinned to different tables "
                            f"({', '.join(str(t + 1) for t in sorted(at))})")
            if at:
                load[at.pop()] += len(members)
        in_team = np.zeros(p.n, bool)
        for team in p.teams:
            in_team[team] = True
        pinned_now = np.flatnonzero((pins >= 0) & ~in_team & p.present[r])
        np.add.at(load, pins[pinned_now], 1)
        over = np.flatnonzero(load > np.asarray(caps))
        if len(over):
            t = int(over[0])
            raise _fail("rules.fixed_seats", f"round {r + 1}: {load[t]} people are pinned to table {t + 1}, which "
                                             f"seats {caps[t]}")
        pinned_all = np.flatnonzero(pins >= 0)
        for x in range(len(pinned_all)):
            i = pinned_all[x]
            same = pinned_all[x + 1:][pins[pinned_all[x + 1:]] == pins[i]]
            for j in same:
                if p.forbidden[i, j]:
                    raise _fail("rules.fixed_seats",
                                f"{p.name(i)} and {p.name(j)} are both pinned to table {pins[i] + 1} in round "
                                f"{r + 1}, but {p.apart_reason(i, j)}")
        roles = p.roles[present]
        for c, role in enumerate(p.role_names):
            have = int((roles == c).sum())
            mx, mn = p.role_max[c], p.role_min[c]
            if mx is not None and have > mx * T:
                raise _fail("rules.role_mix", f"round {r + 1}: {have} attendees with role {role!r} but at most "
                                              f"{mx} per table x {T} tables = {mx * T} seats for them")
            if mn and have < mn * T:
                raise _fail("rules.role_mix", f"round {r + 1}: at least {mn} {role!r} per table needs {mn * T} "
                                              f"for {T} tables, but only {have} attend")
        need = sum(int(x) for x in p.role_min)
        if need > min(caps):
            raise _fail("rules.role_mix", f"round {r + 1}: role minimums need {need} seats per table but the "
                                          f"smallest table seats {min(caps)}")
        # more mutually-apart people than tables: only the obvious cliques (dense groups) are checked here
        sub = p.forbidden[np.ix_(present, present)]
        deg = sub.sum(axis=1)
        if deg.size and deg.max() + 1 > T:
            i = int(np.argmax(deg))
            clique = [i] + [int(j) for j in np.flatnonzero(sub[i])]
            if sub[np.ix_(clique, clique)].sum() == len(clique) * (len(clique) - 1):
                who = present[clique]
                raise _fail("rules", f"round {r + 1}: {len(clique)} attendees must all sit apart "
                                     f"({p.apart_reason(int(who[0]), int(who[1]))}: "
                                     f"{', '.join(p.name(w) for w in who[:6])}{'...' if len(who) > 6 else ''}) "
                                     f"but there are only {T} tables")


def find_violations(s: Seating, prob: SeatingProblem) -> list[str]:
    """Every broken rule of a seating, in words (an empty list for a valid plan)."""
    p = prob
    out: list[str] = []
    for r in range(p.rounds):
        tab = s.table[r]
        for i in np.flatnonzero(p.present[r] & (tab == ABSENT)):
            out.append(f"round {r + 1}: {p.name(i)} attends but has no seat")
        for i in np.flatnonzero(~p.present[r] & (tab != ABSENT)):
            out.append(f"round {r + 1}: {p.name(i)} is seated but does not attend")
        seated = np.flatnonzero(tab >= 0)
        for t in range(len(s.capacities[r])):
            mem = seated[tab[seated] == t]
            if len(mem) > s.capacities[r][t]:
                out.append(f"round {r + 1}: table {t + 1} seats {s.capacities[r][t]} but has {len(mem)}")
            sub = p.forbidden[np.ix_(mem, mem)]
            for x, y in zip(*np.nonzero(np.triu(sub)), strict=True):
                i, j = mem[x], mem[y]
                out.append(f"round {r + 1}, table {t + 1}: {p.name(i)} and {p.name(j)} sit together but "
                           f"{p.apart_reason(i, j)}")
            roles = p.roles[mem]
            for c, role in enumerate(p.role_names):
                have = int((roles == c).sum())
                if p.role_max[c] is not None and have > p.role_max[c]:
                    out.append(f"round {r + 1}, table {t + 1}: {have} {role!r} (at most {p.role_max[c]})")
                if have < p.role_min[c]:
                    out.append(f"round {r + 1}, table {t + 1}: {have} {role!r} (at least {p.role_min[c]})")
        for i in np.flatnonzero(p.pinned[r] >= 0):
            if tab[i] != p.pinned[r, i]:
                out.append(f"round {r + 1}: {p.name(i)} is pinned to table {p.pinned[r, i] + 1}")
        for team in p.teams:
            ts = {int(tab[i]) for i in team if p.present[r, i]}
            if len(ts) > 1:
                out.append(f"round {r + 1}: the team of {', '.join(p.name(i) for i in team)} is split")
    return out


def _pairs_by_round(s: Seating) -> dict[tuple[int, int], list[int]]:
    met: dict[tuple[int, int], list[int]] = {}
    for r in range(s.table.shape[0]):
        tab = s.table[r]
        seated = np.flatnonzero(tab >= 0)
        order = seated[np.argsort(tab[seated], kind="stable")]
        ts = tab[order]
        cuts = np.flatnonzero(np.diff(ts)) + 1
        for mem in np.split(order, cuts):
            for x in range(len(mem)):
                for y in range(x + 1, len(mem)):
                    met.setdefault((int(mem[x]), int(mem[y])), []).append(r)
    return met


def count_repeats(s: Seating, prob: SeatingProblem) -> tuple[int, int, list[tuple[int, int, list[int], bool]]]:
    """(avoidable repeats, forced repeats, the repeated pairs with their rounds and whether forced).

    A repeat is one extra meeting of a pair that already shared a table. Forced: the rules seat the pair together
    in those rounds anyway (same team, or both pinned to the same table)."""
    team_id = np.full(prob.n, -1, np.int64)
    for t, team in enumerate(prob.teams):
        team_id[team] = t
    avoid = forced = 0
    pairs = []
    for (i, j), rounds in _pairs_by_round(s).items():
        if len(rounds) < 2:
            continue
        locked_rounds = [r for r in rounds if (team_id[i] >= 0 and team_id[i] == team_id[j])
                         or (prob.pinned[r, i] >= 0 and prob.pinned[r, i] == prob.pinned[r, j])]
        f = max(0, len(locked_rounds) - 1)
        forced += f
        avoid += len(rounds) - 1 - f
        pairs.append((i, j, rounds, f == len(rounds) - 1))
    pairs.sort(key=lambda x: (x[3], -len(x[2]), x[0], x[1]))
    return avoid, forced, pairs


def plan_affinity(s: Seating, prob: SeatingProblem) -> float:
    """Total affinity of the distinct pairs that share a table at least once."""
    met = _pairs_by_round(s)
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


# --------------------------------------------------------------------------------------- ids and rules in
def plan_tables(ids: Sequence[str], affinity: np.ndarray, request: TablePlanRequest, *,
                forbidden: np.ndarray | None = None, same_company: np.ndarray | None = None,
                blocked: np.ndarray | None = None, role_forbidden: np.ndarray | None = None,
                roles: Sequence[str] | None = None, companies: Sequence[str] | None = None,
                allow_same_company: bool = False, event_id: str = "event",
                progress: Progress | None = None) -> TablePlan:
    """Plan tables for people ``ids`` with pairwise ``affinity`` (symmetric, ``(n, n)``), following ``request``.

    ``same_company``/``blocked``/``role_forbidden`` are ``(n, n)`` bool masks (as in
    :class:`matcher.PairScores`); same-company pairs sit apart unless ``request.rules.allow_same_company`` or
    ``allow_same_company`` (the event policy) says otherwise; role-forbidden pairs only with
    ``rules.respect_role_rules``. Raises :class:`models.InvalidInput` for unknown ids in the rules and
    :class:`models.InfeasibleRules` for rules that cannot all hold.

    >>> import numpy as np
    >>> from models import TablePlanRequest
    >>> req = TablePlanRequest(rounds=1, table_size=2, rules={"keep_apart": [["a", "b"]]})
    >>> aff = np.ones((4, 4), np.float32)
    >>> [sorted(t.seats) for t in plan_tables("abcd", aff, req).rounds[0].tables if "a" in t.seats]
    [['a', 'c']]
    """
    t0 = time.perf_counter()
    ids = list(ids)
    n = len(ids)
    pos = {x: i for i, x in enumerate(ids)}
    rules = request.rules
    R = request.rounds
    errors: list[dict[str, str]] = []

    def lookup(x: str, where: str) -> int | None:
        i = pos.get(x)
        if i is None:
            errors.append({"field": where, "message": f"unknown attendee id {x!r} (not among the {n} attendees "
                                                      f"being seated)"})
        return i

    forb = np.zeros((n, n), bool) if forbidden is None else np.asarray(forbidden, bool).copy()
    reasons: dict[tuple[int, int], str] = {}
    allow_company = allow_same_company if rules.allow_same_company is None else rules.allow_same_company
    if blocked is not None:
        forb |= np.asarray(blocked, bool)
    if role_forbidden is not None and rules.respect_role_rules:
        forb |= np.asarray(role_forbidden, bool)
    for g, group in enumerate(rules.keep_apart):
        members = [lookup(x, f"rules.keep_apart[{g}][{k}]") for k, x in enumerate(group)]
        members = [i for i in members if i is not None]
        for x in members:
            for y in members:
                if x != y:
                    forb[x, y] = True
                    reasons.setdefault((min(x, y), max(x, y)), f"rules.keep_apart[{g}] keeps them apart")
    np.fill_diagonal(forb, False)

    def why(i: int, j: int) -> str:
        key = (min(i, j), max(i, j))
        if key in reasons:
            return reasons[key]
        if blocked is not None and blocked[i, j]:
            return "one of them blocked the other"
        if same_company is not None and not allow_company and same_company[i, j]:
            company = f" {companies[i]!r}" if companies is not None else ""
            return (f"they work at the same company{company} and same-company attendees sit apart "
                    f"(set rules.allow_same_company or the event policy to seat them together)")
        if role_forbidden is not None and rules.respect_role_rules and role_forbidden[i, j]:
            return "the event's role rules keep their roles apart (rules.respect_role_rules)"
        return "the rules keep them apart"

    # teams (overlapping groups merge)
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    team_rule: dict[int, int] = {}
    for g, group in enumerate(rules.keep_together):
        members = [lookup(x, f"rules.keep_together[{g}][{k}]") for k, x in enumerate(group)]
        members = [i for i in members if i is not None]
        for x in members[1:]:
            parent[root(x)] = root(members[0])
        for x in members:
            team_rule.setdefault(x, g)
    groups: dict[int, list[int]] = {}
    for x in team_rule:
        groups.setdefault(root(x), []).append(x)
    teams = [sorted(v) for v in groups.values() if len(v) > 1]
    attends = {pos[aid]: set(r) for aid, r in rules.attendance.items() if aid in pos}
    unit = {i: t for t, team in enumerate(teams) for i in team}
    present_count = [n - sum(1 for rs in attends.values() if r not in rs) for r in range(1, R + 1)]
    n_tables = [len(table_capacities(c, request.table_size, request.capacities, request.odd)[0])
                for c in present_count]
    if same_company is not None and not allow_company:
        # colleagues sit apart, except colleagues an explicit keep_together rule puts in one team
        company = np.asarray(same_company, bool).copy()
        for team in teams:
            company[np.ix_(team, team)] = False
        forb |= company
        np.fill_diagonal(forb, False)
        label = np.full(n, -1, np.int64)
        for i in range(n):
            if label[i] < 0 and company[i].any():
                staff = np.flatnonzero(company[i])
                label[staff] = i
                label[i] = i
                name = f"{companies[i]!r}" if companies is not None and companies[i] else "one company"
                _check_group_fits([i, *staff.tolist()],
                                  f"{len(staff) + 1} attendees work at {name} and same-company attendees sit "
                                  f"apart (set rules.allow_same_company or the event policy to seat them "
                                  f"together)", "rules.allow_same_company", attends, n_tables, unit)
    for g, group in enumerate(rules.keep_apart):
        members = [pos[x] for x in group if x in pos]
        _check_group_fits(members, f"rules.keep_apart[{g}] keeps {len(members)} attendees apart",
                          f"rules.keep_apart[{g}]", attends, n_tables, unit)

    present = np.ones((R, n), bool)
    for aid, rounds in rules.attendance.items():
        i = lookup(aid, f"rules.attendance.{aid}")
        late = [r for r in rounds if r > R]
        if late:
            errors.append({"field": f"rules.attendance.{aid}",
                           "message": f"round {late[0]} but the plan has {R} rounds"})
            continue
        if i is not None:
            present[:, i] = False
            present[np.asarray(rounds) - 1, i] = True
    pinned = np.full((R, n), -1, np.int64)
    for s_idx, seat in enumerate(rules.fixed_seats):
        i = lookup(seat.id, f"rules.fixed_seats[{s_idx}].id")
        rounds = seat.rounds or list(range(1, R + 1))
        late = [r for r in rounds if r > R]
        if late:
            errors.append({"field": f"rules.fixed_seats[{s_idx}].rounds",
                           "message": f"round {late[0]} but the plan has {R} rounds"})
            continue
        if i is None:
            continue
        for r in rounds:
            prev = pinned[r - 1, i]
            if prev >= 0 and prev != seat.table - 1:
                errors.append({"field": f"rules.fixed_seats[{s_idx}]",
                               "message": f"{seat.id!r} is already pinned to table {prev + 1} in round {r}"})
            pinned[r - 1, i] = seat.table - 1
    role_names = [rm.role.strip().lower() for rm in rules.role_mix]
    role_code = np.full(n, -1, np.int64)
    if role_names:
        by_name = {name: c for c, name in enumerate(role_names)}
        for i, role in enumerate(roles or [""] * n):
            role_code[i] = by_name.get((role or "").strip().lower(), -1)
    if errors:
        raise InvalidInput(errors)

    prob = SeatingProblem(
        affinity=np.asarray(affinity, np.float32), rounds=R, table_size=request.table_size,
        capacities=request.capacities, odd=request.odd, forbidden=forb, present=present, pinned=pinned,
        teams=teams, roles=role_code, role_min=[rm.min for rm in rules.role_mix],
        role_max=[rm.max for rm in rules.role_mix], role_names=role_names, names=ids, why_apart=why)
    seating = solve_seating(prob, seed=request.seed, effort=request.effort, progress=progress)
    violations = find_violations(seating, prob)
    if violations:
        more = f" (and {len(violations) - 3} more)" if len(violations) > 3 else ""
        raise InfeasibleRules([{"field": "rules", "message": "no plan found that honours every rule: "
                                                             + "; ".join(violations[:3]) + more
                                                             + ". Loosen the rules or add tables."}])
    return _to_plan(seating, prob, ids, event_id, request.seed, time.perf_counter() - t0)


def _check_group_fits(members: list[int], what: str, field_: str, attends: dict[int, set[int]],
                      tables: list[int], unit: dict[int, int]) -> None:
    """People who must all sit apart need a table each, in every round they attend."""
    if len(members) < 2:
        return
    for r, n_tables in enumerate(tables, 1):
        here = {unit.get(i, -1 - i) for i in members if r in attends.get(i, {r})}  # a team needs one table
        if len(here) > n_tables:
            raise _fail(field_, f"round {r}: {what}, but there are only {n_tables} tables")


def _to_plan(s: Seating, prob: SeatingProblem, ids: list[str], event_id: str, seed: int,
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
                      for i, j, rs, f in pairs[:_MAX_LISTED_REPEATS]],
        violations=0, affinity=round(achieved, 6), upper_bound=round(bound, 6),
        ratio=round(achieved / bound, 6) if bound > 0 else 1.0,
        random_ratio=round(rand / bound, 6) if bound > 0 else 1.0, seconds=round(seconds, 3), seed=seed)
    return TablePlan(event=event_id, rounds=rounds, report=report)


def plan_event(matcher, request: TablePlanRequest, progress: Progress | None = None) -> TablePlan:
    """Plan tables for an event's attendees (or ``request.attendees``), affinity from the matcher's reciprocal
    pair scores; same company, blocked pairs and (optionally) role rules come from the event.

    >>> from matcher import HashingEncoder, Matcher
    >>> from models import Attendee, TablePlanRequest
    >>> m = Matcher(encoder=HashingEncoder(dim=16))
    >>> m.upsert([Attendee(id=x, goals=["coffee"]) for x in "abcd"])
    >>> plan = plan_event(m, TablePlanRequest(rounds=2, table_size=2))
    >>> plan.report.repeats, len(plan.rounds[1].tables)
    (0, 2)
    """
    if request.attendees is not None:
        errors = [{"field": f"attendees[{k}]", "message": f"unknown attendee id {x!r}"}
                  for k, x in enumerate(request.attendees) if x not in matcher]
        dup = [x for k, x in enumerate(request.attendees) if x in request.attendees[:k]]
        errors += [{"field": "attendees", "message": f"duplicate id {x!r}"} for x in dup[:1]]
        if errors:
            raise InvalidInput(errors)
        ids = list(request.attendees)
    else:
        ids = matcher.ids()
    if not ids:
        raise InvalidInput([{"field": "attendees", "message": "the event has no attendees to seat"}])
    ps = matcher.pair_scores(ids)
    people = [matcher.get(i) for i in ids]
    return plan_tables(ids, ps.scores, request, same_company=ps.same_company, blocked=ps.blocked,
                       role_forbidden=ps.role_forbidden, roles=[a.role for a in people],
                       companies=[a.company for a in people],
                       allow_same_company=matcher.event.policy.allow_same_company, event_id=matcher.event.id,
                       progress=progress)
