"""Compiled inner loops of list ranking (numba): one attendee's list scored against its own candidates.

The twin of :mod:`matcher.scoring.reference` (same names, same signatures; the contract is
:mod:`matcher.scoring`, and ``tests/test_scoring_backends.py`` holds the two equal); what changes is the cost. A list reads its candidates' item vectors where FAISS stores them
(a few thousand rows scattered over gigabytes: the dominant cost, measured), eight rows at a time so that the
CPU waits for several at once, and does the rest in one compiled pass with no Python in between. The kernels release
the GIL, so batch threads run them in parallel.

Nothing here touches the model, FAISS objects or Python objects: arrays in, arrays out.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from matcher import scoring as contract
from matcher.scoring import FLOOR, ONE_SIDED

_GOALS, _OFFERS, _IDENTITY, _INTERESTS = contract.GOALS, contract.OFFERS, contract.IDENTITY, contract.INTERESTS
_W_INTENT, _W_INTERESTS, _W_LEXICAL, _W_MUTUAL = (contract.W_INTENT, contract.W_INTERESTS, contract.W_LEXICAL,
                                                  contract.W_MUTUAL)
_C_INTERESTS, _C_LEXICAL, _C_MUTUAL = contract.C_INTERESTS, contract.C_LEXICAL, contract.C_MUTUAL
_N_COMPONENTS = len(contract.COMPONENTS)
_SCALE = 10.0 ** contract.SCORE_DECIMALS
_SUBSTITUTE, _DIRECTION, _SIDES = contract.SUBSTITUTE, contract.DIRECTION, contract.SIDES
_C_SUBSTITUTE, _C_SIDES = contract.C_SUBSTITUTE, contract.C_SIDES
_N_LIST = len(contract.LIST_CHANNELS)

#: Reassociation lets the dot products vectorise; NaN and infinity keep their meaning (NaN marks an undefined
#: direction, -inf starts every maximum), so the no-NaN/no-inf fast-math flags stay off.
_JIT = {"nogil": True, "fastmath": {"reassoc", "contract", "nsz", "arcp"}, "cache": True, "error_model": "numpy"}


@nb.njit(**_JIT)
def _rows_of(cands, start, count, flat):
    """The stored row numbers of every candidate's items of one facet, candidate after candidate."""
    total = 0
    for c in cands:
        total += count[c]
    rows = np.empty(total, dtype=np.int64)
    n = 0
    for c in cands:
        s = start[c]
        for b in range(count[c]):
            rows[n] = flat[s + b]
            n += 1
    return rows


@nb.njit(**_JIT)
def _dot(x, a, vectors, r):
    """``x[a] . vectors[r]`` (float32, vectorised)."""
    acc = np.float32(0.0)
    for t in range(x.shape[1]):
        acc += x[a, t] * vectors[r, t]
    return acc


@nb.njit(**_JIT)
def _dots(x, vectors, rows, out):
    """``out[a, j] = x[a] . vectors[rows[j]]``. Eight rows at a time: eight independent sums per pass keep the
    CPU busy while the rows arrive from memory (measured against four at a time: 12% faster)."""
    n, dim = rows.shape[0], x.shape[1]
    j = 0
    while j + 8 <= n:
        r0, r1, r2, r3 = rows[j], rows[j + 1], rows[j + 2], rows[j + 3]
        r4, r5, r6, r7 = rows[j + 4], rows[j + 5], rows[j + 6], rows[j + 7]
        for a in range(x.shape[0]):
            s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = np.float32(0.0)
            for t in range(dim):
                xa = x[a, t]
                s0 += xa * vectors[r0, t]
                s1 += xa * vectors[r1, t]
                s2 += xa * vectors[r2, t]
                s3 += xa * vectors[r3, t]
                s4 += xa * vectors[r4, t]
                s5 += xa * vectors[r5, t]
                s6 += xa * vectors[r6, t]
                s7 += xa * vectors[r7, t]
            out[a, j], out[a, j + 1], out[a, j + 2], out[a, j + 3] = s0, s1, s2, s3
            out[a, j + 4], out[a, j + 5], out[a, j + 6], out[a, j + 7] = s4, s5, s6, s7
        j += 8
    while j < n:
        for a in range(x.shape[0]):
            out[a, j] = _dot(x, a, vectors, rows[j])
        j += 1


