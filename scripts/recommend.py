"""``matchmaker recommend`` and ``matchmaker demo``: ranked lists from an event file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from scripts.common import build_matcher, read_event_or_fail

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
              help="Every attendee's list, as JSON lines (one attendee per line; no item-level reasons).")
@click.option("-k", "--limit", "k", type=click.IntRange(1, 500), default=None,
              help="List length (default: the event policy's).")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: a list of {"id", "score", "reasons"}.')
@click.option("--output", "output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="With --all: write the JSON lines to this file instead of standard output.")
@click.option("--model", default=None, help="sentence-transformers model name or path (default: bundled MiniLM).")
def recommend(event_path: str, attendee_id: str | None, everyone: bool, k: int | None, as_json: bool,
              output: str | None, model: str | None) -> None:
    """Show who one attendee should meet, best first, with reasons; or (--all) rank everyone in batch."""
    if everyone == (attendee_id is not None):
        raise click.UsageError("give either --attendee ID or --all")
    if output and not everyone:
        raise click.UsageError("--output goes with --all")
    ef = read_event_or_fail(event_path)
    people = {a.id: a for a in ef.attendees}
    if attendee_id is not None and attendee_id not in people:
        close = sorted(people)[:5]
        raise click.UsageError(f"unknown attendee id {attendee_id!r} in {event_path} "
                               f"({len(people)} attendees; e.g. {', '.join(close)})")
    m = build_matcher(ef, model, progress=not as_json and not (everyone and not output))
    if everyone:
        write_all(m, k, output)
        return
    matches = m.recommend(attendee_id, k=k)
    if as_json:
        click.echo(json.dumps([x.to_json() for x in matches], indent=2, ensure_ascii=False))
    else:
        print_table(people[attendee_id], matches, people)


def write_all(m, k: int | None, output: str | None) -> None:
    """Every attendee's list as JSON lines: ``{"attendee", "matches": [{"id", "score", "components"}]}``."""
    from matcher.scoring import COMPONENTS

    try:  # open first: a bad path fails before the ranking, not after
        stream = open(output, "w", encoding="utf-8") if output else None  # noqa: SIM115 - closed below
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    try:
        ranked = m.rank_all(k=k, progress=output is not None)
        for i, aid in enumerate(ranked.ids):
            n = int(ranked.lengths[i])
            matches = [{"id": ranked.names[key], "score": round(float(score), 6),
                        "components": {c: round(float(v), 4) for c, v in zip(COMPONENTS, comps, strict=True)
                                       if v == v}}
                       for key, score, comps in zip(ranked.keys[i, :n], ranked.scores[i, :n],
                                                    ranked.components[i, :n], strict=True)]
            line = json.dumps({"attendee": aid, "matches": matches}, ensure_ascii=False)
            if stream is None:
                click.echo(line)
            else:
                stream.write(line + "\n")
    finally:
        if stream is not None:
            stream.close()
    if output:
        click.echo(f"Wrote {len(ranked)} lists to {output}", err=True)


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
    lists = m.recommend_all(k=k, progress=True)
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
