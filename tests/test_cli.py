"""``matchmaker recommend`` / ``demo`` through click's runner: output shapes and every usage error."""

from __future__ import annotations

import json

import numpy as np
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


# ------------------------------------------------------------------------------------- a CLI that answers at once
def _subprocess_env(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if k != "MATCHMAKER_NO_CACHE"}
    env.update(MATCHMAKER_CACHE_DIR=str(tmp_path / "cache"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return env


def test_model_cache_key_needs_no_model():
    """The cache key (``model@precision``) is known without importing torch or sentence-transformers."""
    import subprocess
    import sys

    code = ("import sys; from matcher.encoder import Encoder, cpu_has_bf16; e = Encoder(); "
            "print(e.model_id, Encoder(precision='fp32').model_id, cpu_has_bf16()); "
            "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == ("all-MiniLM-L6-v2@bf16" if out[2] == "True" else "all-MiniLM-L6-v2@fp32")
    assert out[1] == "all-MiniLM-L6-v2@fp32"
    assert out[3:] == ["False", "False"]


def test_a_cached_recommend_never_imports_torch(tmp_path):
    """Every text in the on-disk cache: ``recommend`` answers without importing torch or loading the model."""
    import subprocess
    import sys

    from matcher import EmbeddingCache
    from matcher.encoder import Encoder
    from matcher.profile import FACETS, facet_items
    from models import parse_event

    ef = parse_event(EVENT)
    texts = sorted({t for a in ef.attendees for f in FACETS for t in facet_items(a)[f]})
    cache = EmbeddingCache()
    cache.put_many(Encoder().model_id, texts, HashingEncoder(dim=384).encode(texts))  # stand-in vectors
    cache.save(tmp_path / "cache" / "embeddings.npz")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(EVENT))
    code = ("import sys; from click.testing import CliRunner; from scripts.cli import main; "
            f"r = CliRunner().invoke(main, ['recommend', '--event', {str(event)!r}, '--attendee', 'ana']); "
            "print(r.output); print('torch' in sys.modules, 'sentence_transformers' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_subprocess_env(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "1. Chiara" in res.stdout
    assert res.stdout.split()[-2:] == ["False", "False"]


def test_cached_encoder_looks_up_again_when_the_key_settles_on_load():
    """An encoder whose key changes when it loads (auto precision kept fp32): vectors go under the new key."""
    from matcher import EmbeddingCache

    class Settling:
        dim = 2

        def __init__(self):
            self.model_id = "m@bf16"

        def encode(self, texts):
            self.model_id = "m@fp32"
            return np.ones((len(texts), 2), np.float32)

    cache = EmbeddingCache()
    cache.put_many("m@bf16", ["a"], np.zeros((1, 2), np.float32))  # a stale entry under the guessed key
    enc = CachedEncoder(Settling(), cache)
    out = enc.encode(["a", "b"])
    assert out.tolist() == [[1.0, 1.0], [1.0, 1.0]]  # both from the loaded model, none from the stale key
    assert sorted(cache.get_many("m@fp32", ["a", "b"])) == ["a", "b"] and enc.encoded_ == 2


def test_bad_ids_are_reported_before_the_engine_is_built(tmp_path, monkeypatch):
    """A bad --attendees id or a rules file naming nobody fails before any encoding."""
    import scripts.tables as tables_cli

    def no_engine(*args, **kwargs):
        raise AssertionError("the engine was built before the arguments were checked")

    monkeypatch.setattr(tables_cli, "build_matcher", no_engine)
    event = tmp_path / "event.json"
    event.write_text(json.dumps(EVENT))
    res = run("tables", "--event", str(event), "--table-size", "2", "--out", str(tmp_path / "o"),
              "--attendees", "ana,zoe")
    assert res.exit_code == 1 and "attendees[1]: unknown attendee id 'zoe'" in res.output
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"keep_apart": [["ana", "nobody"]], "fixed_seats": [{"id": "ghost", "table": 1}]}))
    res = run("tables", "--event", str(event), "--table-size", "2", "--out", str(tmp_path / "o"),
              "--rules", str(rules))
    assert res.exit_code == 1, res.output
    assert "rules.keep_apart[0][1]: unknown attendee id 'nobody' (not among the 3 attendees being seated)" \
        in res.output
    assert "rules.fixed_seats[0].id: unknown attendee id 'ghost'" in res.output


def test_demo_is_quiet(monkeypatch):
    """No model-loading bar, and one progress line (the CLI's, while encoding an empty cache), not two."""
    monkeypatch.setattr(common, "make_encoder", stand_in(HashingEncoder(dim=64)))
    res = CliRunner().invoke(main, ["demo", "-n", "1", "-k", "2"])
    assert res.exit_code == 0, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert lines[0].startswith("Sample event:") and lines[1] == "Encoding profiles"
    assert lines[2].endswith("should meet:") and len(lines) == 3 + 2 * 2  # two matches, each with its reason
    assert not any(w in res.output for w in ("Loading", "ranking", "%|"))


def test_recommend_all_exports_names_scores_and_reasons(event_file, tmp_path):
    import csv

    out = tmp_path / "lists.csv"
    res = run("recommend", "--event", str(event_file), "--all", "-k", "2", "--format", "csv", "--output", str(out))
    assert res.exit_code == 0, res.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the accents right
    with open(out, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["attendee_id", "attendee_name", "rank", "match_id", "name", "title", "company",
                             "score", "reason"]
    ana = [r for r in rows if r["attendee_id"] == "ana"]
    assert [(r["rank"], r["match_id"], r["name"], r["company"]) for r in ana] == [("1", "chi", "Chiara", "Northstar")]
    assert ana[0]["reason"].startswith("Chiara offers: seed funding; you look for: seed funding.")
    assert len(rows) == 4  # ana: chi; chi: ana, bob; bob: chi
    # the JSON lines carry the same lists, scores and reasons, plus the components
    res = run("recommend", "--event", str(event_file), "--all", "-k", "2")
    lines = {x["attendee"]: x for x in map(json.loads, res.output.splitlines())}
    first = lines["ana"]["matches"][0]
    assert lines["ana"]["name"] == "Ana" and first["name"] == "Chiara" and first["rank"] == 1
    assert f"{first['score']:.6f}" == ana[0]["score"] and first["reason"] == ana[0]["reason"]
    res = run("recommend", "--event", str(event_file), "--attendee", "ana", "--format", "csv")
    assert res.exit_code == 2 and "--format goes with --all" in res.output


def test_commands_load_without_the_engine():
    """A command's module (its options, ``--encoder`` included) loads without importing the engine, so a usage
    error answers at once; the option's choices are the engine's encoder kinds."""
    import subprocess
    import sys

    from matcher.encoder import ENCODER_KINDS
    from scripts.common import ENCODER_KINDS as CLI_KINDS

    assert CLI_KINDS == ENCODER_KINDS
    code = ("import sys; import scripts.recommend, scripts.tables, scripts.serve; "
            "print('matcher.engine' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
