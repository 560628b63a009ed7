"""``matchmaker cards``: printable "people you should meet" cards, one per attendee (1, 2 or 4 to a sheet)."""

from __future__ import annotations

from pathlib import Path

import click

from scripts.common import build_matcher, read_event_or_fail
from scripts.printouts import CARD_LAYOUTS, PAPERS, find_browser, html_to_pdf


@click.command()
@click.option("--event", "event_path", required=True, metavar="EVENT.json", help="Event file (or a CSV/XLSX export).")
@click.option("--out", required=True, metavar="CARDS.html", help="Where to write the cards (HTML, print CSS).")
@click.option("--attendees", default=None, metavar="ID,ID,...", help="Cards for these attendees only (default: all).")
@click.option("-k", "--limit", "k", type=click.IntRange(1, 10), default=5, show_default=True,
              help="People on each card.")
@click.option("--per-page", type=click.Choice([str(n) for n in CARD_LAYOUTS]), default="2", show_default=True,
              help="Cards per sheet.")
@click.option("--paper", type=click.Choice(sorted(PAPERS)), default="a4", show_default=True, help="Paper size.")
@click.option("--pdf", is_flag=True, help="Also print the cards to PDF beside --out (needs Chromium).")
@click.option("--model", default=None, help="sentence-transformers model name or path (default: bundled MiniLM).")
def cards(event_path: str, out: str, attendees: str | None, k: int, per_page: str, paper: str, pdf: bool,
          model: str | None) -> None:
    """Write a 'people you should meet' card per attendee: each match with their title, company and the reason."""
    from scripts.printouts import cards_html

    target = Path(out)
    if target.is_dir():
        raise click.UsageError(f"--out {out} is a directory; give a file path such as cards.html")
    if not target.parent.is_dir():
        raise click.UsageError(f"--out {out}: folder {target.parent} does not exist")
    if pdf and find_browser() is None:
        raise click.UsageError("--pdf needs Chromium (apt-get install chromium); or print the HTML from a browser")
    ef = read_event_or_fail(event_path)
    people = {a.id: a for a in ef.attendees}
    ids = [a.id for a in ef.attendees if not a.opt_out]
    if attendees is not None:
        ids = [x.strip() for x in attendees.split(",") if x.strip()]
        unknown = [x for x in ids if x not in people]
        if unknown or not ids:
            raise click.UsageError(f"--attendees: unknown attendee id {unknown[0]!r} in {event_path}" if unknown
                                   else "--attendees needs at least one id")
    m = build_matcher(ef, model)
    lists = m.recommend_all(ids, k=k)
    html = cards_html(lists, people, ef.event.name or ef.event.id, paper, int(per_page))
    try:
        target.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    msg = f"Wrote {len(lists)} cards to {out}"
    if pdf:
        try:
            done = html_to_pdf(target, target.with_suffix(".pdf"))
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
        msg += f" and {done.name}"
    click.echo(msg)
