"""What the commands share: reading an event file, turning a library error into a message, the on-disk
embedding cache and the encoder (chosen by :func:`matcher.encoder.make_encoder`, through the cache).

Every user mistake leaves here as :class:`click.UsageError` or :class:`click.ClickException`, never a traceback.
Importing this module is cheap (click and the pydantic models): the engine, FAISS and the model are imported
only once the arguments have been checked, and torch only when a text is not in the cache.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click
from pydantic import ValidationError

from models import InvalidInput, from_pydantic, load_event

if TYPE_CHECKING:
    from matcher.encoder import EmbeddingCache

#: Dimensions of the hashing stand-in encoder the commands use (``--encoder hashing``).
HASHING_DIM = 64
#: How many field errors a message lists before "... and N more".
MAX_ERRORS = 20


def fail_invalid(what: str, exc: InvalidInput, limit: int = MAX_ERRORS) -> click.ClickException:
    """A ClickException listing ``exc``'s field errors under ``what``.

    >>> print(fail_invalid("invalid event file e.json",
    ...                    InvalidInput([{"field": "attendees[0].id", "message": "required"}])).message)
    invalid event file e.json:
      attendees[0].id: required
    """
    lines = "\n".join(f"  {e['field'] or '(document)'}: {e['message']}" for e in exc.errors[:limit])
    more = f"\n  ... and {len(exc.errors) - limit} more" if len(exc.errors) > limit else ""
    return click.ClickException(f"{what}:\n{lines}{more}")


def existing_file(path: str, what: str) -> Path:
    """``path`` as a Path; :class:`click.UsageError` when it is missing or a directory."""
    p = Path(path)
    if not p.exists():
        raise click.UsageError(f"{what} not found: {path}")
    if p.is_dir():
        raise click.UsageError(f"{what} is a directory: {path}")
    return p


#: Registration exports an event option also takes (read with the default column mapping).
SPREADSHEETS = (".csv", ".tsv", ".xlsx", ".xlsm")


def read_event_or_fail(path: str):
    """Load and validate an event file, turning every problem into a ClickException naming it. A ``.csv`` or
    ``.xlsx`` registration export is read as the attendees of an event named after the file (default column
    mapping; ``matchmaker import`` takes a mapping file)."""
    p = existing_file(path, "event file")
    if p.suffix.lower() in SPREADSHEETS:
        return read_registrations_or_fail(p)
    try:
        return load_event(p)
    except InvalidInput as exc:
        raise fail_invalid(f"invalid event file {path}", exc) from None


def read_registrations_or_fail(path: Path, mapping=None, *, sheet: str | None = None, event_id: str | None = None,
                               event_name: str = ""):
    """A registration export (CSV or XLSX) as an event file; every bad row named in one ClickException."""
    from models import Event, EventFile
    from models.registrations import attendees_from_rows, read_table

    try:
        table = read_table(path, sheet=sheet, names=mapping.names() if mapping else ())
        attendees = attendees_from_rows(table, mapping)
    except InvalidInput as exc:
        raise fail_invalid(f"cannot import {path}", exc, limit=50) from None
    eid = event_id or re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-") or "event"
    try:
        return EventFile(event=Event(id=eid, name=event_name or path.stem), attendees=attendees)
    except ValidationError as exc:
        raise fail_invalid(f"cannot import {path}", from_pydantic(exc)) from None


def check_writable(path: str, option: str) -> None:
    """:class:`click.UsageError` unless ``path`` can be written as a file (its folder exists and is writable)."""
    p = Path(path)
    if p.is_dir():
        raise click.UsageError(f"{option} {path}: is a directory; give a file path")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise click.UsageError(f"{option} {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise click.UsageError(f"{option} {path}: not writable")


# --------------------------------------------------------------------------------------- cache and encoder
#: ``--encoder`` of the commands that encode texts.
ENCODER_HELP = ("model: all-MiniLM-L6-v2, English (default); multilingual: Universal Sentence Encoder "
                "Multilingual v3, 16 languages in one space (people writing German, Spanish, ... find English "
                "counterparts); hashing: the deterministic stand-in (tests).")


#: :data:`matcher.encoder.ENCODER_KINDS`, spelled out: importing ``matcher`` to build an option would cost every
#: command (a usage error included) the engine's imports (tests hold the two equal).
ENCODER_KINDS = ("model", "hashing", "multilingual")


def encoder_option(hidden: bool = False):
    """The ``--encoder`` option: one of :data:`ENCODER_KINDS`, default ``model``."""
    return click.option("--encoder", "encoder_name", type=click.Choice(ENCODER_KINDS), default="model",
                        show_default=True, hidden=hidden, help=ENCODER_HELP)


def cache_path() -> Path | None:
    """The on-disk embedding cache: ``$MATCHMAKER_CACHE_DIR/embeddings.npz`` (default ``~/.cache/matchmaker``);
    ``None`` when ``MATCHMAKER_NO_CACHE`` is set."""
    if os.environ.get("MATCHMAKER_NO_CACHE"):
        return None
    base = os.environ.get("MATCHMAKER_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "matchmaker")
    return Path(base) / "embeddings.npz"


def make_encoder(kind: str = "model", **options):
    """:func:`matcher.encoder.make_encoder`, imported on first use (tests swap in a stand-in here)."""
    from matcher.encoder import make_encoder as make

    return make(kind, **options)


def open_cache() -> tuple[EmbeddingCache, Callable[[], None]]:
    """The on-disk embedding cache, loaded, and a function that writes it back when it grew (a read-only home
    must not fail the command)."""
    from matcher.encoder import EmbeddingCache

    path = cache_path()
    cache = EmbeddingCache().load(path) if path else EmbeddingCache()
    before = len(cache)

    def save() -> None:
        if path and len(cache) != before:
            try:
                cache.save(path)
            except OSError:
                pass

    return cache, save


def encoder(kind: str = "model", model: str | None = None):
    """``(encoder, save_cache)``: the model through the on-disk cache, or (``"hashing"``) the stand-in, uncached."""
    if kind == "hashing":
        return make_encoder("hashing", dim=HASHING_DIM), lambda: None
    cache, save = open_cache()
    return make_encoder(kind, model=model, cache=cache), save


@contextlib.contextmanager
def encoder_errors() -> Iterator[None]:
    """Turn an :class:`~matcher.encoder.EncoderError` (a model that cannot load) into a ClickException."""
    from matcher.encoder import EncoderError

    try:
        yield
    except EncoderError as exc:
        raise click.ClickException(str(exc)) from None


def progress_bar(total: int, label: str):
    """The CLI's progress bar, on standard error (click's: a terminal sees it move; a pipe gets one line)."""
    return click.progressbar(length=total, label=label, file=sys.stderr)


#: Below this many texts to encode, or attendees to rank, no progress bar is shown.
PROGRESS_MIN = 1000


def precache(enc, attendees, *, chunk: int = 4096) -> None:
    """Encode into ``enc``'s cache every profile text of ``attendees`` it does not hold yet, with a progress bar
    when that is long work. The matcher built next finds every vector in the cache. On a cold cache the texts go
    to the model in the order and chunks the engine's own :meth:`~matcher.Matcher.upsert` uses, so the vectors
    (and every score) are the ones a run without the bar gets."""
    from matcher.profile import FACETS, facet_items

    cache = getattr(enc, "cache", None)
    if cache is None:
        return
    texts = list(dict.fromkeys(t for a in attendees for it in (facet_items(a),) for f in FACETS for t in it[f]))
    found = cache.get_many(enc.model_id, texts)
    missing = [t for t in texts if t not in found]
    if len(missing) < PROGRESS_MIN:
        return  # the matcher encodes them, quickly
    with progress_bar(len(missing), "Encoding profiles") as bar:
        for i in range(0, len(missing), chunk):
            part = missing[i:i + chunk]
            enc.encode(part)
            bar.update(len(part))


def build_matcher(event_file, model: str | None = None, progress: bool = True, kind: str = "model"):
    """A matcher over the event, with the on-disk embedding cache so repeated runs encode nothing new; with
    ``progress``, long encoding shows one progress bar (the CLI's; the engine prints nothing)."""
    from matcher import Matcher

    enc, save = encoder(kind, model)
    with encoder_errors():
        if progress:
            precache(enc, event_file.attendees)
        m = Matcher.from_event_file(event_file, enc, progress=False)
    save()
    return m
