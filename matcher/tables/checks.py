"""Rule checks: contradictions on their face (before solving), broken rules of a plan, and repeats."""

from __future__ import annotations

import numpy as np

from matcher.tables.problem import ABSENT, Seating, SeatingProblem, infeasible, table_capacities


def check_rules(prob: SeatingProblem) -> None:
    """Raise :class:`models.InfeasibleRules` when the rules contradict each other or the room on their face:
    a team holding a pair that must sit apart, a team larger than any table, two people pinned to one table who
    must sit apart, more pinned people than seats, more people of a role than the tables' maximum allows, fewer
    than their minimum needs, more mutually-apart people (a company, a keep-apart group) than tables."""
    p = prob
    for t, team in enumerate(p.teams):
        for x in range(len(team)):
            for y in range(x + 1, len(team)):
                i, j = team[x], team[y]
                if p.forbidden[i, j]:
                    raise infeasible(f"rules.keep_together[{t}]",
                                f"{p.name(i)} and {p.name(j)} must sit together, but {p.apart_reason(i, j)}")
    for t, team in enumerate(p.teams):
        for c, role in enumerate(p.role_names):
            have = int((p.roles[team] == c).sum())
            if p.role_max[c] is not None and have > p.role_max[c]:
                raise infeasible(f"rules.keep_together[{t}]",
                            f"the team of {', '.join(p.name(i) for i in team)} holds {have} attendees with role "
                            f"{role!r}, but rules.role_mix allows at most {p.role_max[c]} per table")
    for r in range(p.rounds):
        present = np.flatnonzero(p.present[r])
        caps, _ = table_capacities(len(present), p.table_size, p.capacities, p.odd)
        if p.capacities is not None and len(present) > sum(caps):
            raise infeasible("capacities", f"round {r + 1}: {len(present)} attendees but only {sum(caps)} seats "
                                      f"({len(caps)} tables); add tables or capacity")
        T = len(caps)
        if T == 0:
            continue
        pins = p.pinned[r]
        for i in np.flatnonzero(pins >= 0):
            if not p.present[r, i]:
                raise infeasible("rules.fixed_seats", f"{p.name(i)} is pinned to table {pins[i] + 1} in round {r + 1} "
                                                 f"but does not attend that round (rules.attendance)")
            if pins[i] >= T:
                raise infeasible("rules.fixed_seats", f"{p.name(i)} is pinned to table {pins[i] + 1} in round {r + 1}, "
                                                 f"but that round has {T} tables")
        load = np.zeros(T, np.int64)
        for t_idx, team in enumerate(p.teams):
            members = [i for i in team if p.present[r, i]]
            if not members:
                continue
            if len(members) > max(caps):
                raise infeasible(f"rules.keep_together[{t_idx}]",
                            f"round {r + 1}: a team of {len(members)} does not fit at a table of {max(caps)}")
            at = {int(pins[i]) for i in members if pins[i] >= 0}
            if len(at) > 1:
                raise infeasible(f"rules.keep_together[{t_idx}]",
                            f"round {r + 1}: team members are pinned to different tables "
                            f"({', '.join(str(t + 1) for t in sorted(at))})")
            if at:
                load[at.pop()] += len(members)
        in_team = np.zeros(p.n, bool)
        for team in p.teams:
            in_team[team] = True
        pinned_now = np.flatnonzero((pins >= 0) & ~in_team & p.present[r])
        np.add.at(load, pins[pinned_now], 1)
        over = np.flatnonzero(load > np.asarray(caps))
        if len(over):
            t = int(over[0])
            raise infeasible("rules.fixed_seats", f"round {r + 1}: {load[t]} people are pinned to table {t + 1}, which "
                                             f"seats {caps[t]}")
        pinned_all = np.flatnonzero(pins >= 0)
        for x in range(len(pinned_all)):
            i = pinned_all[x]
            same = pinned_all[x + 1:][pins[pinned_all[x + 1:]] == pins[i]]
            for j in same:
                if p.forbidden[i, j]:
                    raise infeasible("rules.fixed_seats",
                                f"{p.name(i)} and {p.name(j)} are both pinned to table {pins[i] + 1} in round "
                                f"{r + 1}, but {p.apart_reason(i, j)}")
        roles = p.roles[present]
        for c, role in enumerate(p.role_names):
            have = int((roles == c).sum())
            mx, mn = p.role_max[c], p.role_min[c]
            if mx is not None and have > mx * T:
                raise infeasible("rules.role_mix", f"round {r + 1}: {have} attendees with role {role!r} but at most "
                                              f"{mx} per table x {T} tables = {mx * T} seats for them")
            if mn and have < mn * T:
                raise infeasible("rules.role_mix", f"round {r + 1}: at least {mn} {role!r} per table needs {mn * T} "
                                              f"for {T} tables, but only {have} attend")
        need = sum(int(x) for x in p.role_min)
        if need > min(caps):
            raise infeasible("rules.role_mix", f"round {r + 1}: role minimums need {need} seats per table but the "
                                          f"smallest table seats {min(caps)}")
        # more mutually-apart people than tables: only the obvious cliques (dense groups) are checked here
        sub = p.forbidden[np.ix_(present, present)]
        deg = sub.sum(axis=1)
        if deg.size and deg.max() + 1 > T:
            i = int(np.argmax(deg))
            clique = [i] + [int(j) for j in np.flatnonzero(sub[i])]
            if sub[np.ix_(clique, clique)].sum() == len(clique) * (len(clique) - 1):
                who = present[clique]
                raise infeasible("rules", f"round {r + 1}: {len(clique)} attendees must all sit apart "
                                     f"({p.apart_reason(int(who[0]), int(who[1]))}: "
                                     f"{', '.join(p.name(w) for w in who[:6])}{'...' if len(who) > 6 else ''}) "
                                     f"but there are only {T} tables")


