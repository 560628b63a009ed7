"""Meetings: slots, locations, availability, limits, quotas, requests and their states.

Two documents a person writes: the *setup* (``SLOTS.json``: time zone, slots or sessions, breaks, locations,
availability, limits, quotas, whether to fill free slots) and the *requests* (``REQ.json``: meeting requests and
organizer must-meet pairs). Times without an offset are read in the event's time zone; every time is kept aware.

>>> setup = parse_meeting_setup({"timezone": "Europe/Berlin",
...     "sessions": [{"date": "2026-06-03", "start": "09:00", "end": "10:00", "minutes": 20}],
...     "locations": [{"id": "T1"}]})
>>> [s.id for s in setup.slots]
['2026-06-03T09:00', '2026-06-03T09:20', '2026-06-03T09:40']
>>> setup.slots[0].start.isoformat()
'2026-06-03T09:00:00+02:00'
>>> check_transition(MeetingRequest(id="r1", requester="a", recipient="b"), "accepted", actor="a")
Traceback (most recent call last):
...
models.meetings.IllegalTransition: only the recipient 'b' can accept request 'r1' (you are 'a')
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from models.errors import InvalidInput, MatchmakerError, from_pydantic

MeetingState = Literal["requested", "accepted", "declined", "cancelled", "expired", "scheduled", "held", "no_show"]
STATES: tuple[str, ...] = ("requested", "accepted", "declined", "cancelled", "expired", "scheduled", "held",
                           "no_show")
#: states in which the pair counts as "wants to meet" (the scheduler places these)
OPEN_STATES = frozenset({"accepted", "scheduled"})
#: states after which nothing more happens
FINAL_STATES = frozenset({"declined", "cancelled", "expired", "held", "no_show"})

#: Who may move a request from one state to another. "requester", "recipient", "party" (either of the two),
#: "organizer" and "system" (the scheduler, the expiry clock). The organizer may do anything a party may do.
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    "requested": {"accepted": frozenset({"recipient"}), "declined": frozenset({"recipient"}),
                  "cancelled": frozenset({"party"}), "expired": frozenset({"system"})},
    "accepted": {"scheduled": frozenset({"system", "organizer"}), "cancelled": frozenset({"party"})},
    "scheduled": {"held": frozenset({"party"}), "no_show": frozenset({"party"}),
                  "cancelled": frozenset({"party"}), "accepted": frozenset({"system", "organizer"})},
}
_VERB = {"accepted": "accept", "declined": "decline", "cancelled": "cancel", "expired": "expire",
         "scheduled": "schedule", "held": "mark as held", "no_show": "mark as a no-show"}
_FINAL_WHY = {"declined": "a declined request is final (a decline is a no for both; neither may ask again)",
              "cancelled": "a cancelled request is final; send a new request",
              "expired": "an expired request is final; send a new request",
              "held": "the meeting was held", "no_show": "the meeting was marked as a no-show"}


class MeetingsError(MatchmakerError):
    """Base of the meeting errors."""


class IllegalTransition(MeetingsError, ValueError):
    """A state change the transition table does not allow; the message says why."""


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'") from None


def _local(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


class Slot(BaseModel):
    """One meeting slot. ``id`` defaults to the local start, e.g. ``2026-06-03T09:00``."""

    model_config = ConfigDict(extra="forbid")

    id: StrictStr | None = Field(None, min_length=1, max_length=100)
    start: dt.datetime
    end: dt.datetime

    @model_validator(mode="after")
    def _order(self) -> Slot:
        if self.end <= self.start:
            raise ValueError(f"slot {self.id or self.start.isoformat()}: end {self.end.isoformat()} is not after "
                             f"start {self.start.isoformat()}")
        return self

    @property
    def day(self) -> dt.date:
        return self.start.date()


class Session(BaseModel):
    """A block of equal slots on one day: ``{"date": "2026-06-03", "start": "09:00", "end": "12:00",
    "minutes": 15}`` gives 12 slots (a last slot that would run past ``end`` is dropped)."""

    model_config = ConfigDict(extra="forbid")

    date: dt.date
    start: dt.time
    end: dt.time
    minutes: StrictInt = Field(ge=5, le=240)
    gap_minutes: StrictInt = Field(0, ge=0, le=120, description="Changeover time between two slots.")

    @model_validator(mode="after")
    def _order(self) -> Session:
        if self.end <= self.start:
            raise ValueError(f"session on {self.date}: end {self.end} is not after start {self.start}")
        return self


class Break(BaseModel):
    """A time with no meetings (lunch, a keynote): slots that overlap it are removed."""

    model_config = ConfigDict(extra="forbid")

    start: dt.datetime
    end: dt.datetime
    name: StrictStr = ""

    @model_validator(mode="after")
    def _order(self) -> Break:
        if self.end <= self.start:
            raise ValueError(f"break {self.name or self.start.isoformat()}: end is not after start")
        return self


class Location(BaseModel):
    """A numbered table, booth or room; ``capacity`` meetings at once; open in ``slots`` (default: all)."""

    model_config = ConfigDict(extra="forbid")

    id: StrictStr = Field(min_length=1, max_length=100)
    name: StrictStr = ""
    kind: Literal["table", "booth", "room"] = "table"
    capacity: StrictInt = Field(1, ge=1, le=1000, description="Meetings it holds at the same time.")
    slots: list[StrictStr] | None = Field(None, description="Slot ids it is open in; omitted: every slot.")

    @property
    def label(self) -> str:
        return self.name or f"{self.kind.capitalize()} {self.id}"


class Availability(BaseModel):
    """The slots one attendee can meet in: ``slots`` (only these) and/or ``unavailable`` (all but these)."""

    model_config = ConfigDict(extra="forbid")

    slots: list[StrictStr] | None = None
    unavailable: list[StrictStr] = Field(default_factory=list)


class Limits(BaseModel):
    """Caps for one attendee or role; ``None``: no cap."""

    model_config = ConfigDict(extra="forbid")

    max_per_day: StrictInt | None = Field(None, ge=0, le=1000, description="Most meetings in one day.")
    max_pending_outgoing: StrictInt | None = Field(
        None, ge=0, le=10_000, description="Most requests one may have waiting for an answer (congestion control).")


class LimitRules(BaseModel):
    """Limits by default, by role (case-insensitive) and by attendee; the most specific non-empty value wins."""

    model_config = ConfigDict(extra="forbid")

    default: Limits = Field(default_factory=Limits)
    roles: dict[str, Limits] = Field(default_factory=dict)
    attendees: dict[str, Limits] = Field(default_factory=dict)

    @field_validator("roles")
    @classmethod
    def _roles(cls, v: dict[str, Limits]) -> dict[str, Limits]:
        return {k.strip().lower(): lim for k, lim in v.items()}

    def for_attendee(self, attendee_id: str, role: str = "") -> Limits:
        """The limits that apply to one attendee.

        >>> r = LimitRules(default=Limits(max_per_day=8), roles={"Investor": Limits(max_per_day=12)})
        >>> r.for_attendee("x", "investor").max_per_day, r.for_attendee("y", "founder").max_per_day
        (12, 8)
        """
        out: dict[str, int | None] = {}
        for layer in (self.default, self.roles.get(role.strip().lower()), self.attendees.get(attendee_id)):
            if layer is not None:
                out.update({k: v for k, v in layer.model_dump().items() if v is not None})
        return Limits(**out)


class Quota(BaseModel):
    """Meetings sold to a sponsor: ``minimum`` is guaranteed (filled first), ``target`` is aimed for."""

    model_config = ConfigDict(extra="forbid")

    attendee: StrictStr = Field(min_length=1)
    minimum: StrictInt = Field(0, ge=0, le=1000)
    target: StrictInt | None = Field(None, ge=0, le=1000)

    @model_validator(mode="after")
    def _order(self) -> Quota:
        if self.target is not None and self.target < self.minimum:
            raise ValueError(f"quota of {self.attendee!r}: target {self.target} is below minimum {self.minimum}")
        if self.minimum == 0 and not self.target:
            raise ValueError(f"quota of {self.attendee!r}: give a minimum or a target above 0")
        return self

    @property
    def goal(self) -> int:
        return self.target if self.target is not None else self.minimum


class FillOptions(BaseModel):
    """Fill free slots with the best mutual matches (the engine's pair scores) after the requested meetings."""

    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool = False
    per_person: StrictInt = Field(3, ge=0, le=100, description="Most filled-in meetings per attendee.")
    min_score: float = Field(0.0, ge=0, le=1, description="Only pairs scoring at least this.")
    candidates: StrictInt = Field(10, ge=1, le=200, description="Best partners considered per attendee.")


class MeetingSetup(BaseModel):
    """The scheduling set-up of one event (the ``--slots`` file)."""

    model_config = ConfigDict(extra="forbid")

    timezone: StrictStr = "UTC"
    slots: list[Slot] = Field(default_factory=list)
    sessions: list[Session] = Field(default_factory=list, description="Blocks expanded into equal slots.")
    breaks: list[Break] = Field(default_factory=list)
    locations: list[Location] = Field(min_length=1)
    availability: dict[str, Availability] = Field(default_factory=dict)
    limits: LimitRules = Field(default_factory=LimitRules)
    quotas: list[Quota] = Field(default_factory=list)
    fill: FillOptions = Field(default_factory=FillOptions)
    request_ttl_hours: float | None = Field(None, gt=0, le=24 * 365,
                                            description="Pending requests expire this long after they are sent.")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        _zone(v)
        return v

    @model_validator(mode="after")
    def _build(self) -> MeetingSetup:
        zone = _zone(self.timezone)
        slots: list[Slot] = []
        for s in self.slots:
            slots.append(Slot(id=s.id, start=_local(s.start, zone), end=_local(s.end, zone)))
        for ses in self.sessions:
            t = dt.datetime.combine(ses.date, ses.start, zone)
            stop = dt.datetime.combine(ses.date, ses.end, zone)
            step, gap = dt.timedelta(minutes=ses.minutes), dt.timedelta(minutes=ses.gap_minutes)
            while t + step <= stop:
                slots.append(Slot(start=t, end=t + step))
                t = t + step + gap
        breaks = [(_local(b.start, zone), _local(b.end, zone)) for b in self.breaks]
        slots = [s for s in slots if not any(s.start < be and bs < s.end for bs, be in breaks)]
        if not slots:
            raise ValueError("no meeting slots: give slots or sessions (breaks removed every slot)"
                             if (self.slots or self.sessions) else "no meeting slots: give slots or sessions")
        slots.sort(key=lambda s: s.start)
        for s in slots:
            if s.id is None:
                s.id = s.start.strftime("%Y-%m-%dT%H:%M")
        for a, b in zip(slots, slots[1:], strict=False):
            if b.start < a.end:
                raise ValueError(f"slots {a.id} and {b.id} overlap ({a.start.isoformat()}-{a.end.isoformat()} "
                                 f"and {b.start.isoformat()}-{b.end.isoformat()})")
        seen: set[str] = set()
        for s in slots:
            if s.id in seen:
                raise ValueError(f"slot id {s.id!r} is used twice")
            seen.add(s.id)
        self.slots, self.sessions = slots, []
        self.breaks = [Break(start=bs, end=be, name=b.name) for (bs, be), b in zip(breaks, self.breaks, strict=True)]
        locs: set[str] = set()
        for loc in self.locations:
            if loc.id in locs:
                raise ValueError(f"location id {loc.id!r} is used twice")
            locs.add(loc.id)
            unknown = [x for x in loc.slots or () if x not in seen]
            if unknown:
                raise ValueError(f"location {loc.id!r} is open in unknown slot {unknown[0]!r}")
        for aid, av in self.availability.items():
            unknown = [x for x in (av.slots or []) + av.unavailable if x not in seen]
            if unknown:
                raise ValueError(f"availability of {aid!r} names unknown slot {unknown[0]!r}")
        quota_of: set[str] = set()
        for q in self.quotas:
            if q.attendee in quota_of:
                raise ValueError(f"attendee {q.attendee!r} has two quotas; merge them")
            quota_of.add(q.attendee)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def available_slots(self, attendee_id: str) -> list[str]:
        """The slot ids one attendee can meet in (default: every slot)."""
        av = self.availability.get(attendee_id)
        ids = [s.id for s in self.slots]
        if av is None:
            return ids
        allowed = set(ids if av.slots is None else av.slots) - set(av.unavailable)
        return [s for s in ids if s in allowed]


class MeetingRequest(BaseModel):
    """A asks B. ``slot``/``location`` are set once scheduled."""

    model_config = ConfigDict(extra="forbid")

    id: StrictStr = Field(min_length=1, max_length=200)
    requester: StrictStr = Field(min_length=1)
    recipient: StrictStr = Field(min_length=1)
    note: StrictStr = Field("", max_length=2000)
    state: MeetingState = "requested"
    created_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    slot: StrictStr | None = None
    location: StrictStr | None = None

    @model_validator(mode="after")
    def _pair(self) -> MeetingRequest:
        if self.requester == self.recipient:
            raise ValueError(f"request {self.id!r}: {self.requester!r} cannot request a meeting with themself")
        if (self.slot is None) != (self.location is None):
            raise ValueError(f"request {self.id!r}: give both slot and location, or neither")
        if self.slot is not None and self.state not in {"scheduled", "held", "no_show"}:
            raise ValueError(f"request {self.id!r}: only a scheduled, held or no-show meeting has a slot "
                             f"(state is {self.state!r})")
        return self


class MustMeet(BaseModel):
    """An organizer's pair that must be scheduled (a sponsor and a buyer, a mentor and a mentee)."""

    model_config = ConfigDict(extra="forbid")

    a: StrictStr = Field(min_length=1)
    b: StrictStr = Field(min_length=1)
    note: StrictStr = ""

    @model_validator(mode="after")
    def _pair(self) -> MustMeet:
        if self.a == self.b:
            raise ValueError(f"must-meet pair needs two different people, got {self.a!r} twice")
        return self


class MeetingRequests(BaseModel):
    """Requests and must-meet pairs (the ``--requests`` file). Request ids are unique."""

    model_config = ConfigDict(extra="forbid")

    requests: list[MeetingRequest] = Field(default_factory=list)
    must_meet: list[MustMeet] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> MeetingRequests:
        seen: dict[str, int] = {}
        for i, r in enumerate(self.requests):
            if r.id in seen:
                raise ValueError(f"requests[{i}].id: duplicate id {r.id!r} (first at requests[{seen[r.id]}])")
            seen[r.id] = i
        return self


def role_of(request: MeetingRequest, actor: str) -> str | None:
    """``"requester"``, ``"recipient"`` or ``None`` (not a party)."""
    if actor == request.requester:
        return "requester"
    if actor == request.recipient:
        return "recipient"
    return None


def check_transition(request: MeetingRequest, to: str, actor: str | None = None, *,
                     organizer: bool = False, system: bool = False) -> None:
    """Raise :class:`IllegalTransition` naming why ``actor`` may not move ``request`` to state ``to``.

    ``actor`` is an attendee id; ``organizer``/``system`` act for the event (the organizer may also do what a
    party may do).

    >>> r = MeetingRequest(id="r1", requester="a", recipient="b", state="declined")
    >>> check_transition(r, "accepted", actor="b")
    Traceback (most recent call last):
    ...
    models.meetings.IllegalTransition: request 'r1' is declined: a declined request is final (a decline is a no for both; neither may ask again)
    >>> check_transition(MeetingRequest(id="r2", requester="a", recipient="b"), "accepted", actor="b")
    """
    if to not in STATES:
        raise IllegalTransition(f"unknown state {to!r}; states are {', '.join(STATES)}")
    state = request.state
    if state in FINAL_STATES:
        raise IllegalTransition(f"request {request.id!r} is {state}: {_FINAL_WHY[state]}")
    allowed = TRANSITIONS.get(state, {})
    if to not in allowed:
        nxt = ", ".join(sorted(allowed)) or "none"
        raise IllegalTransition(f"request {request.id!r} is {state}; it cannot become {to} (next states: {nxt})")
    who = allowed[to]
    if system and "system" in who:
        return
    if organizer and (who & {"organizer", "party", "recipient", "requester"}):
        return
    role = role_of(request, actor) if actor is not None else None
    if role is None:
        if who <= {"system"}:
            raise IllegalTransition(f"request {request.id!r}: only the event can {_VERB[to]} a request")
        if actor is None:
            raise IllegalTransition(f"request {request.id!r}: say who is acting")
        raise IllegalTransition(f"{actor!r} is not a party to request {request.id!r} "
                                f"({request.requester!r} -> {request.recipient!r})")
    if "party" in who or role in who:
        return
    if "recipient" in who:
        raise IllegalTransition(f"only the recipient {request.recipient!r} can {_VERB[to]} request "
                                f"{request.id!r} (you are {actor!r})")
    raise IllegalTransition(f"request {request.id!r}: only the event can {_VERB[to]} it (it is {state})")


def _validate(model: type[BaseModel], data: Any, what: str):
    if not isinstance(data, dict):
        raise InvalidInput([{"field": "", "message": f"expected a JSON object ({what}), got {type(data).__name__}"}])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_pydantic(exc) from None


def parse_meeting_setup(data: Any) -> MeetingSetup:
    """Validate a decoded setup document; raises :class:`InvalidInput` naming each bad field.

    >>> parse_meeting_setup({"timezone": "Mars/Olympus", "locations": [{"id": "T1"}]})
    Traceback (most recent call last):
    ...
    models.errors.InvalidInput: timezone: unknown time zone 'Mars/Olympus'; use an IANA name such as 'Europe/Berlin' or 'UTC'
    """
    return _validate(MeetingSetup, data, "the meeting setup")


def parse_meeting_requests(data: Any) -> MeetingRequests:
    """Validate a decoded requests document; raises :class:`InvalidInput`."""
    return _validate(MeetingRequests, data, "requests and must_meet")


def _read_json(path: str | Path) -> Any:
    p = Path(path)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInput([{"field": "", "message": f"{p}: not UTF-8 text ({exc.reason})"}]) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput([{"field": "", "message": f"{p}: not valid JSON: {exc.msg} at line {exc.lineno} "
                                                      f"column {exc.colno}"}]) from None


def load_meeting_setup(path: str | Path) -> MeetingSetup:
    """Read and validate a setup file. Raises ``FileNotFoundError`` or :class:`InvalidInput`."""
    return parse_meeting_setup(_read_json(path))


def load_meeting_requests(path: str | Path) -> MeetingRequests:
    """Read and validate a requests file. Raises ``FileNotFoundError`` or :class:`InvalidInput`."""
    return parse_meeting_requests(_read_json(path))


class Meeting(BaseModel):
    """One scheduled meeting: two people, a slot, a location, why it is there (``kind``)."""

    a: str
    b: str
    slot: str
    location: str
    kind: Literal["must_meet", "accepted", "fill"] = "accepted"
    request: str | None = None
    kept: bool = Field(False, description="Already scheduled before this run and left in place.")


class Unscheduled(BaseModel):
    """A pair the run could not place, and why."""

    a: str
    b: str
    kind: Literal["must_meet", "accepted"]
    request: str | None = None
    reason: str


class QuotaFill(BaseModel):
    attendee: str
    minimum: int
    target: int
    scheduled: int


class ScheduleReport(BaseModel):
    """How good the schedule is: requested pairs placed against the most any schedule can place, sponsors' quota
    fill, idle gaps, the objective against CP-SAT's bound, and any broken rule (``violations``: always empty
    unless there is a bug; the checks run independently of the solver)."""

    attendees: int
    slots: int
    locations: int
    requested_pairs: int
    must_meet_pairs: int
    scheduled_requested: int
    scheduled_must_meet: int
    scheduled_fill: int
    scheduled_share: float
    bound: int = Field(description="Most requested meetings any schedule can place (a counting/flow bound).")
    objective: int = Field(description="Weighted objective (must-meets, quotas, accepted, fill-ins, gaps).")
    objective_bound: int | None = Field(None, description="CP-SAT's proven upper bound on the objective.")
    optimal: bool = Field(description="The objective is proven optimal.")
    quota_fill: list[QuotaFill] = Field(default_factory=list)
    quota_minimum_met: int = 0
    quota_share: float = 1.0
    idle_gaps: int
    people_with_gaps: int
    people_without_meeting: int
    violations: list[str] = Field(default_factory=list)
    method: str
    seconds: float
    seed: int


class Schedule(BaseModel):
    """The result of a scheduling run."""

    event: str
    timezone: str
    meetings: list[Meeting]
    unscheduled: list[Unscheduled] = Field(default_factory=list)
    report: ScheduleReport
