"""``matchmaker tables`` and ``matchmaker rotations``: seating plans and 1:1 speed-networking rotations.

Both write, under ``--out DIR``: ``plan.json`` (the plan and its report), ``plan.csv`` (one row per seat),
``agenda.csv`` and ``agenda.json`` (per attendee: where they sit each round and with whom) and ``seating.html``
(a printable chart: one page per round, tables as boxes, and an A-Z index of who sits where). The same seed gives
byte-identical files.
"""

from __future__ import annotations

import csv
import html
import json
import sys
from pathlib import Path

import click

from models import InvalidInput, TablePlan, TablePlanRequest, load_table_rules
from scripts.common import build_matcher, existing_file, fail_invalid, read_event_or_fail


def _read_rules(path: str | None):
    if path is None:
        return None
    p = existing_file(path, "rules file")
    try:
        return load_table_rules(p)
    except InvalidInput as exc:
        raise fail_invalid(f"invalid rules file {path}", exc) from None


def _parse_capacities(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        caps = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise click.UsageError(f"--capacities must be a comma-separated list of seat counts, e.g. 8,8,10; "
                               f"got {text!r}") from None
    if not caps or min(caps) < 1:
        raise click.UsageError(f"--capacities needs at least one table and every table at least 1 seat; got {text!r}")
    return caps


def _run(event_path: str, request_fields: dict, rules_path: str | None, out: str, encoder_name: str,
         model: str | None, quiet: bool) -> None:
    from matcher.tables import plan_event

    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise click.UsageError(f"--out {out} exists and is not a directory")
    ef = read_event_or_fail(event_path)
    if not ef.attendees:
        raise click.UsageError(f"event file {event_path} has no attendees to seat")
    rules = _read_rules(rules_path)
    if rules is not None:
        request_fields["rules"] = rules
    try:
        request = TablePlanRequest(**request_fields)
    except Exception as exc:  # pydantic's ValidationError: report it as a usage error naming the field
        from pydantic import ValidationError

        from models import from_pydantic

        if isinstance(exc, ValidationError):
            raise fail_invalid("invalid plan request", from_pydantic(exc)) from None
        raise
    # the stand-in encodes in no time: no progress bar for it
    m = build_matcher(ef, model, progress=not quiet and encoder_name == "model", kind=encoder_name)
    try:
        if quiet:
            plan = plan_event(m, request)
        else:
            with click.progressbar(length=1, label="Planning", file=sys.stderr) as bar:
                def progress(done: int, total: int) -> None:
                    bar.length = total
                    bar.update(done - bar.pos)

                plan = plan_event(m, request, progress=progress)
    except InvalidInput as exc:
        raise fail_invalid("the rules cannot all hold" if type(exc).__name__ == "InfeasibleRules"
                            else "invalid request", exc) from None
    people = {a.id: a for a in ef.attendees}
    out_dir.mkdir(parents=True, exist_ok=True)
    write_outputs(plan, people, out_dir, title=ef.event.name or ef.event.id)
    r = plan.report
    if not quiet:
        click.echo(f"Seated {r.attendees} attendees over {r.rounds} round(s) "
                   f"({', '.join(str(t) for t in r.tables_per_round)} tables) in {r.seconds:.1f} s")
        click.echo(f"  repeats: {r.repeats}" + (f" (+{r.forced_repeats} forced by the rules)" if r.forced_repeats
                                                 else "") + f", rule violations: {r.violations}")
        click.echo(f"  affinity: {r.ratio:.1%} of the upper bound (a random plan: {r.random_ratio:.1%})")
        for p in r.repeat_pairs[:5]:
            if not p.forced:
                click.echo(f"  repeat: {p.a} and {p.b} share a table in rounds {', '.join(map(str, p.rounds))}")
        click.echo(f"Wrote plan.json, plan.csv, agenda.csv, agenda.json and seating.html to {out_dir}")


def write_outputs(plan: TablePlan, people: dict, out_dir: Path, title: str = "") -> None:
    """Write the plan as JSON, CSV, per-attendee agenda (CSV and JSON) and a printable HTML chart."""
    doc = plan.model_dump(mode="json")
    doc["report"].pop("seconds", None)  # keep files identical for a seed
    (out_dir / "plan.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    def name(aid: str) -> str:
        a = people.get(aid)
        return (a.name or aid) if a is not None else aid

    with open(out_dir / "plan.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["round", "table", "seat", "attendee_id", "name", "company", "role"])
        for rnd in plan.rounds:
            for t in rnd.tables:
                for s, aid in enumerate(t.seats, 1):
                    a = people.get(aid)
                    w.writerow([rnd.round, t.table, s, aid, name(aid), a.company if a else "", a.role if a else ""])
            for aid in rnd.byes:
                w.writerow([rnd.round, "", "", aid, name(aid), "", "bye"])
    agenda = plan.agenda()
    with open(out_dir / "agenda.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["attendee_id", "name", "round", "table", "status", "with"])
        for aid in sorted(agenda, key=lambda x: (name(x).lower(), x)):
            for e in agenda[aid]:
                w.writerow([aid, name(aid), e.round, e.table or "", e.status, "; ".join(name(x) for x in e.with_)])
    (out_dir / "agenda.json").write_text(json.dumps(
        {aid: [e.model_dump(mode="json", by_alias=True) for e in entries] for aid, entries in sorted(agenda.items())},
        indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "seating.html").write_text(seating_html(plan, people, title), encoding="utf-8")


_CSS = """
body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5cm;color:#111}
h1{font-size:20pt;margin:0 0 .2em} h2{font-size:16pt;margin:1em 0 .4em}
.meta{color:#555;font-size:10pt;margin-bottom:1em}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(5.2cm,1fr));gap:.35cm}
.table{border:2px solid #222;border-radius:10px;padding:.25cm .35cm;break-inside:avoid}
.table h3{margin:0 0 .15cm;font-size:13pt}
.table ol{margin:0;padding-left:1.2em;font-size:11pt} .table li{margin:.05cm 0}
.who{color:#555;font-size:9pt}
.index{columns:3;font-size:10pt} .index div{break-inside:avoid}
.round{page-break-after:always} .round:last-child{page-break-after:auto}
@media print{body{margin:1cm}}
"""


def seating_html(plan: TablePlan, people: dict, title: str = "") -> str:
    """A printable seating chart: one page per round (tables as boxes) plus an A-Z index of who sits where."""
    e = html.escape

    def label(aid: str) -> str:
        a = people.get(aid)
        if a is None:
            return e(aid)
        extra = ", ".join(x for x in (a.title or a.role, a.company) if x)
        return f"{e(a.name or aid)}" + (f' <span class="who">{e(extra)}</span>' if extra else "")

    def sort_name(aid: str) -> str:
        a = people.get(aid)
        return ((a.name if a and a.name else aid) or aid).lower()

    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)} seating</title>"
             f"<style>{_CSS}</style></head><body>"]
    for rnd in plan.rounds:
        parts.append('<section class="round">')
        parts.append(f"<h1>{e(title)}</h1><h2>Round {rnd.round}</h2>")
        seated = sum(len(t.seats) for t in rnd.tables)
        parts.append(f'<div class="meta">{seated} seated at {len(rnd.tables)} tables'
                     + (f"; bye: {', '.join(e(people[x].name or x) if x in people else e(x) for x in rnd.byes)}"
                        if rnd.byes else "") + "</div>")
        parts.append('<div class="grid">')
        for t in rnd.tables:
            items = "".join(f"<li>{label(aid)}</li>" for aid in t.seats)
            parts.append(f'<div class="table"><h3>Table {t.table}</h3><ol>{items}</ol></div>')
        parts.append("</div><h2>Find your table</h2><div class=\"index\">")
        where = [(sort_name(aid), aid, t.table) for t in rnd.tables for aid in t.seats]
        for _, aid, table in sorted(where):
            a = people.get(aid)
            parts.append(f"<div>{e(a.name or aid) if a else e(aid)} &rarr; <b>{table}</b></div>")
        parts.append("</div></section>")
    r = plan.report
    parts.append(f'<p class="meta">{r.attendees} attendees, {r.rounds} rounds; repeats {r.repeats}; affinity '
                 f"{r.ratio:.1%} of the upper bound (random plan {r.random_ratio:.1%}).</p></body></html>\n")
    return "".join(parts)


_common = [
    click.option("--event", "event_path", required=True, metavar="EVENT.json", help="Event file."),
    click.option("--rounds", type=click.IntRange(1, 50), default=3, show_default=True, help="How many rounds."),
    click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same plan."),
    click.option("--rules", "rules_path", default=None, metavar="RULES.json",
                 help="Keep apart/together, fixed seats, role mix, attendance (see README)."),
    click.option("--attendees", default=None, metavar="ID,ID,...", help="Seat only these attendees."),
    click.option("--effort", type=click.FloatRange(0.05, 10), default=1.0, show_default=True,
                 help="Search budget multiplier (higher: slower, slightly better)."),
    click.option("--out", required=True, metavar="DIR", help="Output directory (created)."),
    click.option("--quiet", is_flag=True, help="No progress bar or summary."),
    click.option("--model", default=None, help="sentence-transformers model name or path (default: bundled MiniLM)."),
    click.option("--encoder", "encoder_name", type=click.Choice(["model", "hashing"]), default="model",
                 hidden=True, help="'hashing': the deterministic stand-in encoder (tests)."),
]


def _with_common(f):
    for opt in reversed(_common):
        f = opt(f)
    return f


def _ids(text: str | None) -> list[str] | None:
    if text is None:
        return None
    ids = [x.strip() for x in text.split(",") if x.strip()]
    if not ids:
        raise click.UsageError("--attendees needs at least one id")
    return ids


@click.command()
@click.option("--table-size", "table_size", type=click.IntRange(2, 1000), default=None,
              help="Seats per table (uniform); when N does not divide, sizes differ by at most one.")
@click.option("--capacities", default=None, metavar="N,N,...", help="Seats of each table instead of --table-size.")
@_with_common
def tables(table_size, capacities, event_path, rounds, seed, rules_path, attendees, effort, out, quiet, model,
           encoder_name) -> None:
    """Seat attendees at tables over several rounds: people who should meet share a table, nobody meets the
    same person twice when avoidable, and the rules always hold."""
    caps = _parse_capacities(capacities)
    if (table_size is None) == (caps is None):
        raise click.UsageError("give exactly one of --table-size N or --capacities N,N,...")
    fields = {"rounds": rounds, "seed": seed, "effort": effort, "attendees": _ids(attendees)}
    fields.update({"table_size": table_size} if caps is None else {"capacities": caps})
    _run(event_path, fields, rules_path, out, encoder_name, model, quiet)


@click.command()
@click.option("--odd", type=click.Choice(["trio", "bye"]), default="trio", show_default=True,
              help="With an odd head count: one trio, or one person sits out each round (a different one each time).")
@_with_common
def rotations(odd, event_path, rounds, seed, rules_path, attendees, effort, out, quiet, model, encoder_name) -> None:
    """1:1 speed-networking rotations: pairs per round (a maximum-affinity matching), nobody twice."""
    fields = {"rounds": rounds, "seed": seed, "effort": effort, "attendees": _ids(attendees), "table_size": 2,
              "odd": odd}
    _run(event_path, fields, rules_path, out, encoder_name, model, quiet)
