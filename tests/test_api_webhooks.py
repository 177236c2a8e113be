"""Webhooks: the state control room's system gets each incident change pushed, signed;
failures are retried with backoff, and a day of them pauses the subscription, which the control
room sees and resumes. The receiving end is a real HTTP server on localhost."""

import http.server
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from cplan.extensions import db as _db
from cplan.models import WebhookDelivery
from cplan.models.base import utcnow
from cplan.services import webhooks
from tests.api_contract import report


class _Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (the name http.server calls)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.received.append((headers, body))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(app):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Receiver)
    server.received, server.status = [], 200
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    app.config["WEBHOOK_ALLOW_HTTP"] = True
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def run_worker(now=None):
    made = webhooks.fan_out(now)
    results = [webhooks.attempt(i, now) for i in webhooks.due(now)]
    _db.session.commit()
    return made, results


def test_each_incident_change_is_pushed_once_and_signed(db, api_world, api_as, receiver):
    control_room = api_as(api_world["supervisor"])
    report(api_as(api_world["constable"]), api_world["bijrol"])  # before: not sent
    created = control_room.post("/api/v1/webhooks", {"url": receiver.url})
    assert created.status_code == 201
    secret = created.get_json()["secret"]
    assert secret.startswith("whsec_")
    incident = report(api_as(api_world["kotwali_so"]), api_world["sisana"]).get_json()
    assert run_worker() == (1, [True])
    assert run_worker() == (0, [])
    headers, body = receiver.received[0]
    assert webhooks.verify(secret, headers, body)
    assert not webhooks.verify(secret, headers, body + b" ")
    assert not webhooks.verify(webhooks.new_secret(), headers, body)
    event = json.loads(body)
    assert event["type"] == "incident.changed"
    assert event["data"]["incident"]["id"] == incident["id"]
    listed = control_room.get("/api/v1/webhooks").get_json()["items"]
    assert "secret" not in listed[0] and listed[0]["pending"] == 0


def test_failures_are_retried_with_backoff_and_a_day_of_them_pauses_it(
    db, api_world, api_as, receiver
):
    control_room = api_as(api_world["supervisor"])
    control_room.post("/api/v1/webhooks", {"url": receiver.url})
    report(api_as(api_world["constable"]), api_world["bijrol"])
    receiver.status = 500
    start = utcnow()
    assert run_worker(start) == (1, [False])
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    assert delivery.next_attempt_at - start == timedelta(seconds=30)
    assert run_worker(start + timedelta(seconds=10)) == (0, [])  # not due yet
    assert run_worker(start + timedelta(seconds=31)) == (0, [False])
    db.session.refresh(delivery)
    assert delivery.next_attempt_at - (start + timedelta(seconds=31)) == timedelta(minutes=1)
    assert run_worker(start + timedelta(days=1, seconds=1)) == (0, [False])
    listed = control_room.get("/api/v1/webhooks").get_json()["items"][0]
    assert listed["active"] is False and listed["paused_at"] and listed["last_error"] == "HTTP 500"
    assert listed["pending"] == 1
    assert run_worker(start + timedelta(days=2)) == (0, [])  # paused: nothing is sent
    receiver.status = 204
    resumed = control_room.post(f"/api/v1/webhooks/{listed['id']}/resume")
    assert resumed.status_code == 200 and resumed.get_json()["active"] is True
    assert run_worker()[1] == [True]


def test_only_the_control_room_registers_https_webhooks(db, api_world, api_as, app):
    assert (
        api_as(api_world["sp_office"])
        .post("/api/v1/webhooks", {"url": "https://example.org/hook"})
        .status_code
        == 403
    )
    refused = api_as(api_world["supervisor"]).post(
        "/api/v1/webhooks", {"url": "http://example.org/hook"}
    )
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "url"


def test_the_worker_command_sends_what_is_due(db, api_world, api_as, receiver, runner):
    api_as(api_world["supervisor"]).post("/api/v1/webhooks", {"url": receiver.url})
    report(api_as(api_world["constable"]), api_world["bijrol"])
    db.session.commit()
    result = runner.invoke(args=["cplan", "api", "webhooks", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 new deliveries, 1 sent, 0 to retry" in result.output
    assert len(receiver.received) == 1
