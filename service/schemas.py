"""Request and response bodies of the API that are not domain models (those live in ``models/``).

The OpenAPI document is generated from these classes and the domain models (:mod:`service.openapi`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from models import Attendee, Feedback, Match, MatchPolicy
from models.eventfile import check_unique_ids
from models.tables import TablePlan


class EventUpdate(BaseModel):
    """A change to an event: any of its name and policy (the policy is replaced whole)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: StrictStr | None = Field(None, max_length=300)
    policy: MatchPolicy | None = None


class EventOut(BaseModel):
    """An event as the API returns it."""

    id: str
    name: str
    policy: MatchPolicy
    attendee_count: int
    version: int = Field(description="The event's change sequence: grows with every write to the event.")
    created_at: str
    updated_at: str


class EventList(BaseModel):
    events: list[EventOut]


class AttendeeBatch(BaseModel):
    """Attendees to insert or replace, by id (idempotent). Ids must be unique within the batch."""

    model_config = ConfigDict(extra="forbid")

    attendees: list[Attendee]

    @model_validator(mode="after")
    def _unique(self) -> AttendeeBatch:
        check_unique_ids(self.attendees)
        return self


class UpsertResult(BaseModel):
    upserted: int
    created: int
    updated: int
    version: int


class AttendeePatch(BaseModel):
    """Any subset of an attendee's fields except ``id``; lists and ``metadata`` are replaced whole."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    title: str | None = None
    company: str | None = None
    bio: str | None = None
    role: str | None = None
    interests: list[str] | None = None
    goals: list[str] | None = None
    offers: list[str] | None = None
    connections: list[str] | None = None
    blocked: list[str] | None = None
    opt_out: bool | None = None
    metadata: dict[str, Any] | None = None


class AttendeeList(BaseModel):
    """A page of an event's attendees, sorted by id: full profiles (the same documents the upsert takes), or ids
    with ``fields=id``."""

    attendees: list[Attendee] | list[str] = Field(description="Profiles (ids with fields=id), sorted by id.")
    total: int = Field(description="How many attendees match the filters (updated_since, since_version).")
    limit: int
    offset: int | None = Field(description="The offset asked for; null when paging by cursor.")
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")
    next: str | None = Field(description="The next page's URL (path and query); null on the last page.")
    version: int = Field(description="The event's version when the page was read: ?since_version= next time "
                                     "lists exactly what was written since.")
    as_of: str | None = Field(description="When an attendee of the event was last written, read before this page: "
                                          "?updated_since= next time lists what was written after it; null when "
                                          "the event has no attendees.")


class MatchesBatchRequest(BaseModel):
    """Lists for many attendees in one request (the engine's batch path: the same lists as one by one)."""

    model_config = ConfigDict(extra="forbid")

    attendees: list[StrictStr] = Field(min_length=1, max_length=1000,
                                       description="Attendee ids (at most 1000, no repeats).")
    limit: int | None = Field(None, ge=1, le=100, description="Matches per list (default: the policy's).")
    explain: bool = Field(True, description="false: leave out the item-level reasons (faster; components stay).")


class AttendeeMatches(BaseModel):
    attendee: str
    matches: list[Match]


class MatchesBatch(BaseModel):
    event: str
    limit: int
    lists: list[AttendeeMatches] = Field(description="One list per attendee asked for, in the order asked.")


class EventFeedbackList(BaseModel):
    """A page of an event's feedback, oldest first."""

    feedback: list[Feedback]
    total: int
    limit: int
    offset: int


class MatchList(BaseModel):
    """A page of the ranked, explained list of people ``attendee`` should meet."""

    event: str
    attendee: str
    limit: int
    offset: int
    matches: list[Match]


class FeedbackResult(BaseModel):
    recorded: bool = Field(description="False when the same feedback was already recorded.")
    feedback: Feedback


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    status: int
    code: str = Field(description="Stable machine-readable code, e.g. not_found, validation_error.")
    message: str
    details: list[ErrorDetail]


class ErrorBody(BaseModel):
    """The shape of every 4xx and 5xx answer."""

    error: ErrorInfo


class Health(BaseModel):
    status: str


class FeedbackList(BaseModel):
    feedback: list[Feedback]


class JobOut(BaseModel):
    """A background job: ``result`` holds the answer once ``done``; ``error`` the error once ``failed``."""

    id: str
    kind: Literal["table-plan", "attendee-upsert"]
    status: Literal["queued", "running", "done", "failed"]
    event: str
    created_at: str
    updated_at: str
    result: TablePlan | UpsertResult | None = None
    error: ErrorInfo | None = None
