"""Checks of the lists themselves, from the attendee data (not from the engine): hard-rule violations and
the same-company rate."""

from __future__ import annotations

from models import EventFile


def rule_violations(lists: dict[str, list[str]], event_file: EventFile) -> int:
    """List entries that break a hard rule, checked from the attendee data itself: self, unknown id, blocked
    either way, already connected, opted out (either side), same company (unless allowed), role rules.

    >>> from models import Attendee, Event
    >>> ef = EventFile(event=Event(id="e"), attendees=[Attendee(id="a", company="X"), Attendee(id="b", company="x")])
    >>> rule_violations({"a": ["b", "a"]}, ef)
    2
    """
    people = {a.id: a for a in event_file.attendees}
    policy = event_file.event.policy
    links: dict[str, set[str]] = {a.id: set(a.connections) for a in event_file.attendees}
    for a in event_file.attendees:
        for other in a.connections:
            links.setdefault(other, set()).add(a.id)
    bad = 0
    for aid, ids in lists.items():
        a = people.get(aid)
        for bid in ids:
            b = people.get(bid)
            if a is None or b is None or aid == bid or a.opt_out or b.opt_out:
                bad += 1
            elif bid in a.blocked or aid in b.blocked or bid in links.get(aid, ()):
                bad += 1
            elif (not policy.allow_same_company and a.company.strip()
                  and " ".join(a.company.lower().split()) == " ".join(b.company.lower().split())):
                bad += 1
            elif not policy.may_meet(a.role, b.role):
                bad += 1
    return bad


def same_company_rate(lists: dict[str, list[str]], event_file: EventFile) -> float:
    """Share of list entries where both people name the same (non-empty) company."""
    company = {a.id: " ".join(a.company.lower().split()) for a in event_file.attendees}
    total = same = 0
    for aid, ids in lists.items():
        for bid in ids:
            total += 1
            same += bool(company.get(aid)) and company.get(aid) == company.get(bid)
    return same / total if total else 0.0

