"""Running strategies on an evaluation set and scoring their output: :func:`evaluate` and its :class:`Report`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from matcher.evaluation import metrics
from matcher.evaluation.checks import rule_violations, same_company_rate
from matcher.evaluation.context import Context, EvalSet, Ranking
from matcher.evaluation.strategies import DEFAULT, RUNNERS, STRATEGIES
from models import InvalidInput


@dataclass
class StrategyResult:
    name: str
    metrics: dict[str, float]
    exposure: np.ndarray  # per attendee, in event order: how many top-k lists they appear in


@dataclass
class Report:
    """Every strategy's metrics on one evaluation set."""

    name: str
    k: int
    n_attendees: int
    n_queries: int
    n_pairs: int
    results: dict[str, StrategyResult] = field(default_factory=dict)
    default: str = DEFAULT
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """``{"default": NAME, "strategies": {NAME: {"recall@10": x, ...}}, ...}``."""
        return {"default": self.default, "dataset": self.name, "k": self.k, "attendees": self.n_attendees,
                "queries": self.n_queries, "pairs": self.n_pairs, "notes": list(self.notes),
                "strategies": {n: dict(r.metrics) for n, r in self.results.items()}}



def score_ranking(ctx: Context, ranking: Ranking) -> tuple[dict[str, float], np.ndarray]:
    """Every metric of one strategy's output."""
    k = ctx.k
    m = metrics.rank_metrics(ranking.full, ctx.truth, ks=(k,))
    out: dict[str, float] = {name: round(float(v), 6) for name, v in m.items() if name != "queries"}
    if ctx.evalset.mutual:
        out[f"mutual_recall@{k}"] = round(metrics.mutual_recall_at_k(ranking.lists, ctx.evalset.pairs, k), 6)
    exp = metrics.exposure(ranking.lists, ctx.ids, k)
    out["coverage"] = round(metrics.coverage(ranking.lists, ctx.ids, k), 6)
    out["gini"] = round(metrics.gini(exp), 6)
    out["max_exposure"] = int(exp.max()) if len(exp) else 0
    out["same_company_rate"] = round(same_company_rate(ranking.lists, ctx.event_file), 6)
    out["violations"] = rule_violations(ranking.lists, ctx.event_file)
    out["ms_per_list"] = round(1000.0 * ranking.seconds / max(1, len(ranking.lists)), 4)
    return out, exp


# -------------------------------------------------------------------------------------------------- runner
def evaluate(evalset: EvalSet, encoder=None, strategies: Iterable[str] | None = None, *, k: int = 10,
             seed: int = 0, progress: bool = False, log: Callable[[str], None] | None = None) -> Report:
    """Run ``strategies`` (default: all of :data:`STRATEGIES`) on ``evalset`` and return their metrics.

    ``encoder``: as for :class:`~matcher.Matcher` (``None``: the default model). Raises
    :class:`~models.InvalidInput` for an unknown strategy name, ``k`` < 1 or truth naming unknown attendees.
    """
    names = list(STRATEGIES if strategies is None else strategies)
    unknown = [n for n in names if n not in RUNNERS]
    if unknown:
        raise InvalidInput([{"field": "strategies", "message": f"unknown strategy {unknown[0]!r}; "
                                                               f"choose from {', '.join(STRATEGIES)}"}])
    if k < 1:
        raise InvalidInput([{"field": "k", "message": f"must be at least 1; got {k}"}])
    evalset.check()
    ctx = Context(evalset, encoder, k=k, seed=seed, progress=progress)
    report = Report(evalset.name, k, len(ctx.ids), len(ctx.queries), len({tuple(sorted(p)) for p in evalset.pairs}))
    if DEFAULT not in names:
        report.default = names[0] if names else DEFAULT
    for name in names:
        if log:
            log(f"running {name}")
        ranking = RUNNERS[name](ctx)
        if ranking is None:
            report.notes.append(f"{name}: skipped (the event's policy has nothing to switch off)")
            continue
        m, exp = score_ranking(ctx, ranking)
        report.results[name] = StrategyResult(name, m, exp)
    return report
