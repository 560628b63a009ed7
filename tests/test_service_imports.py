"""Registration spreadsheets through the attendee upsert over HTTP: the sample CSV export (with and without its
column mapping), the same rows as an XLSX workbook and as a multipart form, every bad row of a broken export named
(422) with nothing written, and unreadable uploads refused with a 4xx that says why."""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import quote

import pytest
from service_support import Api, api_for, assert_error, make_app

DATA = Path(__file__).resolve().parents[1] / "scripts" / "data"
SAMPLE = (DATA / "sample_registrations.csv").read_bytes()
MAPPING = (DATA / "sample_registrations_mapping.json").read_text()
URL = "/v1/events/e1/attendees"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def api(db) -> Api:
    app = make_app(db, MAX_BATCH=20)
    a = api_for(app, "acme")
    assert a.post("/v1/events", json={"id": "e1", "name": "Summit"}).status_code == 201
    yield a
    app.extensions["matchmaker"].store.dispose()


def _csv(api: Api, body: bytes, query: str = "", ctype: str = "text/csv"):
    return api.client.post(URL + query, data=body, headers=api._h({"Content-Type": ctype}))


def _xlsx(rows: list[list[str]]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _ids(api: Api) -> list[str]:
    return api.get(URL + "?fields=id").get_json()["attendees"]


def test_sample_export_with_its_mapping(api):
    r = _csv(api, SAMPLE, "?mapping=" + quote(MAPPING))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["upserted"] == 8 and r.get_json()["created"] == 8
    ana = api.get(f"{URL}/1001").get_json()
    assert (ana["name"], ana["title"], ana["company"], ana["role"]) == ("Ana Silva", "CEO", "PayFlow", "Founder")
    assert ana["goals"] == ["Seed funding for our B2B payments startup", "A technical co-founder"]
    assert ana["interests"] == ["fintech", "payments"]  # the custom column, from the mapping
    # the uploaded people are matchable at once
    assert api.get(f"{URL}/1001/matches?limit=3").status_code == 200
    # again without the mapping: the same people, interests no longer read (an upsert replaces them)
    r = _csv(api, SAMPLE, ctype="text/csv; charset=utf-8")
    assert r.get_json()["updated"] == 8 and api.get(f"{URL}/1001").get_json()["interests"] == []


def test_xlsx_body_and_multipart_form_give_the_same_people(api):
    import csv

    rows = list(csv.reader(io.StringIO(SAMPLE.decode("utf-8-sig"))))
    r = _csv(api, _xlsx(rows), "?mapping=" + quote(MAPPING), ctype=XLSX)
    assert r.status_code == 200, r.get_json()
    from_xlsx = [api.get(f"{URL}/{i}").get_json() for i in _ids(api)]
    api.post("/v1/events", json={"id": "e2", "name": "Copy"})
    form = {"file": (io.BytesIO(SAMPLE), "registrations.csv"), "mapping": MAPPING}
    r = api.client.post("/v1/events/e2/attendees", data=form, headers=api._h({}), content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    from_form = [api.get(f"/v1/events/e2/attendees/{i}").get_json() for i in _ids(api)]
    assert from_xlsx == from_form and len(from_xlsx) == 8
    form = {"file": (io.BytesIO(_xlsx(rows)), "registrations.xlsx"), "mapping": MAPPING}
    r = api.client.post("/v1/events/e2/attendees", data=form, headers=api._h({}), content_type="multipart/form-data")
    assert r.status_code == 200 and r.get_json()["updated"] == 8


def test_every_bad_row_is_named_and_nothing_is_written(api):
    _csv(api, b"id,name\nkeep,Keeper\n")
    broken = (b"Attendee #,Full Name,Opt out,Looking for\n"
              b"a1,Ana,no,seed funding\n"
              b"a1,Ana again,no,\n"          # row 3: repeats row 2
              b"a 2,Bo,no,\n"                # row 4: whitespace in the id
              b",Cy,no,\n"                   # row 5: no id
              b"a3,Di,maybe,\n"              # row 6: not yes/no
              b"a4,Ed,yes,a CTO\n")  # a good row: not written either
    err = assert_error(_csv(api, broken), 422, "validation_error", r"cannot import the spreadsheet: row 3")
    fields = [d["field"] for d in err["details"]]
    assert fields == ["row 3, column 'Attendee #' (id)", "row 4, column 'Attendee #' (id)",
                      "row 5, column 'Attendee #' (id)", "row 6, column 'Opt out' (opt_out)"]
    assert "repeats row 2" in err["details"][0]["message"] and "maybe" in err["details"][3]["message"]
    assert _ids(api) == ["keep"]
    # the same rows in a workbook: the same rows named
    import csv

    rows = list(csv.reader(io.StringIO(broken.decode())))
    err = assert_error(_csv(api, _xlsx(rows), ctype=XLSX), 422, "validation_error")
    assert [d["field"] for d in err["details"]] == fields
    assert _ids(api) == ["keep"]
    # a mapped column missing from the header
    err = assert_error(_csv(api, SAMPLE, "?mapping=" + quote(json.dumps({"columns": {"bio": "About me"}}))), 422,
                       "validation_error", "About me")
    assert err["details"][0]["field"] == "header, column 'About me' (bio)"


def test_unreadable_uploads_say_why(api):
    assert_error(_csv(api, b""), 400, "validation_error", "empty")
    assert_error(_csv(api, b"not a workbook", ctype=XLSX), 400, "validation_error", "not a readable .xlsx")
    assert_error(_csv(api, b"x", ctype="application/vnd.ms-excel"), 415, "unsupported_media_type", ".xlsx or .csv")
    assert_error(_csv(api, SAMPLE, "?mapping=%7Bnope"), 400, "validation_error", "mapping: not valid JSON")
    err = assert_error(_csv(api, SAMPLE, "?mapping=" + quote('{"columns": {"hobby": "x"}}')), 400,
                       "validation_error", "mapping.columns.hobby")
    assert err["details"][0]["field"] == "mapping.columns.hobby"
    assert_error(_csv(api, _xlsx([["id"], ["a"]]), "?sheet=Other", ctype=XLSX), 400, "validation_error",
                 "no sheet 'Other'")
    r = api.client.post(URL, data={"mapping": MAPPING}, headers=api._h({}), content_type="multipart/form-data")
    assert_error(r, 400, "validation_error", "'file' field")
    many = ("id\n" + "\n".join(f"p{i}" for i in range(21))).encode()
    assert_error(_csv(api, many), 400, "validation_error", "at most 20 attendees per request; got 21")
    assert _ids(api) == []
