"""``matchmaker schedule``: place accepted and must-meet pairs into slots and locations, write everyone's agenda.

    matchmaker schedule --event scripts/data/sample_event.json \\
        --slots scripts/data/sample_meeting_setup.json --requests scripts/data/sample_meeting_requests.json \\
        --out meetings-out

Writes under ``--out DIR``: ``schedule.json`` (meetings, what was left out and why, the report),
``agendas.json``/``agendas.csv``/``agendas.html`` (per attendee, printable), ``ics/<attendee>.ics`` (one calendar
per attendee), ``grid.csv``/``grid.html`` (the organizer's location x slot grid, printable) and ``stats.json``.
The event's matching rules (blocked pairs, same company, role rules) are never broken; when the setup asks to fill
free slots, the engine's pair scores choose who else meets, and its one-line reasons go into the agendas.
"""

from __future__ import annotations

from pathlib import Path

import click

from models import InvalidInput, load_meeting_requests, load_meeting_setup
from scripts.common import build_matcher, existing_file, fail_invalid, progress_bar, read_event_or_fail


def _read(loader, path: str, what: str):
    p = existing_file(path, f"{what} file")
    try:
        return loader(p)
    except InvalidInput as exc:
        raise fail_invalid(f"invalid {what} file {path}", exc) from None


def _reasons(m, pairs: set[tuple[str, str]], k: int) -> dict[tuple[str, str], str]:
    """The engine's one-line reason for each scheduled pair, from either side's list."""
    wanted: dict[str, set[str]] = {}
    for a, b in pairs:
        wanted.setdefault(a, set()).add(b)
        wanted.setdefault(b, set()).add(a)
    out: dict[tuple[str, str], str] = {}
    for a in sorted(wanted):
        for match in m.recommend(a, k=k):
            if match.id in wanted[a] and match.reasons.summary:
                out[a, match.id] = match.reasons.summary
    return out


@click.command()
@click.option("--event", "event_path", required=True, metavar="EVENT.json", help="Event file (attendees, policy).")
@click.option("--slots", "slots_path", required=True, metavar="SLOTS.json",
              help="Setup: time zone, slots or sessions, breaks, locations, availability, limits, quotas, fill.")
@click.option("--requests", "requests_path", required=True, metavar="REQ.json",
              help="Meeting requests (with their states) and must-meet pairs.")
@click.option("--out", required=True, metavar="DIR", help="Output directory (created).")
@click.option("--method", type=click.Choice(["auto", "heuristic", "cpsat"]), default="auto", show_default=True,
              help="auto: heuristic, then CP-SAT proves or improves it within --time-limit.")
@click.option("--time-limit", type=click.FloatRange(0.1, 3600), default=10.0, show_default=True,
              help="CP-SAT budget (deterministic seconds).")
@click.option("--seed", type=int, default=0, show_default=True, help="Same input and seed, same schedule.")
@click.option("--reschedule", is_flag=True, help="Move meetings already scheduled too (default: keep them).")
@click.option("--encoder", "encoder_name", type=click.Choice(["model", "hashing", "none"]), default="model",
              show_default=True, help="Engine for fill-ins and reasons; none: requests only, notes as reasons.")
