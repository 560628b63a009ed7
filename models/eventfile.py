"""An event file: ``{"event": {...}, "attendees": [...]}``; the API takes the same shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.attendee import Attendee
from models.errors import InvalidInput, from_pydantic
from models.event import Event


def check_unique_ids(attendees: list[Attendee]) -> None:
    """Raise ``ValueError`` naming the first repeated id and where it first stood.

    >>> check_unique_ids([Attendee(id="a"), Attendee(id="b"), Attendee(id="a")])
    Traceback (most recent call last):
    ...
    ValueError: attendees[2].id: duplicate id 'a' (first at attendees[0])
    """
    seen: dict[str, int] = {}
    for i, a in enumerate(attendees):
        if a.id in seen:
            raise ValueError(f"attendees[{i}].id: duplicate id {a.id!r} (first at attendees[{seen[a.id]}])")
        seen[a.id] = i


class EventFile(BaseModel):
    """An event with its attendees. Attendee ids must be unique."""

    model_config = ConfigDict(extra="forbid")

    event: Event
    attendees: list[Attendee] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> EventFile:
        check_unique_ids(self.attendees)
        return self

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def parse_event(data: Any) -> EventFile:
    """Validate an already-decoded event document; raises :class:`InvalidInput` naming each bad field.

    >>> parse_event({"event": {"id": "e1"}, "attendees": [{"id": "a", "goals": "x"}]})
    Traceback (most recent call last):
    ...
    models.errors.InvalidInput: attendees[0].goals: expected a list of strings, got str 'x'
    """
    if not isinstance(data, dict):
        raise InvalidInput([{"field": "", "message": f"expected a JSON object with 'event' and 'attendees', "
                                                      f"got {type(data).__name__}"}])
    try:
        return EventFile.model_validate(data)
    except ValidationError as exc:
        raise from_pydantic(exc) from None


def load_event(path: str | Path) -> EventFile:
    """Read and validate an event file. Raises ``FileNotFoundError`` or :class:`InvalidInput`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput([{"field": "", "message": f"{p}: not UTF-8 text ({exc.reason})"}]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput([{"field": "", "message": f"{p}: not valid JSON: {exc.msg} at line {exc.lineno} "
                                                      f"column {exc.colno}"}]) from None
    return parse_event(data)
