"""The meetings API on SQLite and PostgreSQL: setup, requests and every transition with its errors, booking on
acceptance, the schedule run, agendas (.ics parsed back), stats, idempotency keys, tenant scoping, and two app
instances (own engines, one database) accepting the same request at the same moment."""

from __future__ import annotations

import threading

import icalendar
import pytest
from service_support import Api, api_for, assert_error, make_app, seed

PEOPLE = [
    {"id": "ana", "name": "Ana Lima", "role": "founder", "company": "PayFlow", "goals": ["seed funding"],
     "offers": ["payments demos"]},
    {"id": "ben", "name": "Ben Okafor", "role": "investor", "company": "Northwind", "goals": ["fintech founders"],
     "offers": ["seed funding"]},
    {"id": "cy", "name": "Cy Park", "role": "investor", "company": "Globex", "goals": ["fintech founders"],
     "offers": ["seed funding"]},
    {"id": "di", "name": "Di Chen", "role": "founder", "company": "PayFlow", "goals": ["seed funding"],
     "offers": ["lending api"]},
    {"id": "ed", "name": "Ed Gray", "role": "mentor", "company": "", "goals": ["mentees"], "offers": ["advice"],
     "blocked": ["ben"]},
]

SETUP = {
    "timezone": "Europe/Berlin",
    "sessions": [{"date": "2026-06-03", "start": "09:00", "end": "10:00", "minutes": 20}],
    "locations": [{"id": "T1", "name": "Table 1"}, {"id": "T2", "name": "Table 2"}],
    "availability": {"cy": {"unavailable": ["2026-06-03T09:00"]}},
    "limits": {"default": {"max_pending_outgoing": 2}},
}
S1, S2, S3 = "2026-06-03T09:00", "2026-06-03T09:20", "2026-06-03T09:40"


@pytest.fixture
def api(app) -> Api:
    a = api_for(app, "acme")
    seed(a, "e1", PEOPLE)
    r = a.put("/v1/events/e1/meeting-setup", json=SETUP)
    assert r.status_code == 200, r.get_json()
    return a


def ask(api, a, b, **kw):
    r = api.post("/v1/events/e1/meeting-requests", json={"requester": a, "recipient": b, **kw})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def act(api, rid, action, **body):
    return api.post(f"/v1/events/e1/meeting-requests/{rid}/{action}", json=body)


def test_setup_slots_locations_availability(api):
    s = api.get("/v1/events/e1/slots").get_json()
    assert [x["id"] for x in s["slots"]] == [S1, S2, S3] and s["timezone"] == "Europe/Berlin"
    assert s["slots"][0]["start"] == "2026-06-03T09:00:00+02:00"
    assert [x["id"] for x in api.get("/v1/events/e1/locations").get_json()["locations"]] == ["T1", "T2"]
    av = api.get("/v1/events/e1/attendees/cy/availability").get_json()
    assert av["slots"] == [S2, S3]
    r = api.put("/v1/events/e1/attendees/ana/availability", json={"slots": [S2, S3]})
    assert r.status_code == 200 and r.get_json()["slots"] == [S2, S3]
    assert_error(api.put("/v1/events/e1/attendees/ana/availability", json={"slots": ["nope"]}), 400,
                 "validation_error", "availability of 'ana' names unknown slot 'nope'")
    assert_error(api.put("/v1/events/e1/attendees/zed/availability", json={}), 404, "not_found", "zed")
    bad = dict(SETUP, timezone="Mars/Base")
    assert_error(api.put("/v1/events/e1/meeting-setup", json=bad), 400, "validation_error", "unknown time zone")
    bad = dict(SETUP, quotas=[{"attendee": "zed", "minimum": 2}])
    assert_error(api.put("/v1/events/e1/meeting-setup", json=bad), 422, "unknown_attendee", "zed")
    r = api.put("/v1/events/e1/locations", json={"locations": [{"id": "T9"}]})
    assert r.status_code == 200 and [x["id"] for x in r.get_json()["locations"]] == ["T9"]
    r = api.put("/v1/events/e1/slots", json={"sessions": [{"date": "2026-06-03", "start": "14:00", "end": "15:00",
                                                            "minutes": 30}]})
    # cy's availability names a slot that would vanish
    assert_error(r, 400, "validation_error", "availability of 'cy' names unknown slot '2026-06-03T09:00'")


