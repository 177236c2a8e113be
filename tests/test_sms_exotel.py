"""The Exotel adapter against the fake gateway's Exotel route: the request Exotel documents
(basic authentication, form fields, DLT ids, our reference as CustomField, a signed status
callback per message), accepted, refused, busy, timed out, wrong credentials; its status
callbacks recorded (signed by a token in the URL, idempotent, failures counted); and, since
Exotel does not deduplicate, a message sent again after a worker died reaches the phone twice
and is counted as a duplicate."""

import urllib.parse
from datetime import timedelta

import pytest
from sqlalchemy import select

from cplan.models import Contact
from cplan.models.broadcasts import BroadcastMessage, DeliveryState, reference_of
from cplan.services import outbox, sms_gateways
from cplan.services.outbox import Policy
from cplan.services.sms_gateways import ExotelGateway, Outgoing
from cplan.workers.sms_worker import Worker
from tests import test_sms_worker as base
from tests.test_sms_worker import DAY, broadcast_to, clock_at, states

world, gateway = base.world, base.gateway  # the worker tests' fixtures
SECRET = "dlr-shared-secret-0123456789"
CALLBACK_BASE = "https://cplan.example"


def exotel(gateway, key="exo-key", token="exo-token", timeout=2.0):
    return ExotelGateway(
        gateway.url,
        "uppolice1",
        key,
        token,
        "UPPCPL",
        "1201000000000000001",
        callback_base=CALLBACK_BASE,
        callback_secret=SECRET,
        timeout=timeout,
    )


@pytest.fixture
def callbacks(app, client):
    """Post the fake gateway's status callbacks to the app, as Exotel would."""
    app.config["SMS_DLR_SECRET"] = SECRET

    def post(pairs):
        answers = []
        for url, form in pairs:
            assert url.startswith(CALLBACK_BASE)
            answer = client.post(url.removeprefix(CALLBACK_BASE), data=form)
            answers.append((answer.status_code, answer.json))
        return answers

    return post


def test_a_message_goes_out_as_exotel_documents_it(db, world, gateway):
    broadcast = broadcast_to(db, world, 2)
    worker = Worker(exotel(gateway), Policy(), rate=0, clock=clock_at(DAY))
    assert worker.round() == 2
    assert states(db) == {DeliveryState.SENT: 2}
    first = db.session.scalars(select(BroadcastMessage).order_by(BroadcastMessage.id)).first()
    (fields,) = [
        request["fields"]
        for request in gateway.requests
        if request["reference"] == reference_of(first.id)
    ]
    assert fields["From"] == "UPPCPL" and fields["To"] == first.to_number
    assert fields["Body"] == broadcast.body and fields["EncodingType"] == "plain"
    assert fields["DltEntityId"] == "1201000000000000001"
    assert fields["DltTemplateId"] == broadcast.template.template_id
    assert fields["CustomField"] == reference_of(first.id)
    callback = urllib.parse.urlsplit(fields["StatusCallback"])
    query = dict(urllib.parse.parse_qsl(callback.query))
    assert callback.path == "/broadcasts/delivery-reports/exotel"
    assert query["ref"] == reference_of(first.id)
    assert sms_gateways.callback_token_ok(SECRET, query["ref"], query["sig"])
    assert first.gateway_id.startswith("exo-")


def test_a_hindi_message_is_sent_as_unicode(gateway):
    server = exotel(gateway)
    outcome = server.send(Outgoing("cplan-1", "+919700000001", "अफवाह पर ध्यान न दें", "12", True))
    assert outcome.accepted
    assert gateway.requests[0]["fields"]["EncodingType"] == "unicode"
    assert gateway.requests[0]["text"] == "अफवाह पर ध्यान न दें"


def test_refused_busy_and_timed_out_messages(db, world, gateway):
    broadcast_to(db, world, 3)
    gateway.refuse.add("919700000001")
    gateway.busy["919700000002"] = 1
    gateway.slow.add("919700000003")
    gateway.slow_seconds = 1.0
    worker = Worker(exotel(gateway, timeout=0.3), Policy(backoff=60), rate=0, clock=clock_at(DAY))
    worker.round()
    assert states(db) == {DeliveryState.FAILED: 1, DeliveryState.QUEUED: 2}
    rows = db.session.execute(select(BroadcastMessage.to_number, BroadcastMessage.error)).all()
    errors = {number: error for number, error in rows}
    assert errors["+919700000001"] == "FAILED_DLT_TEMPLATE"  # permanent: not retried
    assert errors["+919700000002"] == "BUSY"
    assert errors["+919700000003"].startswith("gateway unreachable")


