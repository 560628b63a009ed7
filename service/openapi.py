"""The OpenAPI 3.1 document, generated from the pydantic schemas (never written by hand).

Request bodies use each model's validation schema, answers its serialization schema; the ``Match`` dataclasses
get theirs through pydantic's ``TypeAdapter``. The path table below only says which schema goes where.

>>> doc = build_spec()
>>> doc["openapi"], "Attendee" in doc["components"]["schemas"]
('3.1.0', True)
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from models import Attendee, Event, Feedback, Match
from models.tables import TablePlan, TablePlanRequest
from service import schemas as s

#: (method, path, summary, request body schema, {status: answer schema}, query parameters (name, description,
#: minimum, maximum))
ROUTES: list[tuple[str, str, str, Any, dict[int, Any], list[tuple[Any, ...]]]] = [
    ("post", "/v1/events", "Create an event", Event, {201: s.EventOut, 409: s.ErrorBody}, []),
    ("get", "/v1/events", "List the tenant's events", None, {200: s.EventList}, []),
    ("get", "/v1/events/{event}", "Get an event", None, {200: s.EventOut}, []),
    ("patch", "/v1/events/{event}", "Change an event's name or policy (If-Match: its ETag, else 412)", s.EventUpdate,
     {200: s.EventOut, 412: s.ErrorBody}, []),
    ("delete", "/v1/events/{event}", "Delete an event with all its data", None, {204: None}, []),
    ("post", "/v1/events/{event}/attendees",
     "Insert or replace attendees by id (idempotent; all or nothing): JSON, or a registration export as text/csv, "
     "XLSX or a multipart form's 'file' (every bad row named: 422); many texts to encode, or Prefer: "
     "respond-async: 202 and a job", s.AttendeeBatch,
     {200: s.UpsertResult, 202: s.JobOut, 415: s.ErrorBody, 422: s.ErrorBody, 503: s.ErrorBody},
     [("mapping", "spreadsheets: the column mapping's JSON, e.g. {\"columns\": {\"goals\": \"Why are you here?\"}}",
       None, None), ("sheet", "XLSX: the sheet to read (default: the first)", None, None)]),
    ("get", "/v1/events/{event}/attendees",
     "Attendees' full profiles sorted by id, page by page (next link / cursor); updated_since or since_version: "
     "only those written since", None, {200: s.AttendeeList},
     [("limit", "1..1000, default 100", 1, 1000), ("offset", "default 0; not with cursor", 0, 10**9),
      ("cursor", "next_cursor of the previous page", None, None),
      ("updated_since", "ISO 8601 time: attendees written after it (a page's as_of)", None, None),
      ("since_version", "attendees written by a write after this event version (a page's version): exact", 0,
       2**62),
      ("fields", "id for ids only (the old answer), all (default) for profiles", None, None)]),
    ("get", "/v1/events/{event}/attendees/{attendee}", "Get an attendee", None, {200: Attendee}, []),
    ("patch", "/v1/events/{event}/attendees/{attendee}",
     "Change some of an attendee's fields (If-Match: its ETag, else 412; concurrent changes never lose a field)",
     s.AttendeePatch, {200: Attendee, 409: s.ErrorBody, 412: s.ErrorBody}, []),
    ("delete", "/v1/events/{event}/attendees/{attendee}",
     "Erase an attendee (storage, feedback, embeddings no one else uses, indexes)", None, {204: None}, []),
    ("get", "/v1/events/{event}/attendees/{attendee}/matches",
     "The ranked, explained list of people this attendee should meet", None, {200: s.MatchList},
     [("limit", "1..100, default: the event policy's default_limit", 1, 100),
      ("offset", "default 0; offset + limit <= 500", 0, 499)]),
    ("post", "/v1/events/{event}/feedback",
     "Record feedback (accepted, declined, met, hidden, blocked); later lists change at once", Feedback,
     {201: s.FeedbackResult, 200: s.FeedbackResult}, []),
    ("get", "/v1/events/{event}/attendees/{attendee}/feedback", "Feedback given by an attendee", None,
     {200: s.FeedbackList}, []),
    ("get", "/v1/events/{event}/feedback", "The event's feedback, oldest first", None, {200: s.EventFeedbackList},
     [("limit", "1..1000, default 100", 1, 1000), ("offset", "default 0", 0, 10**9),
      ("from_id", "given by", None, None), ("to_id", "about", None, None),
      ("kind", "accepted, declined, met, hidden or blocked", None, None)]),
    ("post", "/v1/events/{event}/matches:batch",
     "Lists for many attendees in one request (the same lists as one GET each)", s.MatchesBatchRequest,
     {200: s.MatchesBatch}, []),
    ("post", "/v1/events/{event}/table-plans",
     "Plan seating: tables over rounds for the event (large plans, or Prefer: respond-async: 202 and a job)",
     TablePlanRequest, {200: TablePlan, 202: s.JobOut, 422: s.ErrorBody, 503: s.ErrorBody}, []),
    ("get", "/v1/jobs/{job}", "A background job: queued, running, done (with its answer) or failed", None,
     {200: s.JobOut}, []),
]

#: Routes that also take a registration export (:mod:`service.uploads`), and how.
SPREADSHEET_BODIES = {("post", "/v1/events/{event}/attendees")}
SPREADSHEETS = {
    "text/csv": {"schema": {"type": "string", "description": "A CSV export (UTF-8 or Windows-1252; , ; or tab)"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "contentMediaType": "application/octet-stream",
                   "description": "An XLSX workbook"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "contentMediaType": "application/octet-stream",
                 "description": "The .csv or .xlsx file"},
        "mapping": {"type": "string", "description": "The column mapping's JSON"},
        "sheet": {"type": "string"}}}},
}

PUBLIC = [
    ("get", "/healthz", "Liveness: the process answers", s.Health),
    ("get", "/readyz", "Readiness: the database answers and this worker holds its model and the recent events in "
                       "memory (503 with what is still loading until then)", s.Health),
]


def _name(model: Any) -> str:
    return getattr(model, "__name__", str(model))


def _query_param(q: tuple) -> dict:
    """A query parameter from ``(name, description)`` (an integer), ``(name, description, min, max)`` (an integer
    in bounds) or ``(name, description, None, None)`` (a string)."""
    schema: dict[str, Any] = {"type": "integer"}
    if len(q) > 2:
        schema = {"type": "string"} if q[2] is None else {"type": "integer", "minimum": q[2], "maximum": q[3]}
    return {"name": q[0], "in": "query", "required": False, "description": q[1], "schema": schema}


def build_spec(version: str = "0.1.0") -> dict[str, Any]:
    """The OpenAPI document of the service."""
    from service.meetings import OPENAPI as MEETINGS

    routes = ROUTES + [(*r, []) for r in MEETINGS]
    inputs: list[tuple[Any, str, TypeAdapter]] = []
    seen: set[tuple[str, str]] = set()

    def want(model: Any, mode: str) -> None:
        key = (_name(model), mode)
        if model is not None and key not in seen:
            seen.add(key)
            inputs.append((key, mode, TypeAdapter(model)))

    for _, _, _, body, answers, _ in routes:
        if body is not None:
            want(body, "validation")
        for model in answers.values():
            if model is not None:
                want(model, "serialization")
    want(s.ErrorBody, "serialization")
    want(Match, "serialization")
    for *_, model in PUBLIC:
        want(model, "serialization")
    refs, defs = TypeAdapter.json_schemas(inputs, ref_template="#/components/schemas/{model}")
    components = dict(defs.get("$defs", {}))

    def ref(model: Any, mode: str) -> dict[str, Any]:
        return refs[((_name(model), mode), mode)]

    error = {"description": "Error (the one error shape)",
             "content": {"application/json": {"schema": ref(s.ErrorBody, "serialization")}}}
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, body, answers, query in routes:
        op: dict[str, Any] = {"summary": summary, "operationId": f"{method}_{_op(path)}",
                              "security": [{"bearer": []}, {"apiKey": []}], "responses": {}}
        params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in ("event", "attendee", "request", "action", "webhook", "delivery", "job")
                  if "{" + p + "}" in path]
        params += [_query_param(q) for q in query]
        if params:
            op["parameters"] = params
        if body is not None:
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": ref(body, "validation")}}}
            if (method, path) in SPREADSHEET_BODIES:
                op["requestBody"]["content"].update(SPREADSHEETS)
        for status, model in sorted(answers.items()):
            if model is None:
                op["responses"][str(status)] = {"description": "Done, no content"}
            elif model is s.ErrorBody:
                op["responses"][str(status)] = error
            else:
                op["responses"][str(status)] = {"description": "OK",
                                                "content": {"application/json":
                                                            {"schema": ref(model, "serialization")}}}
        for status in (400, 401, 404, 405, 408, 413, 429, 503):
            op["responses"].setdefault(str(status), {"$ref": "#/components/responses/Error"})
        paths.setdefault(path, {})[method] = op
    for method, path, summary, model in PUBLIC:
        paths.setdefault(path, {})[method] = {
            "summary": summary, "operationId": f"{method}_{_op(path)}", "security": [],
            "responses": {"200": {"description": "OK", "content": {"application/json":
                                                                   {"schema": ref(model, "serialization")}}},
                          "503": {"$ref": "#/components/responses/Error"}}}
    paths["/metrics"] = {"get": {"summary": "Prometheus metrics (text format); Authorization: Bearer "
                                            "MATCHMAKER_METRICS_KEY (off, 404, when it is not set)",
                                 "operationId": "get_metrics", "security": [{"bearer": []}],
                                 "responses": {"200": {"description": "Prometheus text",
                                                       "content": {"text/plain": {}}},
                                               "401": {"$ref": "#/components/responses/Error"},
                                               "404": {"$ref": "#/components/responses/Error"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Matchmaker API", "version": version,
                 "description": "Reciprocal, explained 'people you should meet' lists for networking events. "
                                "Every /v1 request carries an API key; a tenant sees only its own events."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": {"Error": error},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }


def _op(path: str) -> str:
    parts = [p.strip("{}") for p in path.split("/") if p and p != "v1"]
    return "_".join(parts).replace("-", "_") or "root"