@nb.njit(**_JIT)
def _sims(x, vectors, cands, start, count, flat):
    """Cosines of ``x``'s rows with every candidate's items of one facet: ``(len(x), n_items)``."""
    rows = _rows_of(cands, start, count, flat)
    out = np.empty((x.shape[0], rows.shape[0]), dtype=np.float32)
    _dots(x, vectors, rows, out)
    return out


@nb.njit(**_JIT)
def _pool(values, n, inv_t):
    """Soft maximum of ``values[:n]``: ``sum(x e^(x/t)) / sum(e^(x/t))``."""
    num = 0.0
    den = 0.0
    for a in range(n):
        w = np.exp(values[a] * inv_t)
        num += w * values[a]
        den += w
    return num / den


@nb.njit(**_JIT)
def _clip01(x):
    return min(max(x, 0.0), 1.0)


@nb.njit(**_JIT)
def list_channels(cands, q_goals, q_give, q_interests, vectors, starts, counts, flats, inv_t, one_sided, out,
                  intent=True, interests=True):
    """Embedding channels of one attendee against each candidate key in ``cands`` (only those asked for: a
    channel left out reads none of the candidates' vectors and gives NaN intent/directions or 0 interests).

    ``vectors``/``flats`` are per facet (goals, offers, identity, interests): the stored item rows and the row
    numbers of every key's items (``flats[f][starts[f, key]:starts[f, key] + counts[f, key]]``). Writes
    ``out[j]`` = :data:`~matcher.scoring.LIST_CHANNELS`; directions are NaN where undefined, as in
    :func:`matcher.scoring.reference.pair_channels`.
    """
    n_goals = q_goals.shape[0] if intent else 0
    n_give = q_give.shape[0] if intent else 0
    n_interests = q_interests.shape[0] if interests else 0
    # every cosine the list needs, facet pair by facet pair (q's items against the candidates' items)
    s_offers = _sims(q_goals[:n_goals], vectors[1], cands, starts[1], counts[1], flats[1])
    s_identity = _sims(q_goals[:n_goals], vectors[2], cands, starts[2], counts[2], flats[2])
    s_goals = _sims(q_give[:n_give], vectors[0], cands, starts[0], counts[0], flats[0])
    s_interests = _sims(q_interests[:n_interests], vectors[3], cands, starts[3], counts[3], flats[3])
    g_offers = _sims(q_give[:n_give], vectors[1], cands, starts[1], counts[1], flats[1])
    g_identity = _sims(q_give[:n_give], vectors[2], cands, starts[2], counts[2], flats[2])
    best = np.empty(max(n_goals, n_interests, n_give, 1), dtype=np.float64)
    most = 1
    for c in cands:
        most = max(most, counts[0, c], counts[3, c], counts[1, c] + counts[2, c])
    scratch = np.empty(most, dtype=np.float64)
    at_off = at_id = at_goal = at_int = 0  # where each candidate's columns start
    for j in range(cands.shape[0]):
        c = cands[j]
        n_off, n_id, n_cg, n_ci = counts[1, c], counts[2, c], counts[0, c], counts[3, c]
        # how well c serves q: each of q's goals against c's offers and identity, pooled over q's goals
        q_to_c = np.nan
        if n_goals > 0 and n_off + n_id > 0:
            for a in range(n_goals):
                top = -np.inf
                for b in range(at_off, at_off + n_off):
                    top = max(top, s_offers[a, b])
                for b in range(at_id, at_id + n_id):
                    top = max(top, s_identity[a, b])
                best[a] = top
            q_to_c = _pool(best, n_goals, inv_t)
        # how well q serves c: each of c's goals against q's offers and identity, pooled over c's goals
        c_to_q = np.nan
        if n_give > 0 and n_cg > 0:
            for b in range(n_cg):
                top = -np.inf
                for a in range(n_give):
                    top = max(top, s_goals[a, at_goal + b])
                scratch[b] = top
            c_to_q = _pool(scratch, n_cg, inv_t)
        # reciprocal: harmonic mean where both exist, one_sided x the one that exists
        if q_to_c == q_to_c and c_to_q == c_to_q:
            x, y = _clip01(q_to_c), _clip01(c_to_q)
            intent = 2.0 * x * y / (x + y) if x + y > 0 else 0.0
        elif q_to_c == q_to_c:
            intent = one_sided * _clip01(q_to_c)
        elif c_to_q == c_to_q:
            intent = one_sided * _clip01(c_to_q)
        else:
            intent = 0.0
        # shared interests, both ways
        shared = 0.0
        if n_interests > 0 and n_ci > 0:
            for a in range(n_interests):
                top = -np.inf
                for b in range(at_int, at_int + n_ci):
                    top = max(top, s_interests[a, b])
                best[a] = top
            for b in range(n_ci):
                top = -np.inf
                for a in range(n_interests):
                    top = max(top, s_interests[a, at_int + b])
                scratch[b] = top
            shared = _clip01(0.5 * (_pool(best, n_interests, inv_t) + _pool(scratch, n_ci, inv_t)))
        # give against give: how well each one's give meets the other's (substitutes give alike)
        give_qc = np.nan
        give_cq = np.nan
        if n_give > 0 and n_off + n_id > 0:
            for a in range(n_give):
                top = -np.inf
                for b in range(at_off, at_off + n_off):
                    top = max(top, g_offers[a, b])
                for b in range(at_id, at_id + n_id):
                    top = max(top, g_identity[a, b])
                best[a] = top
            give_qc = _pool(best, n_give, inv_t)
            for b in range(n_off):
                top = -np.inf
                for a in range(n_give):
                    top = max(top, g_offers[a, at_off + b])
                scratch[b] = top
            for b in range(n_id):
                top = -np.inf
                for a in range(n_give):
                    top = max(top, g_identity[a, at_id + b])
                scratch[n_off + b] = top
            give_cq = _pool(scratch, n_off + n_id, inv_t)
        out[j, 0] = intent
        out[j, 1] = q_to_c
        out[j, 2] = c_to_q
        out[j, 3] = shared
        out[j, 4] = give_qc
        out[j, 5] = give_cq
        at_off += n_off
        at_id += n_id
        at_goal += n_cg
        at_int += n_ci


