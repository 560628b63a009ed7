"""Attendee -> facet items: the short texts that get encoded, one vector each.

Facets: ``goals`` (what they look for), ``offers`` (what they can help with), ``identity`` (who they are: role,
title, company, bio; what another person's goals often name) and ``interests``.
"""

from __future__ import annotations

from models import Attendee

FACETS = ("goals", "offers", "identity", "interests")
#: What a goal is matched against: what the other person offers, and who they are.
GIVE_FACETS = ("offers", "identity")


def identity_items(a: Attendee) -> list[str]:
    """``["founder: CEO at PayFlow", "Building a payments API ..."]`` (empty parts left out).

    >>> identity_items(Attendee(id="x", role="founder", title="CEO", company="PayFlow", bio="Payments API."))
    ['founder: CEO at PayFlow', 'Payments API.']
    """
    head = a.title
    if a.company:
        head = f"{head} at {a.company}" if head else a.company
    if a.role:
        head = f"{a.role}: {head}" if head else a.role
    return [t for t in (head, a.bio) if t]


def facet_items(a: Attendee) -> dict[str, list[str]]:
    """Every facet's items for one attendee.

    Someone who wrote only a bio (no goals, offers or interests) has it stand for what they seek and what they
    are interested in too: a bio says both ("Kotlin engineer, open to new opportunities"), and without it they
    would meet others' goals one way only, at half weight, with no interests, and sink in every list.

    >>> facet_items(Attendee(id="x", bio="Kotlin engineer, open to new roles."))["goals"]
    ['Kotlin engineer, open to new roles.']
    """
    if a.bio and not (a.goals or a.offers or a.interests):
        return {"goals": [a.bio], "offers": [], "identity": identity_items(a), "interests": [a.bio]}
    return {"goals": list(a.goals), "offers": list(a.offers), "identity": identity_items(a),
            "interests": list(a.interests)}


def lexical_docs(a: Attendee) -> dict[str, str]:
    """Texts for the TF-IDF channel: what they seek, what they give (offers and identity), their topics."""
    return {
        "seek": " ; ".join(a.goals),
        "give": " ; ".join([*a.offers, *identity_items(a)]),
        "topic": " ; ".join([*a.interests, a.bio]),
    }