def test_requests_accept_books_the_earliest_common_slot_and_records_every_transition(api):
    r = ask(api, "ana", "cy", note="Seed round")
    assert r["state"] == "requested"
    assert_error(act(api, r["id"], "accept", actor="ana"), 403, "forbidden",
                 "only the recipient 'cy' can accept request")
    assert_error(act(api, r["id"], "accept", actor="ben"), 403, "forbidden", "'ben' is not a party")
    assert_error(act(api, r["id"], "accept"), 400, "validation_error", "say who acts")
    out = act(api, r["id"], "accept", actor="cy")
    assert out.status_code == 200, out.get_json()
    body = out.get_json()
    # cy is away at 9:00: the earliest slot both can make is 9:20, at the first free table
    assert body["state"] == "scheduled" and body["slot"] == S2 and body["location"] == "T1"
    assert body["booking"] == {"booked": True, "slot": S2, "location": "T1"}
    hist = api.get(f"/v1/events/e1/meeting-requests/{r['id']}/transitions").get_json()["transitions"]
    assert [(h["from"], h["to"], h["actor"]) for h in hist] == [
        (None, "requested", "attendee:ana"), ("requested", "accepted", "attendee:cy"),
        ("accepted", "scheduled", "system")]
    assert_error(act(api, r["id"], "accept", actor="cy"), 409, "illegal_transition", "it was accepted already")
    assert_error(act(api, r["id"], "decline", actor="cy"), 409, "illegal_transition")
    # ana's next meeting goes around the first
    r2 = ask(api, "ben", "ana")
    assert act(api, r2["id"], "accept", actor="ana").get_json()["slot"] == S1
    # held / no-show / cancel
    assert act(api, r["id"], "held", actor="ana").get_json()["state"] == "held"
    assert_error(act(api, r["id"], "cancel", actor="ana"), 409, "illegal_transition", "the meeting was held")
    assert act(api, r2["id"], "no-show", organizer=True).get_json()["state"] == "no_show"
    assert_error(act(api, r2["id"], "explode", organizer=True), 404, "not_found", "unknown action 'explode'")


def test_decline_is_a_no_for_both_and_rules_refuse_pairs(api):
    r = ask(api, "ben", "ana")
    assert act(api, r["id"], "decline", actor="ana").get_json()["state"] == "declined"
    assert_error(act(api, r["id"], "accept", actor="ana"), 409, "illegal_transition", "a decline is a no for both")
    assert_error(api.post("/v1/events/e1/meeting-requests", json={"requester": "ana", "recipient": "ben"}),
                 409, "declined", "a decline is a no for both")
    assert api.get("/v1/events/e1/declined-pairs").get_json() == {"pairs": [["ana", "ben"]]}
    # the decliner's list no longer shows the requester
    ids = [m["id"] for m in api.get("/v1/events/e1/attendees/ana/matches?limit=10").get_json()["matches"]]
    assert "ben" not in ids
    # matching rules: same company, blocked
    assert_error(api.post("/v1/events/e1/meeting-requests", json={"requester": "ana", "recipient": "di"}),
                 422, "not_allowed", "both work at PayFlow")
    assert_error(api.post("/v1/events/e1/meeting-requests", json={"requester": "ben", "recipient": "ed"}),
                 422, "not_allowed", "one of them blocked the other")
    assert_error(api.post("/v1/events/e1/meeting-requests", json={"requester": "ana", "recipient": "zed"}),
                 422, "unknown_attendee", "recipient: unknown attendee 'zed'")
    assert_error(api.post("/v1/events/e1/meeting-requests", json={"requester": "ana", "recipient": "ana"}),
                 400, "validation_error", "oneself")


def test_pending_limit_duplicates_and_cancel(api):
    r1 = ask(api, "ana", "ben")
    assert_error(api.post("/v1/events/e1/meeting-requests", json={"requester": "ben", "recipient": "ana"}),
                 409, "duplicate_request", "already have an open request")
    ask(api, "ana", "cy")
    assert_error(api.post("/v1/events/e1/meeting-requests", json={"requester": "ana", "recipient": "ed"}),
                 422, "limit_reached", "ana has 2 requests waiting for an answer")
    assert act(api, r1["id"], "cancel", actor="ana").get_json()["state"] == "cancelled"
    ask(api, "ana", "ed")  # room again


