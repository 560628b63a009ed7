"""Explanations: which of A's goals meets which of B's offers, and the reverse; shared interests and terms;
mutual connections; and the score components. Data a UI can show, plus a one-line summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models import ItemMatch, Match, Reasons

if TYPE_CHECKING:
    from matcher.engine import Matcher

#: Item pairs below these cosines are not shown as reasons (too weak to convince a person).
MIN_INTENT_SIMILARITY = 0.4
MIN_INTEREST_SIMILARITY = 0.4
MAX_ITEMS = 3


def _best(mine_texts: list[str], sims: np.ndarray, texts: list[str], facets: list[str],
          floor: float) -> list[ItemMatch]:
    """For each of my items (rows of ``sims``), the best of their items (columns), strongest first."""
    if not mine_texts or not texts:
        return []
    best = sims.argmax(axis=1)
    top = sims[np.arange(len(best)), best].tolist()
    out = [ItemMatch(mine=mine_texts[i], theirs=texts[j], facet=facets[j], similarity=round(s, 4))
           for i, (j, s) in enumerate(zip(best.tolist(), top, strict=True)) if s >= floor]
    out.sort(key=lambda m: (-m.similarity, m.mine))
    return out[:MAX_ITEMS]


def _facet(m: Matcher, key: int, facet: str) -> tuple[list[str], np.ndarray]:
    rows = m._rows[facet][key]
    return m._texts[facet][key] or [], m._indexes[facet].vectors()[rows]


def _give(m: Matcher, key: int) -> tuple[list[str], list[str], np.ndarray]:
    """What a person offers and who they are: texts, facet names, vectors."""
    ot, ov = _facet(m, key, "offers")
    it, iv = _facet(m, key, "identity")
    return ot + it, ["offers"] * len(ot) + ["identity"] * len(it), np.concatenate([ov, iv])


def _summary(name: str, r: Reasons, my_identity: set[str] = frozenset()) -> str:
    parts = []
    if r.they_offer_what_you_seek:
        x = r.they_offer_what_you_seek[0]
        verb = "offers" if x.facet == "offers" else "is"
        parts.append(f"{name} {verb}: {x.theirs}; you look for: {x.mine}.")
    if r.you_offer_what_they_seek:
        x = r.you_offer_what_they_seek[0]
        verb = "you are" if x.mine in my_identity else "you offer"
        parts.append(f"{name} looks for: {x.theirs}; {verb}: {x.mine}.")
    if r.shared_interests:
        parts.append("You share interests: " + ", ".join(dict.fromkeys(x.mine for x in r.shared_interests)) + ".")
    if r.mutual_connections:
        n = len(r.mutual_connections)
        parts.append(f"{n} mutual connection{'s' if n != 1 else ''}.")
    if not parts and r.shared_terms:
        parts.append("You both mention: " + ", ".join(r.shared_terms) + ".")
    return " ".join(parts)


def _components(components: dict[str, float]) -> dict[str, float]:
    names = {"_q_to_c": "a_to_b", "_c_to_q": "b_to_a"}
    return {names.get(k, k): round(v, 4) for k, v in components.items() if not np.isnan(v)}


def bare(m: Matcher, c: int, score: float, components: dict[str, float]) -> Match:
    """A match with its score components only (no item-level reasons): for batch jobs that need the ranking."""
    return Match(id=m._ids[c], score=round(score, 6), reasons=Reasons(components=_components(components)))


def build_many(m: Matcher, q: int, cands: list[int], scores: list[float],
               components: list[dict[str, float]]) -> list[Match]:
    """The :class:`~models.Match` of each candidate key in query key ``q``'s list: one matrix product per facet
    pair for the whole list, then each candidate's slice of it."""
    from matcher.profile import lexical_docs

    a = m._attendees[m._ids[q]]
    q_goals, q_interests, q_give = _facet(m, q, "goals"), _facet(m, q, "interests"), _give(m, q)
    q_identity = set(m._texts["identity"][q] or [])
    give = [_give(m, c) for c in cands]
    goals = [_facet(m, c, "goals") for c in cands]
    interests = [_facet(m, c, "interests") for c in cands]
    they_sims = _sims(q_goals[1], [g[2] for g in give])          # my goals x their offers and identity
    you_sims = _sims(q_give[2], [g[1] for g in goals]).T           # their goals x my offers and identity
    shared_sims = _sims(q_interests[1], [i[1] for i in interests])  # my interests x theirs
    q_terms = None
    out = []
    at_give = at_goal = at_int = 0
    for c, score, comp, (gt, gf, _), (ct, _), (it, _) in zip(cands, scores, components, give, goals, interests,
                                                             strict=True):
        b = m._attendees[m._ids[c]]
        they = _best(q_goals[0], they_sims[:, at_give:at_give + len(gt)], gt, gf, MIN_INTENT_SIMILARITY)
        you = _best(ct, you_sims[at_goal:at_goal + len(ct)], q_give[0], q_give[1], MIN_INTENT_SIMILARITY)
        # "you offer what they seek" reads from A's side: mine = A's item, theirs = B's goal
        you = [ItemMatch(mine=x.theirs, theirs=x.mine, facet="goals", similarity=x.similarity) for x in you]
        shared = _best(q_interests[0], shared_sims[:, at_int:at_int + len(it)], it, ["interests"] * len(it),
                       MIN_INTEREST_SIMILARITY)
        at_give, at_goal, at_int = at_give + len(gt), at_goal + len(ct), at_int + len(it)
        terms: list[str] = []
        if comp.get("lexical", 0.0) > 0.0:
            if q_terms is None:
                q_terms = m._lex.term_columns(" ".join(lexical_docs(a).values()))
            terms = m._lex.shared_terms_with(q_terms, c, " ".join(lexical_docs(b).values()))
        mutual = m._graph.mutual(a.id, b.id) if comp.get("mutual", 0.0) > 0 else []
        reasons = Reasons(they_offer_what_you_seek=they, you_offer_what_they_seek=you, shared_interests=shared,
                          shared_terms=terms, mutual_connections=mutual, components=_components(comp))
        reasons.summary = _summary(b.name or b.id, reasons, q_identity)
        out.append(Match(id=b.id, score=round(score, 6), reasons=reasons))
    return out


def _sims(mine: np.ndarray, theirs: list[np.ndarray]) -> np.ndarray:
    """``mine`` against every block of ``theirs`` side by side: ``(len(mine), total rows)``."""
    stacked = np.concatenate(theirs) if theirs else np.zeros((0, mine.shape[1]), np.float32)
    return mine @ stacked.T
