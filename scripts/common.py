"""What the commands share: reading an event file, turning a library error into a message, the on-disk
embedding cache and the encoder (chosen by :func:`matcher.encoder.make_encoder`, through the cache).

Every user mistake leaves here as :class:`click.UsageError` or :class:`click.ClickException`, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from matcher.encoder import EmbeddingCache, EncoderError, make_encoder
from models import InvalidInput, load_event

#: Dimensions of the hashing stand-in encoder the commands use (``--encoder hashing``).
HASHING_DIM = 64
#: How many field errors a message lists before "... and N more".
MAX_ERRORS = 20


def fail_invalid(what: str, exc: InvalidInput) -> click.ClickException:
    """A ClickException listing ``exc``'s field errors under ``what``.

    >>> print(fail_invalid("invalid event file e.json",
    ...                    InvalidInput([{"field": "attendees[0].id", "message": "required"}])).message)
    invalid event file e.json:
      attendees[0].id: required
    """
    lines = "\n".join(f"  {e['field'] or '(document)'}: {e['message']}" for e in exc.errors[:MAX_ERRORS])
    more = f"\n  ... and {len(exc.errors) - MAX_ERRORS} more" if len(exc.errors) > MAX_ERRORS else ""
    return click.ClickException(f"{what}:\n{lines}{more}")


def existing_file(path: str, what: str) -> Path:
    """``path`` as a Path; :class:`click.UsageError` when it is missing or a directory."""
    p = Path(path)
    if not p.exists():
        raise click.UsageError(f"{what} not found: {path}")
    if p.is_dir():
        raise click.UsageError(f"{what} is a directory: {path}")
    return p


def read_event_or_fail(path: str):
    """Load and validate an event file, turning every problem into a ClickException naming it."""
    p = existing_file(path, "event file")
    try:
        return load_event(p)
    except InvalidInput as exc:
        raise fail_invalid(f"invalid event file {path}", exc) from None


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
def cache_path() -> Path | None:
    """The on-disk embedding cache: ``$MATCHMAKER_CACHE_DIR/embeddings.npz`` (default ``~/.cache/matchmaker``);
    ``None`` when ``MATCHMAKER_NO_CACHE`` is set."""
    if os.environ.get("MATCHMAKER_NO_CACHE"):
        return None
    base = os.environ.get("MATCHMAKER_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "matchmaker")
    return Path(base) / "embeddings.npz"


def open_cache() -> tuple[EmbeddingCache, Callable[[], None]]:
    """The on-disk embedding cache, loaded, and a function that writes it back when it grew (a read-only home
    must not fail the command)."""
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
    try:
        yield
    except EncoderError as exc:
        raise click.ClickException(str(exc)) from None


def build_matcher(event_file, model: str | None = None, progress: bool = True, kind: str = "model"):
    """A matcher over the event, with the on-disk embedding cache so repeated runs encode nothing new."""
    from matcher import Matcher

    enc, save = encoder(kind, model)
    with encoder_errors():
        m = Matcher.from_event_file(event_file, enc, progress=progress)
    save()
    return m