@nb.njit(**_JIT)
def lexical_dots(indptr, indices, data, q, cands, n_features, table, bits, out):
    """The lexical channel's three dot products of key ``q`` with each candidate key, from the
    ``[seek | give | topic]`` CSR arrays: ``out[j] = (seek_q . give_c, give_q . seek_c, topic_q . topic_c)``.

    ``table`` (float64) and ``bits`` (uint8, one bit per column) are all-zero scratch arrays over the columns
    (left all zero again).
    """
    q0, q1 = indptr[q], indptr[q + 1]
    # the query's seek terms are looked up in the candidates' give block and so on: shift its columns; a bitmap
    # of the shifted columns (small enough to stay in cache) screens the candidates' terms before the table
    for t in range(q0, q1):
        col = indices[t]
        part = col // n_features
        shift = n_features if part == 0 else (-n_features if part == 1 else 0)
        table[col + shift] = data[t]
        bits[(col + shift) >> 3] |= np.uint8(1 << ((col + shift) & 7))
    for j in range(cands.shape[0]):
        c = cands[j]
        s_give = 0.0
        s_seek = 0.0
        s_topic = 0.0
        for t in range(indptr[c], indptr[c + 1]):
            col = indices[t]
            if bits[col >> 3] & (1 << (col & 7)) == 0:
                continue
            v = table[col]
            if v != 0.0:
                part = col // n_features
                if part == 0:
                    s_seek += v * data[t]   # their seek term, my give term
                elif part == 1:
                    s_give += v * data[t]   # their give term, my seek term
                else:
                    s_topic += v * data[t]
        out[j, 0] = s_give
        out[j, 1] = s_seek
        out[j, 2] = s_topic
    for t in range(q0, q1):
        col = indices[t]
        part = col // n_features
        shift = n_features if part == 0 else (-n_features if part == 1 else 0)
        table[col + shift] = 0.0
        bits[(col + shift) >> 3] = 0


