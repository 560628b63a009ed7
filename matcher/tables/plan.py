"""Plans from ids and rules: :func:`plan_tables` over any affinity matrix, :func:`plan_event` over a matcher."""

from __future__ import annotations

import time
from collections.abc import Container, Sequence

import numpy as np

from matcher.tables.checks import find_violations
from matcher.tables.problem import Progress, SeatingProblem, infeasible, table_capacities
from matcher.tables.report import to_plan
from matcher.tables.solver import solve_seating
from models import InfeasibleRules, InvalidInput, TablePlan
from models.tables import TablePlanRequest


def plan_tables(ids: Sequence[str], affinity: np.ndarray, request: TablePlanRequest, *,
                forbidden: np.ndarray | None = None, same_company: np.ndarray | None = None,
                blocked: np.ndarray | None = None, role_forbidden: np.ndarray | None = None,
                roles: Sequence[str] | None = None, companies: Sequence[str] | None = None,
                allow_same_company: bool = False, event_id: str = "event",
                progress: Progress | None = None) -> TablePlan:
    """Plan tables for people ``ids`` with pairwise ``affinity`` (symmetric, ``(n, n)``), following ``request``.

    ``same_company``/``blocked``/``role_forbidden`` are ``(n, n)`` bool masks (as in
    :class:`matcher.PairScores`); same-company pairs sit apart unless ``request.rules.allow_same_company`` or
    ``allow_same_company`` (the event policy) says otherwise; role-forbidden pairs only with
    ``rules.respect_role_rules``. Raises :class:`models.InvalidInput` for unknown ids in the rules and
    :class:`models.InfeasibleRules` for rules that cannot all hold.

    >>> import numpy as np
    >>> from models import TablePlanRequest
    >>> req = TablePlanRequest(rounds=1, table_size=2, rules={"keep_apart": [["a", "b"]]})
    >>> aff = np.ones((4, 4), np.float32)
    >>> [sorted(t.seats) for t in plan_tables("abcd", aff, req).rounds[0].tables if "a" in t.seats]
    [['a', 'c']]
    """
    t0 = time.perf_counter()
    ids = list(ids)
    n = len(ids)
    pos = {x: i for i, x in enumerate(ids)}
    rules = request.rules
    R = request.rounds
    errors: list[dict[str, str]] = []

    def lookup(x: str, where: str) -> int | None:
        i = pos.get(x)
        if i is None:
            errors.append({"field": where, "message": f"unknown attendee id {x!r} (not among the {n} attendees "
                                                      f"being seated)"})
        return i

    forb = np.zeros((n, n), bool) if forbidden is None else np.asarray(forbidden, bool).copy()
    reasons: dict[tuple[int, int], str] = {}
    allow_company = allow_same_company if rules.allow_same_company is None else rules.allow_same_company
    if blocked is not None:
        forb |= np.asarray(blocked, bool)
    if role_forbidden is not None and rules.respect_role_rules:
        forb |= np.asarray(role_forbidden, bool)
    for g, group in enumerate(rules.keep_apart):
        members = [lookup(x, f"rules.keep_apart[{g}][{k}]") for k, x in enumerate(group)]
        members = [i for i in members if i is not None]
        for x in members:
            for y in members:
                if x != y:
                    forb[x, y] = True
                    reasons.setdefault((min(x, y), max(x, y)), f"rules.keep_apart[{g}] keeps them apart")
    np.fill_diagonal(forb, False)

    def why(i: int, j: int) -> str:
        key = (min(i, j), max(i, j))
        if key in reasons:
            return reasons[key]
        if blocked is not None and blocked[i, j]:
            return "one of them blocked the other"
        if same_company is not None and not allow_company and same_company[i, j]:
            company = f" {companies[i]!r}" if companies is not None else ""
            return (f"they work at the same company{company} and same-company attendees sit apart "
                    f"(set rules.allow_same_company or the event policy to seat them together)")
        if role_forbidden is not None and rules.respect_role_rules and role_forbidden[i, j]:
            return "the event's role rules keep their roles apart (rules.respect_role_rules)"
        return "the rules keep them apart"

    # teams (overlapping groups merge)
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    team_rule: dict[int, int] = {}
    for g, group in enumerate(rules.keep_together):
        members = [lookup(x, f"rules.keep_together[{g}][{k}]") for k, x in enumerate(group)]
        members = [i for i in members if i is not None]
        for x in members[1:]:
            parent[root(x)] = root(members[0])
        for x in members:
            team_rule.setdefault(x, g)
    groups: dict[int, list[int]] = {}
    for x in team_rule:
        groups.setdefault(root(x), []).append(x)
    teams = [sorted(v) for v in groups.values() if len(v) > 1]
    attends = {pos[aid]: set(r) for aid, r in rules.attendance.items() if aid in pos}
    unit = {i: t for t, team in enumerate(teams) for i in team}
    present_count = [n - sum(1 for rs in attends.values() if r not in rs) for r in range(1, R + 1)]
    n_tables = [len(table_capacities(c, request.table_size, request.capacities, request.odd)[0])
                for c in present_count]
    if same_company is not None and not allow_company:
        # colleagues sit apart, except colleagues an explicit keep_together rule puts in one team
        company = np.asarray(same_company, bool).copy()
        for team in teams:
            company[np.ix_(team, team)] = False
        forb |= company
        np.fill_diagonal(forb, False)
        label = np.full(n, -1, np.int64)
        for i in range(n):
            if label[i] < 0 and company[i].any():
                staff = np.flatnonzero(company[i])
                label[staff] = i
                label[i] = i
                name = f"{companies[i]!r}" if companies is not None and companies[i] else "one company"
                _check_group_fits([i, *staff.tolist()],
                                  f"{len(staff) + 1} attendees work at {name} and same-company attendees sit "
                                  f"apart (set rules.allow_same_company or the event policy to seat them "
                                  f"together)", "rules.allow_same_company", attends, n_tables, unit)
    for g, group in enumerate(rules.keep_apart):
        members = [pos[x] for x in group if x in pos]
        _check_group_fits(members, f"rules.keep_apart[{g}] keeps {len(members)} attendees apart",
                          f"rules.keep_apart[{g}]", attends, n_tables, unit)

    present = np.ones((R, n), bool)
    for aid, rounds in rules.attendance.items():
        i = lookup(aid, f"rules.attendance.{aid}")
        late = [r for r in rounds if r > R]
        if late:
            errors.append({"field": f"rules.attendance.{aid}",
                           "message": f"round {late[0]} but the plan has {R} rounds"})
            continue
        if i is not None:
            present[:, i] = False
            present[np.asarray(rounds) - 1, i] = True
    pinned = np.full((R, n), -1, np.int64)
    for s_idx, seat in enumerate(rules.fixed_seats):
        i = lookup(seat.id, f"rules.fixed_seats[{s_idx}].id")
        rounds = seat.rounds or list(range(1, R + 1))
        late = [r for r in rounds if r > R]
        if late:
            errors.append({"field": f"rules.fixed_seats[{s_idx}].rounds",
                           "message": f"round {late[0]} but the plan has {R} rounds"})
            continue
        if i is None:
            continue
        for r in rounds:
            prev = pinned[r - 1, i]
            if prev >= 0 and prev != seat.table - 1:
                errors.append({"field": f"rules.fixed_seats[{s_idx}]",
                               "message": f"{seat.id!r} is already pinned to table {prev + 1} in round {r}"})
            pinned[r - 1, i] = seat.table - 1
    role_names = [rm.role.strip().lower() for rm in rules.role_mix]
    role_code = np.full(n, -1, np.int64)
    if role_names:
        by_name = {name: c for c, name in enumerate(role_names)}
        for i, role in enumerate(roles or [""] * n):
            role_code[i] = by_name.get((role or "").strip().lower(), -1)
    if errors:
        raise InvalidInput(errors)

    prob = SeatingProblem(
        affinity=np.asarray(affinity, np.float32), rounds=R, table_size=request.table_size,
        capacities=request.capacities, odd=request.odd, forbidden=forb, present=present, pinned=pinned,
        teams=teams, roles=role_code, role_min=[rm.min for rm in rules.role_mix],
        role_max=[rm.max for rm in rules.role_mix], role_names=role_names, names=ids, why_apart=why)
    seating = solve_seating(prob, seed=request.seed, effort=request.effort, progress=progress)
    violations = find_violations(seating, prob)
    if violations:
        more = f" (and {len(violations) - 3} more)" if len(violations) > 3 else ""
        raise InfeasibleRules([{"field": "rules", "message": "no plan found that honours every rule: "
                                                             + "; ".join(violations[:3]) + more
                                                             + ". Loosen the rules or add tables."}])
    return to_plan(seating, prob, ids, event_id, request.seed, time.perf_counter() - t0)


