"""The engine on toy events with the deterministic stand-in encoder: rules, batch = one-by-one, retrieval =
exhaustive scoring, updates, persistence and explanations."""

from __future__ import annotations

import numpy as np
import pytest

from matcher import CachedEncoder, HashingEncoder, Matcher, UnknownAttendee
from models import Attendee, Event, InvalidInput, MatchPolicy

TOPICS = ["rust compilers", "seed funding fintech", "climate energy storage", "medical imaging ai",
          "b2b saas growth", "robotics perception", "supply chain logistics", "edtech tutoring"]


def crowd(n=120, seed=0):
    """A seeded crowd: each person seeks one topic and offers another, some know each other."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        g, o, t = rng.choice(len(TOPICS), 3)
        out.append(Attendee(
            id=f"p{i:03d}", name=f"Person {i}", role=["founder", "investor", "engineer"][i % 3],
            company=f"co{i % 40}", goals=[f"looking for {TOPICS[g]} help"], offers=[f"expert in {TOPICS[o]}"],
            interests=[TOPICS[t], TOPICS[(t + 1) % len(TOPICS)]],
            connections=[f"p{j:03d}" for j in rng.choice(n, 2) if j != i]))
    return out


@pytest.fixture
def enc():
    return HashingEncoder(dim=64)


def ids(matches):
    return [m.id for m in matches]


def test_hard_rules_are_never_violated(enc):
    people = [
        Attendee(id="me", company="Acme", goals=["rust engineers"], offers=["rust jobs"], blocked=["b1"],
                 connections=["friend"]),
        Attendee(id="b1", goals=["rust jobs"], offers=["rust engineers"]),             # I blocked them
        Attendee(id="b2", goals=["rust jobs"], offers=["rust engineers"], blocked=["me"]),  # they blocked me
        Attendee(id="friend", goals=["rust jobs"], offers=["rust engineers"]),         # already connected
        Attendee(id="colleague", company=" acme ", goals=["rust jobs"], offers=["rust engineers"]),
        Attendee(id="hidden", goals=["rust jobs"], offers=["rust engineers"], opt_out=True),
        Attendee(id="declined", goals=["rust jobs"], offers=["rust engineers"]),
        Attendee(id="ok", goals=["rust jobs"], offers=["rust engineers"]),
        Attendee(id="weak", goals=["pottery"], offers=["gardening"]),
    ]
    m = Matcher(Event(id="e"), enc)
    m.upsert(people)
    assert ids(m.recommend("me", k=10, exclude=["declined"])) == ["ok", "weak"]
    # the rules hold from the other side too, and for the whole batch
    lists = m.recommend_all(k=10)
    assert "me" not in ids(lists["b1"]) and "me" not in ids(lists["b2"]) and "me" not in ids(lists["colleague"])
    assert all("hidden" not in ids(v) for v in lists.values())
    assert lists["hidden"] == []  # opted out: no list either
    # the policy can allow same-company matches
    m.set_event(Event(id="e", policy=MatchPolicy(allow_same_company=True)))
    assert "colleague" in ids(m.recommend("me", k=10))


def test_role_rules_from_the_policy(enc):
    people = [Attendee(id="inv", role="Investor", goals=["fintech"], offers=["fintech"]),
              Attendee(id="inv2", role="investor", goals=["fintech"], offers=["fintech"]),
              Attendee(id="fou", role="founder", goals=["fintech"], offers=["fintech"]),
              Attendee(id="stu", role="student", goals=["fintech"], offers=["fintech"])]
    policy = MatchPolicy(role_rules={"investor": ["founder"]})
    m = Matcher(Event(id="e", policy=policy), enc)
    m.upsert(people)
    assert ids(m.recommend("inv", k=5)) == ["fou"]
    assert "inv" not in ids(m.recommend("stu", k=5)) and "inv2" not in ids(m.recommend("stu", k=5))
    assert set(ids(m.recommend("fou", k=5))) == {"inv", "inv2", "stu"}


def test_reciprocal_beats_one_sided(enc):
    # A looks for X and offers Y. B offers X and looks for Y (good for both). C offers X, looks for Z.
    people = [Attendee(id="A", goals=["quantum sensors"], offers=["welding robots"]),
              Attendee(id="B", goals=["welding robots"], offers=["quantum sensors"]),
              Attendee(id="C", goals=["pastry recipes"], offers=["quantum sensors"])]
    m = Matcher(Event(id="e"), enc)
    m.upsert(people)
    got = m.recommend("A", k=2)
    assert ids(got) == ["B", "C"]
    assert got[0].score > got[1].score
    r = got[0].reasons
    assert r.they_offer_what_you_seek[0].mine == "quantum sensors"
    assert r.they_offer_what_you_seek[0].theirs == "quantum sensors"
    assert r.you_offer_what_they_seek[0].mine == "welding robots"
    assert "B offers: quantum sensors" in r.summary or "B offers: quantum sensors" in r.summary.replace("B ", "B ")
    assert set(r.components) >= {"intent", "a_to_b", "b_to_a", "interests", "lexical", "mutual"}


def test_mutual_connections_are_counted_and_explained(enc):
    people = [Attendee(id="a", goals=["x"], connections=["z1", "z2"]),
              Attendee(id="b", goals=["x"], connections=["z1", "z2"]),
              Attendee(id="c", goals=["x"])]
    m = Matcher(Event(id="e"), enc)
    m.upsert(people)
    got = m.recommend("a", k=2)
    assert ids(got) == ["b", "c"]
    assert got[0].reasons.mutual_connections == ["z1", "z2"]
    assert got[0].reasons.components["mutual"] > 0 and got[1].reasons.components["mutual"] == 0


def test_a_close_colleague_s_friends_count_more(enc):
    """Mutual connections over ties weighted by strength (``1 + s``, ``s`` the TF-IDF cosine of the two people's
    topics): ``a`` reaches ``b`` through a colleague who works on what both do, ``c`` through one who does not;
    one shared friend each (both of degree 2: plain Adamic-Adar gives both 1/log 2); the known values are
    computed by hand from the lexical index."""
    from matcher import store as store_module

    people = [Attendee(id="a", interests=["protein folding"], bio="We fold proteins.", connections=["zc", "zf"]),
              Attendee(id="zc", interests=["protein folding"], bio="Protein folding with deep nets."),
              Attendee(id="zf", interests=["football"], bio="I coach football."),
              Attendee(id="b", interests=["protein folding"], bio="Folding proteins fast.", connections=["zc"]),
              Attendee(id="c", interests=["protein folding"], bio="Folding proteins slowly.", connections=["zf"])]
    m = Matcher(Event(id="e"), enc)
    m.upsert(people)
    st = m.store
    keys, vals = st.adamic_adar("a")
    got = dict(zip([st.id_of(int(x)) for x in keys], vals.tolist(), strict=True))
    topics = st.lexical.topics()
    k = {p.id: st.keys_of([p.id])[0] for p in people}
    s = lambda x, y: float((topics[k[x]] @ topics[k[y]].T).toarray()[0, 0])  # noqa: E731
    tie = lambda x, y: 1.0 + store_module.TIE_TEXT * s(x, y)  # noqa: E731
    assert s("a", "zc") > 0.2 and s("a", "zf") == 0.0
    assert got["b"] == pytest.approx(tie("a", "zc") * tie("zc", "b") / np.log(2), rel=1e-9)
    assert got["c"] == pytest.approx(tie("a", "zf") * tie("zf", "c") / np.log(2), rel=1e-9)
    assert got["b"] > got["c"] >= 1 / np.log(2) - 1e-12  # never below plain Adamic-Adar
    back = dict(zip([st.id_of(int(x)) for x in st.adamic_adar("b")[0]], st.adamic_adar("b")[1].tolist(), strict=True))
    assert back["a"] == pytest.approx(got["b"], rel=1e-12)  # the same both ways
    # a candidate who states a goal: plain Adamic-Adar with them, both ways
    people[4] = people[4].model_copy(update={"goals": ["a protein folding postdoc"]})
    m.upsert(people[4:])
    keys, vals = st.adamic_adar("a")
    assert dict(zip([st.id_of(int(x)) for x in keys], vals.tolist(), strict=True))["c"] == pytest.approx(1 / np.log(2))
    # someone who states a goal: ties count 1 each (text overlap there marks look-alikes)
    people[0] = people[0].model_copy(update={"goals": ["collaborators in protein folding"]})
    m.upsert(people[:1])
    keys, vals = st.adamic_adar("a")
    assert vals.tolist() == pytest.approx([1 / np.log(2)] * 2, rel=1e-12)


def test_batch_equals_one_by_one(enc):
    m = Matcher(Event(id="e"), enc, exhaustive_below=0)  # force the FAISS retrieval path
    m.upsert(crowd())
    batch = m.recommend_all(k=7)
    for aid in m.ids():
        single = m.recommend(aid, k=7)
        assert [(x.id, x.score) for x in single] == [(x.id, x.score) for x in batch[aid]]


def test_retrieval_finds_what_exhaustive_scoring_finds(enc):
    people = crowd(150, seed=3)
    exact = Matcher(Event(id="e"), enc)
    fast = Matcher(Event(id="e"), enc, exhaustive_below=0)
    exact.upsert(people)
    fast.upsert(people)
    a, b = exact.recommend_all(k=5), fast.recommend_all(k=5)
    # people scored above 0 (the toy encoder leaves many pairs at 0, whose order among themselves is by id alone)
    scored = {i: [m.id for m in a[i] if m.score > 0] for i in a}
    assert sum(map(len, scored.values())) >= 200
    overlap = np.mean([len(set(scored[i]) & set(ids(b[i]))) / len(scored[i]) for i in a if scored[i]])
    assert overlap >= 0.9


def test_scores_match_pair_scores_and_are_symmetric(enc):
    m = Matcher(Event(id="e", policy=MatchPolicy(diversity=0)), enc)
    m.upsert(crowd(60))
    ps = m.pair_scores()
    np.testing.assert_allclose(ps.scores, ps.scores.T)
    pos = {a: i for i, a in enumerate(ps.ids)}
    for aid in m.ids()[:10]:
        for x in m.recommend(aid, k=5):
            assert ps.scores[pos[aid], pos[x.id]] == pytest.approx(x.score, abs=1e-5)
        # without diversity, the list is exactly the best allowed scores
        row = ps.scores[pos[aid]].copy()
        banned = ps.same_company[pos[aid]] | ps.connected[pos[aid]] | ps.blocked[pos[aid]]
        row[banned] = -1
        row[pos[aid]] = -1
        best = np.sort(row)[::-1][:5]
        np.testing.assert_allclose([x.score for x in m.recommend(aid, k=5)], best, atol=1e-5)


def test_update_and_remove_without_rebuild(enc):
    m = Matcher(Event(id="e"), enc, exhaustive_below=0)
    m.upsert(crowd(50))
    m.upsert([Attendee(id="new", goals=["zebra migration tracking"], offers=["glacier drilling permits"])])
    target = "p000"
    m.upsert([Attendee(id=target, goals=["glacier drilling permits"], offers=["zebra migration tracking"])])
    assert ids(m.recommend(target, k=1)) == ["new"]
    m.remove("new")
    assert "new" not in m and all("new" not in ids(v) for v in m.recommend_all(k=10).values())
    with pytest.raises(UnknownAttendee, match="unknown attendee id 'new'"):
        m.recommend("new")
    with pytest.raises(UnknownAttendee):
        m.remove("new")


def test_unchanged_profiles_are_never_encoded_again(enc):
    cached = CachedEncoder(enc)
    m = Matcher(Event(id="e"), cached)
    people = crowd(40)
    m.upsert(people)
    first = cached.encoded_
    m.upsert(people)  # same texts again
    assert cached.encoded_ == first
    changed = people[0].model_copy(update={"goals": ["something never said before"]})
    m.upsert([changed])
    assert cached.encoded_ == first + 1


def test_save_and_load_give_the_same_lists(enc, tmp_path):
    m = Matcher(Event(id="e"), enc, exhaustive_below=0)
    m.upsert(crowd(80))
    m.remove("p005")
    m.save(tmp_path / "m")
    back = Matcher.load(tmp_path / "m", HashingEncoder(dim=64), exhaustive_below=0)
    assert back.ids() == m.ids()
    for aid in m.ids()[:20]:
        assert [(x.id, x.score) for x in back.recommend(aid, k=5)] == [(x.id, x.score) for x in m.recommend(aid, k=5)]


def test_bad_arguments(enc):
    m = Matcher(Event(id="e"), enc)
    a = Attendee(id="a")
    with pytest.raises(InvalidInput, match=r"attendees\[1\]\.id: duplicate id 'a'"):
        m.upsert([a, a])
    assert len(m) == 0  # nothing half-written
    m.upsert([a])
    with pytest.raises(InvalidInput, match="k: must be at least 1"):
        m.recommend("a", k=0)
    with pytest.raises(UnknownAttendee, match="'zz'"):
        m.recommend_all(["a", "zz"])
    assert m.recommend("a") == []  # alone at the event


def test_diversity_avoids_near_copies(enc):
    me = Attendee(id="me", goals=["rust engineers", "seed funding"], offers=["rust jobs"])
    copies = [Attendee(id=f"copy{i}", goals=["rust jobs"], offers=["rust engineers"]) for i in range(4)]
    other = Attendee(id="investor", goals=["rust jobs"], offers=["seed funding fintech"])
    m = Matcher(Event(id="e", policy=MatchPolicy(diversity=0.0)), enc)
    m.upsert([me, *copies, other])
    plain = ids(m.recommend("me", k=3))
    m.set_event(Event(id="e", policy=MatchPolicy(diversity=0.6)))
    varied = ids(m.recommend("me", k=3))
    assert "investor" not in plain and "investor" in varied


def test_erasure_survives_save_and_load(enc, tmp_path):
    people = [Attendee(id="a", goals=["x"], connections=["gone", "z"]),
              Attendee(id="b", goals=["x"], connections=["gone"], blocked=["gone"]),
              Attendee(id="gone", goals=["x"], connections=["z"])]
    m = Matcher(Event(id="e"), enc)
    m.upsert(people)
    assert m.recommend("a", k=1)[0].reasons.mutual_connections == ["gone"]
    m.remove("gone")
    assert m.get("a").connections == ["z"] and m.get("b").blocked == []
    assert m.recommend("a", k=1)[0].reasons.mutual_connections == []
    m.save(tmp_path / "m")
    back = Matcher.load(tmp_path / "m", HashingEncoder(dim=64))
    assert back.recommend("a", k=1)[0].reasons.mutual_connections == []
    assert "gone" not in back.store.graph.neighbours("a")


def test_pages_agree_whatever_the_list_length(enc):
    # fifteen near-copies outscore one distinct, decent match: with strong diversity the distinct one should be
    # second however long the list asked for (a page of 2 and a page of 17 must agree on their first two)
    me = Attendee(id="me", goals=["rust engineers", "seed funding"], offers=["rust jobs"])
    copies = [Attendee(id=f"copy{i:02d}", goals=["rust jobs"], offers=["rust engineers"]) for i in range(15)]
    other = Attendee(id="zinvestor", goals=["python jobs"], offers=["seed funding"])
    m = Matcher(Event(id="e", policy=MatchPolicy(diversity=0.9)), enc)
    m.upsert([me, *copies, other])
    short = [x.id for x in m.recommend("me", k=2)]
    long = [x.id for x in m.recommend("me", k=17)]
    assert short == long[:2] == ["copy00", "zinvestor"]
    m.upsert(crowd(150, seed=5))
    for aid in m.ids()[-30:]:
        assert [x.id for x in m.recommend(aid, k=17)][:5] == [x.id for x in m.recommend(aid, k=5)]


def test_people_without_any_text_rank_and_are_ranked(enc):
    m = Matcher(Event(id="e"), enc)
    m.upsert([Attendee(id="blank"), Attendee(id="a", goals=["rust"], offers=["go"], interests=["compilers"]),
              Attendee(id="b", goals=["go"], offers=["rust"])])
    assert [x.id for x in m.recommend("blank", k=5)] == ["a", "b"]  # only ties: by id
    assert "blank" in [x.id for x in m.recommend("a", k=5)]


def varied_crowd(n=90, seed=7):
    """A crowd where some people state no goals, offers or interests (the one-sided and empty cases)."""
    people = crowd(n, seed)
    rng = np.random.default_rng(seed)
    out = []
    for i, p in enumerate(people):
        drop = {}
        if i % 7 == 0:
            drop["goals"] = []
        if i % 11 == 0:
            drop["offers"] = []
        if i % 5 == 0:
            drop["interests"] = []
        if i % 13 == 0:
            drop["bio"] = f"Working on {TOPICS[int(rng.integers(len(TOPICS)))]} at scale"
        out.append(p.model_copy(update=drop))
    return out


@pytest.mark.parametrize("exhaustive_below", [1000, 0])
def test_list_scores_equal_the_numpy_reference(enc, exhaustive_below):
    # the compiled list kernels against the numpy math of pair_scores, channel by channel, for every candidate
    m = Matcher(Event(id="e", policy=MatchPolicy(diversity=0)), enc, exhaustive_below=exhaustive_below)
    m.upsert(varied_crowd())
    ids_ = m.ids()
    ps = m.pair_scores()
    ref = m.components(ids_, ids_)
    names = {"intent": "intent", "_q_to_c": "a_to_b", "_c_to_q": "b_to_a", "interests": "interests",
             "lexical": "lexical", "mutual": "mutual"}
    checked = 0
    for qi, aid in enumerate(ids_[:30]):
        for x in m.recommend(aid, k=len(ids_)):
            ci = ids_.index(x.id)
            assert x.score == pytest.approx(float(ps.scores[qi, ci]), abs=1e-5)
            for ref_name, name in names.items():
                want = float(ref[ref_name][qi, ci])
                if np.isnan(want):
                    assert name not in x.reasons.components
                else:
                    assert x.reasons.components[name] == pytest.approx(want, abs=1e-4)
            checked += 1
    assert checked > 500


def test_batch_threads_and_cluster_order_change_nothing(enc, monkeypatch):
    import matcher.ranking as ranking

    m = Matcher(Event(id="e"), enc, exhaustive_below=0)
    m.upsert(crowd(200, seed=11))
    one = m.rank_all(k=6, threads=1, chunk=32)
    monkeypatch.setattr(ranking, "LOCALITY_MIN", 16)  # cluster order for this small batch too
    many = m.rank_all(k=6, threads=2, chunk=32)
    assert one.lists() == many.lists()
    np.testing.assert_array_equal(one.scores, many.scores)
    for aid in m.ids()[::17]:
        assert [x.id for x in m.recommend(aid, k=6)] == many.match_ids(many.ids.index(aid))


def test_explained_shared_terms_are_whole_words_both_used(enc):
    # "zdvxg" lands in the same hashed column as "ai", and "email" contains "ai": still not a shared term
    from sklearn.utils import murmurhash3_32

    from matcher.lexical import N_FEATURES

    def col(t):
        return abs(murmurhash3_32(t, seed=0)) % N_FEATURES

    assert col("zdvxg") == col("ai")
    m = Matcher(Event(id="e"), enc)
    m.upsert([Attendee(id="q", goals=["ai startups"], offers=["seed money"]),
              Attendee(id="c", offers=["zdvxg consulting, email marketing"], goals=["seed money"])])
    terms = m.recommend("q", k=1)[0].reasons.shared_terms
    assert "ai" not in terms and {"seed", "money"} <= set(terms)


def test_exclusions_take_any_iterable_and_a_new_event_applies_at_once(enc):
    m = Matcher(Event(id="e"), enc)
    m.upsert([Attendee(id="a", company="X", goals=["rust"]), Attendee(id="b", company="X", offers=["rust"]),
              Attendee(id="c", offers=["go"]), Attendee(id="d", offers=["rust jobs"])])
    assert ids(m.recommend("a", k=5, exclude=np.array(["c", "d"]))) == []
    assert "b" not in ids(m.recommend("a", k=5))
    m.event = Event(id="e", policy=MatchPolicy(allow_same_company=True))  # plain assignment, no set_event
    assert ids(m.recommend("a", k=5))[0] == "b"
