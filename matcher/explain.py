"""Explanations: which of A's goals meets which of B's offers, and the reverse; shared interests and terms;
mutual connections; and the score components. Data a UI can show, plus a one-line summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models import ItemMatch, Match, Reasons

if TYPE_CHECKING:
    from matcher.store import AttendeeStore

#: Item pairs below these cosines are not shown as reasons (too weak to convince a person).
MIN_INTENT_SIMILARITY = 0.4
MIN_INTEREST_SIMILARITY = 0.4
MAX_ITEMS = 3
#: Two people of one learned side, or whose directions from give to seek agree at least this much, are on the same
#: side: a goal both seek is not shown as one meeting the other's (sample event: founder pairs 0.34 on average,
#: founder-investor pairs -0.03; at 0.3, 32 of the 73 same-kind matches in top-10 lists keep an intent reason and
#: 1,504 of 1,732 counterparts do; at 0.15, 26 and 1,417; with sides alone, 44 and 1,530).
SAME_SIDE_DIRECTION = 0.3
#: Between two people of one side, an item pair is shown only if it beats the goal they share by this much (the
#: model puts "grow our Rust team" 0.82 from another manager's same goal and 0.82 from her "open Rust roles").
RIVAL_MARGIN = 0.1
#: Learned sides count for explanations only in events split into at least this many (a 6-person event has 2).
MIN_SIDES = 4
#: Two people whose sides are at least this much one peer group (:func:`matcher.sides.peers`) are not rivals: each
#: one's work is shown as meeting the other's goal although both seek alike.
PEER = 0.5


def _best(mine: list[str], sims: list[list[float]], theirs: list[str], facets: list[str],
          floor: float, rivals: list[float] | None = None, col_rivals: list[float] | None = None) -> list[ItemMatch]:
    """For each of my items (a row of ``sims``), the best of their items (a column), strongest first.

    For two people of one side: ``rivals[i]``, how well row ``i``'s goal matches a goal of the other (they seek
    it too), and ``col_rivals[j]``, how well column ``j``'s item matches what the goal's owner gives themselves
    (they give it too); a pair no better than either is not shown: it would present a look-alike as the answer
    to a goal they share (unless it beats both by ``RIVAL_MARGIN``)."""
    if not mine or not theirs:
        return []
    out = []
    for i, (text, row) in enumerate(zip(mine, sims, strict=True)):
        j = max(range(len(row)), key=row.__getitem__)  # first maximum
        if row[j] >= floor and (rivals is None or row[j] > max(rivals[i], col_rivals[j]) + RIVAL_MARGIN):
            out.append(ItemMatch(mine=text, theirs=theirs[j], facet=facets[j], similarity=round(row[j], 4)))
    out.sort(key=lambda x: (-x.similarity, x.mine))
    return out[:MAX_ITEMS]


def _summary(name: str, r: Reasons, my_identity: set[str] = frozenset(), who: str = "") -> str:
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
    if not parts and who:  # nothing item by item clears the bar: at least say who they are
        parts.append(f"{name} is: {who}.")
    return " ".join(parts)


def _components(components: dict[str, float]) -> dict[str, float]:
    names = {"_q_to_c": "a_to_b", "_c_to_q": "b_to_a"}
    return {names.get(k, k): round(v, 4) for k, v in components.items() if not np.isnan(v)}


def bare(store: AttendeeStore, c: int, score: float, components: dict[str, float]) -> Match:
    """A match with its score components only (no item-level reasons): for batch jobs that need the ranking."""
    return Match(id=store.id_of(c), score=round(score, 6), reasons=Reasons(components=_components(components)))


def build_many(store: AttendeeStore, q: int, cands: list[int], scores: list[float],
               components: list[dict[str, float]]) -> list[Match]:
    """The :class:`~models.Match` of each candidate key in query key ``q``'s list: one matrix product per facet
    pair for the whole list, then each candidate's share of it in plain Python (the pieces are small)."""
    from matcher.profile import lexical_docs

    a = store.attendee_at(q)
    texts = store.texts
    mine = {f: store.item_vectors(f, [q])[0] for f in ("goals", "offers", "identity", "interests")}
    my_give = texts("offers", q), texts("identity", q)
    give_texts = my_give[0] + my_give[1]
    give_facets = ["offers"] * len(my_give[0]) + ["identity"] * len(my_give[1])
    offers, n_off = store.item_vectors("offers", cands)
    identity, n_id = store.item_vectors("identity", cands)
    goals, n_goal = store.item_vectors("goals", cands)
    interests, n_int = store.item_vectors("interests", cands)
    my_goals, my_interests = texts("goals", q), texts("interests", q)
    they_off = (mine["goals"] @ offers.T).tolist()          # my goals x their offers
    they_id = (mine["goals"] @ identity.T).tolist()         # my goals x who they are
    you = (goals @ np.concatenate([mine["offers"], mine["identity"]]).T).tolist()  # their goals x my give
    shared_sims = (mine["interests"] @ interests.T).tolist()  # my interests x theirs
    both_seek = (mine["goals"] @ goals.T).tolist()           # my goals x their goals (a goal we share)
    my_give_vecs = np.concatenate([mine["offers"], mine["identity"]])
    their_give = np.concatenate([offers, identity])           # offers of every candidate, then identities
    both_give = (their_give @ my_give_vecs.T) if len(their_give) and len(my_give_vecs) else None
    directions = store.directions
    sides = store.snapshot().sides
    side = sides.side
    many_sides = len(sides.prior) >= MIN_SIDES  # a handful of people fall into a side or two: not a side
    q_identity = set(my_give[1])
    q_terms = None
    out = []
    at = [0, 0, 0, 0]
    for i, (c, score, comp) in enumerate(zip(cands, scores, components, strict=True)):
        b = store.attendee_at(c)
        o0, o1 = at[0], at[0] + n_off[i]
        i0, i1 = at[1], at[1] + n_id[i]
        g0, g1 = at[2], at[2] + n_goal[i]
        s0, s1 = at[3], at[3] + n_int[i]
        at = [o1, i1, g1, s1]
        offer_texts, identity_texts = texts("offers", c), texts("identity", c)
        rivals = their_rivals = col_rivals = their_col_rivals = None
        same_side = many_sides and side[q] >= 0 and side[q] == side[c]  # the event's learned sides
        # peers who want each other (researchers seeking collaborators): a goal both seek is the point of meeting
        peers = many_sides and side[q] >= 0 and side[c] >= 0 and sides.peer[side[q], side[c]] >= PEER
        if not peers and (same_side or float(directions[q] @ directions[c]) >= SAME_SIDE_DIRECTION):  # drop goals both seek
            rivals = [max(r[g0:g1], default=-1.0) for r in both_seek]  # per goal of mine: how much they seek it
            their_rivals = [max((r[k] for r in both_seek), default=-1.0) for k in range(g0, g1)]
            rows = list(range(o0, o1)) + [len(offers) + r for r in range(i0, i1)]  # c's give rows in their_give
            block = both_give[rows] if both_give is not None and rows else np.zeros((len(rows), len(give_texts)))
            # c gives what I give (per item of theirs), and I give what c gives (per item of mine)
            col_rivals = block.max(axis=1).tolist() if block.size else [-1.0] * len(rows)
            their_col_rivals = block.max(axis=0).tolist() if block.size else [-1.0] * len(give_texts)
        they = _best(my_goals, [ro[o0:o1] + ri[i0:i1] for ro, ri in zip(they_off, they_id, strict=True)],
                     offer_texts + identity_texts, ["offers"] * len(offer_texts) + ["identity"] * len(identity_texts),
                     MIN_INTENT_SIMILARITY, rivals, col_rivals)
        wanted = _best(texts("goals", c), you[g0:g1], give_texts, give_facets, MIN_INTENT_SIMILARITY, their_rivals,
                       their_col_rivals)
        # "you offer what they seek" reads from A's side: mine = A's item, theirs = B's goal
        wanted = [ItemMatch(mine=x.theirs, theirs=x.mine, facet="goals", similarity=x.similarity) for x in wanted]
        shared = _best(my_interests, [r[s0:s1] for r in shared_sims], texts("interests", c),
                       ["interests"] * n_int[i], MIN_INTEREST_SIMILARITY)
        terms: list[str] = []
        if comp.get("lexical", 0.0) > 0.0:
            if q_terms is None:
                q_terms = store.lexical.term_columns(" ".join(lexical_docs(a).values()))
            terms = store.lexical.shared_terms_with(q_terms, c, " ".join(lexical_docs(b).values()))
        mutual = store.graph.mutual(a.id, b.id) if comp.get("mutual", 0.0) > 0 else []
        reasons = Reasons(they_offer_what_you_seek=they, you_offer_what_they_seek=wanted, shared_interests=shared,
                          shared_terms=terms, mutual_connections=mutual, components=_components(comp))
        reasons.summary = _summary(b.name or b.id, reasons, q_identity, identity_texts[0] if identity_texts else "")
        out.append(Match(id=b.id, score=round(score, 6), reasons=reasons))
    return out
