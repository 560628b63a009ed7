"""The seating problem (people, rounds, tables, rules as index arrays), table sizes and the solution's shape."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from models import InfeasibleRules, InvalidInput

Progress = Callable[[int, int], None]

ABSENT = -1
BYE = -2


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


@dataclass
class Seating:
    """``table[r, i]``: person ``i``'s 0-based table in round ``r``, :data:`ABSENT` or :data:`BYE`."""

    table: np.ndarray
    capacities: list[list[int]]
    moves: int = 0


def infeasible(field_: str, message: str) -> InfeasibleRules:
    """The named error for rules that cannot hold (one entry: the field to change and why)."""
    return InfeasibleRules([{"field": field_, "message": message}])
