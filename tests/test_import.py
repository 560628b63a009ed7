"""Registration exports (CSV, XLSX) to attendees: header names of common tools, mapping files, every bad row named,
and ``matchmaker import`` writing nothing when a row is bad."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import scripts.common as common
from matcher import CachedEncoder, HashingEncoder
from models import InvalidInput
from models.registrations import (
    RowErrors,
    attendees_from_rows,
    default_mapping,
    load_mapping,
    parse_mapping,
    read_csv,
    read_table,
    read_xlsx,
)
from scripts.cli import main

DATA = Path(__file__).resolve().parents[1] / "scripts" / "data"


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_the_sample_export_imports_with_its_mapping():
    table = read_table(DATA / "sample_registrations.csv")
    people = attendees_from_rows(table, load_mapping(DATA / "sample_registrations_mapping.json"))
    assert [a.id for a in people] == [str(i) for i in range(1001, 1009)]
    ana = people[0]
    assert (ana.name, ana.title, ana.company, ana.role) == ("Ana Silva", "CEO", "PayFlow", "Founder")
    # a new line inside the cell and a ';' both split list items
    assert ana.goals == ["Seed funding for our B2B payments startup", "A technical co-founder"]
    assert ana.offers == ["Payments product demos", "Fintech go-to-market advice"]
    assert ana.interests == ["fintech", "payments"]  # the custom question, from the mapping file
    assert people[3].company == "" and people[3].title == "Senior Rust Engineer"
    # without the mapping file the custom question is not read; everything else is
    plain = attendees_from_rows(table)
    assert plain[0].interests == [] and plain[0].goals == ana.goals


@pytest.mark.parametrize(("header", "expected"), [
    # Eventbrite attendee summary
    (["Order #", "Attendee #", "First Name", "Last Name", "Email", "Ticket Type", "Job Title", "Company"],
     {"id": ["Attendee #"], "first_name": ["First Name"], "last_name": ["Last Name"], "email": ["Email"],
      "role": ["Ticket Type"], "title": ["Job Title"], "company": ["Company"]}),
    # HubSpot contacts
    (["Record ID", "First Name", "Last Name", "Email", "Job Title", "Company Name", "Lifecycle Stage"],
     {"id": ["Record ID"], "first_name": ["First Name"], "last_name": ["Last Name"], "email": ["Email"],
      "title": ["Job Title"], "company": ["Company Name"]}),
    # Cvent registration report
    (["Confirmation Number", "Full Name", "Email Address", "Title", "Organization", "Registration Type"],
     {"id": ["Confirmation Number"], "name": ["Full Name"], "email": ["Email Address"], "title": ["Title"],
      "company": ["Organization"], "role": ["Registration Type"]}),
])
def test_common_export_headers_need_no_mapping(header, expected):
    assert default_mapping(header).columns == expected


def test_email_is_the_id_when_there_is_no_id_column_and_title_rows_are_skipped():
    text = ("Registration report,,\n,,\nEmail Address,Full Name,Looking for\n"
            "Ana@Example.com,Ana Silva,seed funding\nben@example.com,Ben Okafor,\n")
    people = attendees_from_rows(read_csv(text))
    assert [(a.id, a.name, a.goals) for a in people] == [("ana@example.com", "Ana Silva", ["seed funding"]),
                                                        ("ben@example.com", "Ben Okafor", [])]


def test_semicolon_csv_from_a_european_excel():
    text = "Id;Name;Goals\r\na1;Ana;seed funding, a CTO\r\n"  # ';' delimits cells; ',' stays in the text
    (a,) = attendees_from_rows(read_csv(text.encode("cp1252")))
    assert (a.id, a.name, a.goals) == ("a1", "Ana", ["seed funding, a CTO"])


def test_every_bad_row_is_named_by_row_and_column():
    text = ("Attendee #,Name,Looking for,Opt out\n"
            "1,Ana,seed funding,no\n"
            ",Ben,a job,\n"                       # row 3: no id
            "1,Chiara,investors,\n"               # row 4: repeats row 2
            "4,Dan,hiring,maybe\n"                # row 5: not yes/no
            f"5,Eve,{'x' * 501},\n"               # row 6: an item too long
            ",,,\n"                               # row 7: empty, skipped
            "7,Fay,mentors,yes\n")
    with pytest.raises(RowErrors) as info:
        attendees_from_rows(read_csv(text))
    got = [(r.row, r.column, r.field) for r in info.value.rows]
    assert got == [(3, "Attendee #", "id"), (4, "Attendee #", "id"), (5, "Opt out", "opt_out"),
                   (6, "Looking for", "goals")]
    msgs = [e["field"] + ": " + e["message"] for e in info.value.errors]
    assert msgs[0] == "row 3, column 'Attendee #' (id): empty; every attendee needs an id"
    assert msgs[1] == "row 4, column 'Attendee #' (id): id '1' repeats row 2"
    assert msgs[2] == "row 5, column 'Opt out' (opt_out): expected yes or no, got 'maybe'"
    assert msgs[3].startswith("row 6, column 'Looking for' (goals): ") and "at most 500" in msgs[3]


def test_a_mapped_column_missing_from_the_header_is_named():
    mapping = parse_mapping({"columns": {"goals": "Why are you here?"}})
    with pytest.raises(RowErrors, match=r"header, column 'Why are you here\?' \(goals\): mapped column not in"):
        attendees_from_rows(read_csv("id,name\na,Ana\n"), mapping)
    with pytest.raises(RowErrors, match="no id column"):
        attendees_from_rows(read_csv("Name,Company\nAna,PayFlow\n"))


def test_bad_mapping_files_say_what_is_wrong():
    with pytest.raises(InvalidInput, match="columns.hobby: unknown field"):
        parse_mapping({"columns": {"hobby": "Hobbies"}})
    with pytest.raises(InvalidInput, match="columns.goals: expected a column name or a list of them"):
        parse_mapping({"columns": {"goals": 3}})
    with pytest.raises(InvalidInput, match="colums: unknown key"):
        parse_mapping({"colums": {}})


def _xlsx(rows) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Attendees"
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_round_trip():
    data = _xlsx([["Attendee list, exported 2026-03-05"],
                  ["Attendee #", "First Name", "Last Name", "Company", "What are you looking for?", "Opt out"],
                  [1001, "Ana", "Silva", "PayFlow", "seed funding\na CTO", False],
                  [1002.0, "Chiara", "Rossi", "Northstar", "fintech founders", True]])
    table = read_xlsx(data)
    assert table.header_row == 2 and [n for n, _ in table.rows] == [3, 4]
    people = attendees_from_rows(table)
    assert [(a.id, a.name, a.goals, a.opt_out) for a in people] == [
        ("1001", "Ana Silva", ["seed funding", "a CTO"], False), ("1002", "Chiara Rossi", ["fintech founders"], True)]
    with pytest.raises(InvalidInput, match="no sheet 'People'; the workbook has 'Attendees'"):
        read_xlsx(data, sheet="People")
    with pytest.raises(InvalidInput, match="not a readable .xlsx workbook"):
        read_xlsx(b"not a zip")


def test_import_command_writes_an_event_file(tmp_path):
    out = tmp_path / "event.json"
    res = run("import", str(DATA / "sample_registrations.csv"), "--mapping",
              str(DATA / "sample_registrations_mapping.json"), "--out", str(out), "--event-id", "summit",
              "--event-name", "Summit 2026")
    assert res.exit_code == 0, res.output
    assert "Imported 8 attendees" in res.output
    doc = json.loads(out.read_text())
    assert doc["event"]["id"] == "summit" and doc["event"]["name"] == "Summit 2026"
    assert doc["attendees"][1]["interests"] == ["fintech", "venture capital"]
    res = run("import", str(DATA / "sample_registrations.csv"), "--out", str(out))
    assert res.exit_code == 2 and "exists; pass --force" in res.output


def test_import_command_writes_nothing_when_a_row_is_bad(tmp_path):
    src = tmp_path / "people.csv"
    src.write_text("id,name,goals\na,Ana,x\na,Again,y\nb c,Bad id,z\n")
    out = tmp_path / "event.json"
    res = run("import", str(src), "--out", str(out))
    assert res.exit_code == 1 and not out.exists()
    assert "row 3, column 'id' (id): id 'a' repeats row 2" in res.output
    assert "row 4, column 'id' (id): id 'b c' must not contain whitespace" in res.output
    assert "Traceback" not in res.output
    bad_map = tmp_path / "map.json"
    bad_map.write_text('{"columns": {"hobby": "x"}}')
    res = run("import", str(src), "--out", str(out), "--mapping", str(bad_map))
    assert res.exit_code == 1 and "invalid mapping file" in res.output and "columns.hobby" in res.output


def test_recommend_reads_a_csv_export_directly(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "make_encoder", lambda kind="model", *, cache=None, **kw:
                        CachedEncoder(HashingEncoder(dim=64), cache))
    src = tmp_path / "people.csv"
    src.write_text("Attendee #,Name,Company,Looking for,Can offer\n1,Ana,PayFlow,seed funding,payments demos\n"
                   "2,Chiara,Northstar,payments demos,seed funding\n3,Bob,PayFlow,seed funding,payments demos\n")
    res = run("recommend", "--event", str(src), "--attendee", "1")
    assert res.exit_code == 0, res.output
    assert "1. Chiara" in res.output and "Bob" not in res.output
