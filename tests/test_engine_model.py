"""Known-answer tests with the real model (all-MiniLM-L6-v2): direction must come from structure."""

from __future__ import annotations

from pathlib import Path

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


# ----------------------------------------------------------------------------------- complements (issue 14)
# One toy event holding every trap: for each kind of complement, a counterpart and a same-side look-alike who
# reads like the query (the embedding puts "hire" next to "open roles", "seed investors" next to "raising").
TRAPS = [
    Attendee(id="hm", role="engineering lead", bio="We are hiring Rust engineers for our payments backend.",
             goals=["hire two senior backend engineers with Rust experience"],
             offers=["open senior Rust backend roles", "relocation support"]),
    Attendee(id="hm_alike", role="head of platform", bio="Hiring Rust engineers.",
             goals=["recruit senior Rust developers for our team"], offers=["Rust engineering positions open now"]),
    Attendee(id="dev", role="software engineer", bio="Backend engineer with seven years of Rust and Go.",
             goals=["a senior backend role where I can write Rust"],
             offers=["seven years building Rust services in production"]),
    Attendee(id="mentee", role="associate product manager", bio="Junior PM, two years in.",
             goals=["a mentor who has grown as a product leader"], offers=["notes from user interviews"]),
    Attendee(id="mentee_alike", role="product analyst", bio="Moving into product management.",
             goals=["mentorship from an experienced product manager"], offers=["help with usability testing"]),
    Attendee(id="mentor", role="VP of Product", bio="Twenty years in product; I mentor new PMs.",
             goals=["coach junior product managers"], offers=["mentoring on product leadership and careers"]),
    Attendee(id="raiser", role="founder", bio="Building carbon accounting software; raising our seed round.",
             goals=["seed investors for a climate software startup"], offers=["demo of our carbon accounting tool"]),
    Attendee(id="raiser_alike", role="co-founder", bio="Climate startup, currently fundraising.",
             goals=["angel investors backing climate tech"], offers=["pilot access to our emissions platform"]),
    Attendee(id="vc", role="partner", bio="I invest in early-stage climate software.",
             goals=["climate software founders raising seed"], offers=["seed cheques for climate startups"]),
    Attendee(id="buyer", role="procurement lead", bio="I buy lab equipment for a hospital network.",
             goals=["suppliers of laboratory centrifuges"], offers=["a purchasing budget for lab equipment"]),
    Attendee(id="buyer_alike", role="purchasing manager", bio="Sourcing lab equipment for our clinics.",
             goals=["vendors selling lab centrifuges"], offers=["large orders of laboratory equipment"]),
    Attendee(id="seller", role="sales director", bio="We make laboratory centrifuges.",
             goals=["hospitals buying lab equipment"], offers=["laboratory centrifuges with service contracts"]),
    Attendee(id="cto_seeker", role="founder", bio="Non-technical founder of a logistics startup.",
             goals=["a technical co-founder for my logistics startup"], offers=["a business plan and first customers"]),
    Attendee(id="cto_seeker_alike", role="founder", bio="Business founder looking for a CTO.",
             goals=["a CTO co-founder to build our product"], offers=["sales experience and early revenue"]),
    Attendee(id="engineer_cofounder", role="engineer", bio="Engineer who wants to co-found a startup.",
             goals=["join a startup as technical co-founder"], offers=["full-stack engineering and building MVPs"]),
]
TRAP_CASES = [("hm", "dev", "hm_alike"), ("mentee", "mentor", "mentee_alike"), ("raiser", "vc", "raiser_alike"),
              ("buyer", "seller", "buyer_alike"), ("cto_seeker", "engineer_cofounder", "cto_seeker_alike")]


@pytest.fixture(scope="module")
def traps(real_encoder):
    m = Matcher(Event(id="traps"), real_encoder)
    m.upsert(TRAPS)
    return m


@pytest.mark.parametrize(("query", "counterpart", "alike"), TRAP_CASES,
                         ids=[f"{q}->{c}" for q, c, _ in TRAP_CASES])
