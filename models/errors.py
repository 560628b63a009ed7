"""Validation errors that name the offending field and value."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError as _PydanticValidationError


class MatchmakerError(Exception):
    """Base class of every error this project raises on purpose."""


class InvalidInput(MatchmakerError, ValueError):
    """Input that does not validate. ``errors`` holds one ``{"field", "message"}`` per problem.

    >>> err = InvalidInput([{"field": "attendees[3].goals", "message": "expected a list of strings"}])
    >>> str(err)
    'attendees[3].goals: expected a list of strings'
    """

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors))


def format_loc(loc: tuple[Any, ...] | list[Any], prefix: str = "") -> str:
    """``("attendees", 12, "goals")`` -> ``"attendees[12].goals"``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_LIST_OF_STRINGS = {"interests", "goals", "offers", "connections", "blocked"}


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _message(err: dict[str, Any]) -> str:
    loc = err.get("loc", ())
    kind = err.get("type", "")
    field = next((p for p in reversed(loc) if isinstance(p, str)), "")
    value = err.get("input")
    if kind == "missing":
        return "field required"
    if kind == "extra_forbidden":
        return "unknown field (put custom data under 'metadata')"
    if field in _LIST_OF_STRINGS and kind in {"list_type", "string_type"}:
        if loc and isinstance(loc[-1], int):
            return f"expected a string, got {_describe(value)}"
        return f"expected a list of strings, got {_describe(value)}"
    if kind in {"string_type", "int_type", "bool_type", "float_type", "dict_type", "list_type",
                "int_parsing", "float_parsing", "bool_parsing", "model_type"}:
        expected = {
            "string_type": "a string", "int_type": "an integer", "int_parsing": "an integer",
            "bool_type": "true or false", "bool_parsing": "true or false", "float_type": "a number",
            "float_parsing": "a number", "dict_type": "an object", "model_type": "an object",
            "list_type": "a list",
        }[kind]
        return f"expected {expected}, got {_describe(value)}"
    msg = str(err.get("msg", "invalid value"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return msg[:1].lower() + msg[1:]


def from_pydantic(exc: _PydanticValidationError, prefix: str = "") -> InvalidInput:
    """Turn a pydantic ``ValidationError`` into an :class:`InvalidInput` with dotted field paths."""
    errors = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-")))
        errors.append({"field": format_loc(loc, prefix), "message": _message(err)})
    return InvalidInput(errors)
