"""The scoring contract: one formula, two backends held equal by one test suite.

A match's score is a weighted mean of channels, each in [0, 1]:

- ``intent``: reciprocal intent, the harmonic mean of ``a_to_b`` (how well B's offers and identity meet A's goals,
  soft-max pooled over A's goals) and ``b_to_a`` (the same the other way); one direction at ``ONE_SIDED`` weight
  where only one person states goals;
- ``interests``: shared interests, both directions averaged;
- ``lexical``: TF-IDF over hashed terms, seek-give both ways and topic-topic;
- ``mutual``: ``1 - exp(-Adamic-Adar)`` over the connections graph (ties weighted by strength between two people
  who both state no goal, :meth:`matcher.store.AttendeeStore.adamic_adar`).

Counterparts, not look-alikes (the policy's ``complement``, 1 by default, scales all of it; 0 is plain reciprocal
intent): intent loses a *substitute* penalty (:func:`~matcher.scoring.reference.fuse`: how much more the two give
alike than each one's give meets the other's goals, and how much their directions from give to seek agree; waived
as far as their two sides are one peer group, :func:`matcher.sides.peers`), then is averaged with the *sides*
prior of the two people's learned sides (:mod:`matcher.sides`); the symmetric channels (interests, lexical,
mutual connections) count in proportion to that intent, so look-alikes and friends of friends on one's own side
cannot outvote it.

Lists are ordered by the rounded score (6 decimals, ties by id), then re-ranked for diversity over the pool of
everyone who can still reach the first ``k`` picks (:func:`~matcher.scoring.reference.rerank_pool_size`).

Two implementations share every name and signature listed in :data:`BACKEND_TWINS`:
:mod:`matcher.scoring.reference` (numpy, the definition, also the all-pairs path) and
:mod:`matcher.scoring.compiled` (numba, the list path the engine runs). ``tests/test_scoring_backends.py`` runs
both on the same cases; adding a channel means adding a column here, the math to both modules and a case there.

This package also re-exports the reference's names, so ``from matcher.scoring import Segments, pair_channels``
works as it always has.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from matcher.profile import FACETS

#: Temperature of the soft maximum that pools per-item matches (0.1 on cosine: close to max, rewards a second hit).
POOL_TEMPERATURE = 0.1
#: Weight of a match where only one of the two people states goals.
ONE_SIDED = 0.5
#: Profile cosine below which two people do not count as redundant at all (diversity re-rank). Chosen on the
#: synthetic benchmark with the real model: people of one cluster legitimately read alike (0.5 cost 14% nDCG@10 at
#: 1,000 people and doubled the most-exposed person's lists); 0.85 still cost 0.6% (300 people, seeds 0-4) and 1.3%
#: (1,000, seeds 0-2) against no re-rank, with no gain in coverage or exposure (the most-exposed person: 124 lists
#: against 115 without, 1,000 seed 0); from 0.92 the cost is within 0.001 of none and only near-copies (the same
#: boilerplate bio, a duplicate sign-up) are pushed down.
FLOOR = 0.92
#: Most candidates the diversity re-rank considers for one list.
POOL_CAP = 500
#: Scores are compared at this many decimals when a list is ordered (equal scores: by id).
SCORE_DECIMALS = 6

# Complementarity (counterparts, not look-alikes), all scaled by the policy's ``complement`` (0 turns it off).
# Chosen on the sample event (per-kind counterpart shares) and synthetic events (300 people seeds 0-2, 1,000
# people seeds 0-1, nDCG@10 and two-sided recall@10) with the real model, over a grid of SUBSTITUTE {0.5, 1},
# DIRECTION {0.1, 0.2, 0.4}, SIDES {0.5, 1, 1.5} and the sides' own direction {0, 0.3, 0.5, 0.6}: the values below
# lifted every synthetic run most while every kind of the sample stayed above 0.6; see the README.
#: Weight of the substitute term: how much more two people give alike than one's give meets the other's goals.
SUBSTITUTE = 1.0
#: Weight of the direction term: two people who point the same way (seek alike from what they give alike).
DIRECTION = 0.1
#: Weight of the event's learned sides prior (:mod:`matcher.sides`) against the pair's own intent.
SIDES = 0.5

#: Facet columns (``starts[GOALS]``, ``vectors[OFFERS]``...), in :data:`matcher.profile.FACETS` order.
GOALS, OFFERS, IDENTITY, INTERESTS = range(4)
assert FACETS == ("goals", "offers", "identity", "interests")

#: Score components of a match, the columns of every components array (``comps[:, LEXICAL]``...).
COMPONENTS = ("intent", "a_to_b", "b_to_a", "interests", "lexical", "mutual", "substitute", "sides")
C_INTENT, C_A_TO_B, C_B_TO_A, C_INTERESTS, C_LEXICAL, C_MUTUAL, C_SUBSTITUTE, C_SIDES = range(len(COMPONENTS))
#: Columns of :func:`list_channels`' output: reciprocal intent, its two directions, shared interests, and how
#: well each one's give meets the other's give (``give_qc``: q's give items against c's).
LIST_CHANNELS = ("intent", "q_to_c", "c_to_q", "interests", "give_qc", "give_cq")
#: Weighted channels, the order of :attr:`Params.weights` (the event policy's weights by name).
CHANNELS = ("intent", "interests", "lexical", "mutual")
W_INTENT, W_INTERESTS, W_LEXICAL, W_MUTUAL = range(len(CHANNELS))


class Queries(NamedTuple):
    """The lists to rank and what is particular to each: query ``i`` is ``keys[i]``.

    Candidates of ``i`` are ``found[found_off[i]:found_off[i + 1]]`` (or every alive key when
    :attr:`Params.exhaustive`); ``aa_*`` its Adamic-Adar scores by key (sorted); ``excluded`` its forbidden keys
    (sorted).
    """

    keys: np.ndarray       # (n_q,) int64
    found: np.ndarray      # int64
    found_off: np.ndarray  # (n_q + 1,) int64
    aa_keys: np.ndarray    # int64
    aa_vals: np.ndarray    # float64
    aa_off: np.ndarray     # (n_q + 1,) int64
    excluded: np.ndarray   # int64
    excl_off: np.ndarray   # (n_q + 1,) int64


class People(NamedTuple):
    """Per-key facts the hard rules and ties read."""

    alive_keys: np.ndarray  # keys that exist, sorted
    eligible: np.ndarray    # (n_keys,) bool: alive and not opted out
    role: np.ndarray        # (n_keys,) int64 role code
    role_ok: np.ndarray     # (n_roles, n_roles) bool
    company: np.ndarray     # (n_keys,) int64, -1 for none
    id_rank: np.ndarray     # (n_keys,) int64: rank of each key's id in sorted order
    side: np.ndarray        # (n_keys,) int64: learned side (-1: none)
    side_prior: np.ndarray  # (K, K) float64: prior of a pair by their sides
    side_peer: np.ndarray   # (K, K) float64: how far their sides are one peer group (excuses the penalty)


class Items(NamedTuple):
    """Item vectors by facet: key ``c``'s rows of facet ``f`` are ``flats[f][starts[f, c]:starts[f, c] +
    counts[f, c]]`` in ``vectors[f]``; ``profiles[c]`` is its unit profile vector (diversity)."""

    vectors: tuple   # 4 x (n_rows, dim) float32
    starts: np.ndarray  # (4, n_keys) int64
    counts: np.ndarray  # (4, n_keys) int64
    flats: tuple     # 4 x int64
    profiles: np.ndarray  # (n_keys, dim) float32
    directions: np.ndarray  # (n_keys, dim) float32: unit direction from give to seek (zero: none)


class Lexical(NamedTuple):
    """The ``[seek | give | topic]`` TF-IDF rows (CSR) and per-key presence of seek and topic terms.
    ``table`` (float64) and ``bits`` (uint8) are all-zero scratch over the columns, left all zero."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_features: int
    table: np.ndarray
    bits: np.ndarray
    has_seek: np.ndarray
    has_topic: np.ndarray


