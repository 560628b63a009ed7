"""The connections graph: who already knows whom, and mutual connections (Adamic-Adar)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence


class ConnectionGraph:
    """Undirected: if either person lists the other, they know each other. Nodes are attendee ids; people
    outside the event may appear (a mutual acquaintance need not attend).

    >>> g = ConnectionGraph()
    >>> g.set("a", ["z"]); g.set("b", ["z"]); g.set("c", ["z"])
    >>> sorted(g.adamic_adar("a"))
    ['b', 'c']
    """

    def __init__(self) -> None:
        self._declared: dict[str, set[str]] = {}
        self._adj: dict[str, set[str]] = defaultdict(set)

    def set(self, node: str, neighbours: Iterable[str]) -> None:
        """Replace what ``node`` declares; edges declared by others stay."""
        self.remove(node)
        new = {n for n in neighbours if n != node}
        self._declared[node] = new
        for n in new:
            self._adj[node].add(n)
            self._adj[n].add(node)

    def remove(self, node: str) -> None:
        """Forget what ``node`` declared (edges others declared toward it stay)."""
        for n in self._declared.pop(node, set()):
            if node not in self._declared.get(n, ()):
                self._adj[node].discard(n)
                self._adj[n].discard(node)

    def erase(self, node: str) -> None:
        """Remove ``node`` entirely, including edges others declared toward it."""
        self.remove(node)
        for n in list(self._adj.get(node, ())):
            self._adj[n].discard(node)
            self._declared.get(n, set()).discard(node)
        self._adj.pop(node, None)

    def neighbours(self, node: str) -> set[str]:
        return self._adj.get(node, set())

    def degree(self, node: str) -> int:
        return len(self._adj.get(node, ()))

    def adamic_adar(self, node: str, tie: Callable[[str, list[str]], Sequence[float]] | None = None
                    ) -> dict[str, float]:
        """Scores of every node two hops away (not ``node`` itself): sum over shared neighbours z of 1/log(deg z),
        each path times the strength of its two ties when ``tie`` is given (``tie(a, bs)``: a positive weight for
        each edge from ``a`` to one of ``bs``).

        >>> g = ConnectionGraph()
        >>> g.set("a", ["z"]); g.set("b", ["z"])
        >>> round(g.adamic_adar("a")["b"], 3), round(g.adamic_adar("a", lambda a, bs: [0.5] * len(bs))["b"], 3)
        (1.443, 0.361)
        """
        scores: dict[str, float] = defaultdict(float)
        near = sorted(self._adj.get(node, ()))
        strength = tie(node, near) if tie is not None and near else [1.0] * len(near)
        for z, t_z in zip(near, strength, strict=True):
            nz = self._adj[z]
            if len(nz) < 2:
                continue
            w = t_z / math.log(len(nz))
            others = sorted(nz - {node})
            far = tie(z, others) if tie is not None else [1.0] * len(others)
            for other, t_o in zip(others, far, strict=True):
                scores[other] += w * t_o
        return dict(scores)

    def mutual(self, a: str, b: str) -> list[str]:
        """Shared neighbours of ``a`` and ``b``, sorted."""
        return sorted(self.neighbours(a) & self.neighbours(b))
