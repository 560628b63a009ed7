"""Meeting scheduling: requested and must-meet pairs into slots and locations, checked and reported.

``problem`` builds arrays from the documents, ``solver`` places meetings (heuristic + CP-SAT) and books on
acceptance, ``checks`` verifies every hard rule independently of the solver, ``report`` measures the schedule,
``schedule`` ties them together, ``outputs`` writes agendas, calendars, the organizer's grid and stats.
"""

from matcher.meetings.problem import (
           ACCEPTED,
           FILL,
           MUST,
           MeetingProblem,
           blocked_pairs_from_scores,
           build_problem,
)
from matcher.meetings.solver import NoSlot, Solution, book, evaluate, gaps_of, solve, solve_cpsat

__all__ = ["ACCEPTED", "FILL", "MUST", "MeetingProblem", "NoSlot", "Solution", "blocked_pairs_from_scores", "book",
           "build_problem", "evaluate", "gaps_of", "solve", "solve_cpsat"]