@click.option("--model", default=None, help="sentence-transformers model name or path (default: bundled MiniLM).")
@click.option("--quiet", is_flag=True, help="No progress bar or summary.")
def schedule(event_path, slots_path, requests_path, out, method, time_limit, seed, reschedule, encoder_name, model,
             quiet) -> None:
    """Schedule meetings: every accepted and must-meet pair, then (if the setup asks) fill free slots."""
    from matcher.meetings import blocked_pairs_from_scores
    from matcher.meetings.outputs import write_outputs
    from matcher.meetings.schedule import schedule_meetings

    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise click.UsageError(f"--out {out} exists and is not a directory")
    ef = read_event_or_fail(event_path)
    setup = _read(load_meeting_setup, slots_path, "slots")
    requests = _read(load_meeting_requests, requests_path, "requests")
    if not ef.attendees:
        raise click.UsageError(f"event file {event_path} has no attendees")
    ids = [a.id for a in ef.attendees]
    roles = {a.id: a.role for a in ef.attendees}
    people = {a.id: {"name": a.name or a.id, "title": ", ".join(x for x in (a.title, a.company) if x)}
              for a in ef.attendees}
    policy = ef.event.policy
    m = None
    scores = None
    blocked: set[tuple[str, str]] = set()
    for a in ef.attendees:  # blocked lists and opt-outs hold without the engine too
        blocked.update((a.id, b) for b in a.blocked)
    if encoder_name != "none":
        m = build_matcher(ef, model, progress=not quiet and encoder_name == "model", kind=encoder_name)
        ps = m.pair_scores(ids)
        scores = ps.scores
        blocked |= blocked_pairs_from_scores(ps, allow_same_company=policy.allow_same_company,
                                             allow_repeat_meetings=policy.allow_repeat_meetings)
    else:
        for i, a in enumerate(ef.attendees):
            for b in ef.attendees[i + 1:]:
                if not policy.may_meet(a.role, b.role) and a.role and b.role:
                    blocked.add((a.id, b.id))
                if (not policy.allow_same_company and a.company and b.company
                        and a.company.strip().lower() == b.company.strip().lower()):
                    blocked.add((a.id, b.id))
    opted = {a.id for a in ef.attendees if a.opt_out}
    blocked |= {(a, b) for a in opted for b in ids if a != b}

    by_id = {a.id: a for a in ef.attendees}

    def why(a: str, b: str) -> str:
        pa, pb = by_id[a], by_id[b]
        if a in opted or b in opted:
            return "one of them opted out of matchmaking"
        if b in pa.blocked or a in pb.blocked:
            return "one of them blocked the other"
        if not policy.allow_same_company and pa.company and pa.company.strip().lower() == pb.company.strip().lower():
            return "same company (the event keeps colleagues apart)"
        if not policy.may_meet(pa.role, pb.role):
            return f"the event's role rules do not let a {pa.role} meet a {pb.role}"
        return "already connected (the event does not repeat meetings)"

    try:
        if quiet:
            sched = schedule_meetings(setup, requests, ids, event=ef.event.id, roles=roles, blocked=blocked,
                                      blocked_reason=why, scores=scores, keep=not reschedule, method=method,
                                      time_limit=time_limit, seed=seed)
        else:
            with progress_bar(100, "Scheduling") as bar:
                def progress(stage: str, done: int, total: int) -> None:
                    target = (60 * done // max(total, 1)) if stage == "greedy" else (60 + 40 * done // max(total, 1))
                    if target > bar.pos:
                        bar.update(target - bar.pos)

                sched = schedule_meetings(setup, requests, ids, event=ef.event.id, roles=roles, blocked=blocked,
                                          blocked_reason=why, scores=scores, keep=not reschedule, method=method,
                                          time_limit=time_limit, seed=seed, progress=progress)
                bar.update(100 - bar.pos)
    except InvalidInput as exc:
        raise fail_invalid("the requests do not fit the event", exc) from None
    reasons = None
    if m is not None and sched.meetings:
        reasons = _reasons(m, {(x.a, x.b) for x in sched.meetings}, k=min(len(ids) - 1, 100))
    write_outputs(out_dir, sched, setup, requests, everyone=ids, title=ef.event.name or ef.event.id,
                  people=people, reasons=reasons)
    if not quiet:
        r = sched.report
        click.echo(f"Scheduled {r.scheduled_requested} of {r.requested_pairs} requested meetings "
                   f"({r.scheduled_share:.0%}; at most {r.bound} can fit), {r.scheduled_must_meet} of "
                   f"{r.must_meet_pairs} must-meets, {r.scheduled_fill} filled in, in {r.seconds:.1f} s "
                   f"({r.method}{', optimal' if r.optimal else ''})")
        if r.quota_fill:
            click.echo(f"  sponsors at their minimum: {r.quota_minimum_met} of {len(r.quota_fill)} "
                       f"(quota fill {r.quota_share:.0%})")
        click.echo(f"  idle gaps: {r.idle_gaps} ({r.people_with_gaps} people); without a meeting: "
                   f"{r.people_without_meeting}; rule violations: {len(r.violations)}")
        for u in sched.unscheduled[:5]:
            click.echo(f"  not scheduled: {u.a} & {u.b}: {u.reason}")
        if len(sched.unscheduled) > 5:
            click.echo(f"  ... and {len(sched.unscheduled) - 5} more (schedule.json lists all)")
        click.echo(f"Wrote schedule.json, agendas.json/.csv/.html, ics/, grid.csv/.html and stats.json to {out_dir}")
