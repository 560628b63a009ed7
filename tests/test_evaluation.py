"""Offline evaluation: strategies and runner on toy events, the co-authorship adapter, the ``evaluate`` command."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from matcher import HashingEncoder
from matcher.evaluation import STRATEGIES, Context, EvalSet, evaluate, one_way_scores, rule_violations
from matcher.evaluation.datasets import coauthor as co
from models import Attendee, ChannelWeights, Event, EventFile, InvalidInput, MatchPolicy
from scripts.cli import main

SAMPLE = Path(__file__).parent / "data" / "coauthor_sample"


@pytest.fixture
def enc():
    return HashingEncoder(dim=64)


def market() -> EventFile:
    """Two founders who want seed funding, two investors who offer it, a student; a founder and an investor of
    one company (never to be matched), and a connected pair (already know each other)."""
    people = [
        Attendee(id="f1", role="founder", company="PayCo", goals=["seed funding for fintech"],
                 offers=["fintech payments product demo"], interests=["fintech"]),
        Attendee(id="f2", role="founder", company="LendCo", goals=["seed funding for fintech"],
                 offers=["fintech lending product demo"], interests=["fintech"], connections=["i1"]),
        Attendee(id="i1", role="investor", company="Seed Capital", goals=["founders of fintech startups"],
                 offers=["seed funding for fintech"], interests=["fintech"]),
        Attendee(id="i2", role="investor", company="LendCo", goals=["founders of fintech startups"],
                 offers=["seed funding for fintech"], interests=["fintech"]),
        Attendee(id="s1", role="student", goals=["internship in poetry"], interests=["poetry"]),
    ]
    return EventFile(event=Event(id="market"), attendees=people)


# ------------------------------------------------------------------------------------------- runner, toy event
def test_every_strategy_runs_and_respects_the_rules(enc):
    ef = market()
    rep = evaluate(EvalSet("market", ef, [("f1", "i1"), ("f2", "i2")]), enc, k=2)
    assert list(rep.results) == list(STRATEGIES)
    assert rep.n_queries == 4 and rep.n_pairs == 2
    for name, r in rep.results.items():
        assert r.metrics["violations"] == 0, name
        assert r.metrics["same_company_rate"] == 0.0, name
        assert len(r.exposure) == 5
    # f2 knows i1 and shares LendCo with i2: nobody allowed is relevant, so f2 and i2 can only miss
    d = rep.results["default"].metrics
    assert d["recall@2"] == pytest.approx(0.5)  # f1 and i1 find each other; f2 and i2 cannot
    assert d["mutual_recall@2"] == pytest.approx(0.5)
    assert set(rep.to_json()) >= {"default", "strategies"}
    assert rep.to_json()["default"] == "default"
    assert set(rep.to_json()["strategies"]["default"]) >= {"recall@2", "ndcg@2", "mrr", "map", "coverage", "gini"}


def test_the_engine_puts_the_counterpart_above_the_lookalike(enc):
    ef = market()
    ef.attendees[1] = ef.attendees[1].model_copy(update={"connections": [], "company": "OtherCo"})
    rep = evaluate(EvalSet("market", ef, [("f1", "i1"), ("f1", "i2"), ("f2", "i1"), ("f2", "i2")]), enc,
                   ["cosine", "default"], k=1)
    # by cosine the founders' nearest profile is the other founder; the engine sends each to an investor
    assert rep.results["default"].metrics["precision@1"] == 1.0
    assert rep.results["default"].metrics["precision@1"] > rep.results["cosine"].metrics["precision@1"]


def test_one_way_intent_ignores_what_the_other_side_wants(enc):
    # q's goal is exactly c's offer; c wants something q has nothing of
    ef = EventFile(event=Event(id="e", policy=MatchPolicy(weights=ChannelWeights(intent=1, interests=0,
                                                                                  lexical=0, mutual=0))),
                   attendees=[Attendee(id="q", goals=["glacier drilling permits"], offers=["zebra tracking"]),
                              Attendee(id="c", goals=["volcano insurance brokers"],
                                       offers=["glacier drilling permits"])])
    ctx = Context(EvalSet("e", ef, [("q", "c")]), enc, k=1, seed=0)
    one_way = one_way_scores(ctx)
    both = ctx.matcher.pair_scores(ctx.ids).scores
    assert one_way[0, 1] == pytest.approx(1.0, abs=1e-5)  # how well c serves q
    assert one_way[1, 0] < 0.5  # how well q serves c
    assert both[0, 1] == pytest.approx(both[1, 0]) and both[0, 1] < 0.5  # the harmonic mean needs both


def test_rule_violations_are_counted_from_the_attendee_data():
    ef = EventFile(event=Event(id="e", policy=MatchPolicy(role_rules={"investor": ["founder"]})), attendees=[
        Attendee(id="a", role="founder", company="X", blocked=["d"]),
        Attendee(id="b", role="founder", company="x "),       # same company as a
        Attendee(id="c", role="investor", connections=["a"]),  # knows a
        Attendee(id="d", role="investor"),
        Attendee(id="e", role="investor", opt_out=True),
        Attendee(id="f", role="investor"),
    ])
    lists = {"a": ["a", "b", "c", "d", "e", "f", "ghost"], "d": ["f"], "f": ["b"]}
    # a: self, same company, connected, blocked, opted out, ghost = 6 (f is fine); d->f: investors may not meet = 1
    assert rule_violations(lists, ef) == 7


def test_runner_errors_name_what_to_fix(enc):
    ef = market()
    with pytest.raises(InvalidInput, match="unknown strategy 'best'; choose from random"):
        evaluate(EvalSet("m", ef, [("f1", "i1")]), enc, ["best"])
    with pytest.raises(InvalidInput, match="unknown attendee id 'nobody'"):
        evaluate(EvalSet("m", ef, [("f1", "nobody")]), enc)
    with pytest.raises(InvalidInput, match="no ground-truth pairs"):
        evaluate(EvalSet("m", ef, []), enc)
    with pytest.raises(InvalidInput, match="k: must be at least 1"):
        evaluate(EvalSet("m", ef, [("f1", "i1")]), enc, k=0)


def test_an_ablation_with_nothing_left_is_skipped_with_a_note(enc):
    ef = market()
    only_lexical = ef.event.model_copy(update={"policy": MatchPolicy(
        weights=ChannelWeights(intent=0, interests=0, lexical=1, mutual=0))})
    ef = EventFile(event=only_lexical, attendees=ef.attendees)
    rep = evaluate(EvalSet("m", ef, [("f1", "i1")]), enc, ["default", "no-lexical", "no-reciprocity"], k=2)
    assert list(rep.results) == ["default"]
    assert any("no-lexical: skipped" in n for n in rep.notes)


# --------------------------------------------------------------------------------------------------- adapter
def test_the_sample_reads_and_round_trips(tmp_path):
    data = co.read_coauthor_dir(SAMPLE)
    assert (len(data.authors), len(data.known), len(data.relevant)) == (40, 210, 32)
    co.write_coauthor_dir(data, tmp_path / "copy")
    back = co.read_coauthor_dir(tmp_path / "copy")
    assert back.authors == data.authors and back.known == data.known and back.relevant == data.relevant


def test_papers_become_interests_and_bio_and_known_pairs_connections():
    data = co.read_coauthor_dir(SAMPLE)
    ef = co.to_event(data)
    people = {a.id: a for a in ef.attendees}
    first = data.authors[0]
    att = people[first.id]
    assert att.interests == [" ".join(p.title.split()) for p in first.papers]
    assert att.bio.startswith(" ".join(first.papers[0].abstract.split())[:50])
    assert not att.goals and not att.offers
    for a, b in data.known:
        assert b in people[a].connections and a in people[b].connections


def test_backtest_dates_pairs_by_their_first_joint_paper():
    d = co.CoauthorData(
        [co.Author("a", papers=[co.Paper(2019, "New Work"), co.Paper(2018, "Mid Work"), co.Paper(2015, "Old")]),
         co.Author("b", papers=[co.Paper(2019, "new  work")]),            # first joint paper 2019 -> truth
         co.Author("c", papers=[co.Paper(2018, "Mid Work")]),             # 2018 -> known at cutoff 2019
         co.Author("d", papers=[co.Paper(2019, "Other")])],               # undated pair -> stays known
        known=[("a", "b"), ("a", "c"), ("a", "d")], relevant=[("c", "d")])
    bt = co.backtest(d)
    assert bt.known == [("a", "c"), ("a", "d")] and bt.relevant == [("a", "b")]
    assert [len(a.papers) for a in bt.authors] == [2, 0, 1, 0]
    bt18 = co.backtest(d, 2018)
    assert bt18.known == [("a", "d")] and sorted(bt18.relevant) == [("a", "b"), ("a", "c")]


def _write_gz(path: Path, lines: list[str]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def test_adapter_errors_name_file_and_line(tmp_path):
    with pytest.raises(InvalidInput, match="not a directory"):
        co.read_coauthor_dir(tmp_path / "missing")
    with pytest.raises(InvalidInput, match="no attendees.jsonl.gz"):
        co.read_coauthor_dir(tmp_path)
    good = json.dumps({"id": "p1", "name": "A", "papers": [{"year": 2019, "title": "T", "abstract": ""}]})
    _write_gz(tmp_path / "attendees.jsonl.gz", [good, "{not json"])
    _write_gz(tmp_path / "pairs.jsonl.gz", [])
    with pytest.raises(InvalidInput, match="attendees.jsonl.gz:2: not valid JSON"):
        co.read_coauthor_dir(tmp_path)
    _write_gz(tmp_path / "attendees.jsonl.gz", [good, json.dumps({"id": "p2", "papers": [{"year": "2019"}]})])
    with pytest.raises(InvalidInput, match=r"attendees.jsonl.gz:2: papers\[0\].year must be an integer"):
        co.read_coauthor_dir(tmp_path)
    _write_gz(tmp_path / "attendees.jsonl.gz", [good])
    _write_gz(tmp_path / "pairs.jsonl.gz", [json.dumps({"a": "p1", "b": "p9", "kind": "known"})])
    with pytest.raises(InvalidInput, match="pairs.jsonl.gz:1: unknown attendee id 'p9'"):
        co.read_coauthor_dir(tmp_path)
    _write_gz(tmp_path / "pairs.jsonl.gz", [json.dumps({"a": "p1", "b": "p1", "kind": "friends"})])
    with pytest.raises(InvalidInput, match="'kind' must be one of known, relevant; got 'friends'"):
        co.read_coauthor_dir(tmp_path)


# ------------------------------------------------------------------------------------------------------- CLI
def invoke(*args: str):
    return CliRunner().invoke(main, ["evaluate", "--encoder", "hashing", *args])


def test_cli_on_the_sample_writes_table_json_and_report(tmp_path):
    out = tmp_path / "m.json"
    res = invoke("--coauthor", str(SAMPLE), "--strategies", "random,tfidf,default,no-mutual",
                 "--json", str(out), "--report", str(tmp_path / "rep"))
    assert res.exit_code == 0, res.output
    assert "nDCG@10" in res.output and "default *" in res.output
    doc = json.loads(out.read_text())
    assert doc["default"] == "default"
    assert list(doc["strategies"]) == ["random", "tfidf", "default", "no-mutual"]
    assert {"recall@10", "ndcg@10", "mrr", "map", "violations"} <= set(doc["strategies"]["default"])
    assert doc["strategies"]["default"]["violations"] == 0
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "metrics.png" in page and "exposure.png" in page
    assert (tmp_path / "rep" / "metrics.png").stat().st_size > 1000
    assert (tmp_path / "rep" / "exposure.png").stat().st_size > 1000


def test_cli_on_an_event_file_with_a_truth_file(tmp_path):
    ev = tmp_path / "event.json"
    ev.write_text(json.dumps(market().to_json()))
    truth = tmp_path / "truth.jsonl"
    truth.write_text('{"a": "f1", "b": "i1"}\n\n{"a": "f2", "b": "i2", "kind": "relevant"}\n')
    res = invoke("--event", str(ev), "--truth", str(truth), "-k", "2", "--strategies", "cosine,default")
    assert res.exit_code == 0, res.output
    assert "R@2" in res.output and "cosine" in res.output
    listed = tmp_path / "truth.json"
    listed.write_text('[["f1", "i1"]]')
    assert invoke("--event", str(ev), "--truth", str(listed), "--strategies", "random").exit_code == 0


def test_cli_backtest_on_the_sample():
    res = invoke("--coauthor", str(SAMPLE), "--backtest", "--strategies", "default")
    assert res.exit_code == 0, res.output
    assert "coauthor_sample-before-2019" in res.output


@pytest.mark.parametrize("args, message", [
    ((), "give exactly one input"),
    (("--coauthor", "no/such/dir"), "co-authorship directory not found: no/such/dir"),
    (("--coauthor", str(SAMPLE / "README.md")), "--coauthor expects a directory"),
    (("--coauthor", str(SAMPLE.parent)), "no attendees.jsonl.gz"),
    (("--coauthor", str(SAMPLE), "--synthetic", "10"), "give exactly one input"),
    (("--synthetic", "10", "--backtest"), "--backtest and --before need --coauthor"),
    (("--coauthor", str(SAMPLE), "--strategies", "default,best"), "unknown strategy 'best'"),
    (("--event", "no-such-event.json", "--truth", "x.jsonl"), "event file not found"),
    (("--synthetic", "20", "--truth", "x.jsonl"), "--truth goes with --event"),
])
def test_cli_usage_errors(args, message):
    res = invoke(*args)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output


def test_cli_bad_truth_files(tmp_path):
    ev = tmp_path / "event.json"
    ev.write_text(json.dumps(market().to_json()))
    cases = {
        "bad.jsonl": ('{"a": "f1", "b": "i1"}\n{"a": "f1"\n', "line 2: not valid JSON"),
        "kind.jsonl": ('{"a": "f1", "b": "i1", "kind": "known"}\n', "kind must be 'relevant'"),
        "ids.jsonl": ('{"a": "f1", "b": 7}\n', "'a' and 'b' must be attendee id strings"),
        "ghost.jsonl": ('{"a": "f1", "b": "ghost"}\n', "unknown attendee id 'ghost'"),
        "empty.jsonl": ("\n", "holds no pairs"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        res = invoke("--event", str(ev), "--truth", str(tmp_path / name))
        assert res.exit_code == 2, (name, res.output)
        assert message in res.output, (name, res.output)
    res = invoke("--event", str(ev))
    assert res.exit_code == 2 and "--event needs --truth" in res.output


def test_synthetic_input_through_the_cli():
    res = invoke("--synthetic", "60", "--seed", "2", "--strategies", "random,default")
    assert res.exit_code == 0, res.output
    assert "synthetic-60-seed2" in res.output


def test_full_rankings_cover_everyone_allowed(enc):
    ef = market()
    ctx = Context(EvalSet("m", ef, [("f1", "i1")]), enc, k=1, seed=0)
    allowed = ctx.allowed()
    # f2 knows i1 and shares LendCo with i2; f1 may meet everyone else
    assert allowed[ctx.pos["f2"]].tolist() == [True, False, False, False, True]
    assert not np.diag(allowed).any()


def test_cli_policy_overrides(tmp_path):
    out = tmp_path / "m.json"
    res = invoke("--coauthor", str(SAMPLE), "--strategies", "default,no-mutual", "--weights", "mutual=0",
                 "--json", str(out))
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    # with the mutual weight already 0, the no-mutual ablation equals the default
    assert doc["strategies"]["default"]["ndcg@10"] == doc["strategies"]["no-mutual"]["ndcg@10"]
    for args, message in [(("--weights", "social=1"), "channels intent, interests, lexical, mutual; got 'social=1'"),
                          (("--weights", "mutual=lots"), "mutual must be a number, got 'lots'"),
                          (("--weights", "intent=0,interests=0,lexical=0,mutual=0"), "at least one channel"),
                          (("--diversity", "2"), "2.0 is not in the range")]:
        res = invoke("--coauthor", str(SAMPLE), "--strategies", "default", *args)
        assert res.exit_code == 2, (args, res.output)
        assert message in res.output, (args, res.output)


def test_profiles_without_any_text_still_evaluate(enc):
    ef = EventFile(event=Event(id="e"), attendees=[Attendee(id="a"), Attendee(id="b"), Attendee(id="c")])
    rep = evaluate(EvalSet("blank", ef, [("a", "b")]), enc, k=1)
    assert list(rep.results) == list(STRATEGIES)
    assert all(r.metrics["violations"] == 0 for r in rep.results.values())


def test_old_import_paths_still_work():
    """The evaluation package re-exports its names; the old modules stay importable as thin re-exports."""
    import matcher.evaluation as ev
    from matcher import metrics as old_metrics
    from matcher.evaluation import datasets, metrics
    from matcher.evaluation.datasets import coauthor, synthetic
    from scripts import coauthor as old_coauthor
    from scripts import synthetic as old_synthetic

    for name in ("ABOUT", "BASELINES", "STRATEGIES", "EvalSet", "Report", "Context", "evaluate", "one_way_scores",
                 "rule_violations", "same_company_rate", "rank_matrix", "profile_text", "StrategyResult"):
        assert hasattr(ev, name), name
    assert old_metrics.gini is metrics.gini and old_metrics.rank_metrics is metrics.rank_metrics
    assert old_coauthor.read_coauthor_dir is coauthor.read_coauthor_dir and old_coauthor.backtest is coauthor.backtest
    assert old_synthetic.generate_event is synthetic.generate_event and old_synthetic.SAMPLE is synthetic.SAMPLE
    assert datasets.__doc__