# ------------------------------------------------------------------------------------------------ whole lists
@nb.njit(**_JIT)
def _own_rows(vectors, start, count, flat, key):
    """Copy of one key's item vectors."""
    s, n = start[key], count[key]
    out = np.empty((n, vectors.shape[1]), dtype=np.float32)
    for b in range(n):
        out[b, :] = vectors[flat[s + b]]
    return out


@nb.njit(**_JIT)
def _mutual_top(keys, vals, id_rank, fetch):
    """The ``fetch`` keys with the highest Adamic-Adar scores (ties by id)."""
    order = np.argsort(id_rank[keys], kind="mergesort")
    order = order[np.argsort(-vals[order], kind="mergesort")]
    return keys[order[:fetch]]


@nb.njit(**_JIT)
def _redundancy(sim, floor):
    return min(max((np.float64(sim) - floor) / (1.0 - floor), 0.0), 1.0)


@nb.njit(**_JIT)
def _greedy(scores, profiles, rows, k, diversity, floor, m):
    """:func:`matcher.scoring.reference._greedy` compiled over ``profiles[rows]``: the greedy picks among the first
    ``m``, or an empty array if one might have come from beyond them. Similarities are computed as needed: the
    first ``k`` among themselves, then each pick against the ``m``."""
    n_all = scores.shape[0]
    head = np.empty((m, profiles.shape[1]), dtype=np.float32)
    for j in range(m):
        head[j, :] = profiles[rows[j]]
    picked = np.empty(k, dtype=np.int64)
    for i in range(k):
        picked[i] = i
    if diversity == 0:
        return picked
    # the i-th pick is the i-th best until one of the first k is a near-copy of a better one
    start = k
    for j in range(1, k):
        for i in range(j):
            if _dot(head, i, head, j) > floor:
                start = j
                break
        if start < k:
            break
    if start == k:
        return picked
    beyond = scores[m] if m < n_all else -np.inf
    worst = np.zeros(m)
    left = np.ones(m, dtype=np.bool_)
    for i in range(start):
        left[i] = False
        for j in range(m):
            r = _redundancy(_dot(head, i, head, j), floor)
            if r > worst[j]:
                worst[j] = r
    for step in range(start, k):
        best, at = -np.inf, -1
        for j in range(m):
            if left[j]:
                v = scores[j] * (1.0 - diversity * worst[j])
                if v > best:
                    best, at = v, j
        if best < beyond:
            return picked[:0]
        picked[step] = at
        left[at] = False
        for j in range(m):
            if left[j]:
                r = _redundancy(_dot(head, at, head, j), floor)
                if r > worst[j]:
                    worst[j] = r
    return picked


@nb.njit(**_JIT)
def rerank(scores, profiles, rows, k, diversity, floor=FLOOR):
    """The diversity re-rank compiled, over ``profiles[rows]`` (same picks, same ties; only the rows
    the greedy can reach are read)."""
    n = scores.shape[0]
    k = min(k, n)
    m = min(n, 2 * k)
    while True:
        picks = _greedy(scores, profiles, rows, k, diversity, floor, m)
        if picks.shape[0] == k:
            return picks
        m = min(n, 2 * m)


@nb.njit(**_JIT)
def mutual_score(adamic_adar):
    """The mutual channel: ``1 - exp(-Adamic-Adar)``."""
    return 1.0 - np.exp(-adamic_adar)


@nb.njit(**_JIT)
def _excess(give, serve):
    if give != give or serve != serve:
        return 0.0
    return max(0.0, give - serve)


