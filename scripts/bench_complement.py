"""Counterparts, not look-alikes (issue 14's figures): on the sample event with the real model, per kind the mean
share of a person's top 10 who are counterparts; meeting counts of ``rotations --rounds 6``; the same-side share
of the pairs at ``tables --table-size 8`` (3 rounds, the CLI's default).

    python -m scripts.bench_complement                  # real model, the on-disk embedding cache
    python -m scripts.bench_complement --json out.json  # also write the figures
"""

from __future__ import annotations

import json
import os
import time

import click

from scripts.common import ENCODER_KINDS

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SAMPLE = os.path.join(os.path.dirname(__file__), "data", "sample_event.json")
PAIRS = ("founder-founder", "founder-investor", "investor-investor", "hiring-hiring", "hiring-job seeker",
         "buyer-buyer", "buyer-supplier", "mentee-mentor", "mentee-mentee")


def measure(event_path: str = SAMPLE, encoder_kind: str = "model", k: int = 10) -> dict:
    from matcher.evaluation import complement
    from matcher.tables import plan_event
    from models import TablePlanRequest, load_event
    from scripts.common import build_matcher

    ef = load_event(event_path)
    roles = {a.id: a.role for a in ef.attendees}
    m = build_matcher(ef, progress=False, kind=encoder_kind)
    t = time.perf_counter()
    lists = m.rank_all(k=k).lists()
    out: dict = {"rank_s": time.perf_counter() - t, "lists": complement.list_shares(lists, roles, k)}
    rot = plan_event(m, TablePlanRequest(rounds=6, table_size=2))
    pairs = [t.seats for r in rot.rounds for t in r.tables]
    counts = complement.meeting_counts(pairs, roles)
    out["rotations"] = {p: counts.get(p, 0) for p in PAIRS}
    plan = plan_event(m, TablePlanRequest(rounds=3, table_size=8))
    tables = [t.seats for r in plan.rounds for t in r.tables]
    out["tables_same_side"] = round(complement.same_side_share(tables, roles), 3)
    out["tables_round1_max_same"] = max(
        max(sum(complement.kind_of(roles[x]) == kd for x in t.seats) for kd in complement.KINDS)
        for t in plan.rounds[0].tables)
    return out


@click.command()
@click.option("--event", "event_path", default=SAMPLE, show_default=True, help="Event file.")
@click.option("--encoder", "encoder_kind", type=click.Choice(ENCODER_KINDS), default="model",
              show_default=True)
@click.option("--json", "json_path", default=None, help="Write the figures as JSON here.")
def main(event_path: str, encoder_kind: str, json_path: str | None) -> None:
    from matcher.evaluation.complement import COUNTERPART

    fig = measure(event_path, encoder_kind)
    click.echo(f"{'kind':<11} {'people':>6} {'counterpart':>11} {'same kind':>9}")
    for kind, row in fig["lists"].items():
        click.echo(f"{kind + ' ->':<11} {row['people']:>6} {row['counterpart']:>11.2f} {row['same']:>9.2f}"
                   f"   ({COUNTERPART[kind]})")
    click.echo("rotations --rounds 6: " + ", ".join(f"{p} {n}" for p, n in fig["rotations"].items()))
    click.echo(f"tables --table-size 8 (3 rounds): same-side share of pairs {fig['tables_same_side']:.3f}; "
               f"most of one kind at a round-1 table {fig['tables_round1_max_same']}")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(fig, f, indent=1)


if __name__ == "__main__":
    main()
