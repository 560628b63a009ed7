"""The /docs page shows real examples: each request was answered by this code (statuses and bodies as sent),
in order, on a private in-memory event; the page needs nothing from the network."""

from __future__ import annotations

import json
import re

from service_support import make_app, make_db

from service.docs import EXAMPLES, run_examples


def test_examples_are_real_answers():
    from service.app import create_app

    got = run_examples(create_app)
    assert [g["title"] for g in got] == [e.title for e in EXAMPLES]
    status = {g["title"]: g["status"] for g in got}
    assert [g["status"] for g in got] == [201, 200, 200, 422, 202, 200, 200, 200, 200, 200, 201, 200, 200, 404]
    by = {g["title"]: g for g in got}
    assert '"next_cursor"' in by["Attendees' full profiles, page by page"]["body"]
    assert "row 3, column 'Attendee #' (id)" in by["A broken export: every bad row named, nothing written"]["body"]
    assert status["Who should Ana meet?"] == 200 and '"ben"' in by["Who should Ana meet?"]["body"]
    assert all(g["curl"].startswith("curl -s") and '"$BASE/v1/' in g["curl"] for g in got)
    polled = json.loads(by["Poll the job"]["body"])
    assert polled["status"] == "done" and polled["result"]["created"] == 1


def test_docs_page_renders_them_offline(tmp_path):
    app = make_app(make_db("sqlite", tmp_path))
    html = app.test_client().get("/docs").get_data(as_text=True)
    for e in EXAMPLES:
        assert e.title.replace("'", "&#39;") in html
    assert "Response 422" in html and "cannot import the spreadsheet" in html
    assert not re.search(r"(src|href)=\"https?://", html)
    app.extensions["matchmaker"].store.dispose()
