"""``matchmaker recommend`` and ``matchmaker demo``: ranked lists from an event file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from scripts.common import PROGRESS_MIN, build_matcher, encoder_option, progress_bar, read_event_or_fail

SAMPLE_EVENT = Path(__file__).parent / "data" / "sample_event.json"


def print_table(attendee, matches, people) -> None:
    click.echo(f"People {attendee.name or attendee.id} ({attendee.role or 'attendee'}"
               f"{', ' + attendee.company if attendee.company else ''}) should meet:")
    if not matches:
        click.echo("  (nobody: no one passes the event's rules)")
    for rank, m in enumerate(matches, 1):
        p = people[m.id]
        who = f"{p.name or p.id} — {p.title or p.role}{' at ' + p.company if p.company else ''}"
        click.echo(f"{rank:>3}. {who}  [{m.score:.3f}]")
        if m.reasons.summary:
            click.echo(f"     {m.reasons.summary}")


@click.command()
@click.option("--event", "event_path", required=True, metavar="EVENT.json", help="Event file.")
@click.option("--attendee", "attendee_id", default=None, metavar="ID", help="Whose list to show.")
@click.option("--all", "everyone", is_flag=True,
              help="Every attendee's list, with names, titles, companies, scores and the one-line reason "
                   "(--format: JSON lines, one attendee per line, or CSV, one row per match).")
@click.option("-k", "--limit", "k", type=click.IntRange(1, 500), default=None,
              help="List length (default: the event policy's).")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: a list of {"id", "score", "reasons"}.')
@click.option("--output", "output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="With --all: write the lists to this file instead of standard output.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="With --all: jsonl (default) or csv.")
@click.option("--model", default=None, help="sentence-transformers model name or path (default: bundled MiniLM).")
@encoder_option()
def recommend(event_path: str, attendee_id: str | None, everyone: bool, k: int | None, as_json: bool,
              output: str | None, fmt: str | None, model: str | None, encoder_name: str) -> None:
    """Show who one attendee should meet, best first, with reasons; or (--all) rank everyone in batch."""
    if everyone == (attendee_id is not None):
        raise click.UsageError("give either --attendee ID or --all")
    if output and not everyone:
        raise click.UsageError("--output goes with --all")
    if fmt and not everyone:
        raise click.UsageError("--format goes with --all")
    ef = read_event_or_fail(event_path)
    people = {a.id: a for a in ef.attendees}
    if attendee_id is not None and attendee_id not in people:
        close = sorted(people)[:5]
        raise click.UsageError(f"unknown attendee id {attendee_id!r} in {event_path} "
                               f"({len(people)} attendees; e.g. {', '.join(close)})")
    m = build_matcher(ef, model, progress=not as_json and not (everyone and not output), kind=encoder_name)
    if everyone:
        write_all(m, k, output, fmt or "jsonl", people)
        return
    matches = m.recommend(attendee_id, k=k)
    if as_json:
        click.echo(json.dumps([x.to_json() for x in matches], indent=2, ensure_ascii=False))
    else:
        print_table(people[attendee_id], matches, people)


#: Columns of ``recommend --all --format csv``: one row per match.
CSV_COLUMNS = ["attendee_id", "attendee_name", "rank", "match_id", "name", "title", "company", "score", "reason"]


def write_all(m, k: int | None, output: str | None, fmt: str = "jsonl", people: dict | None = None) -> None:
    """Every attendee's list, as JSON lines (``{"attendee", "name", "matches": [{"rank", "id", "name", "title",
    "company", "score", "reason", "components"}]}``) or CSV (:data:`CSV_COLUMNS`, one row per match)."""
    import csv

    people = people or {}
    try:  # open first: a bad path fails before the ranking, not after
        # a CSV file starts with a byte-order mark, so that Excel reads its accents right
        stream = (open(output, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")  # noqa: SIM115
                  if output else None)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    out = stream if stream is not None else sys.stdout
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow(CSV_COLUMNS)
    total = 0
    try:
        for lists in recommend_in_chunks(m, k, progress=output is not None):
            total += len(lists)
            for aid, matches in lists.items():
                me = people.get(aid)
                rows = []
                for rank, x in enumerate(matches, 1):
                    p = people.get(x.id)
                    rows.append({"rank": rank, "id": x.id, "name": p.name if p else "", "title": p.title if p else "",
                                 "company": p.company if p else "", "score": x.score, "reason": x.reasons.summary,
                                 "components": x.reasons.components})
                if writer is None:
                    out.write(json.dumps({"attendee": aid, "name": me.name if me else "", "matches": rows},
                                         ensure_ascii=False) + "\n")
                else:
                    for r in rows:
                        writer.writerow([aid, me.name if me else "", r["rank"], r["id"], r["name"], r["title"],
                                         r["company"], f"{r['score']:.6f}", r["reason"]])
    finally:
        if stream is not None:
            stream.close()
    if output:
        click.echo(f"Wrote {total} lists to {output}", err=True)


def recommend_in_chunks(m, k: int | None, *, progress: bool, chunk: int = 512):
    """Every attendee's explained list (``{id: [Match]}``), ``chunk`` attendees at a time in event order (the
    same lists as one batch), with the CLI's progress bar when that is long work."""
    ids = m.ids()
    if not progress or len(ids) < PROGRESS_MIN:
        yield m.recommend_all(ids, k=k)
        return
    with progress_bar(len(ids), "Ranking") as bar:
        for s in range(0, len(ids), chunk):
            part = ids[s:s + chunk]
            yield m.recommend_all(part, k=k)
            bar.update(len(part))


@click.command()
@click.option("-n", "--people", type=click.IntRange(1, 50), default=3, help="How many attendees' lists to show.")
@click.option("-k", "--limit", "k", type=click.IntRange(1, 50), default=5, help="List length.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write every attendee's list to this JSON file.")
def demo(people: int, k: int, json_out: str | None) -> None:
    """Rank the bundled sample event and show a few attendees' lists."""
    ef = read_event_or_fail(str(SAMPLE_EVENT))
    click.echo(f"Sample event: {ef.event.name} ({len(ef.attendees)} attendees)")
    m = build_matcher(ef)
    lists = m.recommend_all(k=k)
    by_id = {a.id: a for a in ef.attendees}
    # show a spread of roles: the first attendee of each role, in file order
    shown, roles = [], set()
    for a in ef.attendees:
        if a.role not in roles and a.goals:
            roles.add(a.role)
            shown.append(a)
        if len(shown) == people:
            break
    for a in shown:
        click.echo("")
        print_table(a, lists[a.id], by_id)
    if json_out:
        Path(json_out).write_text(json.dumps({aid: [x.to_json() for x in ms] for aid, ms in lists.items()},
                                             ensure_ascii=False))
        click.echo(f"\nWrote every list to {json_out}")
