"""Feedback from one attendee about another."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

FeedbackKind = Literal["accepted", "declined", "met", "hidden", "blocked"]
#: Kinds that remove the other person from later lists (``met`` only when the event disallows repeats).
EXCLUDING = frozenset({"declined", "hidden", "blocked"})


class Feedback(BaseModel):
    """``from_id`` says ``kind`` about ``to_id``."""

    model_config = ConfigDict(extra="forbid")

    from_id: StrictStr = Field(min_length=1, max_length=200)
    to_id: StrictStr = Field(min_length=1, max_length=200)
    kind: FeedbackKind
