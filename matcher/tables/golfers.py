"""Conflict search over all rounds at once: the social-golfer local search (compiled with numba).

The state is every round's seating; the cost counts repeats (a pair's ``M``-th meeting costs more than the one
before: ``c(M) = 2 (M - 1) + (M - 1)(M - 2) / 2``, so two pairs meeting twice beat one pair meeting three times
at the same number of repeats) plus a large penalty per forbidden pair at a table. A move swaps two people of one
round at different tables, at least one of them in a conflict (Dotú and Van Hentenryck, "Scheduling social golfers
locally", CPAIOR 2005): each step takes the best non-tabu swap over every round (ties broken at random), worsening
or not; a person may not return to the table they left for a random tenure; a tabu move that beats the best cost
seen is taken anyway (aspiration). After ``stable`` steps without a new best, the search restarts from the best
state with a few random swaps (the perturbation of Dotú and Van Hentenryck; Triska and Musliu's greedy start is
what the planner's own rounds give it). Fixed seats and teams never move; a swap keeps every table's role bounds;
empty seats never swap with each other. Deterministic for a seed: budgets are counted in steps.

A step prices every candidate swap from move tables kept right move by move (``enter[r, i, t]``: what ``i`` would
add by meeting table ``t`` of round ``r``; ``leave[r, i]``: what ``i`` saves by leaving their own): a swap's price is
then six look-ups, and a move updates the tables of the few pairs whose meeting count it changed, in every round.
A person is in a conflict exactly when leaving saves something. 8x4x10: 11,800 steps a second before, 85,000 after
(same moves, same seeds; ``tests/test_tables_designs.py`` checks every price against the cost recomputed).
"""

from __future__ import annotations

import numba as nb
import numpy as np

_JIT = {"nogil": True, "cache": True}

#: Cost of a forbidden pair at one table, against 2 for a repeat.
FORBIDDEN_COST = 10_000


def meeting_costs(rounds: int) -> np.ndarray:
    """``c[M]``: the cost of a pair that meets ``M`` times (0 and 1 free).

    >>> meeting_costs(4).tolist()
    [0, 0, 2, 5, 9, 14]
    """
    m = np.arange(rounds + 2, dtype=np.int64)
    rep = np.clip(m - 1, 0, None)
    return 2 * rep + rep * np.clip(m - 2, 0, None) // 2


@nb.njit(**_JIT)
def _pc(counted, forb, cost, gi, gx, mm):
    return counted[gi, gx] * cost[mm] + forb[gi, gx] * FORBIDDEN_COST * mm


@nb.njit(**_JIT)
def _build(idx, m, tab, T, roles, n_bins, M, members, size, slot, cnt):
    R = idx.shape[0]
    M[:, :] = 0
    size[:, :] = 0
    cnt[:, :, :] = 0
    for r in range(R):
        for i in range(m[r]):
            t = tab[r, i]
            members[r, t, size[r, t]] = i
            slot[r, i] = size[r, t]
            size[r, t] += 1
            cnt[r, t, roles[r, i]] += 1
        for t in range(T[r]):
            for a in range(size[r, t]):
                ga = idx[r, members[r, t, a]]
                for b in range(a + 1, size[r, t]):
                    gb = idx[r, members[r, t, b]]
                    M[ga, gb] += 1
                    M[gb, ga] += 1


@nb.njit(**_JIT)
def _total(idx, T, M, members, size, counted, forb, cost):
    """Cost of the whole state: every pair once."""
    N = M.shape[0]
    c = 0
    for a in range(N):
        for b in range(a + 1, N):
            if M[a, b] > 0:
                c += counted[a, b] * cost[M[a, b]] + forb[a, b] * FORBIDDEN_COST * M[a, b]
    return c


@nb.njit(**_JIT)
def _roles_ok(r, i, j, tab, roles, cnt, rmin, rmax):
    ri = roles[r, i]
    rj = roles[r, j]
    if ri == rj:
        return True
    a = tab[r, i]
    b = tab[r, j]
    return (cnt[r, a, rj] + 1 <= rmax[rj] and cnt[r, b, ri] + 1 <= rmax[ri]
            and cnt[r, a, ri] - 1 >= rmin[ri] and cnt[r, b, rj] - 1 >= rmin[rj])


@nb.njit(**_JIT)
def _inc(counted, forb, cost, ga, gb, mm):
    """Cost change when a pair that met ``mm`` times meets once more."""
    return _pc(counted, forb, cost, ga, gb, mm + 1) - _pc(counted, forb, cost, ga, gb, mm)


