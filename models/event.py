"""The event and its matching policy."""

from __future__ import annotations

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from models.ids import id_problem, is_stored

CHANNELS = ("intent", "interests", "lexical", "mutual")


class ChannelWeights(BaseModel):
    """How much each scoring channel counts in the final score (non-negative; not all zero)."""

    model_config = ConfigDict(extra="forbid")

    intent: StrictFloat = Field(1.0, ge=0, le=100, description="Reciprocal goals-vs-offers/identity match.")
    interests: StrictFloat = Field(0.4, ge=0, le=100, description="Shared interests (embedding).")
    lexical: StrictFloat = Field(0.4, ge=0, le=100, description="Rare shared terms (TF-IDF).")
    mutual: StrictFloat = Field(0.6, ge=0, le=100, description="Mutual connections (Adamic-Adar).")

    @model_validator(mode="after")
    def _not_all_zero(self) -> ChannelWeights:
        if all(getattr(self, c) == 0 for c in CHANNELS):
            raise ValueError("at least one channel weight must be above 0")
        return self


class MatchPolicy(BaseModel):
    """Event-level matching rules.

    ``role_rules`` says who may meet whom: ``{"investor": ["founder"]}`` means an investor is only matched with
    founders (and, since a meeting takes two, founders are then matched with investors only if their own rule,
    if any, allows it). Roles compare case-insensitively; ``"*"`` allows every role. Roles without a rule may
    meet anyone who may meet them.
    """

    model_config = ConfigDict(extra="forbid")

    allow_same_company: StrictBool = False
    allow_repeat_meetings: StrictBool = False
    role_rules: dict[str, list[StrictStr]] = Field(default_factory=dict)
    weights: ChannelWeights = Field(default_factory=ChannelWeights)
    default_limit: StrictInt = Field(10, ge=1, le=500)
    # 0.1: measured with complementarity on (synthetic 300 and 1,000 people, real model), 0.3 cost 2-6% nDCG@10
    # and 5-9% two-sided recall@10; near-copies (profile cosine above 0.92) are still pushed down
    diversity: StrictFloat = Field(0.1, ge=0, le=1, description="0 = pure relevance; higher = more varied lists.")
    complement: StrictFloat = Field(1.0, ge=0, le=1, description=(
        "How strongly lists favour counterparts over look-alikes: 1 = fully (substitutes penalised, the event's "
        "learned sides counted, shared interests and terms counted only where intent agrees); 0 = plain "
        "reciprocal intent."))

    @field_validator("role_rules")
    @classmethod
    def _rules(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for role, allowed in v.items():
            key = role.strip().lower()
            if not key:
                raise ValueError("role_rules: a role name must not be empty")
            out[key] = sorted({a.strip().lower() for a in allowed if a.strip()})
        return out

    def may_meet(self, role_a: str, role_b: str) -> bool:
        """True when the role rules allow ``role_a`` and ``role_b`` to meet (both ways).

        >>> MatchPolicy(role_rules={"investor": ["founder"]}).may_meet("Investor", "founder")
        True
        >>> MatchPolicy(role_rules={"investor": ["founder"]}).may_meet("investor", "investor")
        False
        """
        a, b = role_a.strip().lower(), role_b.strip().lower()
        return _allows(self.role_rules.get(a), b) and _allows(self.role_rules.get(b), a)


def _allows(allowed: list[str] | None, role: str) -> bool:
    return allowed is None or "*" in allowed or role in allowed


class Event(BaseModel):
    """An event: an id, a name and its matching policy."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: StrictStr = Field(min_length=1, max_length=200)
    name: StrictStr = Field("", max_length=300)
    policy: MatchPolicy = Field(default_factory=MatchPolicy)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str, info: ValidationInfo) -> str:
        if any(c.isspace() for c in v) or "/" in v:
            raise ValueError(f"id {v!r} must not contain whitespace or '/'")
        if not is_stored(info) and (problem := id_problem(v)) is not None:
            raise ValueError(f"id {v!r} {problem}")
        return v
