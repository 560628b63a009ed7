"""``matchmaker generate``: write a seeded synthetic event (and its ground truth).

The generator is library code in :mod:`matcher.evaluation.datasets.synthetic`; its names stay importable from
here (``from scripts.synthetic import generate_event``).
"""

from __future__ import annotations

import click

from matcher.evaluation.datasets.synthetic import (  # noqa: F401 - re-exported for old import paths
    REGIONS,
    SAMPLE,
    Cluster,
    SyntheticEvent,
    event_json,
    event_json_chunks,
    generate_event,
    write_event,
    write_truth,
)
from scripts.common import check_writable


@click.command("generate")
@click.option("--attendees", "n", type=int, required=True, metavar="N", help="How many attendees (1 to 2,000,000).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: the same seed, the same event.")
@click.option("--out", "out", required=True, metavar="FILE.json", help="Where to write the event file.")
@click.option("--truth", "truth", default=None, metavar="FILE.jsonl",
              help='Also write the planted pairs, one {"a", "b", "kind": "relevant"} per line.')
@click.option("--name", default="", help="Event name (default: 'Synthetic Networking Event (seed S)').")
@click.option("--noise", type=float, default=0.1, show_default=True,
              help="Share of people without a counterpart, and of missing fields (0 to 1).")
def generate(n: int, seed: int, out: str, truth: str | None, name: str, noise: float) -> None:
    """Write a synthetic event with planted complementary pairs (founders and investors, hiring and job seekers,
    mentors and students, buyers and suppliers, research collaborators)."""
    if not 1 <= n <= 2_000_000:
        raise click.UsageError(f"--attendees must be between 1 and 2,000,000, got {n}")
    if not 0.0 <= noise <= 1.0:
        raise click.UsageError(f"--noise must be between 0 and 1, got {noise}")
    check_writable(out, "--out")
    if truth:
        check_writable(truth, "--truth")
    ev = generate_event(n, seed, name=name, noise=noise)
    try:
        write_event(ev.event_file, out)
        click.echo(f"Wrote {n} attendees to {out}")
        if truth:
            count = write_truth(ev, truth)
            click.echo(f"Wrote {count} truth pairs to {truth}")
    except OSError as exc:
        raise click.ClickException(f"could not write: {exc}") from None
