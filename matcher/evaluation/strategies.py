"""The ranking strategies: baselines over a dense score matrix under the event's hard rules, the engine and its
ablations. :data:`RUNNERS` maps each name of :data:`STRATEGIES` to the function producing its :class:`Ranking`."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from matcher import scoring
from matcher.evaluation.context import Context, Ranking
from matcher.profile import FACETS, GIVE_FACETS, facet_items
from matcher.scoring import reference
from models import MatchPolicy

#: Strategy names in report order; ``default`` is the engine as configured by the event.
STRATEGIES = ("random", "popularity", "tfidf", "cosine", "default",
              "no-reciprocity", "no-complement", "no-lexical", "no-mutual", "no-diversity")
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
    "no-complement": "engine, complementarity off (no substitute penalty, no learned sides, symmetric channels "
                     "counted at full weight)",
    "no-lexical": "engine, lexical (TF-IDF) channel weight 0",
    "no-mutual": "engine, mutual-connections channel weight 0",
    "no-diversity": "engine, diversity re-rank off",
}


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
            # the engine's pool: everyone who can still make the first k picks (at most POOL_CAP)
            head = order[:reference.rerank_pool_size(scores[i][order], k, diversity_weight, scoring.POOL_CAP)]
            top = head[reference.rerank(scores[i][head], profiles, head, k, diversity_weight, scoring.FLOOR)]
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
    if name == "no-complement":
        return pol.model_copy(update={"complement": 0.0}) if pol.complement > 0 else None
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


RUNNERS: dict[str, Callable[[Context], Ranking | None]] = {
    "random": _random, "popularity": _popularity, "tfidf": _tfidf, "cosine": _cosine,
    "no-reciprocity": _no_reciprocity,
    **{n: (lambda ctx, n=n: _engine(ctx, n)) for n in ("default", "no-complement", "no-lexical", "no-mutual",
                                                         "no-diversity")},
}

