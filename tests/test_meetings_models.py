"""Meeting documents: slots, sessions, breaks, locations, limits, quotas, requests and the transition table."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from models import InvalidInput, parse_meeting_requests, parse_meeting_setup
from models.meetings import STATES, TRANSITIONS, IllegalTransition, MeetingRequest, check_transition


def setup_doc(**kw):
    doc = {"timezone": "Europe/Berlin", "locations": [{"id": "T1"}],
           "sessions": [{"date": "2026-06-03", "start": "09:00", "end": "10:00", "minutes": 15}]}
    doc.update(kw)
    return doc


def test_sessions_expand_in_the_event_zone_and_breaks_remove_slots():
    s = parse_meeting_setup(setup_doc(breaks=[{"start": "2026-06-03T09:20", "end": "2026-06-03T09:40",
                                               "name": "coffee"}]))
    # 09:15-09:30 and 09:30-09:45 overlap the break
    assert [x.id for x in s.slots] == ["2026-06-03T09:00", "2026-06-03T09:45"]
    assert s.slots[0].start.utcoffset() == dt.timedelta(hours=2)  # CEST in June


def test_utc_times_are_converted_to_the_event_zone():
    s = parse_meeting_setup(setup_doc(sessions=[], slots=[{"id": "x", "start": "2026-01-10T08:00:00Z",
                                                           "end": "2026-01-10T08:20:00Z"}]))
    assert s.slots[0].start.hour == 9 and s.slots[0].start.utcoffset() == dt.timedelta(hours=1)


@pytest.mark.parametrize("doc, message", [
    (setup_doc(timezone="Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
    (setup_doc(sessions=[], slots=[{"id": "a", "start": "2026-06-03T09:00", "end": "2026-06-03T09:30"},
                                   {"id": "b", "start": "2026-06-03T09:15", "end": "2026-06-03T09:45"}]),
     "slots a and b overlap"),
    (setup_doc(sessions=[], slots=[{"id": "a", "start": "2026-06-03T09:00", "end": "2026-06-03T08:30"}]),
     "end 2026-06-03T08:30:00 is not after start"),
    (setup_doc(sessions=[]), "no meeting slots"),
    (setup_doc(locations=[]), "locations: list should have at least 1 item"),
    (setup_doc(locations=[{"id": "T1"}, {"id": "T1"}]), "location id 'T1' is used twice"),
    (setup_doc(locations=[{"id": "T1", "slots": ["nope"]}]), "location 'T1' is open in unknown slot 'nope'"),
    (setup_doc(availability={"ana": {"slots": ["2026-06-03T11:00"]}}), "availability of 'ana' names unknown slot"),
    (setup_doc(quotas=[{"attendee": "s", "minimum": 5, "target": 3}]), "target 3 is below minimum 5"),
    (setup_doc(locations=[{"id": "T1", "capacity": 0}]), "locations[0].capacity"),
])
def test_bad_setups_name_what_is_wrong(doc, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        parse_meeting_setup(doc)


def test_limits_most_specific_wins():
    s = parse_meeting_setup(setup_doc(limits={"default": {"max_per_day": 6, "max_pending_outgoing": 20},
                                              "roles": {"Investor": {"max_per_day": 10}},
                                              "attendees": {"vip": {"max_per_day": 2}}}))
    assert s.limits.for_attendee("x", "investor").max_per_day == 10
    assert s.limits.for_attendee("x", "investor").max_pending_outgoing == 20
    assert s.limits.for_attendee("vip", "investor").max_per_day == 2
    assert s.limits.for_attendee("y", "founder").max_per_day == 6


def test_availability_slots_and_unavailable():
    s = parse_meeting_setup(setup_doc(availability={
        "a": {"unavailable": ["2026-06-03T09:00"]},
        "b": {"slots": ["2026-06-03T09:00", "2026-06-03T09:15"], "unavailable": ["2026-06-03T09:15"]}}))
    assert s.available_slots("a") == ["2026-06-03T09:15", "2026-06-03T09:30", "2026-06-03T09:45"]
    assert s.available_slots("b") == ["2026-06-03T09:00"]
    assert len(s.available_slots("anyone")) == 4


def test_requests_document():
    with pytest.raises(InvalidInput, match=r"requests\[1\].id: duplicate id 'r1'"):
        parse_meeting_requests({"requests": [{"id": "r1", "requester": "a", "recipient": "b"},
                                             {"id": "r1", "requester": "a", "recipient": "c"}]})
    with pytest.raises(InvalidInput, match="cannot request a meeting with themself"):
        parse_meeting_requests({"requests": [{"id": "r1", "requester": "a", "recipient": "a"}]})
    with pytest.raises(InvalidInput, match="state"):
        parse_meeting_requests({"requests": [{"id": "r1", "requester": "a", "recipient": "b", "state": "maybe"}]})
    with pytest.raises(InvalidInput, match="only a scheduled, held or no-show meeting has a slot"):
        parse_meeting_requests({"requests": [{"id": "r1", "requester": "a", "recipient": "b",
                                              "slot": "s", "location": "T"}]})


def _req(state):
    return MeetingRequest(id="r", requester="a", recipient="b", state=state)


def test_every_legal_transition_is_allowed_for_its_actor():
    for src, targets in TRANSITIONS.items():
        for dst, who in targets.items():
            r = _req(src)
            if "system" in who:
                check_transition(r, dst, system=True)
            if who & {"party", "recipient", "requester", "organizer"}:
                check_transition(r, dst, organizer=True)
            if "party" in who:
                check_transition(r, dst, actor="a")
                check_transition(r, dst, actor="b")
            if "recipient" in who:
                check_transition(r, dst, actor="b")


@pytest.mark.parametrize("state, to, kw, message", [
    ("requested", "accepted", {"actor": "a"}, "only the recipient 'b' can accept request 'r' (you are 'a')"),
    ("requested", "declined", {"actor": "a"}, "only the recipient 'b' can decline"),
    ("requested", "accepted", {"actor": "z"}, "'z' is not a party to request 'r'"),
    ("requested", "expired", {"actor": "a"}, "only the event can expire"),
    ("requested", "scheduled", {"organizer": True}, "cannot become scheduled"),
    ("accepted", "declined", {"actor": "b"}, "cannot become declined"),
    ("declined", "accepted", {"actor": "b"}, "a decline is a no for both"),
    ("cancelled", "accepted", {"actor": "b"}, "a cancelled request is final"),
    ("expired", "accepted", {"actor": "b"}, "an expired request is final"),
    ("held", "no_show", {"organizer": True}, "the meeting was held"),
    ("accepted", "scheduled", {"actor": "a"}, "only the event can schedule"),
    ("requested", "bogus", {"actor": "b"}, "unknown state 'bogus'"),
])
def test_illegal_transitions_say_why(state, to, kw, message):
    with pytest.raises(IllegalTransition, match=re.escape(message)):
        check_transition(_req(state), to, **kw)


def test_final_states_have_no_exit():
    for state in STATES:
        if state not in TRANSITIONS:
            for to in STATES:
                with pytest.raises(IllegalTransition):
                    check_transition(_req(state), to, organizer=True, system=True)