def find_violations(s: Seating, prob: SeatingProblem) -> list[str]:
    """Every broken rule of a seating, in words (an empty list for a valid plan)."""
    p = prob
    out: list[str] = []
    for r in range(p.rounds):
        tab = s.table[r]
        for i in np.flatnonzero(p.present[r] & (tab == ABSENT)):
            out.append(f"round {r + 1}: {p.name(i)} attends but has no seat")
        for i in np.flatnonzero(~p.present[r] & (tab != ABSENT)):
            out.append(f"round {r + 1}: {p.name(i)} is seated but does not attend")
        seated = np.flatnonzero(tab >= 0)
        for t in range(len(s.capacities[r])):
            mem = seated[tab[seated] == t]
            if len(mem) > s.capacities[r][t]:
                out.append(f"round {r + 1}: table {t + 1} seats {s.capacities[r][t]} but has {len(mem)}")
            sub = p.forbidden[np.ix_(mem, mem)]
            for x, y in zip(*np.nonzero(np.triu(sub)), strict=True):
                i, j = mem[x], mem[y]
                out.append(f"round {r + 1}, table {t + 1}: {p.name(i)} and {p.name(j)} sit together but "
                           f"{p.apart_reason(i, j)}")
            roles = p.roles[mem]
            for c, role in enumerate(p.role_names):
                have = int((roles == c).sum())
                if p.role_max[c] is not None and have > p.role_max[c]:
                    out.append(f"round {r + 1}, table {t + 1}: {have} {role!r} (at most {p.role_max[c]})")
                if have < p.role_min[c]:
                    out.append(f"round {r + 1}, table {t + 1}: {have} {role!r} (at least {p.role_min[c]})")
        for i in np.flatnonzero(p.pinned[r] >= 0):
            if tab[i] != p.pinned[r, i]:
                out.append(f"round {r + 1}: {p.name(i)} is pinned to table {p.pinned[r, i] + 1}")
        for team in p.teams:
            ts = {int(tab[i]) for i in team if p.present[r, i]}
            if len(ts) > 1:
                out.append(f"round {r + 1}: the team of {', '.join(p.name(i) for i in team)} is split")
    return out


def pairs_by_round(s: Seating) -> dict[tuple[int, int], list[int]]:
    met: dict[tuple[int, int], list[int]] = {}
    for r in range(s.table.shape[0]):
        tab = s.table[r]
        seated = np.flatnonzero(tab >= 0)
        order = seated[np.argsort(tab[seated], kind="stable")]
        ts = tab[order]
        cuts = np.flatnonzero(np.diff(ts)) + 1
        for mem in np.split(order, cuts):
            for x in range(len(mem)):
                for y in range(x + 1, len(mem)):
                    met.setdefault((int(mem[x]), int(mem[y])), []).append(r)
    return met


def count_repeats(s: Seating, prob: SeatingProblem) -> tuple[int, int, list[tuple[int, int, list[int], bool]]]:
    """(avoidable repeats, forced repeats, the repeated pairs with their rounds and whether forced).

    A repeat is one extra meeting of a pair that already shared a table. Forced: the rules seat the pair together
    in those rounds anyway (same team, or both pinned to the same table)."""
    team_id = np.full(prob.n, -1, np.int64)
    for t, team in enumerate(prob.teams):
        team_id[team] = t
    avoid = forced = 0
    pairs = []
    for (i, j), rounds in pairs_by_round(s).items():
        if len(rounds) < 2:
            continue
        locked_rounds = [r for r in rounds if (team_id[i] >= 0 and team_id[i] == team_id[j])
                         or (prob.pinned[r, i] >= 0 and prob.pinned[r, i] == prob.pinned[r, j])]
        f = max(0, len(locked_rounds) - 1)
        forced += f
        avoid += len(rounds) - 1 - f
        pairs.append((i, j, rounds, f == len(rounds) - 1))
    pairs.sort(key=lambda x: (x[3], -len(x[2]), x[0], x[1]))
    return avoid, forced, pairs


def repeats_lower_bound(capacities: list[list[int]]) -> int:
    """A lower bound on the repeats of any plan with these tables per round (everyone attending), the larger of
    two: between two consecutive rounds, the people of one table of the later round spread over the earlier round's
    tables at best evenly, and any two at one earlier table meet again (summed over consecutive rounds: a pair
    meeting in ``m`` rounds in a row is counted ``m - 1`` times, its repeats); and everyone has at least
    ``sum of (smallest table - 1)`` table-mates over the rounds among ``n - 1`` people.

    >>> repeats_lower_bound([[3, 3], [3, 3]]), repeats_lower_bound([[4, 4, 4]] * 3), repeats_lower_bound([[3] * 3] * 4)
    (2, 6, 0)
    >>> repeats_lower_bound([[4] * 4] * 6)  # 16 people, 18 table-mates each
    24
    """
    n = sum(capacities[0]) if capacities else 0
    mates = sum(min(c) - 1 for c in capacities if c)
    counting = -(-n * max(0, mates - (n - 1)) // 2)
    total = 0
    for prev, cur in zip(capacities, capacities[1:], strict=False):
        T = len(prev)
        if T == 0:
            continue
        for k in cur:
            # k people over T earlier tables (each holding at most its size): fewest pairs sharing one
            base, extra = divmod(k, T)
            total += extra * (base + 1) * base // 2 + (T - extra) * base * (base - 1) // 2
    return max(total, counting)
