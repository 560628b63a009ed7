"""Counterparts, not look-alikes: how much of each list, rotation and table pairs people with their other side.

Kinds are groups of the sample event's role strings (an evaluation device: the engine never reads roles). A kind
and its counterpart: founder and investor, hiring and job seeker, mentee and mentor, buyer and supplier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: Role strings of each kind (lowercased).
KINDS: dict[str, tuple[str, ...]] = {
    "founder": ("founder", "co-founder"),
    "investor": ("investor", "venture capitalist"),
    "hiring": ("hiring manager", "recruiter"),
    "job seeker": ("job seeker", "engineer"),
    "mentor": ("mentor",),
    "mentee": ("mentee", "student"),
    "buyer": ("buyer",),
    "supplier": ("supplier",),
}
#: Each kind's counterpart (the side it should meet).
COUNTERPART = {"founder": "investor", "investor": "founder", "hiring": "job seeker", "job seeker": "hiring",
               "mentee": "mentor", "mentor": "mentee", "buyer": "supplier", "supplier": "buyer"}
#: The kinds reported (the issue's seven, and mentor -> mentee).
REPORTED = ("founder", "investor", "hiring", "job seeker", "buyer", "supplier", "mentee", "mentor")


def kind_of(role: str) -> str | None:
    """The kind of a role string, ``None`` for roles outside the groups.

    >>> kind_of("Venture Capitalist"), kind_of("researcher")
    ('investor', None)
    """
    r = role.strip().lower()
    for kind, roles in KINDS.items():
        if r in roles:
            return kind
    return None


def list_shares(lists: Mapping[str, Sequence[str]], roles: Mapping[str, str], k: int = 10) -> dict[str, dict]:
    """Per kind: the mean share of a person's top ``k`` who are counterparts (``counterpart``) and who are of
    the same kind (``same``), over the people of that kind with a non-empty list (``people``).

    >>> roles = {"f": "founder", "g": "founder", "i": "investor"}
    >>> list_shares({"f": ["i", "g"], "g": ["f"], "i": ["f"]}, roles)["founder"]
    {'people': 2, 'counterpart': 0.25, 'same': 0.75}
    """
    out: dict[str, dict] = {}
    for kind in REPORTED:
        cp, same, n = 0.0, 0.0, 0
        for aid, ranked in lists.items():
            if kind_of(roles.get(aid, "")) != kind or not ranked:
                continue
            top = list(ranked)[:k]
            kinds = [kind_of(roles.get(x, "")) for x in top]
            cp += sum(x == COUNTERPART[kind] for x in kinds) / len(top)
            same += sum(x == kind for x in kinds) / len(top)
            n += 1
        out[kind] = {"people": n, "counterpart": round(cp / n, 3) if n else 0.0,
                     "same": round(same / n, 3) if n else 0.0}
    return out


def meeting_counts(groups: Sequence[Sequence[str]], roles: Mapping[str, str]) -> dict[str, int]:
    """Pairs of kinds that share a group (a 1:1 meeting or a table), counted over every pair in every group:
    ``{"founder-investor": 36, "founder-founder": 99, ...}`` (kinds in alphabetical order)."""
    counts: dict[str, int] = {}
    for g in groups:
        kinds = [kind_of(roles.get(x, "")) for x in g]
        for i in range(len(kinds)):
            for j in range(i + 1, len(kinds)):
                a, b = kinds[i], kinds[j]
                if a is None or b is None:
                    continue
                key = "-".join(sorted((a, b)))
                counts[key] = counts.get(key, 0) + 1
    return counts


def same_side_share(groups: Sequence[Sequence[str]], roles: Mapping[str, str]) -> float:
    """Of the pairs at a table whose two people both have a kind that has a counterpart, the share that are of
    the same kind (founder with founder) rather than across (founder with investor) or unrelated."""
    same = total = 0
    for g in groups:
        kinds = [kind_of(roles.get(x, "")) for x in g]
        for i in range(len(kinds)):
            for j in range(i + 1, len(kinds)):
                if kinds[i] is None or kinds[j] is None:
                    continue
                total += 1
                same += kinds[i] == kinds[j]
    return same / total if total else 0.0