@nb.njit(**_JIT)
def fuse(intent, q_to_c, c_to_q, give_qc, give_cq, direction, prior, complement, substitute_weight=_SUBSTITUTE,
         direction_weight=_DIRECTION, sides_weight=_SIDES, peer=0.0):
    """Intent with complementarity for one pair: ``(adjusted intent, substitute penalty, gate)``. The engine passes
    the weights from :class:`~matcher.scoring.Params`; the defaults are compiled in (and cached) for direct calls."""
    substitute = 0.5 * (_excess(give_qc, q_to_c) + _excess(give_cq, c_to_q))
    penalty = complement * (1.0 - peer) * (substitute_weight * substitute + direction_weight * max(0.0, direction))
    adjusted = min(max(intent - penalty, 0.0), 1.0)
    w = complement * sides_weight
    if prior == prior and w > 0:
        adjusted = (adjusted + w * prior) / (1.0 + w)
    if q_to_c != q_to_c and c_to_q != c_to_q:
        return adjusted, penalty, 1.0
    return adjusted, penalty, (1.0 - complement) + complement * adjusted


@nb.njit(**_JIT)
def picked_scores(scores, profiles, rows, picks, diversity, floor=FLOOR):
    """The score each diversity pick was chosen by (its score less its largest redundancy with earlier picks)."""
    n = picks.shape[0]
    out = np.empty(n)
    for j in range(n):
        worst = 0.0
        rj = rows[picks[j]]
        for i in range(j):
            ri = rows[picks[i]]
            sim = 0.0
            for t in range(profiles.shape[1]):
                sim += np.float64(profiles[ri, t]) * np.float64(profiles[rj, t])
            worst = max(worst, _redundancy(sim, floor))
        out[j] = scores[picks[j]] * (1.0 - diversity * worst)
    return out


@nb.njit(**_JIT)
def rerank_pool_size(sorted_scores, k, diversity, pool_cap):
    """How many of a best-first list the diversity re-rank considers (everyone who can still make the first
    ``k`` picks: nobody below ``(1 - diversity)`` x the k-th best)."""
    n = sorted_scores.shape[0]
    kth = sorted_scores[min(k, n) - 1]
    size = 0
    for j in range(n):
        if sorted_scores[j] >= (1.0 - diversity) * kth:
            size += 1
    return min(n, pool_cap, max(size, k))


