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

#: (method, path, summary, request body schema, {status: answer schema}, query parameters)
ROUTES: list[tuple[str, str, str, Any, dict[int, Any], list[tuple[str, str]]]] = [
    ("post", "/v1/events", "Create an event", Event, {201: s.EventOut, 409: s.ErrorBody}, []),
    ("get", "/v1/events", "List the tenant's events", None, {200: s.EventList}, []),
    ("get", "/v1/events/{event}", "Get an event", None, {200: s.EventOut}, []),
    ("patch", "/v1/events/{event}", "Change an event's name or policy", s.EventUpdate, {200: s.EventOut}, []),
    ("delete", "/v1/events/{event}", "Delete an event with all its data", None, {204: None}, []),
    ("post", "/v1/events/{event}/attendees",
     "Insert or replace attendees by id (idempotent; all or nothing)", s.AttendeeBatch,
     {200: s.UpsertResult}, []),
    ("get", "/v1/events/{event}/attendees", "List attendee ids", None, {200: s.AttendeeList},
     [("limit", "1..1000, default 100"), ("offset", "default 0")]),
    ("get", "/v1/events/{event}/attendees/{attendee}", "Get an attendee", None, {200: Attendee}, []),
    ("patch", "/v1/events/{event}/attendees/{attendee}", "Change some of an attendee's fields", s.AttendeePatch,
     {200: Attendee}, []),
    ("delete", "/v1/events/{event}/attendees/{attendee}",
     "Erase an attendee (storage, feedback, embeddings no one else uses, indexes)", None, {204: None}, []),
    ("get", "/v1/events/{event}/attendees/{attendee}/matches",
     "The ranked, explained list of people this attendee should meet", None, {200: s.MatchList},
     [("limit", "1..100, default: the event policy's default_limit"),
      ("offset", "default 0; offset + limit <= 500")]),
    ("post", "/v1/events/{event}/feedback",
     "Record feedback (accepted, declined, met, hidden, blocked); later lists change at once", Feedback,
     {201: s.FeedbackResult, 200: s.FeedbackResult}, []),
    ("get", "/v1/events/{event}/attendees/{attendee}/feedback", "Feedback given by an attendee", None,
     {200: s.FeedbackList}, []),
    ("post", "/v1/events/{event}/table-plans", "Plan seating: tables over rounds for the event", TablePlanRequest,
     {200: TablePlan}, []),
]

PUBLIC = [
    ("get", "/healthz", "Liveness: the process answers", s.Health),
    ("get", "/readyz", "Readiness: the database answers", s.Health),
]


def _name(model: Any) -> str:
    return getattr(model, "__name__", str(model))


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
                  for p in ("event", "attendee", "request", "action", "webhook", "delivery") if "{" + p + "}" in path]
        params += [{"name": n, "in": "query", "required": False, "description": d, "schema": {"type": "integer"}}
                   for n, d in query]
        if params:
            op["parameters"] = params
        if body is not None:
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": ref(body, "validation")}}}
        for status, model in sorted(answers.items()):
            if model is None:
                op["responses"][str(status)] = {"description": "Done, no content"}
            elif model is s.ErrorBody:
                op["responses"][str(status)] = error
            else:
                op["responses"][str(status)] = {"description": "OK",
                                                "content": {"application/json":
                                                            {"schema": ref(model, "serialization")}}}
        for status in (400, 401, 404, 405, 413):
            op["responses"].setdefault(str(status), {"$ref": "#/components/responses/Error"})
        paths.setdefault(path, {})[method] = op
    for method, path, summary, model in PUBLIC:
        paths.setdefault(path, {})[method] = {
            "summary": summary, "operationId": f"{method}_{_op(path)}", "security": [],
            "responses": {"200": {"description": "OK", "content": {"application/json":
                                                                   {"schema": ref(model, "serialization")}}},
                          "503": {"$ref": "#/components/responses/Error"}}}
    paths["/metrics"] = {"get": {"summary": "Prometheus metrics (text format)", "operationId": "get_metrics",
                                 "security": [], "responses": {"200": {"description": "Prometheus text",
                                                                       "content": {"text/plain": {}}}}}}
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
