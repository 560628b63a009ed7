"""Webhooks: a real HTTP receiver on localhost; signatures verified with the ``standardwebhooks`` package;
retries with backoff, failure after the last attempt, replay with the same id, the background sender."""

from __future__ import annotations

import http.server
import json
import threading
import time

import pytest
from service_support import api_for, assert_error, make_app, seed
from standardwebhooks import Webhook

from service import webhooks

PEOPLE = [{"id": "ana", "name": "Ana", "role": "founder", "company": "A"},
          {"id": "ben", "name": "Ben", "role": "investor", "company": "B"}]
SETUP = {"timezone": "UTC", "locations": [{"id": "T1"}],
         "sessions": [{"date": "2026-06-03", "start": "09:00", "end": "10:00", "minutes": 30}]}


class Receiver:
    """Records every POST; answers the next status in ``script`` (then 200)."""

    def __init__(self, script=()):
        self.script = list(script)
        self.got: list[tuple[dict, str]] = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                outer.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                code = outer.script.pop(0) if outer.script else 200
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def setup_event(app):
    api = api_for(app, "acme")
    seed(api, "e1", PEOPLE)
    assert api.put("/v1/events/e1/meeting-setup", json=SETUP).status_code == 200
    return api


def test_signed_deliveries_retries_failure_and_replay(db, monkeypatch):
    app = make_app(db, WEBHOOK_SENDER=False)
    api = setup_event(app)
    rx = Receiver(script=[500])
    try:
        assert_error(api.post("/v1/events/e1/webhooks", json={"url": rx.url, "types": ["meeting.nope"]}), 400,
                     "validation_error", "unknown type 'meeting.nope'")
        reg = api.post("/v1/events/e1/webhooks", json={"url": rx.url})
        assert reg.status_code == 201
        secret = reg.get_json()["secret"]
        assert secret.startswith("whsec_")
        assert "secret" not in api.get("/v1/events/e1/webhooks").get_json()["webhooks"][0]
        r = api.post("/v1/events/e1/meeting-requests", json={"requester": "ana", "recipient": "ben"}).get_json()
        api.post(f"/v1/events/e1/meeting-requests/{r['id']}/accept", json={"actor": "ben"})
        engine = app.extensions["matchmaker"].store.engine
        monkeypatch.setattr(webhooks, "BACKOFF", (0, 0, 0))
        assert webhooks.deliver_due(engine) == 3  # requested, accepted, scheduled; the first gets a 500
        first = rx.got[0]
        assert webhooks.deliver_due(engine) == 1  # the retry (backoff 0 here)
        assert len(rx.got) == 4
        wh = Webhook(secret)
        for headers, body in rx.got:
            payload = wh.verify(body, headers)  # raises on a bad signature
            assert payload["data"]["event"] == "e1"
        assert rx.got[3][0]["webhook-id"] == first[0]["webhook-id"]  # a retry keeps its id
        types = [json.loads(b)["type"] for _, b in rx.got[1:]]
        assert sorted(types) == ["meeting.accepted", "meeting.requested", "meeting.scheduled"]
        sched = next(json.loads(b) for _, b in rx.got if json.loads(b)["type"] == "meeting.scheduled")
        assert sched["data"]["request"]["slot"] == "2026-06-03T09:00" and sched["data"]["actor"] == "system"
        with pytest.raises(Exception, match="signature"):
            Webhook(webhooks.new_secret()).verify(rx.got[1][1], rx.got[1][0])
        listed = api.get("/v1/events/e1/webhook-deliveries").get_json()["deliveries"]
        assert len(listed) == 3 and {d["status"] for d in listed} == {"delivered"}
        retried = next(d for d in listed if d["id"] == first[0]["webhook-id"])
        assert retried["attempts"] == 2 and retried["last_status"] == 200
        # replay: same id again
        assert api.post(f"/v1/events/e1/webhook-deliveries/{retried['id']}/replay", json={}).status_code == 200
        assert webhooks.deliver_due(engine) == 1
        assert rx.got[-1][0]["webhook-id"] == retried["id"]
        # a receiver that never answers 2xx: failed after the last attempt
        rx.script = [503] * 10
        api.post(f"/v1/events/e1/meeting-requests/{r['id']}/held", json={"actor": "ana"})
        for _ in range(5):
            webhooks.deliver_due(engine)
        failed = api.get("/v1/events/e1/webhook-deliveries?status=failed").get_json()["deliveries"]
        assert len(failed) == 1 and failed[0]["attempts"] == 4 and failed[0]["last_error"] == "HTTP 503"
        assert failed[0]["type"] == "meeting.held"
    finally:
        rx.close()
        app.extensions["matchmaker"].store.dispose()


def test_decline_tells_both_lists_changed_and_the_sender_runs_by_itself(db):
    app = make_app(db)  # background sender on
    api = setup_event(app)
    rx = Receiver()
    try:
        api.post("/v1/events/e1/webhooks", json={"url": rx.url, "types": ["attendee.list_changed"]})
        r = api.post("/v1/events/e1/meeting-requests", json={"requester": "ana", "recipient": "ben"}).get_json()
        api.post(f"/v1/events/e1/meeting-requests/{r['id']}/decline", json={"actor": "ben"})
        end = time.monotonic() + 20
        while len(rx.got) < 2 and time.monotonic() < end:
            time.sleep(0.1)
        bodies = sorted(json.loads(b)["data"]["attendee"] for _, b in rx.got)
        assert bodies == ["ana", "ben"]
    finally:
        app.extensions["webhook_sender"].stop()
        rx.close()
        app.extensions["matchmaker"].store.dispose()


def test_an_upsert_tells_the_lists_changed(db):
    app = make_app(db)  # background sender on
    api = setup_event(app)
    rx = Receiver()
    try:
        api.post("/v1/events/e1/webhooks", json={"url": rx.url, "types": ["attendee.list_changed"]})
        assert api.post("/v1/events/e1/attendees", json={"attendees": [
            {"id": "cy", "name": "Cy", "role": "investor", "goals": ["founders"]}]}).status_code == 200
        end = time.monotonic() + 20
        while not rx.got and time.monotonic() < end:
            time.sleep(0.1)
        data = json.loads(rx.got[0][1])["data"]
        assert data["attendees"] == ["cy"] and data["event"] == "e1"
        listed = api.get("/v1/events/e1/webhook-deliveries").get_json()["deliveries"]
        assert [d["type"] for d in listed] == ["attendee.list_changed"]
    finally:
        app.extensions["webhook_sender"].stop()
        rx.close()
        app.extensions["matchmaker"].store.dispose()