@nb.njit(**_JIT)
def _gains(r, idx, m, tab, T, M, members, size, counted, forb, cost, enter, leave):
    """Round ``r``'s move table from scratch: ``enter[r, i, t]``, the cost change of ``i`` meeting everyone at
    table ``t`` (``i`` left out) once more, and ``leave[r, i]``, of ``i`` no longer meeting their table-mates."""
    for i in range(m[r]):
        gi = idx[r, i]
        for t in range(T[r]):
            e = 0
            for s in range(size[r, t]):
                x = members[r, t, s]
                if x != i:
                    gx = idx[r, x]
                    e += _inc(counted, forb, cost, gi, gx, M[gi, gx])
            enter[r, i, t] = e
        leave[r, i] = _saving(r, i, idx, tab, M, members, size, counted, forb, cost)


@nb.njit(**_JIT)
def _saving(r, i, idx, tab, M, members, size, counted, forb, cost):
    """The cost change of ``i`` no longer meeting their table-mates of round ``r`` (0 or less)."""
    gi = idx[r, i]
    a = tab[r, i]
    d = 0
    for s in range(size[r, a]):
        x = members[r, a, s]
        if x != i:
            gx = idx[r, x]
            d -= _inc(counted, forb, cost, gi, gx, M[gi, gx] - 1)
    return d


@nb.njit(**_JIT)
def _meet(u, v, step, idx, tab, loc, M, counted, forb, cost, enter, leave):
    """``M[u, v] += step`` (both ways) with every round's move table kept right (tables as they are)."""
    old = M[u, v]
    new = old + step
    M[u, v] = new
    M[v, u] = new
    du = _inc(counted, forb, cost, u, v, new) - _inc(counted, forb, cost, u, v, old)
    dv = _inc(counted, forb, cost, v, u, new) - _inc(counted, forb, cost, v, u, old)
    lu_ = _inc(counted, forb, cost, u, v, old - 1) - _inc(counted, forb, cost, u, v, new - 1)
    lv_ = _inc(counted, forb, cost, v, u, old - 1) - _inc(counted, forb, cost, v, u, new - 1)
    for r in range(idx.shape[0]):
        iu = loc[r, u]
        iv = loc[r, v]
        if iu < 0 or iv < 0:
            continue
        tu = tab[r, iu]
        tv = tab[r, iv]
        enter[r, iu, tv] += du
        enter[r, iv, tu] += dv
        if tu == tv:
            leave[r, iu] += lu_
            leave[r, iv] += lv_


@nb.njit(**_JIT)
def _move(r, i, j, idx, m, tab, T, roles, loc, M, members, size, slot, cnt, counted, forb, cost, enter, leave):
    """Swap ``i`` and ``j`` of round ``r`` with the meeting counts and every move table kept right."""
    a = tab[r, i]
    b = tab[r, j]
    gi = idx[r, i]
    gj = idx[r, j]
    for s in range(size[r, a]):
        x = members[r, a, s]
        if x != i:
            gx = idx[r, x]
            _meet(gi, gx, -1, idx, tab, loc, M, counted, forb, cost, enter, leave)
            _meet(gj, gx, 1, idx, tab, loc, M, counted, forb, cost, enter, leave)
    for s in range(size[r, b]):
        y = members[r, b, s]
        if y != j:
            gy = idx[r, y]
            _meet(gj, gy, -1, idx, tab, loc, M, counted, forb, cost, enter, leave)
            _meet(gi, gy, 1, idx, tab, loc, M, counted, forb, cost, enter, leave)
    # the seats: a loses i and gains j, b the other way round
    for p in range(m[r]):
        if p == i or p == j:
            continue
        gp = idx[r, p]
        ei = _inc(counted, forb, cost, gp, gi, M[gp, gi])
        ej = _inc(counted, forb, cost, gp, gj, M[gp, gj])
        enter[r, p, a] += ej - ei
        enter[r, p, b] += ei - ej
    eij = _inc(counted, forb, cost, gi, gj, M[gi, gj])
    eji = _inc(counted, forb, cost, gj, gi, M[gj, gi])
    enter[r, i, a] += eij
    enter[r, i, b] -= eij
    enter[r, j, b] += eji
    enter[r, j, a] -= eji
    si = slot[r, i]
    sj = slot[r, j]
    members[r, a, si] = j
    members[r, b, sj] = i
    slot[r, i] = sj
    slot[r, j] = si
    tab[r, i] = b
    tab[r, j] = a
    cnt[r, a, roles[r, i]] -= 1
    cnt[r, b, roles[r, i]] += 1
    cnt[r, b, roles[r, j]] -= 1
    cnt[r, a, roles[r, j]] += 1
    for t in (a, b):
        for s in range(size[r, t]):
            p = members[r, t, s]
            leave[r, p] = _saving(r, p, idx, tab, M, members, size, counted, forb, cost)


@nb.njit(**_JIT)
def _rebuild(idx, m, tab, T, roles, n_bins, M, members, size, slot, cnt, counted, forb, cost, enter, leave):
    _build(idx, m, tab, T, roles, n_bins, M, members, size, slot, cnt)
    for r in range(idx.shape[0]):
        _gains(r, idx, m, tab, T, M, members, size, counted, forb, cost, enter, leave)


