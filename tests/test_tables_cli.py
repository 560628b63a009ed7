"""``matchmaker tables`` and ``matchmaker rotations`` through click's CliRunner, with the hashing encoder."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from scripts.cli import main

ROLES = ["founder", "investor", "mentor", "engineer"]


@pytest.fixture
def event_file(tmp_path):
    people = [{"id": f"u{i:02d}", "name": f"Person {i:02d}", "company": f"co{i % 7}", "role": ROLES[i % 4],
               "goals": [["seed funding", "hire engineers", "find mentors", "join a startup"][i % 4]],
               "offers": [["angel investment", "mentoring", "rust engineering", "product demos"][i % 4]]}
              for i in range(14)]
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"event": {"id": "ev1", "name": "Test <Summit>"}, "attendees": people}))
    return path


def run(*args: str):
    return CliRunner().invoke(main, [*args, "--encoder", "hashing"], catch_exceptions=False)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_tables_writes_every_output(event_file, tmp_path):
    out = tmp_path / "out"
    res = run("tables", "--event", str(event_file), "--table-size", "4", "--rounds", "3", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "repeats: 0, rule violations: 0" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["agenda.csv", "agenda.json", "plan.csv", "plan.json",
                                                    "seating.html"]
    plan = json.loads((out / "plan.json").read_text())
    assert plan["event"] == "ev1" and len(plan["rounds"]) == 3
    # 14 people, tables of at most 4: 4 tables of 4, 4, 3, 3
    assert sorted(len(t["seats"]) for t in plan["rounds"][0]["tables"]) == [3, 3, 4, 4]
    rows = read_csv(out / "plan.csv")
    assert len(rows) == 14 * 3 and rows[0].keys() >= {"round", "table", "attendee_id", "name"}
    # same company never shares a table (event policy default)
    for r in plan["rounds"]:
        for t in r["tables"]:
            companies = [int(x[1:]) % 7 for x in t["seats"]]
            assert len(companies) == len(set(companies))
    agenda = json.loads((out / "agenda.json").read_text())
    assert set(agenda) == {f"u{i:02d}" for i in range(14)}
    first = agenda["u00"][0]
    assert set(first) == {"round", "table", "status", "with"} and "u00" not in first["with"]
    arows = read_csv(out / "agenda.csv")
    assert len(arows) == 42 and arows[0]["name"].startswith("Person")
    page = (out / "seating.html").read_text()
    assert "Test &lt;Summit&gt;" in page and page.count("<h2>Round") == 3 and "Find your table" in page


def test_same_seed_same_files(event_file, tmp_path):
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        res = run("tables", "--event", str(event_file), "--table-size", "3", "--rounds", "2", "--seed", "7",
                  "--out", str(out), "--quiet")
        assert res.exit_code == 0, res.output
        outs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outs[0] == outs[1]


def test_rules_file_is_honoured(event_file, tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"keep_together": [["u01", "u02"]], "fixed_seats": [{"id": "u03", "table": 2}],
                                 "attendance": {"u04": [2]}, "role_mix": [{"role": "Investor", "max": 1}]}))
    out = tmp_path / "out"
    res = run("tables", "--event", str(event_file), "--table-size", "4", "--rounds", "2", "--rules", str(rules),
              "--out", str(out))
    assert res.exit_code == 0, res.output
    plan = json.loads((out / "plan.json").read_text())
    for r in plan["rounds"]:
        tables = {x: t["table"] for t in r["tables"] for x in t["seats"]}
        assert tables["u01"] == tables["u02"] and tables["u03"] == 2
        for t in r["tables"]:
            assert sum(int(x[1:]) % 4 == 1 for x in t["seats"]) <= 1  # investors are u01, u05, u09, u13
    assert plan["rounds"][0]["absent"] == ["u04"] and plan["rounds"][1]["absent"] == []


def test_rotations_with_a_bye(event_file, tmp_path):
    out = tmp_path / "out"
    res = run("rotations", "--event", str(event_file), "--rounds", "3", "--odd", "bye", "--attendees",
              ",".join(f"u{i:02d}" for i in range(7)), "--out", str(out))
    assert res.exit_code == 0, res.output
    plan = json.loads((out / "plan.json").read_text())
    assert [len(r["byes"]) for r in plan["rounds"]] == [1, 1, 1]
    assert all(len(t["seats"]) == 2 for r in plan["rounds"] for t in r["tables"])
    agenda = json.loads((out / "agenda.json").read_text())
    assert sum(e["status"] == "bye" for entries in agenda.values() for e in entries) == 3


def test_rotations_trio_by_default(event_file, tmp_path):
    out = tmp_path / "out"
    res = run("rotations", "--event", str(event_file), "--rounds", "2", "--attendees", "u00,u01,u02,u03,u05",
              "--out", str(out), "--quiet")
    assert res.exit_code == 0, res.output
    plan = json.loads((out / "plan.json").read_text())
    assert sorted(len(t["seats"]) for t in plan["rounds"][0]["tables"]) == [2, 3]


@pytest.mark.parametrize("args,code,message", [
    (["--table-size", "4", "--capacities", "4,4"], 2, "give exactly one of --table-size N or --capacities"),
    ([], 2, "give exactly one of --table-size N or --capacities"),
    (["--capacities", "4,x"], 2, "--capacities must be a comma-separated list"),
    (["--table-size", "1"], 2, "1 is not in the range 2<=x<=1000"),
    (["--table-size", "4", "--rounds", "0"], 2, "0 is not in the range 1<=x<=50"),
    (["--capacities", "4,4"], 1, "round 1: 14 attendees but only 8 seats"),
    (["--table-size", "4", "--attendees", "u01,zz"], 1, "attendees[1]: unknown attendee id 'zz'"),
    (["--table-size", "4", "--rules", "missing.json"], 2, "rules file not found: missing.json"),
])
def test_bad_arguments_say_what_is_wrong(event_file, tmp_path, args, code, message):
    res = run("tables", "--event", str(event_file), "--out", str(tmp_path / "o"), *args)
    assert res.exit_code == code
    assert message in res.output
    assert "Traceback" not in res.output


def test_bad_files_say_what_is_wrong(event_file, tmp_path):
    res = run("tables", "--event", str(tmp_path / "nope.json"), "--table-size", "4", "--out", str(tmp_path / "o"))
    assert res.exit_code == 2 and "event file not found" in res.output
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"keep_apart": [["u01"]], "colour": 1}))
    res = run("tables", "--event", str(event_file), "--table-size", "4", "--rules", str(rules),
              "--out", str(tmp_path / "o"))
    assert res.exit_code == 1
    assert "rules.keep_apart: group [0] needs at least two different ids" in res.output
    assert "rules.colour: unknown field" in res.output
    rules.write_text("{not json")
    res = run("tables", "--event", str(event_file), "--table-size", "4", "--rules", str(rules),
              "--out", str(tmp_path / "o"))
    assert res.exit_code == 1 and "not valid JSON" in res.output
    (tmp_path / "afile").write_text("x")
    res = run("tables", "--event", str(event_file), "--table-size", "4", "--out", str(tmp_path / "afile"))
    assert res.exit_code == 2 and "exists and is not a directory" in res.output


def test_infeasible_rules_are_named(event_file, tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"keep_together": [["u00", "u03"]], "keep_apart": [["u03", "u00", "u05"]]}))
    res = run("tables", "--event", str(event_file), "--table-size", "4", "--rules", str(rules),
              "--out", str(tmp_path / "o"))
    assert res.exit_code == 1
    assert "the rules cannot all hold" in res.output
    assert "rules.keep_together[0]: 'u00' and 'u03' must sit together, but rules.keep_apart[0] keeps them apart" \
        in res.output
    # colleagues sit apart: 14 people at 2 tables of 7 with co0 = u00, u07 and u14-less: fine; at 1 table: not
    res = run("tables", "--event", str(event_file), "--table-size", "14", "--out", str(tmp_path / "o"))
    assert res.exit_code == 1
    assert "2 attendees work at 'co0' and same-company attendees sit apart" in res.output
