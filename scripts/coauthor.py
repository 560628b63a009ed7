"""Moved to :mod:`matcher.evaluation.datasets.coauthor` (library code); this path stays importable."""

from matcher.evaluation.datasets.coauthor import (  # noqa: F401 - re-exported for old import paths
    ATTENDEES,
    PAIR_KINDS,
    PAIRS,
    Author,
    CoauthorData,
    Paper,
    author_to_attendee,
    backtest,
    newest_year,
    read_coauthor_dir,
    to_event,
    write_coauthor_dir,
)
