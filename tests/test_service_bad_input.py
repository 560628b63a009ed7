"""The bad-input catalogue of the hardening pass (issue 13), table-driven: every case answers the one error shape
with a 4xx naming what is wrong, never a 500, fast, and leaves every stored row exactly as it was.

The expected answers are the documented ones: malformed JSON (NaN, Infinity, numbers that overflow a double,
integers of thousands of digits) is ``400 invalid_json``; JSON the models refuse is ``400 validation_error``
with the field named; rules no plan can honour are ``422 infeasible``.
"""

from __future__ import annotations

import json
import time

import pytest
from service_support import TOY, api_for, assert_error, drop_db, make_app, make_db, seed
from sqlalchemy import select

E = "/v1/events/e1"
BIG = "1" + "0" * 4300  # 4,301 digits: past Python's int-from-string limit


def _nest(n: int, leaf: str = "1") -> str:
    return "[" * n + leaf + "]" * n


def _objs(n: int) -> str:
    return '{"a":' * n + "1" + "}" * n


def fill(template: str, value: object) -> str:
    """``template`` with ``@`` replaced by ``value`` (JSON bodies are full of braces)."""
    return template.replace("@", str(value))


def _person(extra: str) -> str:
    return fill('{"attendees":[{"id":"x",@}]}', extra)


#: (name, method, path, raw body, status, code, field named in details (or None), regex on the message)
CASES = [
    ("metadata 256 deep", "post", f"{E}/attendees", _person(fill('"metadata":{"a":@}', _nest(256))),
     400, "validation_error", "attendees[0].metadata", "nested more than 32 levels"),
    ("metadata 900 deep", "post", f"{E}/attendees", _person(fill('"metadata":{"a":@}', _nest(900))),
     400, "validation_error", "attendees[0].metadata", "nested more than 32"),
    ("metadata objects 900 deep (patch)", "patch", f"{E}/attendees/founder", fill('{"metadata":@}', _objs(900)),
     400, "validation_error", "metadata", "nested more than 32"),
    ("body 5000 deep", "post", f"{E}/attendees", _person(fill('"metadata":{"a":@}', _nest(5000))),
     400, "invalid_json", None, "nested too deeply"),
    ("lone surrogate in metadata", "post", f"{E}/attendees", _person('"metadata":{"a":"\\udfff"}'),
     400, "validation_error", "attendees[0].metadata", "lone surrogate U\\+DFFF"),
    ("lone surrogate in a metadata key", "post", f"{E}/attendees", _person('"metadata":{"\\ud800":1}'),
     400, "validation_error", None, "attendees\\[0\\]\\.metadata.*unicode"),
    ("lone surrogate in a name", "post", f"{E}/attendees", _person('"name":"\\ud800"'),
     400, "validation_error", "attendees[0].name", "unicode"),
    ("lone surrogate in a patch", "patch", f"{E}/attendees/founder", '{"bio":"a\\udfffb"}',
     400, "validation_error", "bio", "unicode"),
    ("lone surrogate in an event id", "post", "/v1/events", '{"id":"\\ud800x"}',
     400, "validation_error", "id", "unicode"),
    ("4301-digit integer in metadata", "post", f"{E}/attendees", _person(fill('"metadata":{"a":@}', BIG)),
     400, "invalid_json", None, "integer of 4301 digits"),
    ("4301-digit integer as a policy limit", "patch", E, fill('{"policy":{"default_limit":@}}', BIG),
     400, "invalid_json", None, "integer of 4301 digits"),
    ("4301-digit integer in feedback", "post", f"{E}/feedback",
     fill('{"from_id":"founder","to_id":"investor","kind":@}', BIG), 400, "invalid_json", None, "4301 digits"),
    ("4301-digit integer in a table plan", "post", f"{E}/table-plans", fill('{"table_size":2,"rounds":@}', BIG),
     400, "invalid_json", None, "4301 digits"),
    ("4301-digit integer in a patch", "patch", f"{E}/attendees/founder", fill('{"metadata":{"n":-@}}', BIG),
     400, "invalid_json", None, "4301 digits"),
    ("10**30 in metadata", "post", f"{E}/attendees", _person(fill('"metadata":{"a":@}', 10**30)),
     400, "validation_error", "attendees[0].metadata", "64 bits"),
    ("NaN in metadata", "post", f"{E}/attendees", _person('"metadata":{"a":NaN}'),
     400, "invalid_json", None, "NaN, which JSON does not allow"),
    ("Infinity in metadata", "post", f"{E}/attendees", _person('"metadata":{"a":Infinity}'),
     400, "invalid_json", None, "Infinity"),
    ("-Infinity in metadata", "post", f"{E}/attendees", _person('"metadata":{"a":-Infinity}'),
     400, "invalid_json", None, "-Infinity"),
    ("1e400 in metadata", "post", f"{E}/attendees", _person('"metadata":{"a":1e400}'),
     400, "invalid_json", None, "1e400, beyond the range of a double"),
    ("NaN as diversity", "patch", E, '{"policy":{"diversity":NaN}}', 400, "invalid_json", None, "NaN"),
    ("metadata over 64 KiB", "post", f"{E}/attendees", _person(fill('"metadata":{"a":"@"}', ("m" * 70000))),
     400, "validation_error", "attendees[0].metadata", "at most 65536"),
    ("negative table-plan seed", "post", f"{E}/table-plans", '{"table_size":2,"seed":-1}',
     400, "validation_error", "seed", "greater than or equal to 0"),
    ("capacity 10**12", "post", f"{E}/table-plans", fill('{"capacities":[@]}', 10**12),
     400, "validation_error", "capacities", "seats at most 1000"),
    ("capacity 10**30", "post", f"{E}/table-plans", fill('{"capacities":[@]}', 10**30),
     400, "validation_error", "capacities", "seats at most 1000"),
    ("capacity 12,000 for 4 people", "post", f"{E}/table-plans", '{"capacities":[12000]}',
     400, "validation_error", "capacities", "seats at most 1000"),
    ("1,000 seats for 4 people", "post", f"{E}/table-plans", '{"capacities":[1000]}',
     400, "validation_error", "capacities", "1000 seats for 4 people; at most 104"),
    ("100k capacities", "post", f"{E}/table-plans", fill('{"capacities":[@]}', ",".join(["1"] * 100_000)),
     400, "validation_error", "capacities", "100000 seats for 4 people"),
    ("150k copies of one id", "post", f"{E}/table-plans",
     json.dumps({"table_size": 2, "attendees": ["founder"] * 150_000}),
     400, "validation_error", "attendees", "duplicate id 'founder'"),
    ("feedback id of 10k characters", "post", f"{E}/feedback",
     json.dumps({"from_id": "founder", "to_id": "x" * 10_000, "kind": "met"}),
     400, "validation_error", "to_id", "at most 200"),
    ("id '.'", "post", f"{E}/attendees", _person('"name":"dot"').replace('"x"', '"."'),
     400, "validation_error", "attendees[0].id", "must not be '.' or '..'"),
    ("id '..'", "post", f"{E}/attendees", '{"attendees":[{"id":".."}]}',
     400, "validation_error", "attendees[0].id", "must not be '.' or '..'"),
    ("event id '..'", "post", "/v1/events", '{"id":".."}', 400, "validation_error", "id", "'.' or '..'"),
    ("right-to-left override", "post", f"{E}/attendees", '{"attendees":[{"id":"ana\\u202egpj.exe"}]}',
     400, "validation_error", "attendees[0].id", "U\\+202E \\(RIGHT-TO-LEFT OVERRIDE\\)"),
    ("zero-width space", "post", f"{E}/attendees", '{"attendees":[{"id":"an\\u200ba"}]}',
     400, "validation_error", "attendees[0].id", "U\\+200B"),
    ("byte order mark", "post", "/v1/events", '{"id":"\\ufeffe2"}', 400, "validation_error", "id", "U\\+FEFF"),
    ("C1 control", "post", f"{E}/attendees", '{"attendees":[{"id":"a\\u009bb"}]}',
     400, "validation_error", "attendees[0].id", "U\\+009B"),
    ("C0 control", "post", f"{E}/attendees", '{"attendees":[{"id":"a\\u0007b"}]}',
     400, "validation_error", "attendees[0].id", "control characters"),
    ("bidi override in a connection", "post", f"{E}/attendees",
     '{"attendees":[{"id":"y","connections":["founder\\u202e"]}]}',
     400, "validation_error", "attendees[0].connections", "U\\+202E"),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request, tmp_path):
    db = make_db(request.param, tmp_path)
    app = make_app(db)
    a = api_for(app, "acme")
    seed(a, attendees=TOY[:4])
    yield a
    app.extensions["matchmaker"].store.dispose()
    drop_db(db)