@nb.njit(**_JIT)
def rank_lists(q, people, items, lex, params, out):
    """Rank every query key's list: rules, exact scores of its own candidates, diversity re-rank (the named
    tuples of :mod:`matcher.scoring`: :class:`~matcher.scoring.Queries`, :class:`~matcher.scoring.People`,
    :class:`~matcher.scoring.Items`, :class:`~matcher.scoring.Lexical`, :class:`~matcher.scoring.Params`,
    :class:`~matcher.scoring.Out`). Writes up to ``k`` keys, scores and components per query, and its length.
    """
    w = params.weights
    k = params.k
    vectors, starts, counts, flats = items.vectors, items.starts, items.counts, items.flats
    for qi in range(q.keys.shape[0]):
        key = q.keys[qi]
        out.lengths[qi] = 0
        if not people.eligible[key]:
            continue  # opted out: no list
        if params.exhaustive:
            pool_keys = people.alive_keys
        else:
            pool_keys = q.found[q.found_off[qi]:q.found_off[qi + 1]]
        a0, a1 = q.aa_off[qi], q.aa_off[qi + 1]
        if not params.exhaustive and a1 > a0 and w[_W_MUTUAL] > 0:
            top = _mutual_top(q.aa_keys[a0:a1], q.aa_vals[a0:a1], people.id_rank, params.fetch)
            pool_keys = np.unique(np.concatenate((pool_keys, top)))
        # hard rules
        e0, e1 = q.excl_off[qi], q.excl_off[qi + 1]
        ex = q.excluded[e0:e1]
        keep = np.zeros(pool_keys.shape[0], dtype=np.bool_)
        my_role, my_company = people.role[key], people.company[key]
        for j in range(pool_keys.shape[0]):
            c = pool_keys[j]
            if c == key or not people.eligible[c] or not people.role_ok[my_role, people.role[c]]:
                continue
            if not params.same_company_ok and my_company >= 0 and people.company[c] == my_company:
                continue
            if e1 > e0:
                p = np.searchsorted(ex, c)
                if p < ex.shape[0] and ex[p] == c:
                    continue
            keep[j] = True
        cands = pool_keys[keep]
        n = cands.shape[0]
        if n == 0:
            continue
        comps = np.full((n, _N_COMPONENTS), np.nan)
        score = np.zeros(n)
        cpl = params.complement
        need_intent = w[_W_INTENT] > 0 or (cpl > 0 and (w[_W_INTERESTS] > 0 or w[_W_LEXICAL] > 0 or w[_W_MUTUAL] > 0))
        gate = np.ones(n)
        if need_intent or w[_W_INTERESTS] > 0:
            mine_goals = _own_rows(vectors[_GOALS], starts[_GOALS], counts[_GOALS], flats[_GOALS], key)
            mine_give = np.concatenate((
                _own_rows(vectors[_OFFERS], starts[_OFFERS], counts[_OFFERS], flats[_OFFERS], key),
                _own_rows(vectors[_IDENTITY], starts[_IDENTITY], counts[_IDENTITY], flats[_IDENTITY], key)))
            mine_interests = _own_rows(vectors[_INTERESTS], starts[_INTERESTS], counts[_INTERESTS],
                                       flats[_INTERESTS], key)
            emb = np.empty((n, _N_LIST))
            list_channels(cands, mine_goals, mine_give, mine_interests, vectors, starts, counts, flats,
                          params.inv_t, params.one_sided, emb, need_intent, w[_W_INTERESTS] > 0)
            if need_intent:
                my_side = people.side[key]
                dirs = items.directions
                for j in range(n):
                    c = cands[j]
                    prior = np.nan
                    peer = 0.0
                    if my_side >= 0 and people.side[c] >= 0:
                        prior = people.side_prior[my_side, people.side[c]]
                        peer = people.side_peer[my_side, people.side[c]]
                    direction = 0.0
                    for t in range(dirs.shape[1]):
                        direction += np.float64(dirs[key, t]) * np.float64(dirs[c, t])
                    adjusted, penalty, gate[j] = fuse(emb[j, 0], emb[j, 1], emb[j, 2], emb[j, 4], emb[j, 5],
                                                      direction, prior, cpl, params.substitute, params.direction,
                                                      params.sides, peer)
                    if w[_W_INTENT] > 0:
                        comps[j, 0], comps[j, 1], comps[j, 2] = adjusted, emb[j, 1], emb[j, 2]
                        score[j] += w[_W_INTENT] * adjusted
                    if cpl > 0:
                        comps[j, _C_SUBSTITUTE] = penalty
                        comps[j, _C_SIDES] = prior
            if w[_W_INTERESTS] > 0:
                for j in range(n):
                    comps[j, _C_INTERESTS] = emb[j, 3]
                    score[j] += w[_W_INTERESTS] * emb[j, 3] * gate[j]
        if w[_W_LEXICAL] > 0:
            dots = np.empty((n, 3))
            lexical_dots(lex.indptr, lex.indices, lex.data, key, cands, lex.n_features, lex.table, lex.bits, dots)
            for j in range(n):
                comps[j, _C_LEXICAL] = lexical_score(dots[j, 0], dots[j, 1], dots[j, 2], lex.has_seek[key],
                                                     lex.has_seek[cands[j]], lex.has_topic[key],
                                                     lex.has_topic[cands[j]], params.one_sided)
                score[j] += w[_W_LEXICAL] * comps[j, _C_LEXICAL] * gate[j]
        if w[_W_MUTUAL] > 0:
            ks, vs = q.aa_keys[a0:a1], q.aa_vals[a0:a1]
            for j in range(n):
                value = 0.0
                if ks.shape[0]:
                    p = np.searchsorted(ks, cands[j])
                    if p < ks.shape[0] and ks[p] == cands[j]:
                        value = mutual_score(vs[p])
                comps[j, _C_MUTUAL] = value
                score[j] += w[_W_MUTUAL] * value * gate[j]
        # best first; equal scores (to SCORE_DECIMALS) by id
        ticks = np.rint(score * _SCALE)
        rounded = ticks / _SCALE
        id_rank = people.id_rank
        order = np.argsort((np.int64(_SCALE) + 1 - ticks.astype(np.int64)) * (id_rank.shape[0] + 1)
                           + id_rank[cands], kind="mergesort")
        m = min(k, n)
        shown = score[order[:k]]
        if params.diversity > 0 and m > 1:
            pool = order[: rerank_pool_size(rounded[order], k, params.diversity, params.pool_cap)]
            if pool.shape[0] > 1:
                picks = rerank(rounded[pool], items.profiles, cands[pool], k, params.diversity, params.floor)
                shown = picked_scores(score[pool], items.profiles, cands[pool], picks, params.diversity,
                                      params.floor)
                pool = pool[picks]
            else:
                shown = score[pool[:k]]
            chosen = pool[:k]
        else:
            chosen = order[:k]
        for j in range(chosen.shape[0]):
            out.keys[qi, j] = cands[chosen[j]]
            out.scores[qi, j] = shown[j]
            for t in range(_N_COMPONENTS):
                out.comps[qi, j, t] = comps[chosen[j], t]
        out.lengths[qi] = chosen.shape[0]


