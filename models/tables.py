"""Seating plans: the rules file, the plan request, the plan and its quality report.

Rounds and tables are numbered from 1 in every document a person reads or writes (rules files, plans, charts).

>>> req = parse_table_request({"rounds": 3, "table_size": 8,
...                            "rules": {"keep_apart": [["acme-ceo", "globex-ceo"]]}})
>>> req.rules.keep_apart
[['acme-ceo', 'globex-ceo']]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from models.errors import InvalidInput, from_pydantic

MAX_ROUNDS = 50
MAX_TABLE = 1000


class FixedSeat(BaseModel):
    """Pin one attendee (a host, a sponsor) to a table, in the listed rounds or in every round."""

    model_config = ConfigDict(extra="forbid")

    id: StrictStr = Field(min_length=1)
    table: StrictInt = Field(ge=1, description="Table number, from 1.")
    rounds: list[StrictInt] | None = Field(None, description="Rounds (from 1) it applies to; omitted: all rounds.")

    @field_validator("rounds")
    @classmethod
    def _rounds(cls, v: list[int] | None) -> list[int] | None:
        if v is not None:
            if not v:
                raise ValueError("rounds must list at least one round (omit it for every round)")
            if min(v) < 1:
                raise ValueError(f"rounds are numbered from 1, got {min(v)}")
        return v


class RoleMix(BaseModel):
    """At least ``min`` and at most ``max`` attendees of one role at every table (roles compare case-insensitively)."""

    model_config = ConfigDict(extra="forbid")

    role: StrictStr = Field(min_length=1)
    min: StrictInt = Field(0, ge=0)
    max: StrictInt | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _order(self) -> RoleMix:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"role {self.role!r}: max {self.max} is below min {self.min}")
        if self.min == 0 and self.max is None:
            raise ValueError(f"role {self.role!r}: give min, max or both")
        return self


class TableRules(BaseModel):
    """Hard rules a seating plan never breaks (the ``--rules RULES.json`` file).

    >>> TableRules.model_validate({"keep_together": [["ana", "bo"]], "attendance": {"cy": [1, 3]}}).attendance
    {'cy': [1, 3]}
    """

    model_config = ConfigDict(extra="forbid")

    keep_apart: list[list[StrictStr]] = Field(
        default_factory=list, description="Groups of ids no two of which ever share a table (e.g. competitors).")
    keep_together: list[list[StrictStr]] = Field(
        default_factory=list, description="Groups of ids that always share a table (e.g. a team).")
    fixed_seats: list[FixedSeat] = Field(default_factory=list)
    role_mix: list[RoleMix] = Field(default_factory=list, description="Per-table bounds on each role.")
    attendance: dict[str, list[StrictInt]] = Field(
        default_factory=dict, description="id -> the rounds (from 1) that attendee joins; unlisted: every round.")
    allow_same_company: StrictBool | None = Field(
        None, description="Seat colleagues together; omitted: the event policy decides (default: apart).")
    respect_role_rules: StrictBool = Field(
        False, description="Also keep apart the role pairs the event's role_rules forbid to meet.")

    @field_validator("keep_apart", "keep_together")
    @classmethod
    def _groups(cls, v: list[list[str]]) -> list[list[str]]:
        out = []
        for i, group in enumerate(v):
            g = list(dict.fromkeys(x.strip() for x in group if x.strip()))
            if len(g) < 2:
                raise ValueError(f"group [{i}] needs at least two different ids, got {group!r}")
            out.append(g)
        return out

    @field_validator("attendance")
    @classmethod
    def _attendance(cls, v: dict[str, list[int]]) -> dict[str, list[int]]:
        for aid, rounds in v.items():
            if not rounds:
                raise ValueError(f"{aid!r}: list at least one round (remove attendees who join none)")
            if min(rounds) < 1:
                raise ValueError(f"{aid!r}: rounds are numbered from 1, got {min(rounds)}")
        return {aid: sorted(set(r)) for aid, r in v.items()}

    @field_validator("role_mix")
    @classmethod
    def _roles(cls, v: list[RoleMix]) -> list[RoleMix]:
        seen: set[str] = set()
        for r in v:
            key = r.role.strip().lower()
            if key in seen:
                raise ValueError(f"role {r.role!r} is listed twice; merge its bounds into one entry")
            seen.add(key)
        return v


class TablePlanRequest(BaseModel):
    """What to plan: how many rounds, table sizes, rules, seed (also the body of ``POST .../table-plans``).

    Give ``table_size`` (uniform tables; when N does not divide, sizes differ by at most one and no table exceeds
    it) or ``capacities`` (one entry per table; empty seats are spread out). ``table_size=2`` is 1:1 speed
    networking: with an odd number of people ``odd`` chooses one trio or one bye per round.

    >>> TablePlanRequest(rounds=2, table_size=2, odd="bye").odd
    'bye'
    """

    model_config = ConfigDict(extra="forbid")

    rounds: StrictInt = Field(1, ge=1, le=MAX_ROUNDS)
    table_size: StrictInt | None = Field(None, ge=2, le=MAX_TABLE)
    capacities: list[StrictInt] | None = Field(None, min_length=1, max_length=100_000)
    odd: Literal["trio", "bye"] = Field("trio", description="k=2 with an odd head count: one trio or one bye.")
    seed: StrictInt = Field(0, ge=0, le=2**63 - 1)
    attendees: list[StrictStr] | None = Field(None, description="Seat only these ids (default: everyone).")
    rules: TableRules = Field(default_factory=TableRules)
    effort: StrictFloat = Field(1.0, gt=0, le=10, description="Scales the local-search budget (deterministic).")

    @field_validator("capacities")
    @classmethod
    def _caps(cls, v: list[int] | None) -> list[int] | None:
        if v is not None:
            bad = [c for c in v if c < 1]
            if bad:
                raise ValueError(f"every table capacity must be at least 1, got {bad[0]}")
            big = [c for c in v if c > MAX_TABLE]
            if big:
                raise ValueError(f"a table seats at most {MAX_TABLE}, got {big[0]}")
        return v

    @model_validator(mode="after")
    def _size(self) -> TablePlanRequest:
        if (self.table_size is None) == (self.capacities is None):
            raise ValueError("give exactly one of table_size (uniform tables) or capacities (one per table)")
        return self


class PlanTable(BaseModel):
    """One table in one round: its number and who sits there."""

    table: int
    seats: list[str]


class PlanRound(BaseModel):
    """One round: its tables, who has a bye (1:1 rotations, odd N) and who does not attend."""

    round: int
    tables: list[PlanTable]
    byes: list[str] = Field(default_factory=list)
    absent: list[str] = Field(default_factory=list)


class RepeatPair(BaseModel):
    """Two people who share a table in more than one round; ``forced`` when the rules make it unavoidable
    (the same team, or both pinned to the same table)."""

    a: str
    b: str
    rounds: list[int]
    forced: bool = False


class PlanReport(BaseModel):
    """How good the plan is. ``ratio`` = affinity / upper_bound, where the bound gives each person their best
    R(k-1) allowed partners; ``random_ratio`` is the same for a random plan of the same shape."""

    attendees: int
    rounds: int
    tables_per_round: list[int]
    repeats: int = Field(description="Extra meetings of pairs that already met (not counting forced ones).")
    forced_repeats: int = 0
    repeat_pairs: list[RepeatPair] = Field(default_factory=list, description="At most 1,000 listed.")
    violations: int = 0
    affinity: float
    upper_bound: float
    ratio: float
    random_ratio: float
    seconds: float
    seed: int


class AgendaEntry(BaseModel):
    """Where one attendee sits in one round, and with whom."""

    round: int
    table: int | None
    status: Literal["seated", "bye", "absent"] = "seated"
    with_: list[str] = Field(default_factory=list, alias="with", serialization_alias="with")

    model_config = ConfigDict(populate_by_name=True)


class TablePlan(BaseModel):
    """A seating plan over several rounds, with its report.

    >>> p = TablePlan(event="e", rounds=[PlanRound(round=1, tables=[PlanTable(table=1, seats=["a", "b"])])],
    ...               report=PlanReport(attendees=2, rounds=1, tables_per_round=[1], repeats=0, affinity=0.5,
    ...                                 upper_bound=0.5, ratio=1.0, random_ratio=1.0, seconds=0.0, seed=0))
    >>> p.agenda()["a"][0].with_
    ['b']
    """

    event: str
    rounds: list[PlanRound]
    report: PlanReport

    def agenda(self) -> dict[str, list[AgendaEntry]]:
        """Per attendee, one entry per round: table (or bye/absent) and table-mates, in seat order."""
        out: dict[str, list[AgendaEntry]] = {}
        for rnd in self.rounds:
            for t in rnd.tables:
                for who in t.seats:
                    out.setdefault(who, []).append(AgendaEntry(round=rnd.round, table=t.table,
                                                               with_=[x for x in t.seats if x != who]))
            for who in rnd.byes:
                out.setdefault(who, []).append(AgendaEntry(round=rnd.round, table=None, status="bye"))
            for who in rnd.absent:
                out.setdefault(who, []).append(AgendaEntry(round=rnd.round, table=None, status="absent"))
        for entries in out.values():
            entries.sort(key=lambda e: e.round)
        return out

    def seat_of(self, attendee_id: str, round_no: int) -> int | None:
        """The table number of an attendee in a round (``None``: bye or absent)."""
        for t in self.rounds[round_no - 1].tables:
            if attendee_id in t.seats:
                return t.table
        return None


def parse_table_request(data: Any) -> TablePlanRequest:
    """Validate a decoded plan request; raises :class:`InvalidInput` naming each bad field.

    >>> parse_table_request({"rounds": 0, "table_size": 5})
    Traceback (most recent call last):
    ...
    models.errors.InvalidInput: rounds: input should be greater than or equal to 1
    """
    if not isinstance(data, dict):
        raise InvalidInput([{"field": "", "message": f"expected a JSON object, got {type(data).__name__}"}])
    try:
        return TablePlanRequest.model_validate(data)
    except ValidationError as exc:
        raise from_pydantic(exc) from None


def parse_table_rules(data: Any) -> TableRules:
    """Validate a decoded rules document (field paths are prefixed with ``rules``)."""
    if not isinstance(data, dict):
        raise InvalidInput([{"field": "rules", "message": f"expected a JSON object, got {type(data).__name__}"}])
    try:
        return TableRules.model_validate(data)
    except ValidationError as exc:
        raise from_pydantic(exc, prefix="rules") from None


def load_table_rules(path: str | Path) -> TableRules:
    """Read and validate a rules file. Raises ``FileNotFoundError`` or :class:`InvalidInput`."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInput([{"field": "", "message": f"{p}: not UTF-8 text ({exc.reason})"}]) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput([{"field": "", "message": f"{p}: not valid JSON: {exc.msg} at line {exc.lineno} "
                                                      f"column {exc.colno}"}]) from None
    return parse_table_rules(data)


class InfeasibleRules(InvalidInput):
    """The rules cannot all hold at once; ``errors`` names the conflicting rules (``field``) and why."""
