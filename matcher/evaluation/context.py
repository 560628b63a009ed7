"""What every strategy shares: the evaluation set (an event with ground-truth pairs), one strategy's output
(:class:`Ranking`) and the :class:`Context` (one matcher encoded once, the hard-rule mask, profile vectors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matcher import scoring
from matcher.engine import Matcher
from matcher.evaluation import metrics
from matcher.profile import FACETS, facet_items
from models import EventFile, InvalidInput, MatchPolicy


@dataclass
class EvalSet:
    """An event with ground truth: ``pairs`` of attendees who should meet. ``mutual``: the pairs are good for
    both sides (true of co-authorship and of planted complementary pairs), so two-sided metrics apply."""

    name: str
    event_file: EventFile
    pairs: list[tuple[str, str]]
    mutual: bool = True

    def truth(self) -> dict[str, set[str]]:
        return metrics.pair_truth(self.pairs)

    def check(self) -> None:
        """Raise :class:`~models.InvalidInput` when a pair names an unknown attendee or there is no truth."""
        ids = {a.id for a in self.event_file.attendees}
        for i, (a, b) in enumerate(self.pairs):
            for x in (a, b):
                if x not in ids:
                    raise InvalidInput([{"field": f"truth[{i}]", "message": f"unknown attendee id {x!r}"}])
        if not any(a != b for a, b in self.pairs):
            raise InvalidInput([{"field": "truth", "message": "no ground-truth pairs to evaluate against"}])


@dataclass
class Ranking:
    """One strategy's output: top-k ``lists`` for everyone, ``full`` rankings for the queries, and the time
    spent producing the lists."""

    lists: dict[str, list[str]]
    full: dict[str, list[str]]
    seconds: float



class Context:
    """What strategies share: the event, one matcher (encoded once), the hard-rule mask and profile vectors."""

    def __init__(self, evalset: EvalSet, encoder, *, k: int, seed: int, progress: bool = False):
        self.evalset = evalset
        self.event_file = evalset.event_file
        self.k = k
        self.seed = seed
        self.progress = progress
        self.attendees = list(evalset.event_file.attendees)
        self.ids = [a.id for a in self.attendees]
        self.pos = {x: i for i, x in enumerate(self.ids)}
        self.truth = evalset.truth()
        self.queries = [q for q in self.ids if self.truth.get(q)]
        self.matcher = Matcher(evalset.event_file.event, encoder)
        self.matcher.upsert(self.attendees, progress=progress)
        self._allowed: np.ndarray | None = None
        self._profiles: np.ndarray | None = None

    @property
    def policy(self) -> MatchPolicy:
        return self.event_file.event.policy

    def allowed(self) -> np.ndarray:
        """``(n, n)`` bool: row ``i`` may see column ``j`` in a list under the event's hard rules."""
        if self._allowed is None:
            self.matcher.set_event(self.event_file.event)
            ps = self.matcher.pair_scores(self.ids)
            ok = ~(ps.blocked | ps.connected | ps.role_forbidden)
            if not self.policy.allow_same_company:
                ok &= ~ps.same_company
            opt = np.asarray([a.opt_out for a in self.attendees], dtype=bool)
            ok &= ~opt[None, :] & ~opt[:, None]
            np.fill_diagonal(ok, False)
            self._allowed = ok
        return self._allowed

    def item_vectors(self, facets: Sequence[str]) -> scoring.Segments:
        """Each attendee's item vectors over ``facets`` (through the matcher's cache: nothing is re-encoded)."""
        parts = []
        texts: list[str] = []
        for a in self.attendees:
            it = facet_items(a)
            items = [t for f in facets for t in it[f]]
            parts.append(len(items))
            texts.extend(items)
        vecs = self.matcher.encode_texts(texts) if texts else np.zeros((0, 1), np.float32)  # dim unknown: 1
        return scoring.Segments(np.ascontiguousarray(vecs, dtype=np.float32), np.asarray(parts, dtype=np.int64))

    def profiles(self) -> np.ndarray:
        """One unit vector per attendee: the normalised mean of all its item vectors (as the engine's)."""
        if self._profiles is None:
            seg = self.item_vectors(FACETS)
            out = np.zeros((len(self.ids), seg.vectors.shape[1]), dtype=np.float32)
            nz = seg.counts > 0
            if nz.any():
                out[nz] = np.add.reduceat(seg.vectors, seg.starts[nz], axis=0)
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            self._profiles = out / norms
        return self._profiles

