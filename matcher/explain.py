"""Explanations: which of A's goals meets which of B's offers, and the reverse; shared interests and terms;
mutual connections; and the score components. Data a UI can show, plus a one-line summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models import ItemMatch, Match, Reasons

if TYPE_CHECKING:
    from matcher.engine import Matcher

#: Item pairs below these cosines are not shown as reasons (too weak to convince a person).
MIN_INTENT_SIMILARITY = 0.3
MIN_INTEREST_SIMILARITY = 0.4
MAX_ITEMS = 3


def _best(mine_texts: list[str], mine_vecs: np.ndarray,
          theirs: list[tuple[str, list[str], np.ndarray]], floor: float) -> list[ItemMatch]:
    """For each of my items, the best of their items (across the given facets), strongest first."""
    if not mine_texts:
        return []
    cands = [(facet, t, v) for facet, texts, vecs in theirs for t, v in zip(texts, vecs, strict=True)]
    if not cands:
        return []
    mat = np.stack([v for _, _, v in cands])
    sims = mine_vecs @ mat.T
    best = sims.argmax(axis=1)
    out = []
    for i, j in enumerate(best):
        s = float(sims[i, j])
        if s >= floor:
            facet, text, _ = cands[j]
            out.append(ItemMatch(mine=mine_texts[i], theirs=text, facet=facet, similarity=round(s, 4)))
    out.sort(key=lambda m: (-m.similarity, m.mine))
    return out[:MAX_ITEMS]


def _facet(m: Matcher, key: int, facet: str) -> tuple[list[str], np.ndarray]:
    rows = m._rows[facet][key]
    return m._texts[facet][key] or [], m._indexes[facet].vectors()[rows]


def _summary(name: str, r: Reasons) -> str:
    parts = []
    if r.they_offer_what_you_seek:
        x = r.they_offer_what_you_seek[0]
        verb = "offers" if x.facet == "offers" else "is"
        parts.append(f"{name} {verb}: {x.theirs}; you look for: {x.mine}.")
    if r.you_offer_what_they_seek:
        x = r.you_offer_what_they_seek[0]
        parts.append(f"{name} looks for: {x.theirs}; you offer: {x.mine}.")
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


def build(m: Matcher, q: int, c: int, score: float, components: dict[str, float]) -> Match:
    """The :class:`~models.Match` of candidate key ``c`` in query key ``q``'s list."""
    a, b = m._attendees[m._ids[q]], m._attendees[m._ids[c]]
    q_goals = _facet(m, q, "goals")
    c_goals = _facet(m, c, "goals")
    they = _best(*q_goals, [("offers", *_facet(m, c, "offers")), ("identity", *_facet(m, c, "identity"))],
                 MIN_INTENT_SIMILARITY)
    you = _best(*c_goals, [("offers", *_facet(m, q, "offers")), ("identity", *_facet(m, q, "identity"))],
                MIN_INTENT_SIMILARITY)
    # "you offer what they seek" reads from A's side: mine = A's item, theirs = B's goal
    you = [ItemMatch(mine=x.theirs, theirs=x.mine, facet="goals", similarity=x.similarity) for x in you]
    shared = _best(*_facet(m, q, "interests"), [("interests", *_facet(m, c, "interests"))],
                   MIN_INTEREST_SIMILARITY)
    terms: list[str] = []
    if components.get("lexical", 0.0) > 0.0:
        from matcher.profile import lexical_docs

        da, db = lexical_docs(a), lexical_docs(b)
        terms = m._lex.shared_terms(" ".join(da.values()), " ".join(db.values()))
    mutual = m._graph.mutual(a.id, b.id) if components.get("mutual", 0.0) > 0 else []
    reasons = Reasons(they_offer_what_you_seek=they, you_offer_what_they_seek=you, shared_interests=shared,
                      shared_terms=terms, mutual_connections=mutual, components=_components(components))
    reasons.summary = _summary(b.name or b.id, reasons)
    return Match(id=b.id, score=round(score, 6), reasons=reasons)
