from __future__ import annotations

import json

import pytest

from models import Attendee, ChannelWeights, InvalidInput, MatchPolicy, load_event, parse_event


def _doc(**att):
    return {"event": {"id": "e1", "name": "E"}, "attendees": [{"id": "a", **att}]}


@pytest.mark.parametrize(
    ("attendee", "field", "message"),
    [
        ({"goals": "seed funding"}, "attendees[0].goals", "expected a list of strings, got str 'seed funding'"),
        ({"goals": ["ok", 5]}, "attendees[0].goals[1]", "expected a string, got int 5"),
        ({"offers": {"a": 1}}, "attendees[0].offers", "expected a list of strings"),
        ({"opt_out": "yes"}, "attendees[0].opt_out", "expected true or false"),
        ({"name": 3}, "attendees[0].name", "expected a string, got int 3"),
        ({"linkedin": "x"}, "attendees[0].linkedin", "unknown field"),
        ({"id": ""}, "attendees[0].id", "at least 1 character"),
        ({"id": "a b"}, "attendees[0].id", "must not contain whitespace"),
        ({"goals": ["x" * 600]}, "attendees[0].goals", "at most 500"),
    ],
)
def test_each_bad_field_is_named(attendee, field, message):
    with pytest.raises(InvalidInput) as err:
        parse_event(_doc(**attendee))
    fields = {e["field"]: e["message"] for e in err.value.errors}
    assert field in fields, fields
    assert message in fields[field]


def test_missing_event_and_wrong_document_type():
    with pytest.raises(InvalidInput, match="event: field required"):
        parse_event({"attendees": []})
    with pytest.raises(InvalidInput, match="expected a JSON object"):
        parse_event([1, 2])


def test_duplicate_attendee_ids_name_both_positions():
    doc = {"event": {"id": "e"}, "attendees": [{"id": "a"}, {"id": "b"}, {"id": "a"}]}
    with pytest.raises(InvalidInput, match=r"attendees\[2\]\.id: duplicate id 'a' \(first at attendees\[0\]\)"):
        parse_event(doc)


def test_items_are_cleaned_and_metadata_kept():
    a = Attendee(id="x", goals=["  seed   funding ", "", "seed funding", "a CTO"], metadata={"crm": 7})
    assert a.goals == ["seed funding", "a CTO"]
    assert a.model_dump()["metadata"] == {"crm": 7}


def test_role_rules_are_symmetric_and_case_insensitive():
    p = MatchPolicy(role_rules={"Investor": ["founder"], "founder": ["investor", "mentor"]})
    assert p.may_meet("investor", "FOUNDER")
    assert p.may_meet("founder", "investor")
    assert not p.may_meet("investor", "investor")
    assert not p.may_meet("mentor", "investor")  # the investor's rule forbids it
    assert p.may_meet("mentor", "student")  # no rule for either
    assert MatchPolicy(role_rules={"student": ["*"]}).may_meet("student", "anyone")


def test_weights_must_not_all_be_zero():
    with pytest.raises(ValueError, match="at least one channel weight"):
        ChannelWeights(intent=0, interests=0, lexical=0, mutual=0)


def test_load_event_reports_bad_json_with_position(tmp_path):
    p = tmp_path / "e.json"
    p.write_text('{"event": {"id": "e"},\n "attendees": [}')
    with pytest.raises(InvalidInput, match=r"not valid JSON: .* line 2"):
        load_event(p)
    p.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        load_event(p)
    p.write_text(json.dumps(_doc(goals=["x"])))
    assert load_event(p).attendees[0].goals == ["x"]