@nb.njit(**_JIT)
def _search(idx, m, tab, T, locked, ghost, roles, rmin, rmax, counted, forb, cost, kmax, seed, max_steps,
            stable, perturb, tenure_min, tenure_max, patience, from_best):
    np.random.seed(seed)
    R = idx.shape[0]
    N = counted.shape[0]
    Tmax = 1
    mmax = idx.shape[1]
    for r in range(R):
        Tmax = max(Tmax, T[r])
    n_bins = rmin.shape[0]
    M = np.zeros((N, N), np.int32)
    members = np.zeros((R, Tmax, kmax), np.int64)
    size = np.zeros((R, Tmax), np.int64)
    slot = np.zeros((R, mmax), np.int64)
    cnt = np.zeros((R, Tmax, n_bins), np.int64)
    loc = np.full((R, N), -1, np.int64)
    for r in range(R):
        for i in range(m[r]):
            loc[r, idx[r, i]] = i
    # move tables, kept right move by move: a swap's cost change is then a handful of look-ups
    enter = np.zeros((R, mmax, Tmax), np.int64)
    leave = np.zeros((R, mmax), np.int64)
    _rebuild(idx, m, tab, T, roles, n_bins, M, members, size, slot, cnt, counted, forb, cost, enter, leave)
    cur = _total(idx, T, M, members, size, counted, forb, cost)
    best = cur
    best_tab = tab.copy()
    tabu = np.zeros((R, mmax, mmax), np.int64)  # the swap of i and j in round r is tabu until then
    last_best = 0
    last_gain = 0
    steps = 0
    for step in range(max_steps):
        steps = step + 1
        if best == 0 or step - last_gain > patience:
            break
        if step - last_best > stable:
            # restart a few random swaps away from the best state (or from here)
            if from_best:
                tab[:, :] = best_tab
                _rebuild(idx, m, tab, T, roles, n_bins, M, members, size, slot, cnt, counted, forb, cost,
                         enter, leave)
            for _ in range(perturb):
                r = np.random.randint(R)
                if m[r] < 2 or T[r] < 2:
                    continue
                i = np.random.randint(m[r])
                j = np.random.randint(m[r])
                if (tab[r, i] == tab[r, j] or locked[r, i] or locked[r, j] or (ghost[r, i] and ghost[r, j])
                        or not _roles_ok(r, i, j, tab, roles, cnt, rmin, rmax)):
                    continue
                _move(r, i, j, idx, m, tab, T, roles, loc, M, members, size, slot, cnt, counted, forb, cost,
                      enter, leave)
            cur = _total(idx, T, M, members, size, counted, forb, cost)
            tabu[:, :, :] = 0
            last_best = step
        bd = 1 << 60
        br = -1
        bi = -1
        bj = -1
        ties = 0
        any_conf = False
        for r in range(R):
            if T[r] < 2:
                continue
            for i in range(m[r]):
                # in a conflict: leaving the table saves something (a repeat or a forbidden pair)
                if locked[r, i] or leave[r, i] >= 0:
                    continue
                any_conf = True
                a = tab[r, i]
                gi = idx[r, i]
                li = leave[r, i]
                for j in range(m[r]):
                    b = tab[r, j]
                    if b == a or locked[r, j] or (ghost[r, i] and ghost[r, j]):
                        continue
                    if j < i and leave[r, j] < 0 and not locked[r, j]:
                        continue  # the pair was seen from j's side
                    if n_bins > 1 and not _roles_ok(r, i, j, tab, roles, cnt, rmin, rmax):
                        continue
                    gj = idx[r, j]
                    mij = M[gi, gj]
                    d = (li + leave[r, j] + enter[r, i, b] + enter[r, j, a]
                         - _inc(counted, forb, cost, gi, gj, mij) - _inc(counted, forb, cost, gj, gi, mij))
                    if tabu[r, i, j] > step:
                        if cur + d >= best:
                            continue  # tabu, and no new best: no aspiration
                    if d < bd:
                        bd = d
                        br, bi, bj = r, i, j
                        ties = 1
                    elif d == bd:
                        ties += 1
                        if np.random.randint(ties) == 0:
                            br, bi, bj = r, i, j
        if not any_conf:
            break
        if br < 0:
            last_best = -stable - 1  # stuck: perturb at once
            continue
        _move(br, bi, bj, idx, m, tab, T, roles, loc, M, members, size, slot, cnt, counted, forb, cost, enter,
              leave)
        cur += bd
        tt = step + tenure_min + np.random.randint(tenure_max - tenure_min + 1)
        tabu[br, bi, bj] = tt
        tabu[br, bj, bi] = tt
        if cur < best:
            best = cur
            best_tab[:, :] = tab
            last_best = step
            last_gain = step
    return best_tab, best, steps


