"""What people read: per-attendee agendas (JSON, CSV, printable HTML, one iCalendar file each), the organizer's
grid (location x slot, CSV and printable HTML) and organizer stats.

HTML comes from the Jinja2 templates beside this module (autoescaped); calendars are written with the
``icalendar`` package: one VEVENT per meeting, times in the event's zone with its VTIMEZONE, the location, the
other person's name and the one-line reason.

>>> from models import parse_meeting_setup, parse_meeting_requests
>>> from matcher.meetings.schedule import schedule_meetings
>>> setup = parse_meeting_setup({"timezone": "America/New_York", "locations": [{"id": "7", "name": "Table 7"}],
...     "sessions": [{"date": "2026-06-03", "start": "09:00", "end": "09:30", "minutes": 30}]})
>>> reqs = parse_meeting_requests({"requests": [{"id": "r1", "requester": "ana", "recipient": "bo",
...                                              "state": "accepted", "note": "Seed round"}]})
>>> sched = schedule_meetings(setup, reqs, ["ana", "bo"], event="demo")
>>> items = agendas(sched, setup, people={"bo": {"name": "Bo Chen"}}, requests=reqs)["ana"]
>>> items[0]["start"], items[0]["location_label"], items[0]["with_name"], items[0]["reason"]
('2026-06-03T09:00:00-04:00', 'Table 7', 'Bo Chen', 'ana asked: Seed round')
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from models.meetings import Meeting, MeetingRequests, MeetingSetup, Schedule

#: ``reason(a, b) -> str``: the one-line reason the engine gives ``a`` for meeting ``b`` (empty: none known)
ReasonSource = Callable[[str, str], str] | Mapping[tuple[str, str], str]

_AGENDA_FIELDS = ["attendee", "attendee_name", "slot", "start", "end", "location", "location_label", "with",
                  "with_name", "kind", "request", "reason"]


def _env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                       autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def _reason_fn(reasons: ReasonSource | None, requests: MeetingRequests | None) -> Callable[[str, str], str]:
    notes: dict[frozenset, str] = {}
    if requests is not None:
        for r in requests.requests:
            if r.note and r.state in ("accepted", "scheduled", "held", "no_show"):
                notes[frozenset((r.requester, r.recipient))] = f"{r.requester} asked: {r.note}"
        for m in requests.must_meet:
            if m.note:
                notes.setdefault(frozenset((m.a, m.b)), m.note)

    def get(a: str, b: str) -> str:
        text = ""
        if callable(reasons):
            text = reasons(a, b) or ""
        elif reasons is not None:
            text = reasons.get((a, b)) or ""  # written to a ("you look for ..."): never shown to b
        note = notes.get(frozenset((a, b)), "")
        return f"{text} Note: {note}" if text and note else (text or note)

    return get


def _name(people: Mapping[str, Mapping[str, Any]], who: str) -> str:
    return str((people.get(who) or {}).get("name") or who)


def agendas(schedule: Schedule | Iterable[Meeting], setup: MeetingSetup, *,
            people: Mapping[str, Mapping[str, Any]] | None = None, reasons: ReasonSource | None = None,
            requests: MeetingRequests | None = None, everyone: list[str] | None = None
            ) -> dict[str, list[dict[str, Any]]]:
    """Per attendee (sorted by id; ``everyone`` adds people with no meeting), their meetings in time order.

    ``schedule``: a run's schedule or just meetings; ``people``: id -> ``{"name", "title"}``; ``reasons``: the
    one-line reason per pair (falls back on the request's note)."""
    meetings = schedule.meetings if isinstance(schedule, Schedule) else list(schedule)
    people = people or {}
    why = _reason_fn(reasons, requests)
    slots = {s.id: s for s in setup.slots}
    locs = {loc.id: loc for loc in setup.locations}
    order = {s.id: k for k, s in enumerate(setup.slots)}
    out: dict[str, list[dict[str, Any]]] = {w: [] for w in (everyone or [])}
    for m in meetings:
        s = slots[m.slot]
        for me, other in ((m.a, m.b), (m.b, m.a)):
            out.setdefault(me, []).append({
                "attendee": me, "attendee_name": _name(people, me), "slot": m.slot,
                "start": s.start.isoformat(), "end": s.end.isoformat(), "location": m.location,
                "location_label": locs[m.location].label, "with": other, "with_name": _name(people, other),
                "with_title": str((people.get(other) or {}).get("title") or ""), "kind": m.kind,
                "request": m.request, "reason": why(me, other)})
    for items in out.values():
        items.sort(key=lambda it: order[it["slot"]])
    return dict(sorted(out.items()))


def agendas_csv(items: Mapping[str, list[dict[str, Any]]]) -> str:
    """One row per attendee and meeting."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=_AGENDA_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for rows in items.values():
        w.writerows(rows)
    return buf.getvalue()


def agendas_html(items: Mapping[str, list[dict[str, Any]]], setup: MeetingSetup, *, title: str,
                 people: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """A printable page per attendee."""
    people = people or {}
    slots = {s.id: s for s in setup.slots}
    persons = []
    for who, rows in items.items():
        its = []
        for r in rows:
            s = slots[r["slot"]]
            its.append({**r, "day_label": s.start.strftime("%a %d %b %Y"),
                        "time_label": f"{s.start:%H:%M}-{s.end:%H:%M}"})
        persons.append({"id": who, "name": _name(people, who),
                        "title": str((people.get(who) or {}).get("title") or ""), "meetings": its})
    return _env().get_template("agendas.html").render(title=title, people=persons, timezone=setup.timezone)


def agenda_ics(attendee: str, items: list[dict[str, Any]], setup: MeetingSetup, *, event: str, title: str,
               stamp: dt.datetime | None = None) -> bytes:
    """One iCalendar file: a VEVENT per meeting in the event's time zone (with its VTIMEZONE)."""
    import icalendar

    slots = {s.id: s for s in setup.slots}
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Matchmaker//meetings//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{title}: meetings")
    cal.add("x-wr-timezone", setup.timezone)
    stamp = stamp or dt.datetime.now(dt.UTC).replace(microsecond=0)
    for it in items:
        s = slots[it["slot"]]
        ev = icalendar.Event()
        pair = "-".join(sorted((attendee, it["with"])))
        ev.add("uid", f"{event}.{it['slot']}.{pair}@matchmaker")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", s.start)
        ev.add("dtend", s.end)
        ev.add("summary", f"Meeting with {it['with_name']}")
        ev.add("location", it["location_label"])
        desc = [f"With: {it['with_name']}" + (f" ({it['with_title']})" if it.get("with_title") else "")]
        if it["reason"]:
            desc.append(f"Why: {it['reason']}")
        desc.append(f"Where: {it['location_label']}")
        ev.add("description", "\n".join(desc))
        ev.add("status", "CONFIRMED")
        cal.add_component(ev)
    if items:
        cal.add_missing_timezones()
    return cal.to_ical()


def grid(schedule: Schedule, setup: MeetingSetup, *, people: Mapping[str, Mapping[str, Any]] | None = None
         ) -> list[dict[str, Any]]:
    """Per location, per slot: ``None`` (closed) or the meetings there as ``"Name A & Name B"``."""
    people = people or {}
    cells: dict[tuple[str, str], list[str]] = {}
    for m in schedule.meetings:
        cells.setdefault((m.location, m.slot), []).append(f"{_name(people, m.a)} & {_name(people, m.b)}")
    rows = []
    for loc in setup.locations:
        open_ = set(loc.slots) if loc.slots is not None else None
        rows.append({"id": loc.id, "label": loc.label,
                     "cells": {s.id: (None if open_ is not None and s.id not in open_
                                      else cells.get((loc.id, s.id), [])) for s in setup.slots}})
    return rows


def grid_csv(rows: list[dict[str, Any]], setup: MeetingSetup) -> str:
    """Rows are locations, columns slots (local start); a cell lists its meetings, ``closed`` or is empty."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["location"] + [f"{s.start:%Y-%m-%d %H:%M}" for s in setup.slots])
    for r in rows:
        w.writerow([r["label"]] + ["closed" if r["cells"][s.id] is None else "; ".join(r["cells"][s.id])
                                   for s in setup.slots])
    return buf.getvalue()


def grid_html(rows: list[dict[str, Any]], setup: MeetingSetup, *, title: str, summary: str = "") -> str:
    """A printable grid, one landscape page per day."""
    days = []
    for d in sorted({s.day for s in setup.slots}):
        ss = [s for s in setup.slots if s.day == d]
        days.append({"label": ss[0].start.strftime("%A %d %B %Y"),
                     "slots": [{"label": f"{s.start:%H:%M}"} for s in ss],
                     "rows": [{"label": r["label"], "cells": [r["cells"][s.id] for s in ss]} for r in rows]})
    return _env().get_template("grid.html").render(title=title, days=days, timezone=setup.timezone,
                                                   summary=summary)


def stats(requests: MeetingRequests, schedule: Schedule | None, everyone: list[str]) -> dict[str, Any]:
    """Organizer stats: requests by outcome, meetings by state, who has no meeting.

    >>> from models import parse_meeting_requests
    >>> reqs = parse_meeting_requests({"requests": [
    ...     {"id": "1", "requester": "a", "recipient": "b", "state": "declined"},
    ...     {"id": "2", "requester": "a", "recipient": "c", "state": "held", "slot": "s", "location": "T"}]})
    >>> s = stats(reqs, None, ["a", "b", "c", "d"])
    >>> s["requests"]["sent"], s["requests"]["declined"], s["meetings"]["held"], s["people_without_meeting"]
    (2, 1, 1, ['b', 'd'])
    """
    state = Counter(r.state for r in requests.requests)
    accepted = sum(state[k] for k in ("accepted", "scheduled", "held", "no_show"))
    met: set[str] = set()
    for r in requests.requests:
        if r.state in ("scheduled", "held", "no_show"):
            met.update((r.requester, r.recipient))
    scheduled = state["scheduled"] + state["held"] + state["no_show"]
    if schedule is not None:
        scheduled = len(schedule.meetings) + state["held"] + state["no_show"]
        met = {w for m in schedule.meetings for w in (m.a, m.b)} | {
            w for r in requests.requests if r.state in ("held", "no_show") for w in (r.requester, r.recipient)}
    decided = accepted + state["declined"]
    return {
        "requests": {"sent": len(requests.requests), "accepted": accepted, "declined": state["declined"],
                     "pending": state["requested"], "expired": state["expired"], "cancelled": state["cancelled"],
                     "acceptance_rate": round(accepted / decided, 4) if decided else None},
        "meetings": {"scheduled": scheduled, "held": state["held"], "no_shows": state["no_show"],
                     "must_meet": len(requests.must_meet)},
        "people": len(everyone), "people_with_meeting": len(met & set(everyone)),
        "people_without_meeting": sorted(set(everyone) - met),
    }


def safe_name(attendee: str) -> str:
    """A file name for an attendee id (ids may hold characters file systems refuse)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", attendee) or "_"


def write_outputs(out: Path, schedule: Schedule, setup: MeetingSetup, requests: MeetingRequests, *,
                  everyone: list[str], title: str, people: Mapping[str, Mapping[str, Any]] | None = None,
                  reasons: ReasonSource | None = None, stamp: dt.datetime | None = None) -> list[Path]:
    """Write every output under ``out``: ``schedule.json``, ``agendas.json``/``.csv``/``.html``,
    ``ics/<attendee>.ics``, ``grid.csv``/``.html``, ``stats.json``. Returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    items = agendas(schedule, setup, people=people, reasons=reasons, requests=requests, everyone=everyone)
    written = []

    def put(name: str, data: str | bytes) -> None:
        p = out / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            p.write_bytes(data)
        else:
            p.write_text(data, encoding="utf-8")
        written.append(p)

    put("schedule.json", json.dumps(schedule.model_dump(mode="json"), indent=1) + "\n")
    put("agendas.json", json.dumps(items, indent=1, ensure_ascii=False) + "\n")
    put("agendas.csv", agendas_csv(items))
    put("agendas.html", agendas_html(items, setup, title=title, people=people))
    for who, rows in items.items():
        if rows:
            put(f"ics/{safe_name(who)}.ics", agenda_ics(who, rows, setup, event=schedule.event, title=title,
                                                        stamp=stamp))
    rows = grid(schedule, setup, people=people)
    r = schedule.report
    summary = (f"{r.scheduled_requested} of {r.requested_pairs} requested meetings scheduled"
               f" ({r.scheduled_share:.0%}), {r.scheduled_fill} filled in.")
    put("grid.csv", grid_csv(rows, setup))
    put("grid.html", grid_html(rows, setup, title=title, summary=summary))
    put("stats.json", json.dumps(stats(requests, schedule, everyone), indent=1) + "\n")
    return written
