"""The attendee: who they are, what they look for, what they offer, whom they know."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationInfo, field_validator

from models.ids import id_problem, is_stored, json_problem

MAX_ITEMS = 50
MAX_ITEM_CHARS = 500
MAX_BIO_CHARS = 5000


def _clean_items(values: list[str], field: str) -> list[str]:
    """Strip items, drop empties and exact duplicates (keeping order), bound sizes."""
    out: list[str] = []
    seen: set[str] = set()
    for v in values:
        v = " ".join(v.split())
        if not v or v in seen:
            continue
        if field not in {"connections", "blocked"} and len(v) > MAX_ITEM_CHARS:
            raise ValueError(f"item {v[:30]!r}... is {len(v)} characters; at most {MAX_ITEM_CHARS}")
        seen.add(v)
        out.append(v)
    return out


class Attendee(BaseModel):
    """One attendee of one event.

    >>> a = Attendee(id="u1", name="Ada", goals=["seed funding"], offers=["B2B SaaS growth advice"])
    >>> a.goals
    ['seed funding']
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: StrictStr = Field(min_length=1, max_length=200, description="Unique within the event.")
    name: StrictStr = Field("", max_length=200)
    title: StrictStr = Field("", max_length=300)
    company: StrictStr = Field("", max_length=300)
    bio: StrictStr = Field("", max_length=MAX_BIO_CHARS)
    role: StrictStr = Field("", max_length=100, description="Free text, e.g. founder, investor, recruiter.")
    interests: list[StrictStr] = Field(default_factory=list, max_length=MAX_ITEMS)
    goals: list[StrictStr] = Field(default_factory=list, max_length=MAX_ITEMS,
                                   description="What they are looking for, one item per entry.")
    offers: list[StrictStr] = Field(default_factory=list, max_length=MAX_ITEMS,
                                    description="What they can help with, one item per entry.")
    connections: list[StrictStr] = Field(default_factory=list, max_length=10_000,
                                         description="Ids of attendees they already know.")
    blocked: list[StrictStr] = Field(default_factory=list, max_length=10_000,
                                     description="Ids they never want to see.")
    opt_out: StrictBool = False
    metadata: dict[str, Any] = Field(default_factory=dict,
                                     description="Free-form data kept as given (never used for matching).")

    @field_validator("interests", "goals", "offers", "connections", "blocked")
    @classmethod
    def _items(cls, v: list[str], info) -> list[str]:
        return _clean_items(v, info.field_name)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str, info: ValidationInfo) -> str:
        if any(c.isspace() for c in v) or "/" in v:
            raise ValueError(f"id {v!r} must not contain whitespace or '/'")
        if not is_stored(info) and (problem := id_problem(v)) is not None:
            raise ValueError(f"id {v!r} {problem}")
        return v

    @field_validator("connections", "blocked", mode="after")
    @classmethod
    def _ids(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if not is_stored(info):
            for i, x in enumerate(v):
                if (problem := id_problem(x)) is not None:
                    raise ValueError(f"[{i}]: id {x!r} {problem}")
        return v

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if not is_stored(info) and (problem := json_problem(v)) is not None:
            raise ValueError(problem)
        return v
