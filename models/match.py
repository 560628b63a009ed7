"""A recommended match and the reasons behind it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ItemMatch(BaseModel):
    """One of A's items met by one of B's (e.g. A's goal by B's offer)."""

    mine: str
    theirs: str
    facet: str = Field(description="Which of B's facets matched: offers, identity, goals or interests.")
    similarity: float


class Reasons(BaseModel):
    """Why B is in A's list, in data a UI can show."""

    summary: str = ""
    they_offer_what_you_seek: list[ItemMatch] = Field(default_factory=list)
    you_offer_what_they_seek: list[ItemMatch] = Field(default_factory=list)
    shared_interests: list[ItemMatch] = Field(default_factory=list)
    shared_terms: list[str] = Field(default_factory=list)
    mutual_connections: list[str] = Field(default_factory=list)
    components: dict[str, float] = Field(default_factory=dict)


class Match(BaseModel):
    """One entry of a ranked list."""

    id: str
    score: float
    reasons: Reasons
