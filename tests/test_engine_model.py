"""Known-answer tests with the real model (all-MiniLM-L6-v2): direction must come from structure."""

from __future__ import annotations

import numpy as np
import pytest

from matcher import Matcher
from matcher.encoder import BF16_MIN_COSINE, Encoder
from models import Attendee, Event

pytestmark = pytest.mark.model

PEOPLE = [
    Attendee(id="founder", name="Ana", role="founder", title="CEO", company="PayFlow",
             bio="Building a payments API for small businesses.",
             goals=["seed funding for our fintech startup", "a technical co-founder"],
             offers=["product demos", "insights on B2B payments"]),
    Attendee(id="founder2", name="Ben", role="founder", title="Co-founder", company="LedgerLoop",
             bio="Fintech startup automating bookkeeping.",
             goals=["raising a seed round", "angel investors"],
             offers=["feedback on pitch decks", "fintech market insights"]),
    Attendee(id="investor", name="Chiara", role="investor", title="Partner", company="Northstar Ventures",
             bio="Early-stage investor.",
             goals=["seed-stage fintech founders", "B2B SaaS startups raising"],
             offers=["seed investment up to $1M", "intros to follow-on VCs"]),
    Attendee(id="hm1", name="Dev", role="hiring manager", title="Engineering Manager", company="Ferrous",
             bio="Leading the platform team.",
             goals=["hire senior Rust engineers"], offers=["open Rust engineering roles", "mentoring on systems design"]),
    Attendee(id="hm2", name="Eva", role="hiring manager", title="VP Engineering", company="Oxide Labs",
             bio="Growing our backend team.",
             goals=["hiring backend engineers who know Rust"], offers=["we have open engineering positions"]),
    Attendee(id="candidate", name="Femi", role="job seeker", title="Senior Software Engineer",
             bio="Backend engineer, 8 years, Rust and Go.",
             goals=["a senior backend engineering job", "a team that uses Rust"],
             offers=["8 years of Rust and distributed systems experience"]),
]


@pytest.fixture(scope="module")
def matcher(real_encoder):
    m = Matcher(Event(id="known-answers"), real_encoder)
    m.upsert(PEOPLE)
    return m


def rank(m, aid):
    return [x.id for x in m.recommend(aid, k=5)]


def test_founder_meets_the_investor_before_another_founder(matcher):
    got = rank(matcher, "founder")
    assert got.index("investor") < got.index("founder2")
    got2 = rank(matcher, "founder2")
    assert got2.index("investor") < got2.index("founder")


def test_hiring_manager_and_candidate_find_each_other(matcher):
    assert rank(matcher, "hm1")[0] == "candidate"
    assert rank(matcher, "hm2")[0] == "candidate"
    assert rank(matcher, "candidate")[:2] in (["hm1", "hm2"], ["hm2", "hm1"])


def test_investor_finds_founders_first_with_reasons(matcher):
    got = matcher.recommend("investor", k=5)
    assert {x.id for x in got[:2]} == {"founder", "founder2"}
    r = next(x for x in got if x.id == "founder").reasons
    assert any("founder" in m.mine.lower() or "fintech" in m.mine.lower() for m in r.they_offer_what_you_seek)
    assert any("seed" in m.mine.lower() for m in r.you_offer_what_they_seek)
    assert r.summary


def test_bf16_is_used_only_when_it_keeps_quality(real_encoder):
    ref = Encoder(precision="fp32")
    texts = [p.goals[0] for p in PEOPLE] + [p.bio for p in PEOPLE]
    a, b = real_encoder.encode(texts), ref.encode(texts)
    cos = np.sum(a * b, axis=1)
    assert real_encoder.precision_ in {"fp32", "bf16"}
    assert cos.min() >= BF16_MIN_COSINE
    if real_encoder.precision_ == "bf16":
        assert real_encoder.calibration_cosine_ >= BF16_MIN_COSINE