def _check_group_fits(members: list[int], what: str, field_: str, attends: dict[int, set[int]],
                      tables: list[int], unit: dict[int, int]) -> None:
    """People who must all sit apart need a table each, in every round they attend."""
    if len(members) < 2:
        return
    for r, n_tables in enumerate(tables, 1):
        here = {unit.get(i, -1 - i) for i in members if r in attends.get(i, {r})}  # a team needs one table
        if len(here) > n_tables:
            raise infeasible(field_, f"round {r}: {what}, but there are only {n_tables} tables")


def check_attendees(attendees: Sequence[str], known: Container[str], limit: int | None = None) -> None:
    """Raise :class:`~models.InvalidInput` naming every id of a plan's ``attendees`` not in ``known`` (the first
    ``limit`` of them, when given) and the first one given twice (one pass: a long list of copies costs no more
    than a long list).

    >>> check_attendees(["a", "zz", "a"], {"a"})
    Traceback (most recent call last):
    ...
    models.errors.InvalidInput: attendees[1]: unknown attendee id 'zz'; attendees: duplicate id 'a'
    """
    errors = [{"field": f"attendees[{k}]", "message": f"unknown attendee id {x!r}"}
              for k, x in enumerate(attendees) if x not in known][:limit]
    seen: set[str] = set()
    for x in attendees:
        if x in seen:
            errors.append({"field": "attendees", "message": f"duplicate id {x!r}"})
            break
        seen.add(x)
    if errors:
        raise InvalidInput(errors)


