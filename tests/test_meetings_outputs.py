"""Agendas, calendars (parsed back with the icalendar parser), the organizer's grid, stats and the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import icalendar
import pytest
from click.testing import CliRunner

from matcher.meetings.outputs import agenda_ics, agendas, grid, grid_csv, stats, write_outputs
from matcher.meetings.schedule import schedule_meetings
from models import parse_meeting_requests, parse_meeting_setup
from scripts.cli import main


@pytest.fixture
def small():
    setup = parse_meeting_setup({
        "timezone": "America/New_York",
        "sessions": [{"date": "2026-03-09", "start": "09:00", "end": "10:00", "minutes": 30}],
        "locations": [{"id": "1", "name": "Table 1"}, {"id": "B", "kind": "booth", "slots": ["2026-03-09T09:30"]}]})
    reqs = parse_meeting_requests({"requests": [
        {"id": "r1", "requester": "ana", "recipient": "bo", "state": "accepted", "note": "Seed round"},
        {"id": "r2", "requester": "cy", "recipient": "bo", "state": "accepted"},
        {"id": "r3", "requester": "ana", "recipient": "cy", "state": "declined"},
        {"id": "r4", "requester": "di", "recipient": "ana", "state": "requested"}]})
    sched = schedule_meetings(setup, reqs, ["ana", "bo", "cy", "di"], event="ev")
    people = {"ana": {"name": "Ana <Lima>"}, "bo": {"name": "Bo Chen", "title": "Partner, Fund"},
              "cy": {"name": "Cy Park"}, "di": {"name": "Di Okafor"}}
    return setup, reqs, sched, people


def test_ics_parses_and_shows_the_local_time(small):
    setup, reqs, sched, people = small
    items = agendas(sched, setup, people=people, requests=reqs,
                    reasons={("bo", "cy"): "He offers seed investment; you look for seed funding."})
    data = agenda_ics("bo", items["bo"], setup, event="ev", title="Summit",
                      stamp=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    cal = icalendar.Calendar.from_ical(data)
    events = sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert len(events) == 2
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]
    first = events[0]
    start = first.decoded("dtstart")
    # 9:00 in New York on 9 March 2026 (the day after DST starts): EDT, UTC-4
    assert (start.hour, start.minute) == (9, 0) and str(start.tzinfo) == "America/New_York"
    assert start.astimezone(dt.UTC).hour == 13
    assert first.decoded("dtend") - start == dt.timedelta(minutes=30)
    assert str(first["summary"]) == "Meeting with Ana <Lima>"
    assert "Why: ana asked: Seed round" in str(first["description"])
    assert str(first["location"]) == "Table 1"
    second = events[1]
    assert str(second["summary"]) == "Meeting with Cy Park"
    assert "He offers seed investment" in str(second["description"])
    assert second.decoded("dtstart").astimezone(ZoneInfo("America/New_York")).hour == 9
    assert second.decoded("dtstart").minute == 30


def test_agendas_grid_and_stats(small, tmp_path):
    setup, reqs, sched, people = small
    written = write_outputs(tmp_path, sched, setup, reqs, everyone=["ana", "bo", "cy", "di"], title="Summit",
                            people=people)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    assert names == ["agendas.csv", "agendas.html", "agendas.json", "grid.csv", "grid.html", "ics/ana.ics",
                     "ics/bo.ics", "ics/cy.ics", "schedule.json", "stats.json"]
    ag = json.loads((tmp_path / "agendas.json").read_text())
    assert ag["di"] == [] and [x["with"] for x in ag["bo"]] == ["ana", "cy"]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "agendas.csv").read_text())))
    assert len(rows) == 4 and {r["attendee"] for r in rows} == {"ana", "bo", "cy"}
    page = (tmp_path / "agendas.html").read_text()
    assert "Ana &lt;Lima&gt;" in page and "Ana <Lima>" not in page  # escaped
    assert "No meetings scheduled." in page  # di
    g = grid(sched, setup, people=people)
    assert g[1]["cells"]["2026-03-09T09:00"] is None  # the booth is closed at 9:00
    text = grid_csv(g, setup)
    assert text.splitlines()[0] == "location,2026-03-09 09:00,2026-03-09 09:30"
    assert "closed" in text.splitlines()[2]
    s = json.loads((tmp_path / "stats.json").read_text())
    assert s["requests"] == {"sent": 4, "accepted": 2, "declined": 1, "pending": 1, "expired": 0, "cancelled": 0,
                             "acceptance_rate": round(2 / 3, 4)}
    assert s["meetings"]["scheduled"] == 2 and s["people_without_meeting"] == ["di"]
    assert stats(reqs, None, ["ana"])["meetings"]["scheduled"] == 0


# ------------------------------------------------------------------------------------- CLI
ROLES = ["founder", "investor", "mentor", "engineer"]


@pytest.fixture
def files(tmp_path):
    people = [{"id": f"u{i:02d}", "name": f"Person {i:02d}", "company": f"co{i % 5}", "role": ROLES[i % 4],
               "goals": [["seed funding", "hire engineers", "find mentors", "join a startup"][i % 4]],
               "offers": [["angel investment", "mentoring", "rust engineering", "product demos"][i % 4]]}
              for i in range(10)]
    ev = tmp_path / "event.json"
    ev.write_text(json.dumps({"event": {"id": "ev1", "name": "Test Summit"}, "attendees": people}))
    setup = tmp_path / "slots.json"
    setup.write_text(json.dumps({
        "timezone": "Europe/Paris", "locations": [{"id": "1"}, {"id": "2"}],
        "sessions": [{"date": "2026-06-03", "start": "09:00", "end": "10:00", "minutes": 20}],
        "fill": {"enabled": True, "per_person": 1}}))
    reqs = tmp_path / "req.json"
    reqs.write_text(json.dumps({"requests": [
        {"id": "r1", "requester": "u00", "recipient": "u01", "state": "accepted"},
        {"id": "r2", "requester": "u00", "recipient": "u05", "state": "accepted"},  # same company (co0)
        {"id": "r3", "requester": "u02", "recipient": "u03", "state": "declined"}],
        "must_meet": [{"a": "u04", "b": "u07"}]}))
    return ev, setup, reqs


def run(*args):
    return CliRunner().invoke(main, ["schedule", *args], catch_exceptions=False)


def test_cli_schedules_and_writes_everything(files, tmp_path):
    ev, setup, reqs = files
    out = tmp_path / "out"
    res = run("--event", str(ev), "--slots", str(setup), "--requests", str(reqs), "--out", str(out),
              "--encoder", "hashing", "--time-limit", "2")
    assert res.exit_code == 0, res.output
    assert "Scheduled 2 of 3 requested meetings" in res.output
    assert "not scheduled: u00 & u05: same company" in res.output
    sched = json.loads((out / "schedule.json").read_text())
    assert sched["report"]["violations"] == []
    pairs = {frozenset((m["a"], m["b"])) for m in sched["meetings"]}
    assert frozenset(("u00", "u01")) in pairs and frozenset(("u04", "u07")) in pairs
    assert frozenset(("u02", "u03")) not in pairs  # declined: never filled in either
    assert all(int(m["a"][1:]) % 5 != int(m["b"][1:]) % 5 for m in sched["meetings"])  # no colleagues
    assert (out / "grid.html").exists() and any((out / "ics").iterdir())
    again = tmp_path / "again"
    run("--event", str(ev), "--slots", str(setup), "--requests", str(reqs), "--out", str(again),
        "--encoder", "hashing", "--time-limit", "2", "--quiet")
    first = json.loads((out / "schedule.json").read_text())
    second = json.loads((again / "schedule.json").read_text())
    assert first["meetings"] == second["meetings"]


@pytest.mark.parametrize("change, message", [
    ("missing-slots", "slots file not found"),
    ("bad-slots", "invalid slots file"),
    ("unknown-person", "requests[0].recipient: unknown attendee 'nobody'"),
])
def test_cli_errors_name_the_problem(files, tmp_path, change, message):
    ev, setup, reqs = files
    if change == "missing-slots":
        setup = tmp_path / "nope.json"
    elif change == "bad-slots":
        setup.write_text(json.dumps({"timezone": "Nowhere/City", "locations": [{"id": "1"}]}))
    else:
        reqs.write_text(json.dumps({"requests": [{"id": "r", "requester": "u00", "recipient": "nobody",
                                                  "state": "accepted"}]}))
    res = CliRunner().invoke(main, ["schedule", "--event", str(ev), "--slots", str(setup), "--requests", str(reqs),
                                    "--out", str(tmp_path / "o"), "--encoder", "none"])
    assert res.exit_code in (1, 2)
    assert message in res.output
    assert "Traceback" not in res.output
