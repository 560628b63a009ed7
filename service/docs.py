"""The examples of the ``/docs`` page: real requests answered by this code, not hand-written JSON.

On the first ``/docs`` request the server runs :data:`EXAMPLES` against a private app (a temporary SQLite file,
the hashing stand-in encoder, the small event below) and shows each as a ``curl`` command with the status and
body it got; so the page can never show a field the API does not send. Scores differ from a server running the
real model; the shapes, fields and errors are the same.

>>> [e.title for e in EXAMPLES][:2]
['Create an event', 'Upsert attendees (JSON)']
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

PEOPLE = [
    {"id": "ana", "name": "Ana Silva", "role": "founder", "title": "CEO", "company": "PayFlow",
     "goals": ["seed funding for fintech"], "offers": ["payments product demos"], "interests": ["fintech"]},
    {"id": "ben", "name": "Ben Okafor", "role": "investor", "title": "Partner", "company": "Northwind",
     "goals": ["fintech founders raising seed"], "offers": ["seed funding for fintech"], "interests": ["fintech"]},
    {"id": "cy", "name": "Cy Park", "role": "hiring manager", "company": "Globex",
     "goals": ["senior rust engineers"], "offers": ["open rust engineering roles"], "interests": ["rust"]},
    {"id": "di", "name": "Di Moreau", "role": "engineer", "company": "Initech",
     "goals": ["open rust engineering roles"], "offers": ["senior rust engineering experience"],
     "interests": ["rust"]},
]

CSV = ("Attendee #,First Name,Last Name,Company,Ticket Type,What are you looking for?,What can you offer?\n"
       "1001,Eve,Adams,Acme,founder,seed funding for fintech; a CTO,payments know-how\n"
       "1002,Finn,Berg,Atlas,investor,fintech founders raising seed,seed funding for fintech\n")
BAD_CSV = ("Attendee #,First Name,Opt out\n"
           "1003,Gus,no\n"
           "1003,Gus again,no\n"
           "1004,Hana,maybe\n")


@dataclass(frozen=True)
class Example:
    title: str
    method: str
    path: str
    body: Any = None          # JSON, or text for another content type
    content_type: str = "application/json"
    note: str = ""
    headers: tuple[tuple[str, str], ...] = ()


E = "/v1/events/summit"
EXAMPLES = [
    Example("Create an event", "POST", "/v1/events", {"id": "summit", "name": "Summit 2026"}),
    Example("Upsert attendees (JSON)", "POST", f"{E}/attendees", {"attendees": PEOPLE},
            note="Insert or replace by id, all or nothing; a bare array works too."),
    Example("Upsert a registration export (CSV)", "POST", f"{E}/attendees", CSV, "text/csv",
            note="Common header names need no mapping; pass ?mapping={...} (URL-encoded JSON) for others, or "
                 "send an XLSX workbook (Content-Type: application/vnd.openxmlformats-officedocument."
                 "spreadsheetml.sheet) or a multipart form with 'file'."),
    Example("A broken export: every bad row named, nothing written", "POST", f"{E}/attendees", BAD_CSV, "text/csv"),
    Example("A large upsert: accepted as a job", "POST", f"{E}/attendees",
            [{"id": "gil", "name": "Gil", "goals": ["design feedback"], "offers": ["seed funding"]}],
            headers=(("Prefer", "respond-async"),),
            note="Upserts with many texts not encoded yet (UPSERT_SYNC_TEXTS, default 1000) answer 202 by "
                 "themselves; Prefer: respond-async asks for a job whatever the size. Poll the Location."),
    Example("Poll the job", "GET", "/v1/jobs/$JOB",
            note="JOB is the id of the 202 answer above; 'result' is what the synchronous upsert answers."),
    Example("Attendees' full profiles, page by page", "GET", f"{E}/attendees?limit=2",
            note="Follow 'next' (or pass ?cursor=next_cursor) until it is null; fields=id gives ids only."),
    Example("Only what changed since a version", "GET", f"{E}/attendees?since_version=1&fields=id",
            note="Keep the page's 'version' (exact) or 'as_of' (?updated_since=) for the next sync."),
    Example("Who should Ana meet?", "GET", f"{E}/attendees/ana/matches?limit=2"),
    Example("Lists for many attendees at once", "POST", f"{E}/matches:batch",
            {"attendees": ["ana", "cy"], "limit": 1, "explain": False},
            note="The same lists as one GET each; explain=false leaves out the item-level reasons."),
    Example("Record feedback", "POST", f"{E}/feedback", {"from_id": "ana", "to_id": "ben", "kind": "accepted"}),
    Example("The event's feedback", "GET", f"{E}/feedback?from_id=ana"),
    Example("Seat everyone: 2 rounds at tables of 3", "POST", f"{E}/table-plans",
            {"rounds": 2, "table_size": 3, "seed": 1}),
    Example("An unknown attendee: the one error shape", "GET", f"{E}/attendees/zoe/matches"),
]

#: Lines of a response body shown before it is cut.
MAX_LINES = 60


def curl(ex: Example) -> str:
    """The example as a curl command over ``$BASE`` (the server, e.g. http://127.0.0.1:8000) and ``$KEY``."""
    parts = ["curl -s"]
    if ex.method not in ("GET", "POST") or (ex.method == "POST" and ex.body is None):
        parts.append(f"-X {ex.method}")
    parts.append('-H "Authorization: Bearer $KEY"')
    parts += [f"-H '{k}: {v}'" for k, v in ex.headers]
    if ex.body is not None:
        parts.append(f"-H 'Content-Type: {ex.content_type}'")
        data = json.dumps(ex.body) if ex.content_type == "application/json" else ex.body
        parts.append("--data-binary " + shlex.quote(data))
    parts.append(f'"$BASE{ex.path}"')
    return " \\\n     ".join(parts)


def _shown(body: str) -> str:
    try:
        text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        text = body
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"… ({len(lines) - MAX_LINES} more lines)"]
    return "\n".join(lines)


def wait_job(client, path: str, headers: dict[str, str], timeout: float = 30.0) -> None:
    """Poll a job until it is done or failed (so the example shows its answer)."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end and client.get(path, headers=headers).get_json().get("status") in ("queued",
                                                                                                 "running"):
        time.sleep(0.02)


def run_examples(create_app) -> list[dict[str, Any]]:
    """Every example run in order against a private in-memory app made by ``create_app`` (the app factory):
    title, note, curl, status, shown body."""
    import shutil
    import tempfile

    tmp = tempfile.mkdtemp(prefix="matchmaker-docs-")  # a file, not memory: the job thread has its own connection
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/docs.sqlite", "ENCODER": "hashing", "HASHING_DIM": 64,
                      "TESTING": True, "RATE_LIMIT": ""})
    store = app.extensions["matchmaker"].store
    key = store.create_key("docs")
    client = app.test_client()
    out = []
    job = ""
    try:
        for ex in EXAMPLES:
            headers = {"Authorization": f"Bearer {key}", **dict(ex.headers)}
            kw: dict[str, Any] = {}
            if ex.body is not None:
                headers["Content-Type"] = ex.content_type
                kw["data"] = json.dumps(ex.body) if ex.content_type == "application/json" else ex.body
            path = ex.path.replace("$JOB", job)
            if "/jobs/" in path:
                wait_job(client, path, headers)
            r = client.open(path, method=ex.method, headers=headers, **kw)
            if r.status_code == 202:
                job = r.get_json()["id"]
            out.append({"title": ex.title, "note": ex.note, "curl": curl(ex), "status": r.status_code,
                        "body": _shown(r.get_data(as_text=True))})
    finally:
        store.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
    return out
