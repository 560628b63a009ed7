"""Repeat-free schedules built by construction: ``g`` groups of ``s`` people over ``w`` rounds, nobody meeting
anyone twice, for the shapes where design theory gives one directly.

- **1:1 rounds** (``s = 2``): the circle method, ``2g - 1`` rounds in which every pair meets exactly once.
- **Affine planes** over a finite field GF(q), ``q`` a prime power (2, 3, 4, 5, 7, 8, 9, 11, ...): the lines of
  slope ``m`` (``y = m x + b``) form one round of ``q`` groups. Keeping ``s <= q`` columns of the plane gives
  ``q`` groups of ``s`` over ``q`` rounds (two people of different columns share exactly one line); people of one
  column never met, so a schedule of the column itself (``q / s`` groups of ``s``, built the same way) adds
  rounds: ``q x q x (q + 1)`` is the whole affine plane (3x3x4, 4x4x5, 5x5x6, 7x7x8), 8x4x9 comes from GF(8)
  and 9x3x13 from GF(9).
- **Kirkman's schoolgirls** (5x3x7): a resolution of the projective space PG(3, 2)'s lines into 7 parallel
  classes, found by exact-cover search; and a **Kirkman triple system of 21** (7x3x10) on Z7 x {0, 1, 2}, invariant
  under translation.

:func:`design` returns ``table[r, p]`` (person ``p``'s group in round ``r``) or None; :func:`max_design_rounds`
says how many rounds a construction reaches. Beyond those, :func:`cyclic_design` searches (OR-Tools CP-SAT) for
a schedule whose rounds are closed under a cyclic shift (7x4x9, 9x4x10). Every schedule is checked before it is
returned.

>>> t = design(3, 3, 4)
>>> t.shape, int(meetings(t).max())
((4, 9), 1)
>>> max_design_rounds(8, 4), max_design_rounds(5, 3), max_design_rounds(6, 2), max_design_rounds(6, 3)
(9, 7, 11, 1)
"""

from __future__ import annotations

import functools
import itertools

import numpy as np


# ------------------------------------------------------------------------------------------- finite fields
def prime_power(q: int) -> tuple[int, int] | None:
    """``(p, k)`` with ``q = p**k`` and ``p`` prime, or None.

    >>> prime_power(9), prime_power(8), prime_power(6), prime_power(7)
    ((3, 2), (2, 3), None, (7, 1))
    """
    if q < 2:
        return None
    p = next(d for d in range(2, q + 1) if q % d == 0)
    k, r = 0, q
    while r % p == 0:
        r //= p
        k += 1
    return (p, k) if r == 1 else None