def stored(api) -> dict[str, list]:
    """Every row of every table, sorted: what "nothing stored changed" compares."""
    from service import db

    store = api.app.extensions["matchmaker"].store
    with store.engine.connect() as c:
        return {t.name: sorted(tuple(map(repr, r)) for r in c.execute(select(t)))
                for t in db.metadata.sorted_tables}


def test_the_catalogue_has_no_duplicate_names():
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_4xx_that_changes_nothing(api, case):
    name, method, path, body, status, code, field, match = case
    before = stored(api)
    started = time.perf_counter()
    r = getattr(api, method)(path, data=body.encode("utf-8", "surrogatepass"),
                             headers={"Content-Type": "application/json"})
    took = time.perf_counter() - started
    err = assert_error(r, status, code, match)
    if field is not None:
        assert field in {d["field"] for d in err["details"]}, err
    assert took < 5, f"{name}: {took:.1f} s"
    assert stored(api) == before, name


def test_rows_stored_under_older_rules_still_load(tmp_path):
    """An id stored before '..' and bidi overrides were refused still loads, matches and can be erased."""
    from models import Attendee
    from models.ids import STORED

    db = make_db("sqlite", tmp_path)
    app = make_app(db)
    api = api_for(app, "acme")
    seed(api, attendees=TOY[:2])
    store = app.extensions["matchmaker"].store
    old = [Attendee.model_validate({"id": x, "goals": ["seed funding for fintech"]}, context=STORED)
           for x in ("..", "eve\u202e")]
    with pytest.raises(ValueError, match="'.' or '..'"):
        Attendee.model_validate({"id": ".."})
    pk = store.get_event(store.tenant_id("acme"), "e1").pk
    store.upsert_attendees(pk, old)
    store.dispose()

    again = api_for(make_app(db), "acme")  # a new process over the same rows
    assert again.get(f"{E}/attendees").get_json()["total"] == 4
    assert ".." in {m["id"] for m in again.get(f"{E}/attendees/investor/matches?limit=5").get_json()["matches"]}
    assert again.delete(f"{E}/attendees/eve%E2%80%AE").status_code == 204
    assert again.get(f"{E}/attendees").get_json()["total"] == 3
    again.app.extensions["matchmaker"].store.dispose()