def test_counterpart_ranks_above_the_look_alike(traps, query, counterpart, alike):
    got = [x.id for x in traps.recommend(query, k=len(TRAPS))]
    assert got.index(counterpart) < got.index(alike), (query, got)
    # and the other way round: the query (or its look-alike, also a counterpart) leads the counterpart's list
    back = [x.id for x in traps.recommend(counterpart, k=len(TRAPS))]
    assert back[0] in (query, alike), (counterpart, back)


def test_the_same_traps_fail_without_complementarity(real_encoder):
    # the traps are real: with complementarity off the plain reciprocal score puts some look-alike first
    m = Matcher(Event(id="traps", policy={"complement": 0}), real_encoder)
    m.upsert(TRAPS)
    failed = 0
    for query, counterpart, alike in TRAP_CASES:
        got = [x.id for x in m.recommend(query, k=len(TRAPS))]
        failed += got.index(alike) < got.index(counterpart)
    assert failed >= 1


def test_shared_friends_count_only_as_far_as_intent_agrees(real_encoder):
    """Each query and its look-alike know the same four people (Adamic-Adar 5.8: the mutual channel at 0.997), the
    counterpart knows none of them. Mutual connections count times the intent gate, so the counterpart stays above
    the look-alike in 3 of the 5 traps (raising, buying, co-founding; measured: 1 of 5 when the channel counted in
    full); hiring and mentoring, whose look-alikes keep most of their intent, do not hold against four shared friends."""
    people = [p.model_copy() for p in TRAPS]
    by_id = {p.id: p for p in people}
    for query, _, alike in TRAP_CASES:
        friends = [f"{query}_friend{i}" for i in range(4)]
        people += [Attendee(id=f, interests=["networking"], connections=[query, alike]) for f in friends]
        by_id[query].connections = friends
        by_id[alike].connections = friends
    m = Matcher(Event(id="traps-with-friends"), real_encoder)
    m.upsert(people)
    held = []
    for query, counterpart, alike in TRAP_CASES:
        got = m.recommend(query, k=len(people))
        order = [x.id for x in got]
        look_alike = got[order.index(alike)]
        assert look_alike.reasons.mutual_connections and look_alike.reasons.components["mutual"] > 0.99
        if order.index(counterpart) < order.index(alike):
            held.append(query)
    assert {"raiser", "buyer", "cto_seeker"} <= set(held), held


def _researcher_lists(real_encoder):
    from models import load_event

    ef = load_event(Path(__file__).parent.parent / "scripts" / "data" / "sample_event.json")
    m = Matcher.from_event_file(ef, real_encoder)
    role = {a.id: a.role for a in ef.attendees}
    ids = [a.id for a in ef.attendees if a.role == "researcher"]
    lists = m.rank_all(ids, k=10).lists()
    return [sum(role[x] == "researcher" for x in lists[r]) for r in ids], m, ids


def test_researchers_seeking_collaborators_meet_each_other(real_encoder, monkeypatch):
    """Peers who want each other are counterparts too: the sample's 33 researchers (goals "collaborators in
    robot learning", offers "code and benchmarks for robot learning") give alike because they want each other.
    Measured: 99% of their top 10 are researchers (every one has at least 9); with the peer groups switched off
    the sides prior put them at 0 with each other and their lists were 39% researchers (some had none), the rest
    vague attendees who read "networking"."""
    from matcher import sides

    got, m, ids = _researcher_lists(real_encoder)
    assert sum(got) / (10 * len(got)) >= 0.9 and min(got) >= 7, got
    # and the explanation says why: each one's work meets the other's goal (not hidden as a goal both seek)
    # (measured: 27 of the 33 show both ways; the others, e.g. the HCI researcher, meet a researcher of another field)
    both = [aid for aid in ids if (r := m.recommend(aid, k=1)[0].reasons).they_offer_what_you_seek
            and r.you_offer_what_they_seek]
    assert len(both) >= 0.7 * len(ids), both
    monkeypatch.setattr(sides, "PEER_GAP", (9.0, 10.0))  # no side can be a peer group
    off, _, _ = _researcher_lists(real_encoder)
    assert sum(off) / (10 * len(off)) < 0.6, off
