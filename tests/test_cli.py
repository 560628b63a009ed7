"""``matchmaker recommend`` / ``demo`` through click's runner: output shapes and every usage error."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import scripts.common as common
from matcher import CachedEncoder, HashingEncoder
from scripts.cli import main

EVENT = {
    "event": {"id": "meetup", "name": "Fintech Meetup"},
    "attendees": [
        {"id": "ana", "name": "Ana", "role": "founder", "company": "PayFlow",
         "goals": ["seed funding"], "offers": ["payments product demos"]},
        {"id": "chi", "name": "Chiara", "role": "investor", "company": "Northstar",
         "goals": ["payments product demos"], "offers": ["seed funding"]},
        {"id": "bob", "name": "Bob", "role": "founder", "company": "PayFlow",
         "goals": ["seed funding"], "offers": ["payments product demos"]},
    ],
}


@pytest.fixture
def event_file(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "make_encoder", stand_in(HashingEncoder(dim=64)))
    p = tmp_path / "event.json"
    p.write_text(json.dumps(EVENT))
    return p


def stand_in(enc):
    """``make_encoder`` with ``enc`` in place of the bundled model (still wrapped in the CLI's cache)."""
    return lambda kind="model", *, cache=None, **kw: enc if cache is None else CachedEncoder(enc, cache)


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_recommend_prints_a_readable_table(event_file):
    res = run("recommend", "--event", str(event_file), "--attendee", "ana")
    assert res.exit_code == 0, res.output
    assert "1. Chiara" in res.output and "Bob" not in res.output  # same company is never suggested
    assert "offers: seed funding" in res.output


def test_recommend_json_is_a_list_of_id_score_reasons(event_file):
    res = run("recommend", "--event", str(event_file), "--attendee", "chi", "-k", "5", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [d["id"] for d in data] == ["ana", "bob"] or [d["id"] for d in data] == ["bob", "ana"]
    assert set(data[0]) == {"id", "score", "reasons"}
    assert data[0]["reasons"]["they_offer_what_you_seek"][0]["theirs"] == "payments product demos"


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, ["--attendee", "ana"], "event file not found"),
        ("{nope", ["--attendee", "ana"], "not valid JSON"),
        (json.dumps({"event": {"id": "e"}, "attendees": [{"id": "a", "goals": 3}]}), ["--attendee", "a"],
         "attendees[0].goals: expected a list of strings"),
        (json.dumps(EVENT), ["--attendee", "zoe"], "unknown attendee id 'zoe'"),
        (json.dumps(EVENT), ["--attendee", "ana", "-k", "0"], "0 is not in the range"),
    ],
)
def test_recommend_usage_errors(tmp_path, monkeypatch, content, args, message):
    monkeypatch.setattr(common, "make_encoder", stand_in(HashingEncoder(dim=64)))
    p = tmp_path / "e.json"
    if content is not None:
        p.write_text(content)
    res = run("recommend", "--event", str(p), *args)
    assert res.exit_code in (1, 2)
    assert message in res.output
    assert "Traceback" not in res.output


def test_missing_required_option():
    res = run("recommend", "--attendee", "x")
    assert res.exit_code == 2 and "Missing option '--event'" in res.output


@pytest.mark.model
def test_demo_runs_on_the_bundled_sample_event(real_encoder, monkeypatch, tmp_path):
    monkeypatch.setattr(common, "make_encoder", stand_in(real_encoder))
    out = tmp_path / "lists.json"
    res = run("demo", "-n", "2", "-k", "3", "--json", str(out))
    assert res.exit_code == 0, res.output
    assert "Sample event:" in res.output and res.output.count("should meet:") == 2
    lists = json.loads(out.read_text())
    assert len(lists) >= 200
    assert all(len(v) <= 3 for v in lists.values())


@pytest.mark.parametrize("name", sorted(__import__("scripts.cli", fromlist=["COMMANDS"]).COMMANDS))
def test_every_command_loads_and_has_help(name):
    res = run(name, "--help")
    assert res.exit_code == 0, res.output
    assert "Usage:" in res.output


def test_unknown_command_is_a_usage_error():
    res = run("recomend")
    assert res.exit_code == 2 and "No such command 'recomend'" in res.output


def test_recommend_all_writes_every_list_as_json_lines(event_file, tmp_path):
    out = tmp_path / "lists.jsonl"
    res = run("recommend", "--event", str(event_file), "--all", "-k", "2", "--output", str(out))
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["attendee"] for x in lines] == ["ana", "chi", "bob"]
    by_id = {x["attendee"]: [m["id"] for m in x["matches"]] for x in lines}
    assert by_id["ana"] == ["chi"] and by_id["bob"] == ["chi"]  # colleagues never meet
    assert set(by_id["chi"]) == {"ana", "bob"}
    assert {"intent", "a_to_b", "b_to_a"} <= set(lines[1]["matches"][0]["components"])
    # the same lists as one attendee at a time
    single = run("recommend", "--event", str(event_file), "--attendee", "chi", "-k", "2", "--json")
    assert [m["id"] for m in json.loads(single.output)] == by_id["chi"]
    # and on standard output without --output
    res = run("recommend", "--event", str(event_file), "--all")
    assert [json.loads(x)["attendee"] for x in res.output.splitlines()] == ["ana", "chi", "bob"]


@pytest.mark.parametrize(("args", "message"), [
    ([], "give either --attendee ID or --all"),
    (["--attendee", "ana", "--all"], "give either --attendee ID or --all"),
    (["--attendee", "ana", "--output", "x.jsonl"], "--output goes with --all"),
    (["--all", "--output", "/nonexistent-dir/x.jsonl"], "cannot write /nonexistent-dir/x.jsonl"),
])
def test_recommend_all_usage_errors(event_file, args, message):
    res = run("recommend", "--event", str(event_file), *args)
    assert res.exit_code in (1, 2) and message in res.output and "Traceback" not in res.output
