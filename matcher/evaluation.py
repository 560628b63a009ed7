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
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from matcher import diversity, metrics, scoring
from matcher.engine import Matcher
from matcher.profile import FACETS, GIVE_FACETS, facet_items
from models import EventFile, InvalidInput, MatchPolicy

#: Strategy names in report order; ``default`` is the engine as configured by the event.
STRATEGIES = ("random", "popularity", "tfidf", "cosine", "default",
              "no-reciprocity", "no-lexical", "no-mutual", "no-diversity")
BASELINES = ("random", "popularity", "tfidf", "cosine")
DEFAULT = "default"
#: What each strategy is, for the report.
ABOUT = {
    "random": "seeded random order",
    "popularity": "best-connected people first, the same for everyone",
    "tfidf": "TF-IDF cosine of whole profiles",
    "cosine": "embedding cosine of profile vectors (symmetric)",
    "default": "the engine with the event's policy",
    "no-reciprocity": "engine, intent scored one way (what they give me) instead of the harmonic mean",
    "no-lexical": "engine, lexical (TF-IDF) channel weight 0",
    "no-mutual": "engine, mutual-connections channel weight 0",
    "no-diversity": "engine, diversity re-rank off",
}


@dataclass
class EvalSet:
    """An event with ground truth: ``pairs`` of attendees who should meet. ``mutual``: the pairs are good for
    both sides (true of co-authorship and of planted complementary pairs), so two-sided metrics apply."""

    name: str
    event_file: EventFile
    pairs: list[tuple[str, str]]
    mutual: bool = True

    def truth(self) -> dict[str, set[str]]:
        return metrics.pair_truth(self.pairs)

    def check(self) -> None:
        """Raise :class:`~models.InvalidInput` when a pair names an unknown attendee or there is no truth."""
        ids = {a.id for a in self.event_file.attendees}
        for i, (a, b) in enumerate(self.pairs):
            for x in (a, b):
                if x not in ids:
                    raise InvalidInput([{"field": f"truth[{i}]", "message": f"unknown attendee id {x!r}"}])
        if not any(a != b for a, b in self.pairs):
            raise InvalidInput([{"field": "truth", "message": "no ground-truth pairs to evaluate against"}])


@dataclass
class Ranking:
    """One strategy's output: top-k ``lists`` for everyone, ``full`` rankings for the queries, and the time
    spent producing the lists."""

    lists: dict[str, list[str]]
    full: dict[str, list[str]]
    seconds: float


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


# ------------------------------------------------------------------------------------------------- context
class Context:
    """What strategies share: the event, one matcher (encoded once), the hard-rule mask and profile vectors."""

    def __init__(self, evalset: EvalSet, encoder, *, k: int, seed: int, progress: bool = False):
        self.evalset = evalset
        self.event_file = evalset.event_file
        self.k = k
        self.seed = seed
        self.progress = progress
        self.attendees = list(evalset.event_file.attendees)
        self.ids = [a.id for a in self.attendees]
        self.pos = {x: i for i, x in enumerate(self.ids)}
        self.truth = evalset.truth()
        self.queries = [q for q in self.ids if self.truth.get(q)]
        self.matcher = Matcher(evalset.event_file.event, encoder)
        self.matcher.upsert(self.attendees, progress=progress)
        self._allowed: np.ndarray | None = None
        self._profiles: np.ndarray | None = None

    @property
    def policy(self) -> MatchPolicy:
        return self.event_file.event.policy

    def allowed(self) -> np.ndarray:
        """``(n, n)`` bool: row ``i`` may see column ``j`` in a list under the event's hard rules."""
        if self._allowed is None:
            self.matcher.set_event(self.event_file.event)
            ps = self.matcher.pair_scores(self.ids)
            ok = ~(ps.blocked | ps.connected | ps.role_forbidden)
            if not self.policy.allow_same_company:
                ok &= ~ps.same_company
            opt = np.asarray([a.opt_out for a in self.attendees], dtype=bool)
            ok &= ~opt[None, :] & ~opt[:, None]
            np.fill_diagonal(ok, False)
            self._allowed = ok
        return self._allowed

    def item_vectors(self, facets: Sequence[str]) -> scoring.Segments:
        """Each attendee's item vectors over ``facets`` (through the matcher's cache: nothing is re-encoded)."""
        parts = []
        texts: list[str] = []
        for a in self.attendees:
            it = facet_items(a)
            items = [t for f in facets for t in it[f]]
            parts.append(len(items))
            texts.extend(items)
        vecs = self.matcher.encode_texts(texts) if texts else np.zeros((0, 1), np.float32)  # dim unknown: 1
        return scoring.Segments(np.ascontiguousarray(vecs, dtype=np.float32), np.asarray(parts, dtype=np.int64))

    def profiles(self) -> np.ndarray:
        """One unit vector per attendee: the normalised mean of all its item vectors (as the engine's)."""
        if self._profiles is None:
            seg = self.item_vectors(FACETS)
            out = np.zeros((len(self.ids), seg.vectors.shape[1]), dtype=np.float32)
            nz = seg.counts > 0
            if nz.any():
                out[nz] = np.add.reduceat(seg.vectors, seg.starts[nz], axis=0)
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            self._profiles = out / norms
        return self._profiles