def test_manual_scheduling_names_the_rule_it_would_break(api):
    r = ask(api, "ana", "cy")
    api.put("/v1/events/e1/meeting-setup", json=dict(SETUP, locations=[{"id": "T1"}]))
    # one table: accept books 9:20 (cy is away at 9:00); unschedule and place by hand
    assert act(api, r["id"], "accept", actor="cy").get_json()["slot"] == S2
    assert_error(act(api, r["id"], "schedule", organizer=True, slot=S3), 409, "illegal_transition")
    assert act(api, r["id"], "unschedule", organizer=True).get_json()["state"] == "accepted"
    assert_error(act(api, r["id"], "schedule", actor="ana", slot=S3), 403, "forbidden", "only the event")
    assert_error(act(api, r["id"], "schedule", organizer=True, slot=S1), 422, "unavailable",
                 "cy is not available in slot 2026-06-03T09:00")
    assert_error(act(api, r["id"], "schedule", organizer=True, slot="x"), 422, "unknown_slot")
    r2 = ask(api, "di", "ben")
    assert act(api, r2["id"], "accept", actor="ben").get_json()["slot"] == S1
    assert act(api, r2["id"], "unschedule", organizer=True).status_code == 200
    assert act(api, r2["id"], "schedule", organizer=True, slot=S3).get_json()["location"] == "T1"
    assert_error(act(api, r["id"], "schedule", organizer=True, slot=S3), 409, "full", "no location is free")
    ok = act(api, r["id"], "schedule", organizer=True, slot=S2, location="T1")
    assert ok.status_code == 200 and ok.get_json()["slot"] == S2


def test_accept_without_a_free_slot_says_why(api):
    api.put("/v1/events/e1/meeting-setup", json=dict(SETUP, locations=[{"id": "T1", "slots": [S2]}]))
    r1, r2 = ask(api, "ana", "cy"), ask(api, "di", "ben")
    assert act(api, r1["id"], "accept", actor="cy").get_json()["slot"] == S2
    body = act(api, r2["id"], "accept", actor="ben").get_json()
    assert body["state"] == "accepted" and body["booking"]["booked"] is False
    assert "no free location" in body["booking"]["reason"]


