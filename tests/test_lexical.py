"""The lexical channel against plain sparse products: rare shared terms, both directions, removal."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.lexical import LexicalIndex

WORDS = ["rust", "compilers", "seed", "funding", "fintech", "lorawan", "series", "robotics", "hiring", "python",
         "climate", "storage", "tutoring", "kubernetes", "payments", "biotech"]


def docs(rng, n):
    pick = lambda: " ".join(rng.choice(WORDS, int(rng.integers(0, 5))))  # noqa: E731 - may be empty
    return [{"seek": pick(), "give": pick(), "topic": pick()} for _ in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_dots_equal_sparse_products(seed):
    rng = np.random.default_rng(seed)
    lex = LexicalIndex()
    lex.set_many(list(range(60)), docs(rng, 60))
    lex.set_many([3, 70], docs(rng, 2))  # replace one, add one past the end
    lex.remove(5)
    seek, give, topic = (lex.matrix(k) for k in ("seek", "give", "topic"))
    cands = np.array([0, 1, 2, 3, 5, 9, 40, 59, 70])
    for q in (0, 3, 5, 17, 70):
        got = lex.dots(q, cands)
        want = ((seek[q] @ give[cands].T).toarray()[0], (give[q] @ seek[cands].T).toarray()[0],
                (topic[q] @ topic[cands].T).toarray()[0])
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    assert not np.any(lex.dots(5, cands)[0])  # a removed key has no terms


def test_shared_rare_term_scores_and_unrelated_do_not():
    lex = LexicalIndex()
    lex.set_many([0, 1, 2], [{"seek": "LoRaWAN gateway engineers", "give": "", "topic": ""},
                             {"seek": "", "give": "I build LoRaWAN gateways", "topic": ""},
                             {"seek": "", "give": "pottery classes", "topic": ""}])
    seek_give, give_seek, _ = lex.dots(0, np.array([1, 2]))
    assert seek_give[0] > 0 and seek_give[1] == 0
    assert not give_seek.any()
    assert lex.shared_terms("LoRaWAN gateway engineers", "I build LoRaWAN gateways") == ["lorawan"]
