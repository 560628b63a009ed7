"""The search: every round built greedily, improved by best swaps (:class:`_RoundSearch`), then a tabu search over
all rounds while repeats or rule conflicts remain (:meth:`_Solver._global_tabu`); :func:`solve_seating` keeps the
best of a few seeded restarts."""

from __future__ import annotations

import itertools
import math

import numpy as np

from matcher.tables.checks import check_rules, count_repeats, find_violations, repeats_lower_bound
from matcher.tables.designs import cyclic_design, design, max_design_rounds, meetings
from matcher.tables.golfers import conflict_search, relabel
from matcher.tables.problem import (
    ABSENT,
    BYE,
    Progress,
    Seating,
    SeatingProblem,
    infeasible,
    table_capacities,
)
from matcher.tables.report import plan_affinity

#: Above this many people in a round, the local search looks for a swap partner only at the NEAR_TABLES tables a
#: person likes best (and the partner's side is covered when the partner's own turn comes).
NEAR_TABLES_ABOVE = 10_000
NEAR_TABLES = 12
#: Up to this many people, leftover conflicts go to a tabu search over all rounds at once.
GLOBAL_TABU_MAX = 300
#: Up to this many seats a round, repeats left after the search go to the social-golfer search
#: (:mod:`matcher.tables.golfers`), started from a repeat-free design (:mod:`matcher.tables.designs`) where one fits.
GOLFER_MAX = 300
#: Steps of the golfer search at effort 1 (fewer for large rooms: one step costs about seats x rounds x table size
#: once the move tables are kept), spent in independent runs whose lengths follow the Luby sequence in units of
#: GOLFER_RUN_STEPS (1, 1, 2, 1, 1, 2, 4, ...: within a constant factor of the best fixed restart length when run
#: times are heavy-tailed and their scale unknown; Luby, Sinclair and Zuckerman 1993).
GOLFER_STEPS = 2_000_000
GOLFER_WORK = 4_000_000_000
GOLFER_RUN_STEPS = 30_000
#: Up to this many people, plans with more rounds than any construction try a cyclic design first
#: (:func:`matcher.tables.designs.cyclic_design`), with this much CP-SAT deterministic work at effort 1 (7x4x9 takes
#: 0.4 s, 9x4x10 1.4 s; where none is found, 8x4x10 and 6x3x8, the work spent is 6.1 s and 4.7 s, measured).
CYCLIC_MAX = 64
CYCLIC_WORK = 10.0
#: Noise on the weights of the rounds beyond a design, rebuilt for each run of the golfer search.
GOLFER_NOISE = 0.5


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