def test_schedule_run_agendas_ics_and_stats(api):
    ask(api, "ana", "cy")
    rb = ask(api, "ben", "ana")
    r = api.post("/v1/events/e1/must-meet", json={"a": "ed", "b": "cy", "note": "Mentor session"})
    assert r.status_code == 201
    for x in api.get("/v1/events/e1/meeting-requests?state=requested").get_json()["requests"]:
        api.post(f"/v1/events/e1/meeting-requests/{x['id']}/accept", json={"actor": x["recipient"]})
    run = api.post("/v1/events/e1/schedule-runs", json={"seed": 1, "time_limit": 2})
    assert run.status_code == 200, run.get_json()
    body = run.get_json()
    assert body["report"]["violations"] == [] and body["report"]["scheduled_must_meet"] == 1
    assert body["applied"]["created"] == 1  # the must-meet pair became a meeting
    assert all(m["request"] for m in body["meetings"])  # every meeting points at its stored request
    pairs = {frozenset((m["a"], m["b"])) for m in body["meetings"]}
    assert pairs == {frozenset(("ana", "cy")), frozenset(("ana", "ben")), frozenset(("cy", "ed"))}
    # a second run keeps everything where it is
    again = api.post("/v1/events/e1/schedule-runs", json={"seed": 1, "time_limit": 2}).get_json()
    assert again["applied"] == {"scheduled": 0, "moved": 0, "created": 0, "unscheduled": 0}
    ag = api.get("/v1/events/e1/attendees/cy/agenda").get_json()
    assert ag["timezone"] == "Europe/Berlin" and len(ag["meetings"]) == 2
    assert {m["with_name"] for m in ag["meetings"]} == {"Ana Lima", "Ed Gray"}
    ics = api.get("/v1/events/e1/attendees/cy/agenda.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(ics.data)
    evs = sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    starts = [e.decoded("dtstart") for e in evs]
    slots = sorted(m["slot"] for m in ag["meetings"])
    assert [s.strftime("%Y-%m-%dT%H:%M") for s in starts] == slots
    assert all(str(s.tzinfo) == "Europe/Berlin" and s.utcoffset().total_seconds() == 7200 for s in starts)
    assert any("Mentor session" in str(e["description"]) for e in evs)
    st = api.get("/v1/events/e1/meeting-stats").get_json()
    assert st["requests"]["sent"] == 3 and st["meetings"]["scheduled"] == 3
    assert st["people_without_meeting"] == ["di"]
    assert rb["id"]


def test_idempotency_key_replays_and_refuses_reuse(api):
    h = {"Idempotency-Key": "k-1"}
    first = api.post("/v1/events/e1/meeting-requests", json={"requester": "ana", "recipient": "cy"}, headers=h)
    again = api.post("/v1/events/e1/meeting-requests", json={"requester": "ana", "recipient": "cy"}, headers=h)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(api.get("/v1/events/e1/meeting-requests").get_json()["requests"]) == 1
    assert_error(api.post("/v1/events/e1/meeting-requests", json={"requester": "ana", "recipient": "ben"},
                          headers=h), 422, "idempotency_key_reused")
    rid = first.get_json()["id"]
    h2 = {"Idempotency-Key": "k-2"}
    a1 = api.post(f"/v1/events/e1/meeting-requests/{rid}/accept", json={"actor": "cy"}, headers=h2)
    a2 = api.post(f"/v1/events/e1/meeting-requests/{rid}/accept", json={"actor": "cy"}, headers=h2)
    assert a1.status_code == a2.status_code == 200 and a1.get_json() == a2.get_json()
    assert_error(api.post(f"/v1/events/e1/meeting-requests/{rid}/accept", json={"actor": "cy"}), 409,
                 "illegal_transition")  # without the key it is a new request, refused


def test_tenants_do_not_see_each_other(app, api):
    other = api_for(app, "globex")
    assert_error(other.get("/v1/events/e1/meeting-setup"), 404, "not_found", "unknown event 'e1'")
    assert_error(other.post("/v1/events/e1/meeting-requests", json={"requester": "ana", "recipient": "cy"}), 404,
                 "not_found")
    seed(other, "e1", PEOPLE)  # the same event id in another tenant is another event
    assert_error(other.get("/v1/events/e1/meeting-setup"), 409, "no_setup", "PUT /v1/events/e1/meeting-setup")
    r = ask(api, "ana", "cy")
    assert_error(other.get(f"/v1/events/e1/meeting-requests/{r['id']}"), 404, "not_found")


def test_two_workers_accepting_the_same_request_give_one_meeting(db, api):
    r = ask(api, "ana", "cy")
    second = make_app(db)  # another app instance: its own engine and pool on the same database
    workers = [api, Api(second, api.key)]
    barrier = threading.Barrier(2)
    out: list = [None, None]

    def go(k):
        barrier.wait()
        resp = workers[k].post(f"/v1/events/e1/meeting-requests/{r['id']}/accept", json={"actor": "cy"})
        out[k] = (resp.status_code, resp.get_json())

    threads = [threading.Thread(target=go, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    second.extensions["matchmaker"].store.dispose()
    codes = sorted(o[0] for o in out)
    assert codes == [200, 409], out
    hist = api.get(f"/v1/events/e1/meeting-requests/{r['id']}/transitions").get_json()["transitions"]
    assert [h["to"] for h in hist] == ["requested", "accepted", "scheduled"]
    ag = api.get("/v1/events/e1/attendees/ana/agenda").get_json()["meetings"]
    assert len(ag) == 1


def test_erasing_an_attendee_or_the_event_erases_their_meetings(app, api):
    r = ask(api, "ana", "cy")
    act(api, r["id"], "accept", actor="cy")
    ask(api, "ben", "cy")
    assert api.post("/v1/events/e1/must-meet", json={"a": "ana", "b": "ben"}).status_code == 201
    assert api.delete("/v1/events/e1/attendees/ana").status_code == 204
    left = api.get("/v1/events/e1/meeting-requests").get_json()["requests"]
    assert [(x["requester"], x["recipient"]) for x in left] == [("ben", "cy")]
    assert api.get("/v1/events/e1/must-meet").get_json() == {"must_meet": []}
    assert api.get(f"/v1/events/e1/meeting-requests/{r['id']}/transitions").status_code == 404
    assert api.get("/v1/events/e1/attendees/cy/agenda").get_json()["meetings"] == []
    assert api.delete("/v1/events/e1").status_code == 204
    from sqlalchemy import func, select

    from service import db as t

    with app.extensions["matchmaker"].store.engine.connect() as c:
        for table in t.MEETING_TABLES:
            assert c.execute(select(func.count()).select_from(table)).scalar_one() == 0, table.name
