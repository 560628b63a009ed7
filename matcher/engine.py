"""The matcher: attendees in, ranked and explained "people you should meet" lists out.

A small facade over the engine's modules. Flow for one attendee A (a batch runs the same code for every attendee):

1. **Store** (:mod:`matcher.store`): attendees become facet items (:mod:`matcher.profile`), items become vectors
   through the embedding cache (:mod:`matcher.encoder`) in per-facet FAISS indexes (:mod:`matcher.index`), with
   the lexical channel (:mod:`matcher.lexical`) and the connections graph (:mod:`matcher.graph`).
2. **Candidates** (:mod:`matcher.retrieval`) from the FAISS channels (over-fetched): A's goals against everyone's
   offers and identity, A's offers and identity against everyone's goals, A's interests against everyone's
   interests; plus people two hops away in the connections graph. Below ``exhaustive_below`` attendees every
   attendee is a candidate.
3. **Ranking** (:mod:`matcher.ranking`): hard rules remove self, blocked (either way), already connected, opted
   out, same company (unless the policy allows), role pairs the policy forbids, and any ``exclude`` ids
   (feedback); then exact reciprocal scoring of what is left and the diversity re-rank, one compiled call per
   list (the formula is :mod:`matcher.scoring`'s contract; two backends, one test suite).
4. **Explanations** (:mod:`matcher.explain`) for the lists that are shown.

All-pairs scores for seating and evaluation come from :mod:`matcher.pairs`; save and load from
:mod:`matcher.persistence`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from matcher import explain as _explain
from matcher import pairs, persistence, ranking
from matcher.encoder import CachedEncoder, Encoder, TextEncoder
from matcher.index import HNSW_THRESHOLD
from matcher.pairs import PairScores
from matcher.profile import FACETS, facet_items
from matcher.ranking import FETCH_FACTOR, FETCH_MIN, LOCALITY_MIN, RankedLists
from matcher.retrieval import SEARCHES
from matcher.scoring import COMPONENTS, POOL_CAP
from matcher.store import EXHAUSTIVE_BELOW, AttendeeStore, UnknownAttendee
from models import Attendee, Event, EventFile, InvalidInput, Match, MatchPolicy
from models.eventfile import check_unique_ids

__all__ = ["COMPONENTS", "EXHAUSTIVE_BELOW", "FETCH_FACTOR", "FETCH_MIN", "LOCALITY_MIN", "POOL_CAP", "SEARCHES",
           "UPSERT_SLICE", "Matcher", "PairScores", "RankedLists", "UnknownAttendee"]

#: A large upsert is written this many attendees at a time (bounded scratch memory).
UPSERT_SLICE = 8192


class Matcher:
    """Per-event matching engine.

    ``encoder``: a :class:`~matcher.encoder.CachedEncoder`, or any text encoder (wrapped in one), or ``None`` for
    the default sentence-transformers model.

    >>> from matcher.encoder import HashingEncoder
    >>> m = Matcher(encoder=HashingEncoder(dim=64))
    >>> m.upsert([Attendee(id="f", role="founder", goals=["seed funding"], offers=["fintech product demos"]),
    ...           Attendee(id="i", role="investor", goals=["fintech founders"], offers=["seed funding"])])
    >>> [x.id for x in m.recommend("f")]
    ['i']
    """

    def __init__(self, event: Event | None = None, encoder: TextEncoder | CachedEncoder | None = None, *,
                 hnsw_threshold: int = HNSW_THRESHOLD, index_kind: str | None = None,
                 exhaustive_below: int = EXHAUSTIVE_BELOW):
        if encoder is None:
            encoder = Encoder()
        self.encoder = encoder if isinstance(encoder, CachedEncoder) else CachedEncoder(encoder)
        self.hnsw_threshold = hnsw_threshold
        self.index_kind = index_kind
        self.store = AttendeeStore(lambda: self.encoder.dim, hnsw_threshold=hnsw_threshold, index_kind=index_kind,
                                   exhaustive_below=exhaustive_below)
        self.event = event if event is not None else Event(id="event")

    # ------------------------------------------------------------------------------------------------ building
    @classmethod
    def from_event_file(cls, event_file: EventFile, encoder=None, *, progress: bool = False,
                        **kwargs) -> Matcher:
        """A matcher holding every attendee of an event file."""
        m = cls(event_file.event, encoder, **kwargs)
        m.upsert(event_file.attendees, progress=progress)
        return m

    @property
    def policy(self) -> MatchPolicy:
        return self.event.policy

    @property
    def event(self) -> Event:
        """The event and its matching policy; assigning a new one (or :meth:`set_event`) takes effect at once."""
        return self._event

    @event.setter
    def event(self, event: Event) -> None:
        self._event = event
        self.store.policy = event.policy

    @property
    def exhaustive_below(self) -> int:
        """Events with fewer attendees are scored against everyone (no FAISS retrieval)."""
        return self.store.exhaustive_below

    @exhaustive_below.setter
    def exhaustive_below(self, value: int) -> None:
        self.store.exhaustive_below = value

    def set_event(self, event: Event) -> None:
        """Replace the event (name, policy); attendees stay."""
        self.event = event

    def __len__(self) -> int:
        return len(self.store)

    def __contains__(self, attendee_id: object) -> bool:
        return attendee_id in self.store

    def ids(self) -> list[str]:
        """Attendee ids in insertion order."""
        return self.store.ids()

    def get(self, attendee_id: str) -> Attendee:
        return self.store.get(attendee_id)

    def encode_texts(self, texts: Sequence[str], *, progress: bool = False, chunk: int = 4096,
                     keep: bool = True) -> np.ndarray | None:
        """Encode through the cache, in chunks (with a progress bar when asked). ``keep=False`` only makes sure
        every text is in the cache (nothing is returned, nothing large is held)."""
        if len(texts) <= chunk and keep:
            return self.encoder.encode(texts)
        bar = None
        if progress and len(texts) > chunk:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="encoding", unit="text")
        parts = []
        for i in range(0, len(texts), chunk):
            part = self.encoder.encode(texts[i:i + chunk])
            if keep:
                parts.append(part)
            if bar is not None:
                bar.update(min(chunk, len(texts) - i))
        if bar is not None:
            bar.close()
        return np.concatenate(parts) if keep else None

    def upsert(self, attendees: Iterable[Attendee], *, progress: bool = False) -> None:
        """Add attendees, or replace those whose id is already here. Only texts never seen before are encoded.

        Raises :class:`~models.InvalidInput` (and changes nothing) when one batch repeats an id.
        """
        batch = list(attendees)
        for i, a in enumerate(batch):
            if not isinstance(a, Attendee):
                raise InvalidInput([{"field": f"attendees[{i}]", "message": "expected an Attendee"}])
        try:
            check_unique_ids(batch)
        except ValueError as exc:
            field, _, message = str(exc).partition(": ")
            raise InvalidInput([{"field": field, "message": message}]) from None
        if not batch:
            return
        items = [facet_items(a) for a in batch]
        texts = list(dict.fromkeys(t for it in items for f in FACETS for t in it[f]))
        # every new text is encoded (into the cache) before anything is written: a model error changes nothing;
        # then the batch is written in slices whose vectors come back from the cache, so a large upsert holds
        # one slice's vectors at a time, not the whole event's
        self.encode_texts(texts, progress=progress, keep=False)
        for s in range(0, len(batch), UPSERT_SLICE):
            part = items[s:s + UPSERT_SLICE]
            part_texts = list(dict.fromkeys(t for it in part for f in FACETS for t in it[f]))
            self.store.write(batch[s:s + UPSERT_SLICE], part, self.encoder.encode(part_texts), part_texts)

    def remove(self, attendee_id: str) -> None:
        """Erase an attendee: gone from the lists, the indexes, the lexical channel and the graph."""
        self.store.remove(attendee_id)

    # ------------------------------------------------------------------------------------------------- ranking
    def recommend(self, attendee_id: str, k: int | None = None, exclude: Iterable[str] = ()) -> list[Match]:
        """The ranked, explained list for one attendee (``k`` defaults to the event policy's list length).

        ``exclude``: more ids to leave out (e.g. people declined or already met). Raises :class:`UnknownAttendee`.
        """
        return self.recommend_all([attendee_id], k=k, exclude={attendee_id: exclude}, threads=1)[attendee_id]

    def recommend_all(self, ids: Sequence[str] | None = None, k: int | None = None,
                      exclude: Mapping[str, Iterable[str]] | None = None, *, progress: bool = False,
                      explain: bool = True, threads: int | None = None) -> dict[str, list[Match]]:
        """Lists for many attendees (default: all). Returns exactly what :meth:`recommend` returns for each.

        ``explain=False`` leaves the item-level reasons out (the score components stay): for batch jobs that only
        need the ranking. For a whole large event, :meth:`rank_all` returns the same lists as arrays.
        """
        ranked = self.rank_all(ids, k=k, exclude=exclude, progress=progress, threads=threads)
        store = self.store
        out: dict[str, list[Match]] = {}
        for i, aid in enumerate(ranked.ids):
            n = int(ranked.lengths[i])
            keys = [int(x) for x in ranked.keys[i, :n]]
            scores = [float(x) for x in ranked.scores[i, :n]]
            comps = [dict(zip(COMPONENTS, map(float, row), strict=True)) for row in ranked.components[i, :n]]
            if explain:
                out[aid] = _explain.build_many(store, store.key_of(aid), keys, scores, comps)
            else:
                out[aid] = [_explain.bare(store, c, s, cp) for c, s, cp in zip(keys, scores, comps, strict=True)]
        return out

    def rank_all(self, ids: Sequence[str] | None = None, k: int | None = None,
                 exclude: Mapping[str, Iterable[str]] | None = None, *, progress: bool = False,
                 threads: int | None = None, chunk: int = 256) -> RankedLists:
        """Every list as arrays (ids, scores and score components; no per-match objects): the batch path.

        The same lists as :meth:`recommend`, to the last bit. Chunks of ``chunk`` attendees run on ``threads``
        threads (default: one per available core); FAISS and the compiled kernels release the GIL.
        """
        return ranking.rank_all(self.store, ids, k, exclude, progress=progress, threads=threads, chunk=chunk)

    # -------------------------------------------------------------------------------------------- all pairs
    def pair_scores(self, ids: Sequence[str] | None = None, *, chunk: int = 256) -> PairScores:
        """Reciprocal scores of every pair (the final score :meth:`recommend` shows, before any rules).

        Used as affinity by the table planner and the evaluation. Memory: a few ``(n, n)`` float32 arrays.
        """
        return pairs.pair_scores(self.store, ids, chunk=chunk)

    def components(self, ids: Sequence[str], others: Sequence[str]) -> dict[str, np.ndarray]:
        """Channel scores ``(len(ids), len(others))`` of the all-pairs path (with the intent directions as
        ``_q_to_c`` and ``_c_to_q``): what :meth:`pair_scores` combines."""
        return pairs.components(self.store, self.store.keys_of(ids), self.store.keys_of(others))

    # ------------------------------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write the event, attendees, indexes and row maps to a directory (no model weights)."""
        persistence.save(self, path)

    @classmethod
    def load(cls, path: str | Path, encoder=None, **kwargs) -> Matcher:
        """Restore a matcher written by :meth:`save` without encoding anything."""
        return persistence.load(cls, path, encoder, **kwargs)
