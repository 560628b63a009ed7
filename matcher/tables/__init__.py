"""Seating plans, roundtables and 1:1 speed-networking rotations over an affinity matrix.

The planner seats N people at tables over R rounds so that people who share a table like each other (affinity
from :meth:`matcher.Matcher.pair_scores`, or any symmetric matrix), no pair meets twice when that can be avoided
(the social golfer problem), and the hard rules hold (keep apart, keep together, same company apart, blocked
pairs apart, fixed seats, role mix per table, attendance per round).

How: every round is built greedily and then improved by swapping two people at different tables, picking for a
person the best partner to swap with over the whole room (one vectorised numpy expression per move, from an
``(n, tables)`` matrix of "affinity of person i to table t" kept up to date in O(n) per swap). Rules enter as
weights (a forbidden pair costs far more than any affinity gain, a repeat costs more than any single swap can
win) plus masks (fixed seats and teams never move; a swap never breaks a role bound). Rounds are revisited in
turn, each against the meetings of all the others; while repeats or rule conflicts remain, a tabu search
(Dotú and Van Hentenryck's social-golfer local search) moves conflicted people even when that costs affinity.
When repeats are left, a repeat-free design (:mod:`matcher.tables.designs`: affine planes over finite fields,
Kirkman triple systems, round robins) where the shape allows one, and the compiled social-golfer search over all
rounds (:mod:`matcher.tables.golfers`) remove them, with the rules held the same way. A plan that still breaks a
rule is never returned: the planner raises :class:`models.InfeasibleRules` naming the conflict. Deterministic for
a seed: budgets are counted in moves, not seconds.

Modules: ``problem`` (:class:`SeatingProblem`, :func:`table_capacities`, :class:`Seating`), ``solver`` (the
search, :func:`solve_seating`), ``designs`` and ``golfers`` (above), ``checks`` (:func:`check_rules`,
:func:`find_violations`, :func:`count_repeats`), ``report`` (:func:`plan_affinity`, :func:`affinity_bound`, the
:class:`models.TablePlan`), ``plan`` (:func:`plan_tables`, :func:`plan_event`). Every name is importable from
``matcher.tables`` as before the split.

>>> import numpy as np
>>> from models import TablePlanRequest
>>> aff = np.zeros((4, 4), np.float32); aff[0, 1] = aff[1, 0] = aff[2, 3] = aff[3, 2] = 1.0
>>> plan = plan_tables(["a", "b", "c", "d"], aff, TablePlanRequest(rounds=1, table_size=2))
>>> sorted(sorted(t.seats) for t in plan.rounds[0].tables)
[['a', 'b'], ['c', 'd']]
"""

from matcher.tables.checks import check_rules, count_repeats, find_violations, pairs_by_round
from matcher.tables.plan import check_attendees, plan_event, plan_tables
from matcher.tables.problem import ABSENT, BYE, Progress, Seating, SeatingProblem, table_capacities
from matcher.tables.report import affinity_bound, plan_affinity, random_seating
from matcher.tables.solver import GLOBAL_TABU_MAX, NEAR_TABLES, NEAR_TABLES_ABOVE, solve_seating, tabu_budget

__all__ = ["ABSENT", "BYE", "GLOBAL_TABU_MAX", "NEAR_TABLES", "NEAR_TABLES_ABOVE", "Progress", "Seating",
           "SeatingProblem", "affinity_bound", "check_attendees", "check_rules", "count_repeats", "find_violations",
           "pairs_by_round", "plan_affinity", "plan_event", "plan_tables", "random_seating", "solve_seating",
           "table_capacities", "tabu_budget"]