# ------------------------------------------------------------------------------------------ ranking helpers
def _order(scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Allowed column indices, best score first, ties by column index (stable)."""
    idx = np.flatnonzero(allowed)
    return idx[np.argsort(-scores[idx], kind="stable")]


def rank_matrix(ctx: Context, scores: np.ndarray, *, diversity_weight: float = 0.0) -> tuple[dict, dict]:
    """Top-k lists for everyone and full rankings for the queries from a dense ``(n, n)`` score matrix under the
    hard rules; with ``diversity_weight`` > 0 the top-k is re-ranked as the engine does."""
    allowed = ctx.allowed()
    k = ctx.k
    lists: dict[str, list[str]] = {}
    full: dict[str, list[str]] = {}
    profiles = ctx.profiles() if diversity_weight > 0 else None
    is_query = set(ctx.queries)
    for i, aid in enumerate(ctx.ids):
        if ctx.attendees[i].opt_out:
            lists[aid] = []
            continue
        order = _order(scores[i], allowed[i])
        top = order[:k]
        if profiles is not None and len(order) > 1:
            head = order[: max(3 * k, k + 10)]
            top = head[diversity.rerank(scores[i][head], profiles[head], k, diversity_weight)]
        lists[aid] = [ctx.ids[j] for j in top]
        if aid in is_query:
            chosen = set(top.tolist())
            full[aid] = lists[aid] + [ctx.ids[j] for j in order if j not in chosen]
    return lists, full


def _timed(fn: Callable[[], tuple[dict, dict]]) -> Ranking:
    t = time.perf_counter()
    lists, full = fn()
    return Ranking(lists, full, time.perf_counter() - t)


# --------------------------------------------------------------------------------------------- baselines
def _random(ctx: Context) -> Ranking:
    rng = np.random.default_rng(ctx.seed)
    return _timed(lambda: rank_matrix(ctx, rng.random((len(ctx.ids), len(ctx.ids)))))


def _popularity(ctx: Context) -> Ranking:
    def run():
        degree = np.zeros(len(ctx.ids))
        for i, a in enumerate(ctx.attendees):
            for other in a.connections:
                j = ctx.pos.get(other)
                if j is not None and j != i:
                    degree[i] += 1
                    degree[j] += 1
        size = np.asarray([sum(len(v) for v in facet_items(a).values()) for a in ctx.attendees], dtype=float)
        pop = degree + size / (size.max() + 1.0)  # connections first, profile size breaks ties
        return rank_matrix(ctx, np.broadcast_to(pop, (len(ctx.ids), len(ctx.ids))))
    return _timed(run)


def profile_text(a) -> str:
    """Everything an attendee wrote, as one document (for the TF-IDF baseline)."""
    it = facet_items(a)
    return " ; ".join(t for f in FACETS for t in it[f])


def _tfidf(ctx: Context) -> Ranking:
    def run():
        from sklearn.feature_extraction.text import TfidfVectorizer

        docs = [profile_text(a) for a in ctx.attendees]
        try:
            x = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(docs)
        except ValueError:  # no vocabulary at all (empty profiles)
            return rank_matrix(ctx, np.zeros((len(docs), len(docs))))
        return rank_matrix(ctx, (x @ x.T).toarray())
    return _timed(run)


def _cosine(ctx: Context) -> Ranking:
    def run():
        p = ctx.profiles()
        return rank_matrix(ctx, p @ p.T)
    return _timed(run)


# ---------------------------------------------------------------------------------------- engine variants
def _policy_variant(ctx: Context, name: str) -> MatchPolicy | None:
    """The event policy with one part switched off; ``None`` when that leaves no channel."""
    pol = ctx.policy
    if name == "default":
        return pol
    if name == "no-diversity":
        return pol.model_copy(update={"diversity": 0.0})
    channel = {"no-lexical": "lexical", "no-mutual": "mutual"}[name]
    w = pol.weights.model_dump()
    w[channel] = 0.0
    if not any(w.values()):
        return None
    return pol.model_copy(update={"weights": type(pol.weights)(**w)})


def _with_policy(ctx: Context, policy: MatchPolicy) -> None:
    ev = ctx.event_file.event
    ctx.matcher.set_event(ev.model_copy(update={"policy": policy}))


def _engine(ctx: Context, name: str) -> Ranking | None:
    policy = _policy_variant(ctx, name)
    if policy is None:
        return None
    _with_policy(ctx, policy)
    m = ctx.matcher
    live = [a.id for a in ctx.attendees]
    t = time.perf_counter()
    shown = m.recommend_all(live, k=ctx.k, progress=ctx.progress, explain=False)
    seconds = time.perf_counter() - t
    lists = {aid: [x.id for x in ms] for aid, ms in shown.items()}
    scores = m.pair_scores(ctx.ids).scores
    allowed = ctx.allowed()
    full = {}
    for q in ctx.queries:
        i = ctx.pos[q]
        head = lists.get(q, [])
        seen = set(head)
        full[q] = head + [ctx.ids[j] for j in _order(scores[i], allowed[i]) if ctx.ids[j] not in seen]
    _with_policy(ctx, ctx.policy)
    return Ranking(lists, full, seconds)


def one_way_scores(ctx: Context) -> np.ndarray:
    """The engine's pair scores with the intent channel scored one way: row ``q``, column ``c`` is how well
    ``c``'s offers and identity meet ``q``'s goals (where ``q`` states none, the engine's one-sided rule: half of
    how well ``q`` meets ``c``'s goals). The other channels are the engine's own (from
    :meth:`~matcher.Matcher.pair_scores` with the intent weight at 0), combined with the policy's weights."""
    pol = ctx.policy
    w = pol.weights
    seek = ctx.item_vectors(("goals",))
    give = ctx.item_vectors(GIVE_FACETS)
    n = len(ctx.ids)
    if seek.vectors.shape[0] and give.vectors.shape[0]:
        d = scoring.directional(seek, give)  # (n, n): how well column serves row; NaN when either side is empty
    else:
        d = np.full((n, n), np.nan, dtype=np.float32)  # nobody states goals (or nobody gives anything)
    one_way = np.where(~np.isnan(d), d, scoring.ONE_SIDED * np.nan_to_num(d.T, nan=0.0))
    one_way = np.clip(np.nan_to_num(one_way, nan=0.0), 0.0, 1.0)
    rest_w = {c: getattr(w, c) for c in ("interests", "lexical", "mutual")}
    total_rest = sum(rest_w.values())
    if total_rest > 0:
        rest_policy = pol.model_copy(update={"weights": type(w)(intent=0.0, **rest_w)})
        _with_policy(ctx, rest_policy)
        rest = ctx.matcher.pair_scores(ctx.ids).scores
        _with_policy(ctx, pol)
    else:
        rest = np.zeros_like(one_way)
    return ((w.intent * one_way + total_rest * rest) / (w.intent + total_rest)).astype(np.float32)


def _no_reciprocity(ctx: Context) -> Ranking | None:
    if ctx.policy.weights.intent == 0:
        return None
    return _timed(lambda: rank_matrix(ctx, one_way_scores(ctx), diversity_weight=ctx.policy.diversity))


_RUNNERS: dict[str, Callable[[Context], Ranking | None]] = {
    "random": _random, "popularity": _popularity, "tfidf": _tfidf, "cosine": _cosine,
    "no-reciprocity": _no_reciprocity,
    **{n: (lambda ctx, n=n: _engine(ctx, n)) for n in ("default", "no-lexical", "no-mutual", "no-diversity")},
}


# ------------------------------------------------------------------------------------------------- checks
def rule_violations(lists: dict[str, list[str]], event_file: EventFile) -> int:
    """List entries that break a hard rule, checked from the attendee data itself: self, unknown id, blocked
    either way, already connected, opted out (either side), same company (unless allowed), role rules.

    >>> from models import Attendee, Event
    >>> ef = EventFile(event=Event(id="e"), attendees=[Attendee(id="a", company="X"), Attendee(id="b", company="x")])
    >>> rule_violations({"a": ["b", "a"]}, ef)
    2
    """
    people = {a.id: a for a in event_file.attendees}
    policy = event_file.event.policy
    links: dict[str, set[str]] = {a.id: set(a.connections) for a in event_file.attendees}
    for a in event_file.attendees:
        for other in a.connections:
            links.setdefault(other, set()).add(a.id)
    bad = 0
    for aid, ids in lists.items():
        a = people.get(aid)
        for bid in ids:
            b = people.get(bid)
            if a is None or b is None or aid == bid or a.opt_out or b.opt_out:
                bad += 1
            elif bid in a.blocked or aid in b.blocked or bid in links.get(aid, ()):
                bad += 1
            elif (not policy.allow_same_company and a.company.strip()
                  and " ".join(a.company.lower().split()) == " ".join(b.company.lower().split())):
                bad += 1
            elif not policy.may_meet(a.role, b.role):
                bad += 1
    return bad


def same_company_rate(lists: dict[str, list[str]], event_file: EventFile) -> float:
    """Share of list entries where both people name the same (non-empty) company."""
    company = {a.id: " ".join(a.company.lower().split()) for a in event_file.attendees}
    total = same = 0
    for aid, ids in lists.items():
        for bid in ids:
            total += 1
            same += bool(company.get(aid)) and company.get(aid) == company.get(bid)
    return same / total if total else 0.0


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
    unknown = [n for n in names if n not in _RUNNERS]
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
        ranking = _RUNNERS[name](ctx)
        if ranking is None:
            report.notes.append(f"{name}: skipped (the event's policy has nothing to switch off)")
            continue
        m, exp = score_ranking(ctx, ranking)
        report.results[name] = StrategyResult(name, m, exp)
    return report