class _Round:
    """One round's local view: participants (real people then empty seats) and their table arrays."""

    def __init__(self, r: int, prob: SeatingProblem, ghost_base: int):
        self.r = r
        real = np.flatnonzero(prob.present[r])
        caps, ghosts = table_capacities(len(real), prob.table_size, prob.capacities, prob.odd)
        if prob.capacities is not None and len(real) > sum(caps):
            raise infeasible("capacities", f"round {r + 1}: {len(real)} attendees but only {sum(caps)} seats "
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


class _RoundSearch:
    """Local search on one round: best swaps, whole-team moves, then a tabu search while conflicts remain.

    The state is the round's seating ``tab`` and what a swap keeps up to date: ``S[i, t]`` (person ``i``'s
    affinity to table ``t``), ``K[i, t]`` (their conflicts there), ``own[i] = S[i, tab[i]]``, role counts per
    table and the seat index (``members[t]``: who sits at table ``t``, -1 for an unused slot; ``slot[x]``: x's
    column there). Moves and tabu steps are counted on the solver (its rng too, so a seed gives one plan).
    """

    def __init__(self, solver: _Solver, rd: _Round, W: np.ndarray, C: np.ndarray, tab: np.ndarray):
        self.solver = solver
        self.rd = rd
        self.W, self.C, self.tab = W, C, tab
        m, T = rd.m, rd.T
        self.m, self.T = m, T
        self.locked = solver._locked(rd)
        self.movable = np.flatnonzero(~self.locked)
        self.ar = np.arange(m)
        self.use_roles = solver.n_roles > 0
        self.roles = rd.roles
        self.rmin, self.rmax = solver.rmin, solver.rmax
        self.is_ghost = self.ar >= rd.n_real
        self.cnt = np.zeros((T, solver.n_roles + 1), np.int64)
        self.members = np.full((T, int(rd.caps.max())), -1, np.int64)
        self.slot = np.zeros(m, np.int64)
        self.near = m > NEAR_TABLES_ABOVE  # large rooms: look for partners at one's best-liked tables only
        self.n_near = min(T - 1, NEAR_TABLES)
        self.teams_here: list[np.ndarray] = []
        if solver.p.teams:
            loc = {int(g): i for i, g in enumerate(rd.idx[:rd.n_real])}
            for team in solver.p.teams:
                mem = [loc[g] for g in team if g in loc]
                if mem and not (rd.pinned[mem] >= 0).any():
                    self.teams_here.append(np.asarray(mem, np.int64))

    def recount(self) -> None:
        """Table sums, role counts and the seat index from ``tab``."""
        tab, T = self.tab, self.T
        self.S = np.asfortranarray(_table_sums(self.W, tab, T))  # columns (tables) are what a swap updates
        self.K = np.asfortranarray(_table_sums(self.C, tab, T))
        self.own = self.S[self.ar, tab]  # affinity of each person to their own table
        self.cnt[:] = 0
        np.add.at(self.cnt, (tab, self.roles), 1)
        self.index_seats()

    def index_seats(self) -> None:
        tab, T = self.tab, self.T
        self.members[:] = -1
        order = np.argsort(tab, kind="stable")
        starts = np.concatenate([[0], np.cumsum(np.bincount(tab, minlength=T))])
        for t in range(T):
            mem = order[starts[t]:starts[t + 1]]
            self.members[t, :len(mem)] = mem
            self.slot[mem] = np.arange(len(mem))

    def deltas(self, i: int) -> np.ndarray:
        """Gain of swapping ``i`` with each person (-inf where the swap is not allowed)."""
        tab, S, own, cnt, rmin, rmax = self.tab, self.S, self.own, self.cnt, self.rmin, self.rmax
        a = tab[i]
        d = S[i, tab] - 2.0 * self.W[i] - own[i] + S[:, a] - own
        bad = (tab == a) | self.locked
        if self.is_ghost[i]:
            bad |= self.is_ghost
        if self.use_roles:
            ri = self.roles[i]
            rj = self.roles
            ok = (rj == ri) | ((cnt[a, rj] + 1 <= rmax[rj]) & (cnt[tab, ri] + 1 <= rmax[ri])
                               & (cnt[a, ri] - 1 >= rmin[ri]) & (cnt[tab, rj] - 1 >= rmin[rj]))
            bad |= ~ok
        d[bad] = -np.inf
        return d

    def swap(self, i: int, j: int) -> None:
        tab, S, K, W, C, members, slot = self.tab, self.S, self.K, self.W, self.C, self.members, self.slot
        a, b = tab[i], tab[j]
        wi, wj = W[i].astype(np.float64), W[j].astype(np.float64)
        S[:, a] += wj - wi
        S[:, b] += wi - wj
        ci, cj = C[i].astype(np.float64), C[j].astype(np.float64)
        K[:, a] += cj - ci
        K[:, b] += ci - cj
        if self.use_roles:
            cnt, roles = self.cnt, self.roles
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
        self.own[mem] = S[mem, tab[mem]]
        self.solver.moves += 1

    def best_partner(self, i: int) -> tuple[int, float]:
        if not self.near:
            d = self.deltas(i)
            j = int(np.argmax(d))
            return j, float(d[j])
        tab, S, own, cnt, rmin, rmax = self.tab, self.S, self.own, self.cnt, self.rmin, self.rmax
        a = tab[i]
        row = S[i].copy()
        row[a] = -np.inf
        tops = np.argpartition(-row, self.n_near - 1)[:self.n_near]
        cand = self.members[tops].ravel()
        cand = cand[cand >= 0]
        cand = cand[~self.locked[cand]]
        if self.is_ghost[i]:
            cand = cand[~self.is_ghost[cand]]
        if self.use_roles and len(cand):
            ri = self.roles[i]
            rj = self.roles[cand]
            tb = tab[cand]
            ok = (rj == ri) | ((cnt[a, rj] + 1 <= rmax[rj]) & (cnt[tb, ri] + 1 <= rmax[ri])
                               & (cnt[a, ri] - 1 >= rmin[ri]) & (cnt[tb, rj] - 1 >= rmin[rj]))
            cand = cand[ok]
        if len(cand) == 0:
            return i, -np.inf
        d = S[i, tab[cand]] - 2.0 * self.W[i, cand] - own[i] + S[cand, a] - own[cand]
        k = int(np.argmax(d))
        return int(cand[k]), float(d[k])

    def local_search(self, budget: int) -> int:
        """Best swap for each person in turn; after the first pass only people at tables that changed in
        the previous pass are looked at again ("don't look bits")."""
        tab, movable = self.tab, self.movable
        used = 0
        active = movable
        while used < budget and len(active):
            touched = np.zeros(self.T, bool)
            for i in self.solver.rng.permutation(active):
                j, gain = self.best_partner(int(i))
                used += 1
                if gain > 1e-9:
                    touched[tab[i]] = touched[tab[j]] = True
                    self.swap(int(i), j)
                if used >= budget:
                    break
            active = movable[touched[tab[movable]]]
        return used

    def broken(self, *tables_: np.ndarray) -> int:
        """Role bounds broken by these groups of people (role -1, no bound, goes to the last bin)."""
        n_roles = self.solver.n_roles
        out = 0
        for mem in tables_:
            c = np.bincount(self.roles[mem] % (n_roles + 1), minlength=n_roles + 1)
            out += int(np.clip(c - self.rmax, 0, None).sum() + np.clip(self.rmin - c, 0, None).sum())
        return out

    def team_moves(self) -> bool:
        """Move a whole team to another table, swapping with as many people from there who would rather sit
        at the team's table; the best such move per team, when it pays."""
        tab, S, W, members, locked = self.tab, self.S, self.W, self.members, self.locked
        moved = False
        for team in self.teams_here:
            a = tab[team[0]]
            best_gain, best_plan = 1e-9, None
            for b in range(self.T):
                if b == a:
                    continue
                cand = members[b][members[b] >= 0]
                cand = cand[~locked[cand]]
                if len(cand) < len(team):
                    continue
                if math.comb(len(cand), len(team)) <= 64:
                    picks = [np.asarray(c, np.int64) for c in itertools.combinations(cand, len(team))]
                else:  # those who would most rather sit at the team's table
                    picks = [cand[np.argsort(-(S[cand, a] - self.own[cand]), kind="stable")[:len(team)]]]
                old_a = members[a][members[a] >= 0]
                old_b = members[b][members[b] >= 0]
                for pick in picks:
                    new_a = np.concatenate([np.setdiff1d(old_a, team), pick])
                    new_b = np.concatenate([np.setdiff1d(old_b, pick), team])
                    gain = 0.5 * float(W[np.ix_(new_a, new_a)].sum() + W[np.ix_(new_b, new_b)].sum()
                                       - W[np.ix_(old_a, old_a)].sum() - W[np.ix_(old_b, old_b)].sum())
                    if self.use_roles:
                        before, after = self.broken(old_a, old_b), self.broken(new_a, new_b)
                        if after > before:
                            continue
                        gain += self.solver.P_forb * (before - after)
                    if gain > best_gain:
                        best_gain, best_plan = gain, pick
            if best_plan is not None:
                for x, y in zip(team, best_plan, strict=True):
                    self.swap(int(x), int(y))
                moved = True
        return moved

    def conflicted(self) -> np.ndarray:
        return np.flatnonzero((self.K[self.ar, self.tab] > 0.5) & ~self.locked)

    def tabu(self, tabu_steps: int) -> None:
        """Swaps of conflicted people, worsening or not, with a tabu tenure on the table one left; the best
        state seen is kept."""
        solver, tab, m, T = self.solver, self.tab, self.m, self.T
        rng = solver.rng
        value = 0.5 * float(self.S[self.ar, tab].sum())
        best_value, best_tab = value, tab.copy()
        tabu_until = np.zeros((m, T), np.int64)  # person may not return to a table it left until then
        width = 8 if m <= 200 else 1
        for step in range(tabu_steps):
            conflicted = self.conflicted()
            if len(conflicted) == 0:
                break
            solver.tabu_used += 1
            pick = rng.choice(conflicted, size=min(width, len(conflicted)), replace=False)
            best_move, best_d, best_any, best_any_d = None, -np.inf, None, -np.inf
            for i in pick:
                i = int(i)
                d = self.deltas(i)
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
            self.swap(i, j)
            tabu_until[i, a] = step + int(rng.integers(3, 10))
            tabu_until[j, b] = step + int(rng.integers(3, 10))
            if value > best_value + 1e-9:
                best_value, best_tab = value, tab.copy()
        if value < best_value - 1e-9:
            tab[:] = best_tab
            self.recount()

    def run(self, steps: int, tabu_steps: int) -> np.ndarray:
        """Best-swap local search, team moves, then tabu search while conflicts remain; returns ``tab``."""
        self.recount()
        self.local_search(steps)
        for _ in range(10):
            if not self.teams_here or not self.team_moves():
                break
            self.local_search(steps)
        if len(self.conflicted()) and tabu_steps:
            self.tabu(tabu_steps)
            self.local_search(steps)
        self.solver.conflicts[self.rd.r] = int((self.K[self.ar, self.tab] > 0.5).sum())
        return self.tab


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
                    raise infeasible("rules.keep_together",
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
        """Best-swap local search on one round, then tabu search while conflicts remain (:class:`_RoundSearch`)."""
        if rd.T < 2 or rd.m < 2:
            return tab
        search = _RoundSearch(self, rd, W, C, tab)
        if len(search.movable) == 0:
            return tab
        return search.run(steps, tabu_steps)

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

    # ------------------------------------------------------------------ designs and the social-golfer search
    def _design_shape(self) -> tuple[int, int] | None:
        """``(groups, size)`` when every round seats everyone at equal tables with no fixed seat, team or role
        bound (the shape of a design), else None."""
        p = self.p
        if not self.rounds or p.teams or self.n_roles or not p.present.all() or (p.pinned >= 0).any():
            return None
        if self.n_ghost and not self.bye:
            return None
        rd0 = self.rounds[0]
        g, s = rd0.T, int(rd0.caps[0])
        if any(rd.T != g or (rd.caps != s).any() for rd in self.rounds):
            return None
        return g, s

    def _design_tabs(self, full: np.ndarray | None = None) -> list[np.ndarray] | None:
        """The rounds' seatings from a repeat-free design, people placed on its points (and its rounds chosen,
        best first, when it has more than asked) for affinity; as many rounds as the design has, at most all of
        them; None when no design fits. ``full``: the design to use (default: the construction for the shape)."""
        shape = self._design_shape()
        if shape is None:
            return None
        g, s = shape
        R = self.p.rounds
        if full is None:
            most = max_design_rounds(g, s)
            if most < 2:
                return None
            full = design(g, s, most)
            if full is None:
                return None
        most = len(full)
        rd0 = self.rounds[0]
        m, nr = rd0.m, rd0.n_real
        a = np.zeros((m, m), np.float64)
        a[:nr, :nr] = self.p.affinity[np.ix_(rd0.idx[:nr], rd0.idx[:nr])]
        a[:nr, :nr][self.p.forbidden[np.ix_(rd0.idx[:nr], rd0.idx[:nr])]] = -1e3 * (self.scale + 1.0) * R
        np.fill_diagonal(a, 0.0)
        perm = np.arange(m, dtype=np.int64)
        chosen = np.arange(min(R, most))
        same = full[:, :, None] == full[:, None, :]  # (rounds, points, points): who shares a group
        for _ in range(4):
            perm = relabel(meetings(full[chosen]), a, perm)
            lab = a[np.ix_(perm, perm)]
            score = (same * lab[None]).sum(axis=(1, 2))
            best = np.argsort(-score, kind="stable")[:len(chosen)]
            if np.array_equal(best, chosen):
                break
            chosen = best
        tabs = []
        for r in chosen:
            tab = np.empty(m, np.int64)
            tab[perm] = full[r]
            if self.bye and m > nr:  # the empty seat's table is the last one
                gt = tab[nr]
                tab = np.where(tab == gt, -1, np.where(tab == rd0.T - 1, gt, tab))
                tab[tab == -1] = rd0.T - 1
            tabs.append(tab)
        return tabs

    def _golfer_arrays(self) -> dict:
        """The golfer search's arrays over every round (people local to each round, indices global)."""
        R = len(self.rounds)
        mmax = max([rd.m for rd in self.rounds] + [1])
        N = len(self.M)
        n = self.p.n
        idx = np.zeros((R, mmax), np.int64)
        m = np.zeros(R, np.int64)
        T = np.ones(R, np.int64)
        tab = np.zeros((R, mmax), np.int64)
        locked = np.ones((R, mmax), bool)
        ghost = np.zeros((R, mmax), bool)
        roles = np.full((R, mmax), self.n_roles, np.int64)
        for rd in self.rounds:
            r = rd.r
            m[r], T[r] = rd.m, max(rd.T, 1)
            idx[r, :rd.m] = rd.idx
            tab[r, :rd.m] = self._tabs[r] if rd.m else 0
            locked[r, :rd.m] = self._locked(rd)
            ghost[r, rd.n_real:rd.m] = True
            roles[r, :rd.m] = np.where(rd.roles < 0, self.n_roles, rd.roles)
        real = np.zeros(N, bool)
        real[:n] = True
        counted = np.outer(real, real)
        if self.bye:
            counted = ~np.outer(~real, ~real)
        for team in self.p.teams:  # a team shares a table every round: those meetings are forced
            counted[np.ix_(team, team)] = False
        forb = np.zeros((N, N), bool)
        forb[:n, :n] = self.p.forbidden
        return {"idx": idx, "m": m, "tab": tab, "T": T, "locked": locked, "ghost": ghost, "roles": roles,
                "rmin": self.rmin, "rmax": self.rmax, "counted": counted.astype(np.uint8),
                "forbidden": forb.astype(np.uint8)}

    def _extra_rounds(self, tabs: list[np.ndarray], noise: float) -> None:
        """The design's rounds ``tabs`` as they are, the rounds beyond them built greedily against the design's
        meetings (with ``noise`` on the weights: other rounds each time), for the golfer search to finish."""
        self.M[:] = 0
        for rd, tab in zip(self.rounds, tabs, strict=False):
            self._tabs[rd.r] = tab
            self._add_meetings(rd, tab, +1)
        for rd in self.rounds[len(tabs):]:
            W, C = self._weights(rd)
            if noise > 0 and rd.m:
                noisy = self.rng.random((rd.m, rd.m)).astype(np.float32) * noise
                W = W + (noisy + noisy.T) / 2
            tab = self._improve(rd, W, C, self._construct(rd, W), max(1, int(self.effort * 60 * self.p.n)), 0)
            self._tabs[rd.r] = tab
            self._add_meetings(rd, tab, +1)

    def golfer(self, effort: float, from_design: bool, full: np.ndarray | None = None) -> Seating:
        """Fewest repeats by the social-golfer search over all rounds (from a design's rounds when
        ``from_design`` and one fits, else from the rounds as they are), then the usual swaps for affinity; a swap
        never adds a repeat or breaks a rule."""
        tabs: list[np.ndarray] = []
        if from_design:
            found = self._design_tabs(full)
            if found is None:
                raise ValueError("no design fits this problem")
            tabs = found
            self._tabs = tabs + [np.zeros(0, np.int64)] * (len(self.rounds) - len(tabs))
            self.conflicts = [0] * len(self.rounds)
            self._extra_rounds(tabs, 0.0)
        arrays = self._golfer_arrays()
        R, mmax = arrays["idx"].shape
        kmax = max([int(rd.caps.max()) for rd in self.rounds if rd.T] + [2])
        steps = int(effort * min(GOLFER_STEPS, GOLFER_WORK // max(1, R * mmax * kmax)))
        steps = max(steps, 1_000)
        # when some person cannot avoid repeats (more table-mates than people), stop early once progress stalls
        forced = any(int(rd.caps.max()) - 1 > 0 for rd in self.rounds) and (
            sum(int(rd.caps.max()) - 1 for rd in self.rounds) > self.p.n - 1)
        # run times of such searches are heavy-tailed (8x4x10 from its design: one run in five of 30,000 steps ends
        # repeat-free, measured): many short independent runs beat one long one
        start = arrays.pop("tab")
        out, best = start, None
        left, k = steps, 1
        while left > 0:
            run_steps = min(left, GOLFER_RUN_STEPS * _luby(k))
            left -= run_steps
            if from_design and k > 1 and len(tabs) < len(self.rounds):
                # each run from the design with other rounds beyond it: how long a run takes depends on those
                # rounds (8x4x10, 30,000 steps a run: 0 of 40 runs repeat-free from one start, 8 of 40 with the
                # rounds beyond the design built anew each run, on each of two starts; measured)
                self._extra_rounds(tabs, GOLFER_NOISE)
                start = self._golfer_arrays()["tab"]
            k += 1
            tab, cost, used = conflict_search(**arrays, tab=start, seed=int(self.rng.integers(1 << 31)),
                                              max_steps=run_steps,
                                              patience=max(5_000, run_steps // 4) if forced else run_steps)
            self.moves += used
            if best is None or cost < best:
                out, best = tab, cost
            if cost == 0:
                break
        self.M[:] = 0
        for rd in self.rounds:
            if rd.m:
                self._tabs[rd.r] = out[rd.r, :rd.m].copy()
                self._add_meetings(rd, self._tabs[rd.r], +1)
        steps_pass = max(1, int(self.effort * 60 * max(self.p.n, 1)))
        self.conflicts = [0] * len(self.rounds)
        for _ in range(max(2, int(2 * self.effort))):
            for rd in self.rounds:
                if rd.m:
                    tab = self._tabs[rd.r]
                    self._add_meetings(rd, tab, -1)
                    W, C = self._weights(rd)
                    tab = self._improve(rd, W, C, tab.copy(), steps_pass, 0)
                    self._tabs[rd.r] = tab
                    self._add_meetings(rd, tab, +1)
        for rd in self.rounds:
            if rd.m:
                self._store(rd, self._tabs[rd.r])
        return Seating(self.table.copy(), [list(map(int, rd.caps)) for rd in self.rounds], self.moves)

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


def _luby(k: int) -> int:
    """The k-th term (from 1) of the Luby sequence.

    >>> [_luby(k) for k in range(1, 16)]
    [1, 1, 2, 1, 1, 2, 4, 1, 1, 2, 1, 1, 2, 4, 8]
    """
    i = 1
    while (1 << i) - 1 < k:
        i += 1
    if k == (1 << i) - 1:
        return 1 << (i - 1)
    return _luby(k - (1 << (i - 1)) + 1)


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
    best, best_key, best_solver = None, None, None
    budget = tabu_budget(n, effort)

    def key_of(s: Seating) -> tuple[int, int, float]:
        return len(find_violations(s, prob)), count_repeats(s, prob)[0], -plan_affinity(s, prob)

    for k in range(restarts):
        ss = np.random.SeedSequence([seed, k])
        sub_seed = int(ss.generate_state(1)[0])
        solver = _Solver(prob, sub_seed, effort, progress if k == 0 else None, tabu_budget=budget,
                         noise=0.0 if k == 0 else 2.0 * k / restarts)
        s = solver.solve()
        budget = max(0, budget - solver.tabu_used)
        key = key_of(s)
        if best_key is None or key < best_key:
            best, best_key, best_solver = s, key, solver
        if key[0] == 0 and key[1] == 0 and _flat(prob):
            break
    assert best is not None and best_solver is not None
    seats = max([rd.m for rd in best_solver.rounds] + [0])
    # no search where the plan already has as few repeats as any plan can (forced repeats of teams and shared fixed
    # seats aside, which the bound does not separate)
    plain = (bool(prob.present.all()) and not prob.teams and not (prob.pinned >= 0).any()
             and all(sum(c) == prob.n for c in best.capacities))  # no empty seat
    floor = repeats_lower_bound(best.capacities) if plain else 0
    if (best_key[0] or best_key[1] > floor) and prob.rounds > 1 and seats <= GOLFER_MAX:
        # repeats or broken rules left: a repeat-free design where one fits, else the social-golfer search
        best = Seating(best.table.copy(), best.capacities, best.moves)
        sub_seed = int(np.random.SeedSequence([seed, restarts]).generate_state(1)[0])
        fresh = _Solver(prob, sub_seed, effort, None, tabu_budget=0)
        shape = fresh._design_shape()
        if shape is not None and prob.rounds > max_design_rounds(*shape) and prob.n <= CYCLIC_MAX:
            # more rounds than any construction: a schedule closed under a cyclic shift, where one exists
            full = cyclic_design(*shape, prob.rounds, seed=sub_seed, work=CYCLIC_WORK * effort)
            if full is not None:
                s = fresh.golfer(effort, from_design=True, full=full)
                key = key_of(s)
                if key < best_key:
                    best, best_key = s, key
                fresh = _Solver(prob, sub_seed, effort, None, tabu_budget=0)
        if (best_key[0] or best_key[1] > floor) and shape is not None and max_design_rounds(*shape) >= 2:
            s = fresh.golfer(effort, from_design=True)
            key = key_of(s)
            if key < best_key:
                best, best_key = s, key
        if best_key[0] or best_key[1] > floor:
            s = best_solver.golfer(effort, from_design=False)
            key = key_of(s)
            if key < best_key:
                best, best_key = s, key
    return best


def _flat(prob: SeatingProblem) -> bool:
    return float(np.ptp(prob.affinity)) == 0.0 if prob.n else True