def plan_event(matcher, request: TablePlanRequest, progress: Progress | None = None) -> TablePlan:
    """Plan tables for an event's attendees (or ``request.attendees``), affinity from the matcher's reciprocal
    pair scores; same company, blocked pairs and (optionally) role rules come from the event.

    >>> from matcher import HashingEncoder, Matcher
    >>> from models import Attendee, TablePlanRequest
    >>> m = Matcher(encoder=HashingEncoder(dim=16))
    >>> m.upsert([Attendee(id=x, goals=["coffee"]) for x in "abcd"])
    >>> plan = plan_event(m, TablePlanRequest(rounds=2, table_size=2))
    >>> plan.report.repeats, len(plan.rounds[1].tables)
    (0, 2)
    """
    if request.attendees is not None:
        check_attendees(request.attendees, matcher)
        ids = list(request.attendees)
    else:
        ids = matcher.ids()
    if not ids:
        raise InvalidInput([{"field": "attendees", "message": "the event has no attendees to seat"}])
    ps = matcher.pair_scores(ids)
    people = [matcher.get(i) for i in ids]
    return plan_tables(ids, ps.scores, request, same_company=ps.same_company, blocked=ps.blocked,
                       role_forbidden=ps.role_forbidden, roles=[a.role for a in people],
                       companies=[a.company for a in people],
                       allow_same_company=matcher.event.policy.allow_same_company, event_id=matcher.event.id,
                       progress=progress)
