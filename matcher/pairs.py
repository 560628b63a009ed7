"""All-pairs scores: every pair's reciprocal score (the one a list shows, before any rules) and the rule masks.

The numpy path of the formula (:mod:`matcher.scoring.reference`): one matrix product per facet pair for a block
of queries against everyone. Table planning and evaluation take their affinity from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from matcher import scoring
from matcher.lexical import N_FEATURES
from matcher.scoring import reference
from matcher.store import AttendeeStore


@dataclass
class PairScores:
    """All-pairs reciprocal scores of a set of attendees (for table planning and evaluation)."""

    ids: list[str]
    scores: np.ndarray        # (n, n) float32, symmetric, 0 on the diagonal
    same_company: np.ndarray  # (n, n) bool
    blocked: np.ndarray       # (n, n) bool, either direction
    connected: np.ndarray     # (n, n) bool
    role_forbidden: np.ndarray  # (n, n) bool: the event's role rules forbid the pair


def components(store: AttendeeStore, q: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
    """Channel scores ``(len(q), len(c))`` in [0, 1] for query keys ``q`` against candidate keys ``c``: intent
    (after complementarity), interests, lexical, mutual, the ``substitute`` penalty and the ``sides`` prior, and
    as ``_q_to_c``, ``_c_to_q`` the two intent directions, as ``_gate`` what the symmetric channels count for."""
    st = store.snapshot()
    w = st.weights
    cpl = float(st.policy.complement)
    need_intent = "intent" in w or (cpl > 0 and ("interests" in w or "lexical" in w or "mutual" in w))
    out = reference.pair_channels(scoring.Sims.between(store.side(q), store.side(c)), intent=need_intent,
                                  shared_interests="interests" in w)
    if need_intent:
        side_q, side_c = st.sides.side[q], st.sides.side[c]
        prior = np.full((len(q), len(c)), np.nan)
        known = (side_q[:, None] >= 0) & (side_c[None, :] >= 0)
        at = np.maximum(side_q, 0)[:, None], np.maximum(side_c, 0)[None, :]
        prior[known] = st.sides.prior[at][known]
        peer = np.where(known, st.sides.peer[at], 0.0)
        dirs = store.directions
        direction = dirs[q].astype(np.float64) @ dirs[c].astype(np.float64).T
        adjusted, penalty, out["_gate"] = reference.fuse(out["intent"], out["_q_to_c"], out["_c_to_q"],
                                                         out.pop("_give_qc"), out.pop("_give_cq"), direction, prior,
                                                         cpl, peer=peer)
        if "intent" in w:
            out["intent"] = adjusted
        else:
            for name in ("intent", "_q_to_c", "_c_to_q"):
                del out[name]
        if cpl > 0:
            out["substitute"] = penalty
            out["sides"] = prior
    if "lexical" in w:
        out["lexical"] = lexical(store, q, c)
    if "mutual" in w:
        out["mutual"] = np.zeros((len(q), len(c)), dtype=np.float64)
        pos_of = np.full(store.n_keys, -1, dtype=np.int64)
        pos_of[c] = np.arange(len(c))
        for i, key in enumerate(q):
            ks, vs = store.adamic_adar(store.id_of(key))
            p = pos_of[ks]
            out["mutual"][i, p[p >= 0]] = reference.mutual_score(vs[p >= 0])
    return out


def lexical(store: AttendeeStore, q: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Lexical channel ``(len(q), len(c))`` (sparse matrix products)."""
    lex = store.lexical
    both = lex.combined()
    mine, theirs = both[q], both[c]

    def part(m: sp.csr_matrix, i: int) -> sp.csr_matrix:  # seek, give, topic blocks
        return m[:, i * N_FEATURES:(i + 1) * N_FEATURES]

    l1 = (part(mine, 0) @ part(theirs, 1).T).toarray()
    l2 = (part(mine, 1) @ part(theirs, 0).T).toarray()
    l3 = (part(mine, 2) @ part(theirs, 2).T).toarray()
    has_seek, has_topic = lex.presence()
    return reference.lexical_score(l1, l2, l3, has_seek[q][:, None], has_seek[c][None, :],
                                   has_topic[q][:, None], has_topic[c][None, :])


def pair_scores(store: AttendeeStore, ids: Sequence[str] | None = None, *, chunk: int = 256) -> PairScores:
    """Reciprocal scores of every pair of ``ids`` (default: all); see :meth:`matcher.Matcher.pair_scores`."""
    ids = store.ids() if ids is None else list(ids)
    keys = store.keys_of(ids)
    n = len(keys)
    scores = np.zeros((n, n), dtype=np.float32)
    weights = store.weights()
    for s in range(0, n, chunk):
        comps = components(store, keys[s:s + chunk], keys)
        public = {name: v for name, v in comps.items() if name in scoring.CHANNELS}
        scores[s:s + chunk] = reference.combine(public, weights, gate=comps.get("_gate"))
    scores = (scores + scores.T) / 2  # symmetric by construction; this removes float noise
    np.fill_diagonal(scores, 0.0)
    st = store.snapshot()
    comp = st.company[keys]
    same = (comp[:, None] == comp[None, :]) & (comp[:, None] >= 0)
    pos = {aid: i for i, aid in enumerate(ids)}
    blocked = np.zeros((n, n), dtype=bool)
    connected = np.zeros((n, n), dtype=bool)
    for i, aid in enumerate(ids):
        for other in store.blocked(aid):
            j = pos.get(other)
            if j is not None:
                blocked[i, j] = blocked[j, i] = True
        for other in store.graph.neighbours(aid):
            j = pos.get(other)
            if j is not None:
                connected[i, j] = connected[j, i] = True
    roles = st.role[keys]
    role_forbidden = ~store.role_matrix()[roles[:, None], roles[None, :]]
    for m in (same, blocked, connected, role_forbidden):
        np.fill_diagonal(m, False)
    return PairScores(ids, scores, same, blocked, connected, role_forbidden)