def conflict_search(idx: np.ndarray, m: np.ndarray, tab: np.ndarray, T: np.ndarray, locked: np.ndarray,
                    ghost: np.ndarray, roles: np.ndarray, rmin: np.ndarray, rmax: np.ndarray, counted: np.ndarray,
                    forbidden: np.ndarray, *, seed: int, max_steps: int, stable: int = 500, perturb: int = 32,
                    tenure: tuple[int, int] = (4, 100), patience: int | None = None,
                    from_best: bool = True) -> tuple[np.ndarray, int, int]:
    """Minimise repeats and forbidden pairs over all rounds. Per round ``r``: ``idx[r, :m[r]]`` are the people
    (indices into ``counted``/``forbidden``, ``(N, N)``), ``tab[r, i]`` their table (``< T[r]``), ``locked`` who
    may not move, ``ghost`` empty seats, ``roles`` a bin per person (``len(rmin)`` bins with per-table bounds
    ``rmin``/``rmax``). Stops at cost 0, after ``max_steps``, or after ``patience`` steps without a new best
    (default: ``max_steps``). Returns the best seating found, its cost (0: no repeat, no forbidden pair) and the
    steps taken.

    >>> from matcher.tables.designs import meetings
    >>> R, n = 4, 9
    >>> idx = np.tile(np.arange(n), (R, 1)); tab = np.tile(np.arange(n) // 3, (R, 1))
    >>> out, cost, _ = conflict_search(idx, np.full(R, n), tab, np.full(R, 3), np.zeros((R, n), bool),
    ...     np.zeros((R, n), bool), np.zeros((R, n), np.int64), np.zeros(1, np.int64), np.full(1, 99),
    ...     np.ones((n, n), np.uint8), np.zeros((n, n), np.uint8), seed=1, max_steps=20_000)
    >>> cost, int(meetings(out).max())
    (0, 1)
    """
    R = idx.shape[0]
    kmax = 1
    for r in range(R):
        if m[r]:
            kmax = max(kmax, int(np.bincount(tab[r, :m[r]], minlength=int(T[r])).max()))
    patience = max_steps if patience is None else patience
    cost = meeting_costs(R)
    out, best, steps = _search(np.ascontiguousarray(idx, np.int64), np.ascontiguousarray(m, np.int64),
                               np.array(tab, np.int64), np.ascontiguousarray(T, np.int64),
                               np.ascontiguousarray(locked, np.bool_), np.ascontiguousarray(ghost, np.bool_),
                               np.ascontiguousarray(roles, np.int64), np.ascontiguousarray(rmin, np.int64),
                               np.ascontiguousarray(rmax, np.int64), np.ascontiguousarray(counted, np.uint8),
                               np.ascontiguousarray(forbidden, np.uint8), cost, kmax, int(seed) % (2 ** 32),
                               int(max_steps), int(stable), int(perturb), int(tenure[0]), int(tenure[1]), int(patience), bool(from_best))
    return out, int(best), int(steps)


@nb.njit(**_JIT)
def _relabel(Md, A, perm, max_passes):
    n = Md.shape[0]
    for _ in range(max_passes):
        improved = False
        for u in range(n):
            for v in range(u + 1, n):
                p = perm[u]
                q = perm[v]
                d = 0.0
                for x in range(n):
                    if x == u or x == v:
                        continue
                    w = Md[u, x] - Md[v, x]
                    if w != 0:
                        px = perm[x]
                        d += w * (A[q, px] - A[p, px])
                if d > 1e-9:
                    perm[u] = q
                    perm[v] = p
                    improved = True
        if not improved:
            break
    return perm


def relabel(met: np.ndarray, affinity: np.ndarray, perm: np.ndarray | None = None, max_passes: int = 20) -> np.ndarray:
    """A relabelling ``perm`` (point ``u`` of a design is person ``perm[u]``) that raises
    ``sum over met pairs (u, v) of affinity[perm[u], perm[v]]`` by swapping two labels at a time until no swap pays.
    Relabelling keeps a repeat-free design repeat-free; it decides who meets whom.

    >>> met = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
    >>> aff = np.zeros((4, 4)); aff[0, 2] = aff[2, 0] = aff[1, 3] = aff[3, 1] = 1.0
    >>> perm = relabel(met, aff)
    >>> sorted([sorted([int(perm[0]), int(perm[1])]), sorted([int(perm[2]), int(perm[3])])])
    [[0, 2], [1, 3]]
    """
    n = met.shape[0]
    perm = np.arange(n, dtype=np.int64) if perm is None else np.array(perm, np.int64)
    return _relabel(np.ascontiguousarray(met, np.float64), np.ascontiguousarray(affinity, np.float64), perm,
                    int(max_passes))
