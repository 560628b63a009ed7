"""Import paths users and older code know stay valid after the layout move (packages re-export their names)."""

from __future__ import annotations

import importlib

import pytest

OLD_PATHS = {
    "matcher": ["CachedEncoder", "EmbeddingCache", "Encoder", "EncoderError", "FacetIndex", "HashingEncoder",
                "Matcher", "PairScores", "RankedLists", "UnknownAttendee"],
    "matcher.engine": ["COMPONENTS", "EXHAUSTIVE_BELOW", "FETCH_FACTOR", "FETCH_MIN", "LOCALITY_MIN", "POOL_CAP",
                       "SEARCHES", "UPSERT_SLICE", "Matcher", "PairScores", "RankedLists", "UnknownAttendee"],
    "matcher.scoring": ["ONE_SIDED", "POOL_TEMPERATURE", "Segments", "Side", "Sims", "combine", "directional",
                        "harmonic", "interests", "max_by_cols", "max_by_rows", "pair_channels", "pool_cols",
                        "pool_rows", "reciprocal"],
    "matcher.diversity": ["FLOOR", "rerank"],
    "matcher.kernels": ["candidate_lists", "lexical_dots", "lexical_score", "list_channels", "rank_lists",
                        "rerank"],
}


@pytest.mark.parametrize("module", sorted(OLD_PATHS))
def test_old_import_paths_still_work(module):
    mod = importlib.import_module(module)
    missing = [name for name in OLD_PATHS[module] if not hasattr(mod, name)]
    assert not missing, f"{module} lost {missing}"


def test_old_paths_are_the_new_objects():
    from matcher import diversity, engine, kernels, ranking, scoring, store
    from matcher.scoring import compiled, reference

    assert engine.RankedLists is ranking.RankedLists and engine.UnknownAttendee is store.UnknownAttendee
    assert kernels.rank_lists is compiled.rank_lists and scoring.pair_channels is reference.pair_channels
    assert diversity.FLOOR == scoring.FLOOR
