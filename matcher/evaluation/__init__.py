"""Offline evaluation: ranking strategies side by side on an event with ground-truth pairs.

Every strategy produces, for every attendee, a top-``k`` list (what people would see: used for coverage,
exposure, same-company rate and rule checks), and for every attendee with ground truth a *full* ranking of
everyone the event's hard rules allow (used for MRR and MAP). Baselines rank a dense score matrix under the
same hard rules as the engine, so the comparison is about ranking, not about who is allowed.

Strategies (:data:`STRATEGIES`):

- ``random``: a seeded shuffle;
- ``popularity``: the same best-connected people for everyone (connection count, then profile size);
- ``tfidf``: cosine of TF-IDF over each whole profile (scikit-learn);
- ``cosine``: cosine of profile vectors (the mean of every item vector), i.e. symmetric embedding similarity;
- ``default``: the engine (:class:`~matcher.Matcher`) with the event's own policy; its top-``k`` list is
  :meth:`~matcher.Matcher.recommend_all` (retrieval, rules, reciprocal scoring, diversity re-rank), and its
  full ranking is that list followed by every other allowed attendee by :meth:`~matcher.Matcher.pair_scores`;
- ablations of ``default`` through the policy: ``no-lexical``, ``no-mutual`` (channel weight 0),
  ``no-diversity`` (``diversity = 0``); and ``no-reciprocity``, which replaces the harmonic fusion of the two
  intent directions by the asker's own direction ("how well do they serve me") on top of the engine's other
  channels (see :func:`one_way_scores`).

>>> from matcher import HashingEncoder
>>> from models import Attendee, Event, EventFile
>>> ef = EventFile(event=Event(id="e"), attendees=[
...     Attendee(id="f", role="founder", goals=["seed funding"], offers=["fintech demos"]),
...     Attendee(id="i", role="investor", goals=["fintech founders"], offers=["seed funding"]),
...     Attendee(id="x", role="student", interests=["poetry"])])
>>> rep = evaluate(EvalSet("toy", ef, [("f", "i")]), HashingEncoder(dim=64), ["random", "default"], k=1)
>>> rep.results["default"].metrics["recall@1"]
1.0

Modules: :mod:`~matcher.evaluation.context` (the evaluation set and what strategies share),
:mod:`~matcher.evaluation.strategies` (baselines, the engine and its ablations), :mod:`~matcher.evaluation.checks`
(rule violations, same-company rate), :mod:`~matcher.evaluation.run` (:func:`evaluate`, :class:`Report`),
:mod:`~matcher.evaluation.metrics` (ranking and list metrics) and :mod:`~matcher.evaluation.datasets` (the
synthetic generator and the co-authorship adapter).
"""

from __future__ import annotations

from matcher.evaluation import metrics
from matcher.evaluation.checks import rule_violations, same_company_rate
from matcher.evaluation.context import Context, EvalSet, Ranking
from matcher.evaluation.run import Report, StrategyResult, evaluate, score_ranking
from matcher.evaluation.strategies import (
    ABOUT,
    BASELINES,
    DEFAULT,
    RUNNERS,
    STRATEGIES,
    one_way_scores,
    profile_text,
    rank_matrix,
)

__all__ = ["ABOUT", "BASELINES", "DEFAULT", "RUNNERS", "STRATEGIES", "Context", "EvalSet", "Ranking", "Report",
           "StrategyResult", "evaluate", "metrics", "one_way_scores", "profile_text", "rank_matrix",
           "rule_violations", "same_company_rate", "score_ranking"]
