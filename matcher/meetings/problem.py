"""The scheduling problem as arrays: people x slots, locations x slots, and the pairs to place.

:func:`build_problem` turns the documents (:class:`models.MeetingSetup`, :class:`models.MeetingRequests`) plus the
event's people, its blocked pairs and optional pair scores into a :class:`MeetingProblem`; the solvers work on the
arrays only, so tests can build problems by hand.

>>> from models import parse_meeting_setup, parse_meeting_requests
>>> setup = parse_meeting_setup({"sessions": [{"date": "2026-06-03", "start": "09:00", "end": "10:00",
...                                            "minutes": 30}], "locations": [{"id": "T1"}]})
>>> reqs = parse_meeting_requests({"requests": [{"id": "r1", "requester": "a", "recipient": "b",
...                                              "state": "accepted"}]})
>>> p = build_problem(setup, reqs, ["a", "b", "c"])
>>> p.n, p.n_slots, p.pairs.tolist(), p.slot_cap.tolist()
(3, 2, [[0, 1]], [1, 1])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from models import InvalidInput
from models.meetings import MeetingRequests, MeetingSetup

MUST, ACCEPTED, FILL = 0, 1, 2
KIND_NAMES = ("must_meet", "accepted", "fill")

#: objective weights (integers: CP-SAT needs them). Lexicographic in practice: a must-meet outweighs any number of
#: quota meetings a single move can change, a guaranteed-quota meeting outweighs an ordinary accepted one, an
#: accepted meeting outweighs any fill-in, and an idle gap costs less than the smallest fill-in worth placing.
W_MUST = 1_000_000
W_ACCEPTED = 10_000
W_QUOTA_MIN = 100_000
W_QUOTA_TARGET = 1_000
W_FILL_MAX = 100
W_GAP = 3

#: ``scores`` for fill-ins: an (n, n) matrix aligned with ``ids``, or a callable ``ids -> matrix``
ScoreSource = np.ndarray | Callable[[list[str]], np.ndarray]


@dataclass
class MeetingProblem:
    """A meeting-scheduling problem over people ``0..n-1``, slots ``0..S-1`` and locations ``0..L-1``.

    ``avail[i, s]``: person i can meet in slot s. ``loc_open[l, s]``, ``loc_cap[l]``: location l holds
    ``loc_cap[l]`` meetings at once in the slots it is open. ``day[s]``: day index of slot s (slots are in time
    order). ``max_per_day[i]``: most meetings of i in a day. ``quota_min``/``quota_target``: sponsored counts.
    ``pairs[p] = (i, j)`` with ``kind[p]`` (MUST, ACCEPTED, FILL) and ``fill_weight[p]`` (0..W_FILL_MAX);
    ``fixed_slot[p]``/``fixed_loc[p]`` pin an already scheduled meeting (-1: free). ``fill_per_person`` caps the
    fill-ins of one person. ``blocked`` holds the index pairs (i < j) that may never meet.
    """

    ids: list[str]
    slot_ids: list[str]
    loc_ids: list[str]
    avail: np.ndarray
    loc_open: np.ndarray
    loc_cap: np.ndarray
    day: np.ndarray
    max_per_day: np.ndarray
    quota_min: np.ndarray
    quota_target: np.ndarray
    pairs: np.ndarray
    kind: np.ndarray
    fill_weight: np.ndarray
    fixed_slot: np.ndarray
    fixed_loc: np.ndarray
    requests: list[str | None] = field(default_factory=list)
    fill_per_person: int = 0
    blocked: set[tuple[int, int]] = field(default_factory=set)
    rejected: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.avail = np.asarray(self.avail, dtype=bool)
        self.loc_open = np.asarray(self.loc_open, dtype=bool)
        self.loc_cap = np.asarray(self.loc_cap, dtype=np.int64)
        self.day = np.asarray(self.day, dtype=np.int64)
        self.pairs = np.asarray(self.pairs, dtype=np.int64).reshape(-1, 2)
        self.kind = np.asarray(self.kind, dtype=np.int8)
        p = len(self.pairs)
        for name, arr in (("kind", self.kind), ("fill_weight", self.fill_weight), ("fixed_slot", self.fixed_slot),
                          ("fixed_loc", self.fixed_loc)):
            if len(arr) != p:
                raise ValueError(f"{name} has {len(arr)} entries for {p} pairs")
        self.fill_weight = np.asarray(self.fill_weight, dtype=np.int64)
        self.fixed_slot = np.asarray(self.fixed_slot, dtype=np.int64)
        self.fixed_loc = np.asarray(self.fixed_loc, dtype=np.int64)
        self.max_per_day = np.asarray(self.max_per_day, dtype=np.int64)
        self.quota_min = np.asarray(self.quota_min, dtype=np.int64)
        self.quota_target = np.maximum(np.asarray(self.quota_target, dtype=np.int64), self.quota_min)
        if not self.requests:
            self.requests = [None] * p
        n, s = self.avail.shape
        if self.loc_open.shape != (len(self.loc_ids), s):
            raise ValueError(f"loc_open is {self.loc_open.shape}, expected ({len(self.loc_ids)}, {s})")
        if n != len(self.ids) or s != len(self.slot_ids):
            raise ValueError("avail must be (people, slots)")
        if p and (self.pairs.min() < 0 or self.pairs.max() >= n or (self.pairs[:, 0] == self.pairs[:, 1]).any()):
            raise ValueError("pairs must join two different people in 0..n-1")
        if len(self.day) != s or (s > 1 and (np.diff(self.day) < 0).any()):
            raise ValueError("day must give one non-decreasing day index per slot")

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def n_slots(self) -> int:
        return len(self.slot_ids)

    @property
    def n_days(self) -> int:
        return int(self.day.max()) + 1 if len(self.day) else 0

    @property
    def slot_cap(self) -> np.ndarray:
        """Meetings that fit in each slot: the capacities of the locations open then."""
        return (self.loc_open * self.loc_cap[:, None]).sum(axis=0)

    def weight(self, p: int) -> int:
        """Objective value of placing pair ``p`` (before quota bonuses and gaps)."""
        k = self.kind[p]
        return W_MUST if k == MUST else W_ACCEPTED if k == ACCEPTED else int(self.fill_weight[p])

    def same_day_neighbours(self) -> tuple[np.ndarray, np.ndarray]:
        """``prev[s]``/``next[s]``: the adjacent slot on the same day, or -1."""
        s = self.n_slots
        prev = np.full(s, -1, np.int64)
        nxt = np.full(s, -1, np.int64)
        for t in range(1, s):
            if self.day[t] == self.day[t - 1]:
                prev[t] = t - 1
                nxt[t - 1] = t
        return prev, nxt


def _key(i: int, j: int) -> tuple[int, int]:
    return (i, j) if i < j else (j, i)


def blocked_pairs_from_scores(pair_scores, *, allow_same_company: bool = False,
                              allow_repeat_meetings: bool = False) -> set[tuple[str, str]]:
    """The id pairs the event's matching rules forbid, from a :class:`matcher.PairScores` (blocked either way,
    role rules, same company unless allowed, already connected unless repeats are allowed)."""
    mask = np.asarray(pair_scores.blocked, bool) | np.asarray(pair_scores.role_forbidden, bool)
    if not allow_same_company:
        mask |= np.asarray(pair_scores.same_company, bool)
    if not allow_repeat_meetings:
        mask |= np.asarray(pair_scores.connected, bool)
    ii, jj = np.nonzero(np.triu(mask, 1))
    ids = pair_scores.ids
    return {(ids[i], ids[j]) for i, j in zip(ii.tolist(), jj.tolist(), strict=True)}


def build_problem(setup: MeetingSetup, requests: MeetingRequests, ids: Sequence[str], *,
                  roles: Mapping[str, str] | None = None, blocked: Iterable[tuple[str, str]] = (),
                  blocked_reason: Callable[[str, str], str] | None = None,
                  scores: ScoreSource | None = None, keep: bool = True) -> MeetingProblem:
    """Arrays for one scheduling run.

    ``ids`` are the event's people (a request naming anyone else is an :class:`models.InvalidInput`); ``roles``
    (id -> role) select per-role limits; ``blocked`` pairs (the event's matching rules) are never scheduled (such
    requests land in ``rejected`` with the reason); ``scores`` feed the fill-ins when ``setup.fill.enabled``;
    ``keep`` pins meetings that are already scheduled (``False``: reschedule everything).
    """
    ids = list(ids)
    pos = {a: i for i, a in enumerate(ids)}
    if len(pos) != len(ids):
        raise InvalidInput([{"field": "attendees", "message": "attendee ids must be unique"}])
    roles = roles or {}
    slot_ids = [s.id for s in setup.slots]
    spos = {s: k for k, s in enumerate(slot_ids)}
    n, S = len(ids), len(slot_ids)
    errors: list[dict[str, str]] = []
    for aid in setup.availability:
        if aid not in pos:
            errors.append({"field": f"availability.{aid}", "message": f"unknown attendee {aid!r}"})
    for k, q in enumerate(setup.quotas):
        if q.attendee not in pos:
            errors.append({"field": f"quotas[{k}].attendee", "message": f"unknown attendee {q.attendee!r}"})
    for aid in setup.limits.attendees:
        if aid not in pos:
            errors.append({"field": f"limits.attendees.{aid}", "message": f"unknown attendee {aid!r}"})
    for k, r in enumerate(requests.requests):
        for f in ("requester", "recipient"):
            if getattr(r, f) not in pos:
                errors.append({"field": f"requests[{k}].{f}", "message": f"unknown attendee {getattr(r, f)!r}"})
    for k, m in enumerate(requests.must_meet):
        for f in ("a", "b"):
            if getattr(m, f) not in pos:
                errors.append({"field": f"must_meet[{k}].{f}", "message": f"unknown attendee {getattr(m, f)!r}"})
    loc_ids = [loc.id for loc in setup.locations]
    lpos = {x: k for k, x in enumerate(loc_ids)}
    for k, r in enumerate(requests.requests):
        if r.slot is not None and r.slot not in spos:
            errors.append({"field": f"requests[{k}].slot", "message": f"unknown slot {r.slot!r}"})
        if r.location is not None and r.location not in lpos:
            errors.append({"field": f"requests[{k}].location", "message": f"unknown location {r.location!r}"})
    if errors:
        raise InvalidInput(errors)

    avail = np.ones((n, S), dtype=bool)
    for aid in setup.availability:
        row = np.zeros(S, dtype=bool)
        row[[spos[s] for s in setup.available_slots(aid)]] = True
        avail[pos[aid]] = row
    loc_open = np.zeros((len(loc_ids), S), dtype=bool)
    for k, loc in enumerate(setup.locations):
        if loc.slots is None:
            loc_open[k] = True
        else:
            loc_open[k, [spos[s] for s in loc.slots]] = True
    loc_cap = np.array([loc.capacity for loc in setup.locations], dtype=np.int64)
    days = sorted({s.day for s in setup.slots})
    dpos = {d: k for k, d in enumerate(days)}
    day = np.array([dpos[s.day] for s in setup.slots], dtype=np.int64)
    max_per_day = np.full(n, S, dtype=np.int64)
    for i, aid in enumerate(ids):
        lim = setup.limits.for_attendee(aid, roles.get(aid, ""))
        if lim.max_per_day is not None:
            max_per_day[i] = lim.max_per_day
    qmin = np.zeros(n, np.int64)
    qtarget = np.zeros(n, np.int64)
    for q in setup.quotas:
        qmin[pos[q.attendee]] = q.minimum
        qtarget[pos[q.attendee]] = q.goal

    blocked_idx: dict[tuple[int, int], str] = {}
    for a, b in blocked:
        if a in pos and b in pos and a != b:
            blocked_idx[_key(pos[a], pos[b])] = (blocked_reason(a, b) if blocked_reason
                                                 else "the event's matching rules do not allow this pair")
    declined = {_key(pos[r.requester], pos[r.recipient]) for r in requests.requests if r.state == "declined"}

    pairs: list[tuple[int, int]] = []
    kind: list[int] = []
    fixed_slot: list[int] = []
    fixed_loc: list[int] = []
    req_of: list[str | None] = []
    index: dict[tuple[int, int], int] = {}
    rejected: list[dict] = []

    def add(i: int, j: int, k: int, request: str | None, slot: int = -1, loc: int = -1) -> None:
        key = _key(i, j)
        if key in blocked_idx:
            rejected.append({"a": ids[i], "b": ids[j], "kind": KIND_NAMES[k], "request": request,
                             "reason": blocked_idx[key]})
            return
        if key in declined and k == ACCEPTED:
            rejected.append({"a": ids[i], "b": ids[j], "kind": KIND_NAMES[k], "request": request,
                             "reason": "one of them declined a meeting with the other"})
            return
        if key in index:  # the same pair twice: one meeting; must-meet wins, a pinned slot is kept
            p = index[key]
            kind[p] = min(kind[p], k)
            if req_of[p] is None:
                req_of[p] = request
            if fixed_slot[p] < 0 and slot >= 0:
                fixed_slot[p], fixed_loc[p] = slot, loc
            return
        index[key] = len(pairs)
        pairs.append(key)
        kind.append(k)
        fixed_slot.append(slot)
        fixed_loc.append(loc)
        req_of.append(request)

    for m in requests.must_meet:
        add(pos[m.a], pos[m.b], MUST, None)
    for r in requests.requests:
        if r.state in ("accepted", "scheduled"):
            slot = spos[r.slot] if (keep and r.state == "scheduled" and r.slot is not None) else -1
            loc = lpos[r.location] if slot >= 0 else -1
            add(pos[r.requester], pos[r.recipient], ACCEPTED, r.id, slot, loc)
    # a must-meet pair with an accepted request keeps the request id (it came from kind ACCEPTED's add above)

    fill_weight = [0] * len(pairs)
    if setup.fill.enabled and scores is not None and setup.fill.per_person > 0:
        mat = scores(ids) if callable(scores) else np.asarray(scores)
        mat = np.asarray(mat, dtype=np.float32)
        if mat.shape != (n, n):
            raise ValueError(f"scores must be ({n}, {n}) for {n} attendees, got {mat.shape}")
        work = mat.copy()
        np.fill_diagonal(work, -np.inf)
        c = min(setup.fill.candidates, max(n - 1, 1))
        top = np.argpartition(-work, c - 1, axis=1)[:, :c] if n > 1 else np.zeros((n, 0), np.int64)
        cand: set[tuple[int, int]] = set()
        for i in range(n):
            for j in top[i].tolist():
                if j != i and work[i, j] >= setup.fill.min_score and work[i, j] > 0:
                    cand.add(_key(i, j))
        for key in sorted(cand):
            if key in index or key in blocked_idx or key in declined:
                continue
            w = int(round(float(mat[key]) * W_FILL_MAX))
            if w < 1:
                continue
            index[key] = len(pairs)
            pairs.append(key)
            kind.append(FILL)
            fixed_slot.append(-1)
            fixed_loc.append(-1)
            req_of.append(None)
            fill_weight.append(min(w, W_FILL_MAX))

    return MeetingProblem(
        ids=ids, slot_ids=slot_ids, loc_ids=loc_ids, avail=avail, loc_open=loc_open, loc_cap=loc_cap, day=day,
        max_per_day=max_per_day, quota_min=qmin, quota_target=qtarget,
        pairs=np.array(pairs, dtype=np.int64).reshape(-1, 2), kind=np.array(kind, dtype=np.int8),
        fill_weight=np.array(fill_weight, dtype=np.int64), fixed_slot=np.array(fixed_slot, dtype=np.int64),
        fixed_loc=np.array(fixed_loc, dtype=np.int64), requests=req_of,
        fill_per_person=setup.fill.per_person if setup.fill.enabled else 0,
        blocked=set(blocked_idx), rejected=rejected)
