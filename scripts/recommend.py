"""``matchmaker recommend`` and ``matchmaker demo``: ranked lists from an event file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from models import InvalidInput, load_event

SAMPLE_EVENT = Path(__file__).parent / "data" / "sample_event.json"


def read_event_or_fail(path: str):
    """Load and validate an event file, turning every problem into a ClickException naming it."""
    p = Path(path)
    if not p.exists():
        raise click.UsageError(f"event file not found: {path}")
    if p.is_dir():
        raise click.UsageError(f"event file is a directory: {path}")
    try:
        return load_event(p)
    except InvalidInput as exc:
        lines = "\n".join(f"  {e['field'] or '(document)'}: {e['message']}" for e in exc.errors[:20])
        more = f"\n  ... and {len(exc.errors) - 20} more" if len(exc.errors) > 20 else ""
        raise click.ClickException(f"invalid event file {path}:\n{lines}{more}") from None


def make_encoder(model: str | None = None):
    """The text encoder commands use (tests swap in a stand-in here)."""
    from matcher import Encoder

    return Encoder(model)


def build_matcher(event_file, model: str | None = None, progress: bool = True):
    """A matcher over the event, with the on-disk embedding cache so repeated runs encode nothing new."""
    from matcher import CachedEncoder, EmbeddingCache, Matcher
    from matcher.encoder import EncoderError

    cache_path = _cache_path()
    cache = EmbeddingCache().load(cache_path) if cache_path else EmbeddingCache()
    before = len(cache)
    try:
        enc = CachedEncoder(make_encoder(model), cache)
        m = Matcher.from_event_file(event_file, enc, progress=progress)
    except EncoderError as exc:
        raise click.ClickException(str(exc)) from None
    if cache_path and len(cache) != before:
        try:
            cache.save(cache_path)
        except OSError:
            pass  # a read-only home must not fail the command
    return m


def _cache_path() -> Path | None:
    import os

    if os.environ.get("MATCHMAKER_NO_CACHE"):
        return None
    base = os.environ.get("MATCHMAKER_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "matchmaker")
    return Path(base) / "embeddings.npz"


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
@click.option("--attendee", "attendee_id", required=True, metavar="ID", help="Whose list to show.")
@click.option("-k", "--limit", "k", type=click.IntRange(1, 500), default=None,
              help="List length (default: the event policy's).")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: a list of {"id", "score", "reasons"}.')
@click.option("--model", default=None, help="sentence-transformers model name or path (default: bundled MiniLM).")
def recommend(event_path: str, attendee_id: str, k: int | None, as_json: bool, model: str | None) -> None:
    """Show who one attendee should meet, best first, with reasons."""
    ef = read_event_or_fail(event_path)
    people = {a.id: a for a in ef.attendees}
    if attendee_id not in people:
        close = sorted(people)[:5]
        raise click.UsageError(f"unknown attendee id {attendee_id!r} in {event_path} "
                               f"({len(people)} attendees; e.g. {', '.join(close)})")
    m = build_matcher(ef, model, progress=not as_json)
    matches = m.recommend(attendee_id, k=k)
    if as_json:
        click.echo(json.dumps([x.to_json() for x in matches], indent=2, ensure_ascii=False))
    else:
        print_table(people[attendee_id], matches, people)


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
