"""Delivery reports: signed by the gateway (HMAC, constant time), idempotent, tolerant of
reports that come out of order or before the worker has recorded the send."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cplan.models import Contact
from cplan.models.broadcasts import BroadcastMessage, DeliveryState, reference_of
from cplan.services import outbox
from cplan.services.outbox import Policy
from tests.fake_gateway import signed_report
from tests.test_sms_worker import broadcast_to, world  # noqa: F401 - the fixture

SECRET = "dlr-shared-secret-0123456789"
DAY = datetime(2026, 11, 20, 5, 30, tzinfo=UTC)
URL = "/broadcasts/delivery-reports/http"


@pytest.fixture
def reports(app, client):
    app.config["SMS_DLR_SECRET"] = SECRET

    def post(*items, secret=SECRET):
        body, headers = signed_report(secret, list(items))
        return client.post(URL, data=body, headers=headers)

    return post


@pytest.fixture
def messages(db, world):  # noqa: F811 - the fixture imported above
    broadcast_to(db, world, 3)
    outbox.claim("worker", 10, Policy(), now=DAY)
    rows = list(db.session.scalars(select(BroadcastMessage).order_by(BroadcastMessage.id)))
    outbox.record_sent(rows[0].id, "fg-1", now=DAY)
    db.session.commit()
    return rows


def state_of(db, message):
    db.session.expire_all()
    return db.session.get(BroadcastMessage, message.id)


def test_a_signed_report_marks_the_message_delivered(db, reports, messages):
    answer = reports({"reference": reference_of(messages[0].id), "status": "delivered"})
    assert answer.status_code == 200 and answer.json == {"results": ["applied"]}
    message = state_of(db, messages[0])
    assert message.state == DeliveryState.DELIVERED and message.delivered_at is not None


def test_a_report_with_a_wrong_or_no_signature_changes_nothing(db, client, reports, messages):
    report = {"reference": reference_of(messages[0].id), "status": "failed"}
    assert reports(report, secret="not-the-secret").status_code == 401
    body, headers = signed_report(SECRET, [report])
    headers.pop("X-Signature")
    assert client.post(URL, data=body, headers=headers).status_code == 401
    headers["X-Signature"] = "sha256=" + "é" * 64  # not even ASCII
    assert client.post(URL, data=body, headers=headers).status_code == 401
    assert state_of(db, messages[0]).state == DeliveryState.SENT


def test_a_duplicated_failure_report_counts_one_unreachable_attempt(db, reports, messages):
    report = {"reference": reference_of(messages[0].id), "status": "failed", "reason": "DND"}
    assert reports(report).json == {"results": ["applied"]}
    assert reports(report).json == {"results": ["already"]}
    message = state_of(db, messages[0])
    assert message.state == DeliveryState.FAILED and message.error == "DND"
    assert db.session.get(Contact, message.contact_id).unreachable_count == 1


def test_a_report_before_the_send_is_recorded_is_kept_and_a_stale_one_ignored(
    db, reports, messages
):
    early = messages[1]  # claimed, the worker has not recorded the gateway's answer yet
    assert state_of(db, early).state == DeliveryState.SENDING
    answer = reports(
        {"reference": reference_of(early.id), "status": "delivered", "id": "fg-2"},
        {"reference": reference_of(early.id), "status": "sent", "id": "fg-2"},  # late, stale
    )
    assert answer.json == {"results": ["applied", "already"]}
    assert outbox.record_sent(early.id, "fg-2") is False  # the worker's answer arrives last
    db.session.commit()
    message = state_of(db, early)
    assert message.state == DeliveryState.DELIVERED and message.gateway_id == "fg-2"


def test_unknown_references_are_answered_not_applied(db, reports, messages):
    answer = reports(
        {"reference": "cplan-99999999", "status": "delivered"},
        {"reference": "someone-else-1", "status": "delivered"},
        {"reference": reference_of(messages[2].id), "status": "bounced"},
    )
    assert answer.json == {"results": ["unknown", "unknown", "unknown"]}


def test_reports_need_a_configured_secret(app, client, messages):
    app.config["SMS_DLR_SECRET"] = None
    body, headers = signed_report("", [{"reference": "cplan-1", "status": "delivered"}])
    assert client.post(URL, data=body, headers=headers).status_code == 404


def test_the_fake_gateway_calls_back_the_running_app_with_delivery_reports(app, db, world):  # noqa: F811
    import threading

    from werkzeug.serving import make_server

    from cplan.workers.sms_worker import Worker
    from tests.fake_gateway import FakeGateway
    from tests.test_sms_worker import http_gateway

    app.config["SMS_DLR_SECRET"] = SECRET
    gateway = FakeGateway().start()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    try:
        broadcast_to(db, world, 4)
        Worker(http_gateway(gateway), Policy(), rate=0, clock=lambda: DAY).round()
        db.session.commit()  # the app's server thread writes next (SQLite: no lock held here)
        thread.start()
        answer = gateway.push_reports(
            f"http://127.0.0.1:{server.port}{URL}", SECRET, host=app.config["SERVER_NAME"]
        )
        assert answer == {"results": ["applied"] * 4}
    finally:
        server.shutdown()
        gateway.stop()
    db.session.expire_all()
    delivered = db.session.scalars(select(BroadcastMessage.state)).all()
    assert delivered == [DeliveryState.DELIVERED] * 4


def test_the_broadcast_page_counts_messages_by_state_with_the_reasons(
    db,
    client,
    login_as,
    reports,
    messages,
    world,  # noqa: F811
):
    reports(
        {"reference": reference_of(messages[0].id), "status": "delivered"},
        {"reference": reference_of(messages[1].id), "status": "failed", "reason": "DND"},
    )
    login_as(world["sp"])
    page = client.get(f"/broadcasts/{messages[0].broadcast_id}").get_data(as_text=True)
    for state, count in (("delivered", 1), ("failed", 1), ("sending", 1), ("queued", 0)):
        assert f'data-state="{state}">{count}<' in page, state
    assert "DND: 1" in page
    assert 'http-equiv="refresh"' in page  # one message is still with the worker
