"""Every hard rule of a schedule, verified without the solver's data structures.

:func:`check_schedule` reads the documents a person wrote (setup, requests) and the schedule, and lists every
broken rule in words; :func:`check_arrays` does the same on a :class:`MeetingProblem` and the solver's arrays.
Both are written from the rules, not from the solver, so a solver bug shows up here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

import numpy as np

from matcher.meetings.problem import FILL, MeetingProblem
from models.meetings import MeetingRequests, MeetingSetup, Schedule


def check_arrays(problem: MeetingProblem, slot_of: np.ndarray, loc_of: np.ndarray) -> list[str]:
    """Broken hard rules of an array schedule (empty: none)."""
    pb = problem
    out: list[str] = []
    person_slot: dict[tuple[int, int], int] = {}
    loc_slot: Counter = Counter()
    per_day: Counter = Counter()
    fills: Counter = Counter()
    seen: set[tuple[int, int]] = set()
    for p in range(len(pb.pairs)):
        s, lk = int(slot_of[p]), int(loc_of[p])
        i, j = int(pb.pairs[p, 0]), int(pb.pairs[p, 1])
        if s < 0:
            if lk >= 0:
                out.append(f"pair {pb.ids[i]}-{pb.ids[j]} has a location but no slot")
            continue
        key = (min(i, j), max(i, j))
        if key in seen:
            out.append(f"{pb.ids[i]} and {pb.ids[j]} meet twice")
        seen.add(key)
        if key in pb.blocked:
            out.append(f"{pb.ids[i]} and {pb.ids[j]} may not meet (event rules)")
        if pb.fixed_slot[p] >= 0 and pb.fixed_slot[p] != s:
            out.append(f"kept meeting {pb.ids[i]}-{pb.ids[j]} moved")
        for w in (i, j):
            if not pb.avail[w, s]:
                out.append(f"{pb.ids[w]} is not available in slot {pb.slot_ids[s]}")
            if (w, s) in person_slot:
                out.append(f"{pb.ids[w]} has two meetings in slot {pb.slot_ids[s]}")
            person_slot[w, s] = p
            per_day[w, int(pb.day[s])] += 1
            if pb.kind[p] == FILL:
                fills[w] += 1
        if lk < 0:
            out.append(f"meeting {pb.ids[i]}-{pb.ids[j]} has no location")
            continue
        if not pb.loc_open[lk, s]:
            out.append(f"location {pb.loc_ids[lk]} is closed in slot {pb.slot_ids[s]}")
        loc_slot[lk, s] += 1
    for (lk, s), c in loc_slot.items():
        if c > pb.loc_cap[lk]:
            out.append(f"location {pb.loc_ids[lk]} holds {c} meetings in slot {pb.slot_ids[s]} "
                       f"(capacity {pb.loc_cap[lk]})")
    for (w, d), c in per_day.items():
        if c > pb.max_per_day[w]:
            out.append(f"{pb.ids[w]} has {c} meetings on day {d + 1} (limit {pb.max_per_day[w]})")
    for w, c in fills.items():
        if c > pb.fill_per_person:
            out.append(f"{pb.ids[w]} has {c} filled-in meetings (limit {pb.fill_per_person})")
    return out


def check_schedule(schedule: Schedule, setup: MeetingSetup, requests: MeetingRequests, *,
                   roles: Mapping[str, str] | None = None, blocked: Iterable[tuple[str, str]] = (),
                   kept: Iterable[tuple[str, str, str]] = ()) -> list[str]:
    """Broken hard rules of a schedule, from the documents. ``kept``: ``(a, b, slot)`` meetings that had to stay
    where they were. Checks slots and locations exist, locations open and within capacity, one meeting per person
    per slot, availability, daily limits, fill-in limits, no pair twice, no blocked or declined pair, every
    meeting backed by an accepted request, a must-meet or (when filling is on) a fill-in."""
    roles = roles or {}
    out: list[str] = []
    slots = {s.id: s for s in setup.slots}
    locs = {loc.id: loc for loc in setup.locations}
    avail = {aid: set(setup.available_slots(aid)) for aid in setup.availability}
    bad_pairs = {frozenset(p) for p in blocked}
    declined = {frozenset((r.requester, r.recipient)) for r in requests.requests if r.state == "declined"}
    accepted = {frozenset((r.requester, r.recipient)) for r in requests.requests
                if r.state in ("accepted", "scheduled")}
    must = {frozenset((m.a, m.b)) for m in requests.must_meet}
    busy: dict[tuple[str, str], int] = {}
    per_loc: Counter = Counter()
    per_day: Counter = Counter()
    fills: Counter = Counter()
    pairs_seen: set[frozenset] = set()
    where = {}
    for k, m in enumerate(schedule.meetings):
        pair = frozenset((m.a, m.b))
        who = f"meeting {m.a}-{m.b}"
        if m.a == m.b:
            out.append(f"{who}: one person")
        if m.slot not in slots:
            out.append(f"{who}: unknown slot {m.slot!r}")
            continue
        if m.location not in locs:
            out.append(f"{who}: unknown location {m.location!r}")
            continue
        loc = locs[m.location]
        if loc.slots is not None and m.slot not in loc.slots:
            out.append(f"{who}: location {m.location} is closed in slot {m.slot}")
        per_loc[m.location, m.slot] += 1
        if pair in pairs_seen:
            out.append(f"{who}: the pair meets twice")
        pairs_seen.add(pair)
        where[pair] = m.slot
        if pair in bad_pairs:
            out.append(f"{who}: the event's rules do not allow this pair")
        if pair in declined:
            out.append(f"{who}: one of them declined the other")
        if m.kind == "fill":
            if not setup.fill.enabled:
                out.append(f"{who}: filled in although filling is off")
        elif pair not in accepted and pair not in must:
            out.append(f"{who}: no accepted request or must-meet behind it")
        for person in (m.a, m.b):
            if (person, m.slot) in busy:
                out.append(f"{person} has two meetings in slot {m.slot}")
            busy[person, m.slot] = k
            if person in avail and m.slot not in avail[person]:
                out.append(f"{person} is not available in slot {m.slot}")
            per_day[person, slots[m.slot].day] += 1
            if m.kind == "fill":
                fills[person] += 1
    for (lid, sid), c in per_loc.items():
        if c > locs[lid].capacity:
            out.append(f"location {lid} holds {c} meetings in slot {sid} (capacity {locs[lid].capacity})")
    limit_cache: dict[str, int | None] = {}
    for (person, d), c in per_day.items():
        if person not in limit_cache:
            limit_cache[person] = setup.limits.for_attendee(person, roles.get(person, "")).max_per_day
        lim = limit_cache[person]
        if lim is not None and c > lim:
            out.append(f"{person} has {c} meetings on {d} (limit {lim})")
    for person, c in fills.items():
        if c > setup.fill.per_person:
            out.append(f"{person} has {c} filled-in meetings (limit {setup.fill.per_person})")
    for a, b, slot in kept:
        got = where.get(frozenset((a, b)))
        if got != slot:
            out.append(f"kept meeting {a}-{b} moved from {slot} to {got}")
    return out


def idle_gaps(schedule: Schedule, setup: MeetingSetup) -> dict[str, int]:
    """Idle gaps per person (a run of free slots between two meetings on the same day), from the documents."""
    order = {s.id: k for k, s in enumerate(setup.slots)}
    day = {s.id: s.day for s in setup.slots}
    mine: dict[str, list[str]] = defaultdict(list)
    for m in schedule.meetings:
        mine[m.a].append(m.slot)
        mine[m.b].append(m.slot)
    out = {}
    for person, slots in mine.items():
        g = 0
        ks = sorted(order[s] for s in slots)
        for x, y in zip(ks, ks[1:], strict=False):
            if y - x > 1 and day[setup.slots[x].id] == day[setup.slots[y].id]:
                g += 1
        out[person] = g
    return out
