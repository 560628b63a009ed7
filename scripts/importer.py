"""``matchmaker import``: a registration export (CSV or XLSX from Eventbrite, Cvent, HubSpot, a spreadsheet) to an
event file. The parsing is :mod:`models.registrations` (the API's CSV/XLSX upload uses the same); this module only
reads the options, names every bad row and writes the file. Nothing is written when a row is bad."""

from __future__ import annotations

import json
from pathlib import Path

import click

from models import InvalidInput
from scripts.common import check_writable, existing_file, fail_invalid, read_registrations_or_fail


@click.command("import")
@click.argument("registrations", metavar="FILE.csv|FILE.xlsx")
@click.option("--out", required=True, metavar="EVENT.json", help="Where to write the event file.")
@click.option("--mapping", "mapping_path", default=None, metavar="MAPPING.json",
              help='Which columns hold which fields, e.g. {"columns": {"goals": "Why are you coming?"}} '
                   "(default: common header names; see README).")
@click.option("--sheet", default=None, metavar="NAME", help="XLSX: the sheet to read (default: the first).")
@click.option("--event-id", default=None, metavar="ID", help="Event id (default: from the file name).")
@click.option("--event-name", default="", metavar="NAME", help="Event name (default: the file name).")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def import_registrations(registrations: str, out: str, mapping_path: str | None, sheet: str | None,
                         event_id: str | None, event_name: str, force: bool) -> None:
    """Turn a registration export into an event file: one attendee per row; list fields (goals, offers,
    interests) split on ';' and new lines. Every bad row is reported by row number and column."""
    from models.registrations import load_mapping

    src = existing_file(registrations, "registration file")
    mapping = None
    if mapping_path is not None:
        try:
            mapping = load_mapping(existing_file(mapping_path, "mapping file"))
        except InvalidInput as exc:
            raise fail_invalid(f"invalid mapping file {mapping_path}", exc) from None
    check_writable(out, "--out")
    if Path(out).exists() and not force:
        raise click.UsageError(f"--out {out} exists; pass --force to overwrite it")
    ef = read_registrations_or_fail(src, mapping, sheet=sheet, event_id=event_id, event_name=event_name)
    doc = ef.model_dump(mode="json")
    try:
        Path(out).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"Imported {len(ef.attendees)} attendees from {registrations} into {out} (event {ef.event.id!r})")
