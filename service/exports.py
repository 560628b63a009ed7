"""Reading an event out in bulk: every attendee's profile page by page (``updated_since`` / ``since_version``
for incremental syncs), many attendees' lists in one request (the engine's batch path), the event's feedback.

Pages are sorted by attendee id and walked with an opaque ``cursor`` (keyset paging: a page costs the same at
the end of a large event as at its start, and writes between two pages never shift one); ``offset`` still works.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import request

from service.errors import ApiError
from service.http import (
    api_blueprint,
    attendee_404,
    event_or_404,
    iso,
    query_int,
    read_object,
    services,
    validate,
)
from service.schemas import MatchesBatchRequest

bp = api_blueprint("exports", __name__)

#: At most this many matches (attendees x limit) in one batch answer.
MAX_BATCH_MATCHES = 20_000
MAX_PAGE = 1000


def _bad_query(name: str, msg: str) -> ApiError:
    return ApiError(400, f"query parameter {name} {msg}", code="validation_error",
                    details=[{"field": name, "message": msg}])


def encode_cursor(last_id: str) -> str:
    """The cursor that continues after attendee ``last_id``.

    >>> decode_cursor(encode_cursor("a001"))
    'a001'
    """
    return base64.urlsafe_b64encode(("a:" + last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not raw.startswith("a:"):
        raise _bad_query("cursor", "is not a cursor this API gave out (use next_cursor of the previous page)")
    return raw[2:]


def parse_since(raw: str) -> datetime:
    """An ISO 8601 time (``2026-12-01T20:00:00Z``, an offset, or a date); without a zone it is UTC.

    >>> parse_since("2026-12-01T21:00:00 01:00").isoformat()
    '2026-12-01T20:00:00+00:00'
    """
    text = re.sub(r" (\d\d:?\d\d)$", r"+\1", raw.strip())  # an unescaped '+' of the offset reads as a space
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise _bad_query("updated_since", f"must be an ISO 8601 time such as 2026-12-01T20:00:00Z; got {raw!r}") \
            from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


# ------------------------------------------------------------------------------------------------ attendees
@bp.get("/events/<event_id>/attendees")
def list_attendees(event_id: str):
    """Full profiles, sorted by id, ``limit`` per page (``cursor`` or ``offset``); ``fields=id``: ids only."""
    row = event_or_404(event_id)  # read before the page: its version is the page's watermark
    args = request.args
    limit = query_int("limit", 100, 1, MAX_PAGE)
    fields = args.get("fields", "")
    if fields not in ("", "id", "all"):
        raise _bad_query("fields", f"must be id or all; got {fields!r}")
    cursor = args.get("cursor") or None
    if cursor is not None and args.get("offset"):
        raise _bad_query("offset", "cannot be combined with cursor (the cursor already says where to go on)")
    offset = query_int("offset", 0, 0, 10**9)
    after = decode_cursor(cursor) if cursor is not None else None
    since = parse_since(args["updated_since"]) if args.get("updated_since") else None
    since_version = query_int("since_version", -1, 0, 2**62) if args.get("since_version") else None
    page, total, more, as_of = services().store.attendee_page(
        row.pk, limit=limit, after=after, offset=offset, updated_since=since, since_version=since_version,
        ids_only=fields == "id")
    items: list[Any] = page if fields == "id" else [a.model_dump(mode="json") for a in page]
    next_cursor = None
    if more and page:
        next_cursor = encode_cursor(page[-1] if fields == "id" else page[-1].id)
    nxt = None
    if next_cursor:
        keep = {k: v for k, v in args.items() if k not in ("cursor", "offset")}
        keep["limit"] = str(limit)
        keep["cursor"] = next_cursor
        nxt = f"{request.path}?{urlencode(keep)}"
    body = {"attendees": items, "total": total, "limit": limit, "offset": None if cursor else offset,
            "next_cursor": next_cursor, "next": nxt, "version": row.seq, "as_of": iso(as_of) if as_of else None}
    headers = {"Link": f'<{nxt}>; rel="next"'} if nxt else {}
    return body, 200, headers


# -------------------------------------------------------------------------------------------------- matches
@bp.post("/events/<event_id>/matches:batch")
def matches_batch(event_id: str):
    """Lists for many attendees at once, through ``Matcher.recommend_all`` (what one-by-one GETs return)."""
    row = event_or_404(event_id)
    req = validate(MatchesBatchRequest, read_object())
    ids = req.attendees
    seen: dict[str, int] = {}
    for i, aid in enumerate(ids):
        if aid in seen:
            msg = f"id {aid!r} repeats attendees[{seen[aid]}]"
            raise ApiError(400, f"invalid input: attendees[{i}]: {msg}", code="validation_error",
                           details=[{"field": f"attendees[{i}]", "message": msg}])
        seen[aid] = i
    limit = req.limit or min(row.event.policy.default_limit, 100)
    if len(ids) * limit > MAX_BATCH_MATCHES:
        msg = (f"at most {MAX_BATCH_MATCHES} matches per request (attendees x limit); got {len(ids)} x {limit}: "
               "split the ids")
        raise ApiError(400, msg, code="validation_error", details=[{"field": "attendees", "message": msg}])
    sv = services()
    entry = sv.registry.use(row)
    with entry.lock:
        m = entry.matcher
        unknown = [(i, a) for i, a in enumerate(ids) if a not in m]
        if unknown:
            i, a = unknown[0]
            more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
            err = attendee_404(event_id, a)
            raise ApiError(404, f"attendees[{i}]: {err.message}{more}",
                           details=[{"field": f"attendees[{j}]", "message": f"unknown attendee {b!r}"}
                                    for j, b in unknown[:1000]])
        exclude = sv.store.exclusions_many(row.pk, ids, allow_repeat=row.event.policy.allow_repeat_meetings)
        found = m.recommend_all(ids, k=limit, exclude=exclude, explain=req.explain)
    return {"event": event_id, "limit": limit,
            "lists": [{"attendee": a, "matches": [x.to_json() for x in found[a]]} for a in ids]}


# ------------------------------------------------------------------------------------------------- feedback
@bp.get("/events/<event_id>/feedback")
def event_feedback(event_id: str):
    """The event's feedback, oldest first; ``from_id``, ``to_id``, ``kind`` filter it."""
    row = event_or_404(event_id)
    limit = query_int("limit", 100, 1, MAX_PAGE)
    offset = query_int("offset", 0, 0, 10**9)
    kind = request.args.get("kind") or None
    kinds = ("accepted", "declined", "met", "hidden", "blocked")
    if kind is not None and kind not in kinds:
        raise _bad_query("kind", f"must be one of {', '.join(kinds)}; got {kind!r}")
    items, total = services().store.event_feedback(row.pk, limit=limit, offset=offset,
                                                   from_id=request.args.get("from_id") or None,
                                                   to_id=request.args.get("to_id") or None, kind=kind)
    return {"feedback": [f.model_dump() for f in items], "total": total, "limit": limit, "offset": offset}