@nb.njit(**_JIT)
def lexical_score(seek_give, give_seek, topics, q_seeks, c_seeks, q_topics, c_topics, one_sided=ONE_SIDED):
    """The lexical channel from its three dot products (one pair)."""
    parts = 0.0
    total = 0.0
    if q_seeks or c_seeks:
        a, b = min(max(seek_give, 0.0), 1.0), min(max(give_seek, 0.0), 1.0)
        if q_seeks and c_seeks:
            total += 2.0 * a * b / (a + b) if a + b > 0 else 0.0
        else:
            total += one_sided * max(seek_give, give_seek)
        parts += 1.0
    if q_topics and c_topics:
        total += topics
        parts += 1.0
    return total / parts if parts > 0 else 0.0


# ------------------------------------------------------------------------------------------------- candidates
@nb.njit(**_JIT)
def candidate_lists(owners, counts, fetch, mark):
    """Candidate lists from FAISS hits: per query, each channel's first ``fetch`` distinct hit owners, its item
    rows' hits interleaved by rank (every item's best hit, then every item's second...), the channels united.

    ``owners[c]``: channel ``c``'s hit owners, ``(rows, kk)``, rows grouped by query; ``counts[c, q]``: rows of
    query ``q``. ``mark``: int64 scratch over the keys, ``mark[-1]`` a stamp counter (kept between calls).
    Returns ``(keys, offsets)``, each query's keys sorted.
    """
    n_ch, n_q = counts.shape
    out = np.empty(n_q * n_ch * fetch, dtype=np.int64)
    offsets = np.zeros(n_q + 1, dtype=np.int64)
    first = np.zeros((n_ch, n_q + 1), dtype=np.int64)
    for c in range(n_ch):
        for q in range(n_q):
            first[c, q + 1] = first[c, q] + counts[c, q]
    stamp = mark[-1]
    n = 0
    for q in range(n_q):
        start = n
        base = stamp  # marks above this were set for this query
        for c in range(n_ch):
            stamp += 1  # this channel's own stamp: its fetch counts owners other channels already gave
            hits = owners[c]
            r0, nr = first[c, q], counts[c, q]
            taken = 0
            for t in range(hits.shape[1]):
                if taken == fetch or nr == 0:
                    break
                for j in range(nr):
                    o = hits[r0 + j, t]
                    if o < 0 or mark[o] == stamp:
                        continue
                    if mark[o] <= base:  # new to this query's list
                        out[n] = o
                        n += 1
                    mark[o] = stamp
                    taken += 1
                    if taken == fetch:
                        break
        out[start:n].sort()
        offsets[q + 1] = n
    mark[-1] = stamp + 1
    return out[:n].copy(), offsets