@functools.cache
def field(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Addition and multiplication tables of GF(q): elements are ``0..q-1``, the base-``p`` digits of an integer
    being the coefficients of a polynomial over GF(p), multiplied modulo the first irreducible polynomial of
    degree ``k`` (found by trying every monic one).

    >>> add, mul = field(4)
    >>> [int(mul[2, x]) for x in range(4)], [int(add[3, x]) for x in range(4)]
    ([0, 2, 3, 1], [3, 2, 1, 0])
    """
    pk = prime_power(q)
    if pk is None:
        raise ValueError(f"GF({q}) does not exist: {q} is not a prime power")
    p, k = pk

    def digits(x: int) -> list[int]:
        return [(x // p ** i) % p for i in range(k)]

    def number(d: list[int]) -> int:
        return sum(c * p ** i for i, c in enumerate(d))

    def polymul(a: list[int], b: list[int]) -> list[int]:
        out = [0] * (len(a) + len(b) - 1)
        for i, x in enumerate(a):
            for j, y in enumerate(b):
                out[i + j] = (out[i + j] + x * y) % p
        return out

    def reduce(a: list[int], mod: list[int]) -> list[int]:  # mod is monic of degree k
        a = a[:]
        for i in range(len(a) - 1, k - 1, -1):
            c = a[i]
            if c:
                for j in range(k + 1):
                    a[i - k + j] = (a[i - k + j] - c * mod[j]) % p
        return (a + [0] * k)[:k]

    def irreducible() -> list[int]:
        for tail in itertools.product(range(p), repeat=k):
            mod = list(tail) + [1]
            if k == 1 or all(reduce(polymul(digits(a), digits(b)), mod) != [0] * k
                             for a in range(1, q) for b in range(1, q)):
                return mod
        raise AssertionError("an irreducible polynomial of every degree exists")

    mod = irreducible() if k > 1 else [0, 1]
    add = np.zeros((q, q), np.int64)
    mul = np.zeros((q, q), np.int64)
    for a in range(q):
        for b in range(q):
            add[a, b] = number([(x + y) % p for x, y in zip(digits(a), digits(b), strict=True)])
            mul[a, b] = number(reduce(polymul(digits(a), digits(b)), mod)) if k > 1 else (a * b) % p
    return add, mul


# ------------------------------------------------------------------------------------------------ checks
def meetings(table: np.ndarray) -> np.ndarray:
    """``M[i, j]``: in how many rounds ``i`` and ``j`` share a group (diagonal 0)."""
    w, n = table.shape
    M = np.zeros((n, n), np.int64)
    for r in range(w):
        same = table[r][:, None] == table[r][None, :]
        M += same
    np.fill_diagonal(M, 0)
    return M


def is_schedule(table: np.ndarray, g: int, s: int) -> bool:
    """Every round ``g`` groups of ``s``, nobody meeting anyone twice."""
    if table.ndim != 2 or table.shape[1] != g * s:
        return False
    for row in table:
        if row.min() < 0 or row.max() >= g or (np.bincount(row, minlength=g) != s).any():
            return False
    return bool(meetings(table).max(initial=0) <= 1)


# --------------------------------------------------------------------------------------------- builders
def round_robin(g: int, w: int | None = None) -> np.ndarray:
    """1:1 rounds for ``2g`` people: the circle method (person ``2g-1`` stays put, the others rotate); every pair
    meets exactly once over ``2g - 1`` rounds.

    >>> t = round_robin(3)
    >>> t.shape, int(meetings(t).min() + np.eye(6, dtype=int).sum(0).min()), int(meetings(t).max())
    ((5, 6), 1, 1)
    """
    n = 2 * g
    w = n - 1 if w is None else w
    table = np.zeros((w, n), np.int64)
    for r in range(w):
        pairs = [(n - 1, r)] + [((r + i) % (n - 1), (r - i) % (n - 1)) for i in range(1, g)]
        for t, (a, b) in enumerate(pairs):
            table[r, a] = table[r, b] = t
    return table


def _affine(q: int, s: int, w: int) -> np.ndarray | None:
    """``q`` groups of ``s <= q`` from the affine plane over GF(q): person ``x * q + y`` is the point ``(x, y)``
    of column ``x < s``; round ``m < q`` groups by the line ``y = m x + b`` (group ``b``); later rounds group each
    column by a schedule of its own ``q`` people (``q / s`` groups, offset per column)."""
    add, mul = field(q)
    neg = np.array([int(np.flatnonzero(add[a] == 0)[0]) for a in range(q)])
    n = s * q
    x = np.repeat(np.arange(s), q)
    y = np.tile(np.arange(q), s)
    rows = []
    for m in range(min(w, q)):
        rows.append(add[y, neg[mul[m, x]]])  # b = y - m x
    if w > q:
        if q % s:
            return None
        col = design(q // s, s, w - q)
        if col is None:
            return None
        for r in range(w - q):
            rows.append(x * (q // s) + col[r][y])
    table = np.asarray(rows, np.int64).reshape(w, n)
    return table


@functools.cache
def _kirkman15() -> np.ndarray:
    """Kirkman's schoolgirls: the 35 lines of PG(3, 2) (points: nonzero vectors of GF(2)^4, lines: ``{a, b, a^b}``)
    split into 7 parallel classes of 5 by exact-cover search."""
    lines = sorted({tuple(sorted((a, b, a ^ b))) for a in range(1, 16) for b in range(a + 1, 16)})
    found = _resolve([frozenset(x - 1 for x in ln) for ln in lines], 15, 3, 7)
    if found is None:  # pragma: no cover - PG(3, 2) is resolvable
        raise AssertionError("PG(3, 2) has a packing")
    return found


@functools.cache
def _kirkman21() -> np.ndarray | None:
    """A Kirkman triple system of 21 (7 groups of 3, 10 rounds) on Z7 x {0, 1, 2} (person ``7 i + x`` is
    ``(x, i)``), invariant under ``x -> x + 1``: three rounds are each the translates of one transversal triple
    ``{(0, 0), (b, 1), (c, 2)}``; the other seven are the translates of one round holding a difference triple
    ``{0, 1, 3}`` on each level and four transversal triples. A pair's orbit under translation is its levels and
    difference; the search below picks the triples so that the 30 orbits are covered once each (it succeeds at
    once; every pair then meets exactly once)."""
    q = 7

    def diffs(block: tuple[int, ...]) -> set[int]:
        return {(b - a) % q for a in block for b in block if a != b}

    pure = [b for b in itertools.combinations(range(q), 3) if diffs(b) == set(range(1, q))]
    for levels in itertools.product(pure, repeat=3):
        rest = [sorted(set(range(q)) - set(levels[i])) for i in range(3)]
        for p1 in itertools.permutations(rest[1]):
            d01 = {(p1[k] - rest[0][k]) % q for k in range(4)}
            for p2 in itertools.permutations(rest[2]):
                d02 = {(p2[k] - rest[0][k]) % q for k in range(4)}
                d12 = {(p2[k] - p1[k]) % q for k in range(4)}
                if len(d01) < 4 or len(d02) < 4 or len(d12) < 4:
                    continue
                r01, r02, r12 = (sorted(set(range(q)) - d) for d in (d01, d02, d12))
                for cs in itertools.permutations(r02):
                    if sorted((c - b) % q for b, c in zip(r01, cs, strict=True)) != r12:
                        continue
                    x = np.arange(q)
                    rows = []
                    for b, c in zip(r01, cs, strict=True):  # the three translation-invariant rounds
                        row = np.zeros(3 * q, np.int64)
                        row[x], row[q + (x + b) % q], row[2 * q + (x + c) % q] = x, x, x
                        rows.append(row)
                    for t in range(q):  # the base round and its translates
                        row = np.zeros(3 * q, np.int64)
                        for i in range(3):
                            row[i * q + (np.asarray(levels[i]) + t) % q] = i
                        for k in range(4):
                            for i, v in enumerate((rest[0][k], p1[k], p2[k])):
                                row[i * q + (v + t) % q] = 3 + k
                        rows.append(row)
                    return np.asarray(rows)
    return None  # pragma: no cover - the search above succeeds


def _resolve(blocks: list[frozenset], n: int, s: int, w: int) -> np.ndarray | None:
    """Split ``blocks`` (each pair covered at most once) into ``w`` parallel classes by backtracking: each class
    is built block by block, always covering the lowest uncovered point."""
    by_point: list[list[int]] = [[] for _ in range(n)]
    for b, blk in enumerate(blocks):
        for p in blk:
            by_point[p].append(b)
    used = [False] * len(blocks)
    classes: list[list[int]] = []

    def fill(cls: list[int], covered: set[int]) -> bool:
        if len(covered) == n:
            classes.append(cls[:])
            if len(classes) == w or start_class():
                return True
            classes.pop()
            return False
        p = min(set(range(n)) - covered)
        for b in by_point[p]:
            if not used[b] and not (blocks[b] & covered):
                if not cls and classes and b < classes[-1][0]:
                    continue  # classes in order of their first block: each resolution once
                used[b] = True
                cls.append(b)
                if fill(cls, covered | blocks[b]):
                    return True
                cls.pop()
                used[b] = False
        return False

    def start_class() -> bool:
        return fill([], set())

    if not start_class():
        return None
    table = np.zeros((w, n), np.int64)
    for r, cls in enumerate(classes):
        for t, b in enumerate(cls):
            table[r, sorted(blocks[b])] = t
    return table


def _affine_rounds(g: int, s: int) -> int:
    if not prime_power(g) or s > g:
        return 0
    return g + (max_design_rounds(g // s, s) if g % s == 0 else 0)


def max_design_rounds(g: int, s: int) -> int:
    """The most rounds :func:`design` builds for ``g`` groups of ``s`` (1 when it knows no construction: one round
    is always repeat-free)."""
    if g < 1 or s < 1:
        return 0
    if s == 1 or g == 1:
        return 1
    best = max(1, _affine_rounds(g, s))
    if s == 2:
        best = max(best, 2 * g - 1)
    if (g, s) == (5, 3):
        best = max(best, 7)
    if (g, s) == (7, 3):
        best = max(best, 10)
    return best


def design(g: int, s: int, w: int) -> np.ndarray | None:
    """A repeat-free schedule of ``g`` groups of ``s`` over ``w`` rounds by construction, or None.

    >>> design(8, 4, 9).shape, design(7, 7, 8).shape, design(6, 6, 3) is None
    ((9, 32), (8, 49), True)
    """
    if w < 1 or g < 1 or s < 1:
        return None
    n = g * s
    if w == 1 or s == 1:
        return np.tile(np.arange(n) // s, (w, 1)) if w == 1 or w >= 1 and s == 1 else None
    if g == 1:
        return None  # everyone at one table twice
    builders = []
    if s == 2 and w <= 2 * g - 1:
        builders.append(lambda: round_robin(g, w))
    if w <= _affine_rounds(g, s):
        builders.append(lambda: _affine(g, s, w))
    if (g, s) == (5, 3) and w <= 7:
        builders.append(lambda: _kirkman15()[:w])
    if (g, s) == (7, 3) and w <= 10:
        builders.append(lambda: _kirkman21()[:w])
    for build in builders:
        table = build()
        if table is not None and is_schedule(table, g, s):
            return table
    return None


# ---------------------------------------------------------------------------------------- cyclic search
def _point_pair_type(g: int, p: tuple[int, int], q: tuple[int, int]) -> tuple:
    """The orbit of the pair ``{p, q}`` of points ``(x, column)`` under the shift ``x -> x + 1 (mod g)``."""
    (u, i), (v, j) = p, q
    if i == j:
        d = (v - u) % g
        return ("pure", i, min(d, g - d))
    if i > j:
        (u, i), (v, j) = (v, j), (u, i)
    return ("mixed", i, j, (v - u) % g)


def cyclic_design(g: int, s: int, w: int, seed: int = 0, work: float = 20.0,
                  max_seconds: float = 60.0) -> np.ndarray | None:
    """A repeat-free schedule of ``g`` groups of ``s`` over ``w`` rounds whose rounds are closed under a cyclic
    shift, found by OR-Tools CP-SAT, or None (none of that form, or none found within ``work``).

    People are the points ``(x, c)``, ``x`` in Z_g, ``c < s`` a column (person ``c g + x``). ``w = t + o g``
    rounds: ``t`` rounds each fixed by the shift (one group ``{(a_c, c)}`` with a point in every column, and its
    ``g`` shifts), and ``o`` base rounds each developed into its ``g`` shifts. A pair's orbit under the shift is
    met once per base round that holds a pair of it (and once in a fixed round whose group holds it), so the
    schedule is repeat-free when every orbit is held at most once (exactly once when everyone must meet everyone),
    and the search is over orbits, not pairs: small even where the plain problem is hard. This form finds 7x4x9
    (the resolvable 2-(28, 4, 1) design, Hanani 1972) in under a second and 9x4x10 in seconds, which the golfer
    search does not; it has no 6x3x8 or 8x4x10 (those the search finds). ``work`` is CP-SAT's deterministic time
    (one worker, seeded: the same answer every run), ``max_seconds`` a wall-clock bound on top.

    >>> t = cyclic_design(7, 4, 9)
    >>> t.shape, is_schedule(t, 7, 4), int((meetings(t) == 1).sum())  # everyone meets all 27 others once
    ((9, 28), True, 756)
    >>> cyclic_design(6, 6, 4) is None  # two orthogonal Latin squares of order 6 do not exist
    True
    """
    if g < 2 or s < 2 or w < 1 or w * (s - 1) > g * s - 1:
        return None
    from ortools.sat.python import cp_model  # heavy: only when a search is asked for

    o = w // g
    t = w - o * g
    if t > 0 and s > g:
        return None
    points = [(x, c) for c in range(s) for x in range(g)]
    md = cp_model.CpModel()
    held: dict[tuple, list] = {}
    fixed = []
    for _ in range(t):
        at = [[md.NewBoolVar("") for _ in range(g)] for _ in range(s)]  # at[c][x]: the group holds (x, c)
        for c in range(s):
            md.AddExactlyOne(at[c])
        md.Add(at[0][0] == 1)
        for i, j in itertools.combinations(range(s), 2):
            for d in range(g):
                for x in range(g):
                    z = md.NewBoolVar("")
                    md.AddBoolAnd([at[i][x], at[j][(x + d) % g]]).OnlyEnforceIf(z)
                    md.AddBoolOr([at[i][x].Not(), at[j][(x + d) % g].Not(), z])
                    held.setdefault(("mixed", i, j, d), []).append(z)
        fixed.append(at)
    base = []
    for _ in range(o):
        x = {(p, b): md.NewBoolVar("") for p in points for b in range(g)}
        for p in points:
            md.AddExactlyOne([x[p, b] for b in range(g)])
        for b in range(g):
            md.Add(sum(x[p, b] for p in points) == s)
        for k, p in enumerate(points):  # groups are interchangeable: point k sits in one of the first k + 1
            for b in range(k + 1, g):
                md.Add(x[p, b] == 0)
        for p, q in itertools.combinations(points, 2):
            kind = _point_pair_type(g, p, q)
            for b in range(g):
                y = md.NewBoolVar("")
                md.AddImplication(y, x[p, b])
                md.AddImplication(y, x[q, b])
                md.AddBoolOr([x[p, b].Not(), x[q, b].Not(), y])
                if kind[0] == "pure" and g % 2 == 0 and kind[2] == g // 2:
                    md.Add(y == 0)  # an orbit of g / 2 pairs: its g shifts would hold each pair twice
                else:
                    held.setdefault(kind, []).append(y)
        base.append(x)
    complete = w * (s - 1) == g * s - 1
    for lits in held.values():
        md.Add(sum(lits) == 1) if complete else md.Add(sum(lits) <= 1)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(seed) % (2 ** 31)
    solver.parameters.max_deterministic_time = float(work)
    solver.parameters.max_time_in_seconds = float(max_seconds)
    if solver.Solve(md) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    rounds = []
    for at in fixed:
        a = [next(x for x in range(g) if solver.Value(at[c][x])) for c in range(s)]
        r = np.zeros(g * s, np.int64)
        for shift in range(g):
            for c in range(s):
                r[c * g + (a[c] + shift) % g] = shift
        rounds.append(r)
    for x in base:
        group = {p: b for (p, b), v in x.items() if solver.Value(v)}
        for shift in range(g):
            r = np.zeros(g * s, np.int64)
            for (u, c), b in group.items():
                r[c * g + (u + shift) % g] = b
            rounds.append(r)
    table = np.array(rounds, np.int64)
    return table if is_schedule(table, g, s) and len(table) == w else None
