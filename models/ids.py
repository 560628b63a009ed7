"""What an id may hold, and bounds on free-form JSON (``metadata``).

Ids travel in URL paths and are shown to people: ``.`` and ``..`` are path steps a URL library resolves away,
and control, format (bidi overrides, zero-width characters, the BOM) and surrogate code points make an id
that reads as another or cannot be stored. Free-form JSON is held to what every JSON stack can read back: a
bounded depth and size, finite numbers, 64-bit integers, valid Unicode.

Rows read back from storage were validated when written, under the rules of their day: validating them with
``context=STORED`` skips these checks, so a rule added later never makes stored data unreadable.

>>> id_problem("ana"), id_problem("..")
(None, "must not be '.' or '..' (a URL library resolves them as path steps)")
>>> id_problem("ana\\u202e")
'must not contain U+202E (RIGHT-TO-LEFT OVERRIDE): ids allow no control characters, nor invisible format or separator characters'
>>> json_problem({"a": [1, float("nan")]})
'a[1]: NaN and Infinity are not JSON numbers'
"""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Any

#: Validation context for rows read back from storage.
STORED = {"stored": True}

MAX_JSON_DEPTH = 32
MAX_JSON_CHARS = 64 * 1024
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_BAD_CATEGORIES = {"Cc": "control", "Cf": "format", "Cs": "surrogate", "Zl": "separator", "Zp": "separator"}


def is_stored(info: Any) -> bool:
    """True when a validator runs on a row read back from storage (``context=STORED``)."""
    ctx = getattr(info, "context", None)
    return bool(ctx) and bool(ctx.get("stored"))


def _char_name(ch: str) -> str:
    return f"U+{ord(ch):04X}" + (f" ({unicodedata.name(ch)})" if unicodedata.name(ch, "") else "")


def id_problem(value: str) -> str | None:
    """Why ``value`` cannot be an id (beyond the whitespace and '/' rules of each model), or None."""
    if value in {".", ".."}:
        return "must not be '.' or '..' (a URL library resolves them as path steps)"
    for ch in value:
        if unicodedata.category(ch) in _BAD_CATEGORIES:
            return (f"must not contain {_char_name(ch)}: ids allow no control characters, nor invisible "
                    "format or separator characters")
    return None


def _string_problem(s: str) -> str | None:
    for ch in s:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return f"holds a lone surrogate {_char_name(ch)}, which is not Unicode text"
    return None


def json_problem(value: Any, max_depth: int = MAX_JSON_DEPTH, max_chars: int = MAX_JSON_CHARS) -> str | None:
    """Why ``value`` is not bounded, portable JSON (a path inside it, then the problem), or None."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        v, where, depth = stack.pop()
        at = f"{where}: " if where else ""
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, int):
            if not INT_MIN <= v <= INT_MAX:
                return f"{at}integers must fit in 64 bits (from -2**63 to 2**63-1)"
        elif isinstance(v, float):
            if not math.isfinite(v):
                return f"{at}NaN and Infinity are not JSON numbers"
        elif isinstance(v, str):
            if (p := _string_problem(v)) is not None:
                return f"{at}{p}"
        elif isinstance(v, dict | list):
            if depth >= max_depth:
                return f"{at}nested more than {max_depth} levels deep"
            items = v.items() if isinstance(v, dict) else enumerate(v)
            for k, x in items:
                if isinstance(v, dict):
                    if not isinstance(k, str):
                        return f"{at}keys must be strings, got {type(k).__name__}"
                    if (p := _string_problem(k)) is not None:
                        return f"{at}key {p}"
                    stack.append((x, f"{where}.{k}" if where else k, depth + 1))
                else:
                    stack.append((x, f"{where}[{k}]", depth + 1))
        else:
            return f"{at}{type(v).__name__} is not a JSON value"
    size = len(json.dumps(value, ensure_ascii=False))
    if size > max_chars:
        return f"is {size} characters as JSON; at most {max_chars}"
    return None
