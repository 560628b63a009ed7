"""``matchmaker tables`` and ``matchmaker rotations``: seating plans and 1:1 speed-networking rotations.

Both write, under ``--out DIR``: ``plan.json`` (the plan and its report), ``plan.csv`` (one row per seat),
``agenda.csv`` and ``agenda.json`` (per attendee: where they sit each round and with whom) and ``seating.html``
(a printable chart: one page per round, tables as boxes, and an A-Z index of who sits where). The same seed gives
byte-identical files.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from models import InvalidInput, TablePlan, TablePlanRequest, load_table_rules
from scripts.common import build_matcher, encoder_option, existing_file, fail_invalid, read_event_or_fail
from scripts.printouts import PAPERS, find_browser, html_to_pdf, seating_html, tents_html


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


def check_ids(request: TablePlanRequest, event_ids: list[str]) -> None:
    """Every id the request names (``attendees``, and in the rules ``keep_apart``, ``keep_together``,
    ``attendance``, ``fixed_seats``) is one of the attendees being seated; raises :class:`~models.InvalidInput`
    with the fields and messages the planner would give, but before the engine is built.

    >>> req = TablePlanRequest(rounds=1, table_size=2, attendees=["a", "zz"], rules={"keep_apart": [["a", "b"]]})
    >>> try:
    ...     check_ids(req, ["a", "b", "c"])
    ... except InvalidInput as exc:
    ...     print(exc.errors)
    [{'field': 'attendees[1]', 'message': "unknown attendee id 'zz'"}]
    """
    known = set(event_ids)
    if request.attendees is not None:
        # the engine loads only after the arguments are checked
        from matcher.tables import check_attendees

        check_attendees(request.attendees, known)
        known = set(request.attendees)
    rules = request.rules
    named = [(f"rules.keep_apart[{g}][{k}]", x) for g, grp in enumerate(rules.keep_apart) for k, x in enumerate(grp)]
    named += [(f"rules.keep_together[{g}][{k}]", x) for g, grp in enumerate(rules.keep_together)
              for k, x in enumerate(grp)]
    named += [(f"rules.attendance.{x}", x) for x in rules.attendance]
    named += [(f"rules.fixed_seats[{s}].id", seat.id) for s, seat in enumerate(rules.fixed_seats)]
    errors = [{"field": where, "message": f"unknown attendee id {x!r} (not among the {len(known)} attendees "
                                          f"being seated)"} for where, x in named if x not in known]
    if errors:
        raise InvalidInput(errors)


def _run(event_path: str, request_fields: dict, rules_path: str | None, out: str, encoder_name: str,
         model: str | None, quiet: bool, paper: str = "a4", tents: bool = False, pdf: bool = False) -> None:
    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise click.UsageError(f"--out {out} exists and is not a directory")
    if pdf and find_browser() is None:
        raise click.UsageError("--pdf needs Chromium (apt-get install chromium); or print seating.html from a browser")
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
    try:
        check_ids(request, [a.id for a in ef.attendees])
    except InvalidInput as exc:
        raise fail_invalid("invalid request", exc) from None
    from matcher.tables import plan_event

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
    write_outputs(plan, people, out_dir, title=ef.event.name or ef.event.id, paper=paper, tents=tents, pdf=pdf)
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
        extra = (", tents.html" if tents else "") + (" (and PDFs)" if pdf else "")
        click.echo(f"Wrote plan.json, plan.csv, agenda.csv, agenda.json, seating.html{extra} to {out_dir}")


def write_outputs(plan: TablePlan, people: dict, out_dir: Path, title: str = "", paper: str = "a4",
                  tents: bool = False, pdf: bool = False) -> None:
    """Write the plan as JSON, CSV, per-attendee agenda (CSV and JSON) and a printable HTML chart (with
    ``tents``, table tents too; with ``pdf``, each printout also as PDF)."""
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
    (out_dir / "seating.html").write_text(seating_html(plan, people, title, paper), encoding="utf-8")
    written = ["seating.html"]
    if tents:
        (out_dir / "tents.html").write_text(tents_html(plan, title, paper), encoding="utf-8")
        written.append("tents.html")
    if pdf:
        for name in written:
            try:
                html_to_pdf(out_dir / name, out_dir / name.replace(".html", ".pdf"))
            except RuntimeError as exc:
                raise click.ClickException(str(exc)) from None


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
    click.option("--paper", type=click.Choice(sorted(PAPERS)), default="a4", show_default=True,
                 help="Paper size of seating.html (and tents.html)."),
    click.option("--tents", is_flag=True, help="Also write tents.html: a folded table tent per table number."),
    click.option("--pdf", is_flag=True, help="Also print the HTML files to PDF (needs Chromium)."),
    click.option("--model", default=None, help="sentence-transformers model name or path (default: bundled MiniLM)."),
    encoder_option(),
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
def tables(table_size, capacities, event_path, rounds, seed, rules_path, attendees, effort, out, quiet, paper, tents,
           pdf, model, encoder_name) -> None:
    """Seat attendees at tables over several rounds: people who should meet share a table, nobody meets the
    same person twice when avoidable, and the rules always hold."""
    caps = _parse_capacities(capacities)
    if (table_size is None) == (caps is None):
        raise click.UsageError("give exactly one of --table-size N or --capacities N,N,...")
    fields = {"rounds": rounds, "seed": seed, "effort": effort, "attendees": _ids(attendees)}
    fields.update({"table_size": table_size} if caps is None else {"capacities": caps})
    _run(event_path, fields, rules_path, out, encoder_name, model, quiet, paper, tents, pdf)


@click.command()
@click.option("--odd", type=click.Choice(["trio", "bye"]), default="trio", show_default=True,
              help="With an odd head count: one trio, or one person sits out each round (a different one each time).")
@_with_common
def rotations(odd, event_path, rounds, seed, rules_path, attendees, effort, out, quiet, paper, tents, pdf, model,
              encoder_name) -> None:
    """1:1 speed-networking rotations: pairs per round (a maximum-affinity matching), nobody twice."""
    fields = {"rounds": rounds, "seed": seed, "effort": effort, "attendees": _ids(attendees), "table_size": 2,
              "odd": odd}
    _run(event_path, fields, rules_path, out, encoder_name, model, quiet, paper, tents, pdf)