class Params(NamedTuple):
    """How lists are scored and cut. The constants travel here rather than as the kernels' globals: numba caches
    compiled code by its own source file, so a constant changed in this module would otherwise be missed."""

    weights: np.ndarray  # (len(CHANNELS),) float64, normalised to sum to 1
    k: int
    fetch: int
    diversity: float
    exhaustive: bool
    same_company_ok: bool
    complement: float = 1.0
    substitute: float = SUBSTITUTE
    direction: float = DIRECTION
    sides: float = SIDES
    pool_cap: int = POOL_CAP
    floor: float = FLOOR
    inv_t: float = 1.0 / POOL_TEMPERATURE
    one_sided: float = ONE_SIDED


class Out(NamedTuple):
    """Where :func:`rank_lists` writes: up to ``k`` keys, scores and components per query, and each length."""

    keys: np.ndarray    # (n_q, k) int64
    scores: np.ndarray  # (n_q, k) float64
    comps: np.ndarray   # (n_q, k, len(COMPONENTS)) float32
    lengths: np.ndarray  # (n_q,) int64


#: Every function both backends define, with the test that holds the two equal:
#: ``(name, what it computes, test in tests/test_scoring_backends.py)``.
BACKEND_TWINS = (
    ("list_channels", "embedding channels of one query against its candidates", "test_list_channels"),
    ("lexical_dots", "the lexical channel's three dot products", "test_lexical_dots"),
    ("lexical_score", "the lexical channel from its dot products", "test_lexical_score"),
    ("mutual_score", "the mutual channel from Adamic-Adar", "test_mutual_score"),
    ("fuse", "intent less the substitute penalty, with the sides prior", "test_fuse"),
    ("rerank_pool_size", "how many of a sorted list the diversity re-rank considers", "test_rerank_pool_size"),
    ("rerank", "the diversity re-rank's picks", "test_rerank"),
    ("picked_scores", "the score each pick was chosen by", "test_picked_scores"),
    ("candidate_lists", "candidate keys from FAISS hits", "test_candidate_lists"),
    ("rank_lists", "whole lists: rules, scores, order, re-rank", "test_rank_lists"),
)

from matcher.scoring.reference import (  # noqa: E402  (the contract above is what the reference reads)
    Segments,
    Side,
    Sims,
    combine,
    directional,
    harmonic,
    interests,
    max_by_cols,
    max_by_rows,
    pair_channels,
    pool_cols,
    pool_rows,
    reciprocal,
)

__all__ = ["BACKEND_TWINS", "CHANNELS", "COMPONENTS", "DIRECTION", "FLOOR", "LIST_CHANNELS", "ONE_SIDED",
           "POOL_CAP", "POOL_TEMPERATURE", "SCORE_DECIMALS", "SIDES", "SUBSTITUTE", "Items", "Lexical", "Out", "Params", "People", "Queries", "Segments", "Side", "Sims",
           "combine", "directional", "harmonic", "interests", "max_by_cols", "max_by_rows", "pair_channels",
           "pool_cols", "pool_rows", "reciprocal"]
