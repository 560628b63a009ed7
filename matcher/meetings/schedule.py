"""From documents to a schedule: the organizer's batch run and booking on acceptance.

>>> from models import parse_meeting_setup, parse_meeting_requests
>>> setup = parse_meeting_setup({"timezone": "Europe/Lisbon", "locations": [{"id": "T1"}],
...     "sessions": [{"date": "2026-06-03", "start": "09:00", "end": "10:00", "minutes": 30}]})
>>> reqs = parse_meeting_requests({"requests": [
...     {"id": "r1", "requester": "ana", "recipient": "bo", "state": "accepted"},
...     {"id": "r2", "requester": "cy", "recipient": "bo", "state": "accepted"}]})
>>> sched = schedule_meetings(setup, reqs, ["ana", "bo", "cy"], event="demo")
>>> [(m.a, m.b, m.slot, m.location) for m in sched.meetings]
[('ana', 'bo', '2026-06-03T09:00', 'T1'), ('bo', 'cy', '2026-06-03T09:30', 'T1')]
>>> book_request(setup, reqs, ["ana", "bo", "cy"], "r1")
('2026-06-03T09:00', 'T1')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from matcher.meetings.problem import ScoreSource, build_problem
from matcher.meetings.report import make_schedule
from matcher.meetings.solver import Progress, book, solve
from models import InvalidInput
from models.meetings import MeetingRequests, MeetingSetup, Schedule


def schedule_meetings(setup: MeetingSetup, requests: MeetingRequests, ids: Sequence[str], *, event: str,
                      roles: Mapping[str, str] | None = None, blocked: Iterable[tuple[str, str]] = (),
                      blocked_reason: Callable[[str, str], str] | None = None, scores: ScoreSource | None = None,
                      keep: bool = True, method: str = "auto", time_limit: float = 10.0, seed: int = 0,
                      workers: int = 1, progress: Progress | None = None) -> Schedule:
    """The organizer's run: every accepted and must-meet pair it can place, then fill-ins if the setup asks.

    ``keep``: meetings already scheduled (requests in state ``scheduled`` with a slot) stay where they are;
    ``False`` reschedules everything. Same input and seed, same schedule.
    """
    problem = build_problem(setup, requests, ids, roles=roles, blocked=blocked, blocked_reason=blocked_reason,
                            scores=scores, keep=keep)
    solution = solve(problem, method=method, time_limit=time_limit, seed=seed, workers=workers,
                     progress=progress)
    return make_schedule(problem, solution, event=event, timezone=setup.timezone, seed=seed)


def book_request(setup: MeetingSetup, requests: MeetingRequests, ids: Sequence[str], request_id: str, *,
                 roles: Mapping[str, str] | None = None, blocked: Iterable[tuple[str, str]] = ()
                 ) -> tuple[str, str]:
    """Booking on acceptance: the earliest slot both people of ``request_id`` can make and a free location in
    it, around the meetings already scheduled. Raises :class:`matcher.meetings.NoSlot` saying why none exists,
    or :class:`models.InvalidInput` for an unknown request or one that is not accepted."""
    target = next((r for r in requests.requests if r.id == request_id), None)
    if target is None:
        raise InvalidInput([{"field": "request", "message": f"unknown request {request_id!r}"}])
    if target.state not in ("accepted", "scheduled"):
        raise InvalidInput([{"field": "request", "message": f"request {request_id!r} is {target.state}; only an "
                                                            f"accepted request is booked"}])
    others = MeetingRequests(requests=[r for r in requests.requests if r.state in ("scheduled", "accepted")],
                             must_meet=[])
    problem = build_problem(setup, others, ids, roles=roles, blocked=blocked, keep=True)
    index = {(problem.ids[i], problem.ids[j]): p for p, (i, j) in enumerate(problem.pairs.tolist())}
    key = (target.requester, target.recipient)
    p = index.get(key, index.get(key[::-1]))
    if p is None:
        reason = next((r["reason"] for r in problem.rejected if r["request"] == request_id), "cannot be booked")
        raise InvalidInput([{"field": "request", "message": f"request {request_id!r}: {reason}"}])
    slot_of = problem.fixed_slot.copy()
    loc_of = problem.fixed_loc.copy()
    slot_of[p] = loc_of[p] = -1
    s, lk = book(problem, slot_of, loc_of, int(p))
    return problem.slot_ids[s], problem.loc_ids[lk]


def agenda_counts(schedule: Schedule) -> dict[str, int]:
    """Meetings per attendee."""
    out: dict[str, int] = {}
    for m in schedule.meetings:
        out[m.a] = out.get(m.a, 0) + 1
        out[m.b] = out.get(m.b, 0) + 1
    return dict(sorted(out.items()))


__all__ = ["agenda_counts", "book_request", "schedule_meetings"]