def test_wrong_credentials_are_refused_not_retried(db, world, gateway):
    broadcast_to(db, world, 1)
    worker = Worker(exotel(gateway, token="wrong"), Policy(), rate=0, clock=clock_at(DAY))
    worker.round()
    message = db.session.scalars(select(BroadcastMessage)).one()
    db.session.refresh(message)
    assert message.state == DeliveryState.FAILED and message.error == "UNAUTHORIZED"
    assert gateway.delivered == []


def test_status_callbacks_mark_messages_delivered_once(db, world, gateway, callbacks):
    broadcast_to(db, world, 2)
    Worker(exotel(gateway), Policy(), rate=0, clock=clock_at(DAY)).round()
    db.session.commit()
    assert callbacks(gateway.exotel_callbacks()) == [(200, {"results": ["applied"]})] * 2
    assert states(db) == {DeliveryState.DELIVERED: 2}
    # Exotel retries a callback it thinks was lost: nothing changes.
    assert callbacks(gateway.exotel_callbacks()) == [(200, {"results": ["already"]})] * 2
    # A late "sent" after "delivered" does not move a message back.
    assert callbacks(gateway.exotel_callbacks("sent")) == [(200, {"results": ["already"]})] * 2
    assert states(db) == {DeliveryState.DELIVERED: 2}


def test_a_failed_callback_gives_the_reason_and_counts_an_unreachable_attempt(
    db, world, gateway, callbacks
):
    broadcast_to(db, world, 1)
    Worker(exotel(gateway), Policy(), rate=0, clock=clock_at(DAY)).round()
    db.session.commit()
    pairs = [
        (url, {**form, "DetailedStatus": "FAILED_DND"})
        for url, form in gateway.exotel_callbacks("failed")
    ]
    assert callbacks(pairs) == [(200, {"results": ["applied"]})]
    db.session.expire_all()
    message = db.session.scalars(select(BroadcastMessage)).one()
    assert message.state == DeliveryState.FAILED and message.error == "FAILED_DND"
    assert db.session.get(Contact, message.contact_id).unreachable_count == 1


def test_a_callback_with_a_wrong_token_or_another_messages_token_changes_nothing(
    db, world, gateway, callbacks
):
    broadcast_to(db, world, 2)
    Worker(exotel(gateway), Policy(), rate=0, clock=clock_at(DAY)).round()
    db.session.commit()
    (first_url, form), (second_url, _) = gateway.exotel_callbacks("failed")
    first_sig = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(first_url).query))["sig"]
    second_ref = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(second_url).query))["ref"]
    forged = f"{CALLBACK_BASE}/broadcasts/delivery-reports/exotel?ref={second_ref}&sig={first_sig}"
    no_token = f"{CALLBACK_BASE}/broadcasts/delivery-reports/exotel?ref={second_ref}"
    assert [status for status, _ in callbacks([(forged, form), (no_token, form)])] == [401, 401]
    assert states(db) == {DeliveryState.SENT: 2}


def test_a_message_resent_after_a_worker_died_is_delivered_twice_and_counted(db, world, gateway):
    broadcast_to(db, world, 3)
    db.session.commit()
    policy = Policy(lease=60)
    server = exotel(gateway)
    # A worker claims the batch, sends it, and dies before recording anything.
    claimed = outbox.claim("dying", 10, policy, now=DAY)
    db.session.commit()
    texts = outbox.bodies({message.broadcast_id for message in claimed})
    db.session.rollback()
    for message in claimed:
        text, template_id, unicode = texts[message.broadcast_id]
        server.send(
            Outgoing(reference_of(message.id), message.to_number, text, template_id, unicode)
        )
    # Once the lease has passed, another worker takes the rows over and sends them again.
    later = Worker(server, policy, rate=0, clock=lambda: DAY + timedelta(seconds=61))
    assert later.round() == 3
    assert states(db) == {DeliveryState.SENT: 3}
    assert gateway.duplicates == 3 and len(gateway.delivered) == 6
