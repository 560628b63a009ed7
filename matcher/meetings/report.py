"""A schedule as documents: meetings by id, what was left out and why, and the quality report.

>>> import numpy as np
>>> from matcher.meetings.problem import MeetingProblem
>>> from matcher.meetings.solver import solve
>>> p = MeetingProblem(ids=["a", "b", "c"], slot_ids=["s1"], loc_ids=["T1"], avail=np.ones((3, 1), bool),
...                    loc_open=np.ones((1, 1), bool), loc_cap=[1], day=[0], max_per_day=[1, 1, 1],
...                    quota_min=[0, 0, 0], quota_target=[0, 0, 0], pairs=[[0, 1], [1, 2]], kind=[1, 1],
...                    fill_weight=[0, 0], fixed_slot=[-1, -1], fixed_loc=[-1, -1])
>>> sched = make_schedule(p, solve(p), event="e", timezone="UTC")
>>> sched.report.scheduled_requested, sched.report.bound, sched.unscheduled[0].reason
(1, 1, 'of the 1 slots both can make, b is busy in 1')
"""

from __future__ import annotations

import numpy as np

from matcher.meetings.checks import check_arrays
from matcher.meetings.problem import FILL, KIND_NAMES, MUST, MeetingProblem
from matcher.meetings.solver import Solution, gaps_of, why_unplaced
from models.meetings import Meeting, QuotaFill, Schedule, ScheduleReport, Unscheduled


def make_schedule(problem: MeetingProblem, solution: Solution, *, event: str, timezone: str,
                  seed: int = 0) -> Schedule:
    """Turn the solver's arrays into a :class:`models.Schedule` (meetings in slot, then location order)."""
    pb = problem
    so, lo = solution.slot_of, solution.loc_of
    meetings = []
    for p in sorted(np.nonzero(so >= 0)[0].tolist(), key=lambda p: (so[p], lo[p], p)):
        i, j = pb.pairs[p]
        meetings.append(Meeting(a=pb.ids[i], b=pb.ids[j], slot=pb.slot_ids[so[p]], location=pb.loc_ids[lo[p]],
                                kind=KIND_NAMES[pb.kind[p]], request=pb.requests[p],
                                kept=bool(pb.fixed_slot[p] == so[p] and p not in solution.unpinned)))
    reasons = why_unplaced(pb, so, lo)
    unscheduled = [Unscheduled(a=pb.ids[pb.pairs[p, 0]], b=pb.ids[pb.pairs[p, 1]], kind=KIND_NAMES[pb.kind[p]],
                               request=pb.requests[p], reason=reasons[p]) for p in sorted(reasons)]
    unscheduled += [Unscheduled(a=r["a"], b=r["b"], kind=r["kind"], request=r["request"], reason=r["reason"])
                    for r in pb.rejected]
    return Schedule(event=event, timezone=timezone, meetings=meetings, unscheduled=unscheduled,
                    report=make_report(pb, solution, seed=seed))


def make_report(problem: MeetingProblem, solution: Solution, *, seed: int = 0) -> ScheduleReport:
    pb = problem
    so = solution.slot_of
    on = so >= 0
    req = pb.kind != FILL
    cnt = np.bincount(pb.pairs[on].ravel(), minlength=pb.n)
    gaps = gaps_of(pb, so)
    quota = [QuotaFill(attendee=pb.ids[w], minimum=int(pb.quota_min[w]), target=int(pb.quota_target[w]),
                       scheduled=int(cnt[w])) for w in np.nonzero(pb.quota_target > 0)[0].tolist()]
    goal = sum(q.target for q in quota)
    n_req = int(req.sum()) + len(pb.rejected)
    placed = int((on & req).sum())
    return ScheduleReport(
        attendees=pb.n, slots=pb.n_slots, locations=len(pb.loc_ids), requested_pairs=n_req,
        must_meet_pairs=int((pb.kind == MUST).sum()) + sum(r["kind"] == "must_meet" for r in pb.rejected),
        scheduled_requested=placed, scheduled_must_meet=int((on & (pb.kind == MUST)).sum()),
        scheduled_fill=int((on & ~req).sum()), scheduled_share=placed / n_req if n_req else 1.0,
        bound=solution.count_bound, objective=solution.objective, objective_bound=solution.bound,
        optimal=solution.optimal, quota_fill=quota,
        quota_minimum_met=sum(q.scheduled >= q.minimum for q in quota),
        quota_share=(sum(min(q.scheduled, q.target) for q in quota) / goal) if goal else 1.0,
        idle_gaps=int(gaps.sum()), people_with_gaps=int((gaps > 0).sum()),
        people_without_meeting=int((cnt == 0).sum()),
        violations=check_arrays(pb, so, solution.loc_of), method=solution.method,
        seconds=round(solution.seconds, 3), seed=seed)
