"""A recommended match and the reasons behind it.

Plain dataclasses (lists of 100k x 20 matches are built in batch; validation would dominate). The service turns
them into JSON with :func:`dataclasses.asdict` and derives their OpenAPI schema with pydantic's ``TypeAdapter``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class ItemMatch:
    """One of A's items met by one of B's (e.g. A's goal by B's offer)."""

    mine: str
    theirs: str
    facet: str  # which of B's facets matched: offers, identity, goals or interests
    similarity: float


@dataclass(slots=True)
class Reasons:
    """Why B is in A's list, in data a UI can show."""

    summary: str = ""
    they_offer_what_you_seek: list[ItemMatch] = field(default_factory=list)
    you_offer_what_they_seek: list[ItemMatch] = field(default_factory=list)
    shared_interests: list[ItemMatch] = field(default_factory=list)
    shared_terms: list[str] = field(default_factory=list)
    mutual_connections: list[str] = field(default_factory=list)
    components: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class Match:
    """One entry of a ranked list: who, how good for both (0..1), and why."""

    id: str
    score: float
    reasons: Reasons

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
