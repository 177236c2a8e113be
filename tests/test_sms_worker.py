"""The outbox worker against a fake gateway on localhost: sent, refused, retried with backoff,
timed out, expired, quiet hours, several workers sharing the work, and a worker killed with
SIGKILL mid-batch that loses nothing and sends nothing twice."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cplan.models import Contact, ContactCategory, ContactStatus, Script
from cplan.models.broadcasts import BroadcastMessage, DeliveryState, reference_of
from cplan.services import broadcasts, dlt, outbox
from cplan.services.outbox import Policy
from cplan.services.principal import Principal
from cplan.services.sms_gateways import HttpGateway, MsdgGateway, Outgoing
from cplan.workers.sms_worker import TokenBucket, Worker
from tests.conftest import TEST_SECRET
from tests.fake_gateway import FakeGateway

DAY = datetime(2026, 11, 20, 5, 30, tzinfo=UTC)  # 11:00 IST
NIGHT = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # 22:30 IST
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def gateway():
    server = FakeGateway().start()
    yield server
    server.stop()


@pytest.fixture
def world(app, make_district, make_station, make_place, make_officer):
    from cplan.devdata.demo_messages import ensure_demo_registry

    ensure_demo_registry()
    district = make_district("Baghpat", code="124")
    station = make_station(district, "Baraut")
    return {
        "station": station,
        "village": make_place("BIJROL", station=station, lgd_code="119300"),
        "sp": make_officer("sp_office", district),
    }


def add_contacts(db, place, number):
    contacts = [
        Contact(
            place_id=place.id,
            unit_path=place.unit_path,
            name=f"Citizen {n}",
            name_script=Script.LATIN,
            category=ContactCategory.TEACHER,
            status=ContactStatus.ACTIVE,
            mobile=f"+9197{n:08d}",
        )
        for n in range(1, number + 1)
    ]
    db.session.add_all(contacts)
    db.session.flush()
    return contacts


def broadcast_to(db, world, number, *, urgent=False, now=DAY):
    add_contacts(db, world["village"], number)
    sp = world["sp"]
    principal = Principal(officer=sp, post=sp.test_post, session=None)
    template = next(t for t in dlt.broadcast_templates() if t.name == "rumour_alert")
    draft = broadcasts.prepare(
        principal,
        template_id=template.id,
        values=["the Baraut fair", "112"],
        station_id=world["station"].id,
        urgent=urgent,
    )
    broadcast = broadcasts.submit(principal, draft, now=now)
    if broadcast.status != broadcast.status.APPROVED:
        raise AssertionError("expected a broadcast queued at once")
    return broadcast


def http_gateway(gateway, timeout=2.0):
    return HttpGateway(f"{gateway.url}/send", "key", "UPPCPL", "1201000000000000001", timeout)


def states(db):
    db.session.expire_all()
    return dict(
        db.session.execute(
            select(BroadcastMessage.state, func.count()).group_by(BroadcastMessage.state)
        ).all()
    )


def clock_at(start):
    """A clock that starts at ``start`` and moves on with real time."""
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def test_the_worker_sends_each_message_once_with_our_reference(db, world, gateway):
    broadcast = broadcast_to(db, world, 12)
    worker = Worker(http_gateway(gateway), Policy(), batch_size=5, rate=0, clock=clock_at(DAY))
    while worker.round():
        pass
    assert states(db) == {DeliveryState.SENT: 12}
    ids = set(
        db.session.scalars(
            select(BroadcastMessage.id).where(BroadcastMessage.broadcast_id == broadcast.id)
        )
    )
    assert set(gateway.accepted) == {reference_of(message_id) for message_id in ids}
    first = gateway.requests[0]
    assert first["template_id"] == "1207000000000000101" and first["sender"] == "UPPCPL"
    assert first["text"] == broadcast.body and first["to"].startswith("9197")
    assert db.session.scalar(select(func.count()).where(BroadcastMessage.gateway_id.is_(None))) == 0


def test_a_permanent_refusal_fails_at_once_and_a_busy_gateway_is_retried_with_backoff(
    db, world, gateway
):
    broadcast_to(db, world, 3)
    gateway.refuse.add("919700000001")
    gateway.busy["919700000002"] = 2
    policy = Policy(backoff=0.2, max_attempts=5)
    worker = Worker(http_gateway(gateway), policy, batch_size=10, rate=0, clock=clock_at(DAY))
    worker.round()
    assert states(db) == {
        DeliveryState.FAILED: 1,
        DeliveryState.QUEUED: 1,
        DeliveryState.SENT: 1,
    }
    refused = db.session.scalars(
        select(BroadcastMessage).where(BroadcastMessage.state == DeliveryState.FAILED)
    ).one()
    assert refused.error == "DLT_TEMPLATE_NOT_MATCHED" and refused.attempts == 1
    busy = db.session.scalars(
        select(BroadcastMessage).where(BroadcastMessage.state == DeliveryState.QUEUED)
    ).one()
    assert busy.error == "BUSY"
    assert worker.round() == 0  # not due before its backoff
    time.sleep(0.25)
    assert worker.round() == 1  # second attempt: busy again, backoff doubles
    db.session.refresh(busy)
    assert busy.attempts == 2 and busy.next_attempt_at - DAY > timedelta(seconds=0.6)
    time.sleep(0.45)
    worker.round()
    assert states(db) == {DeliveryState.FAILED: 1, DeliveryState.SENT: 2}
    assert len([r for r in gateway.requests if r["to"] == "919700000002"]) == 3


def test_a_message_that_keeps_timing_out_fails_after_its_attempts(db, world, gateway):
    broadcast_to(db, world, 1)
    gateway.slow.add("919700000001")
    gateway.slow_seconds = 1.0
    policy = Policy(backoff=0.01, max_attempts=2)
    worker = Worker(http_gateway(gateway, timeout=0.2), policy, rate=0, clock=clock_at(DAY))
    worker.round()
    time.sleep(0.05)
    worker.round()
    message = db.session.scalars(select(BroadcastMessage)).one()
    db.session.refresh(message)
    assert message.state == DeliveryState.FAILED
    assert message.error.startswith("gave up after 2 attempts: gateway unreachable")


def test_messages_not_sent_in_time_expire(db, world, gateway):
    broadcast_to(db, world, 2)
    worker = Worker(http_gateway(gateway), Policy(ttl_hours=1), rate=0, clock=lambda: DAY)
    worker.clock = lambda: DAY + timedelta(hours=2)
    worker.round()
    assert states(db) == {DeliveryState.EXPIRED: 2}
    assert gateway.requests == []


def test_quiet_hours_hold_back_all_but_urgent_broadcasts(db, world, gateway):
    broadcast_to(db, world, 2)  # composed in the day, still queued at night
    worker = Worker(http_gateway(gateway), Policy(), rate=0, clock=lambda: NIGHT)
    assert worker.round() == 0
    broadcast_to(db, world, 1, urgent=True, now=NIGHT)  # the SP office's: 3 contacts now
    assert worker.round() == 3
    worker.clock = lambda: DAY + timedelta(days=1)
    assert worker.round() == 2
    assert states(db) == {DeliveryState.SENT: 5}


def test_two_workers_claim_different_messages_without_waiting(app, db, world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite runs one worker")
    broadcast_to(db, world, 10)
    db.session.commit()
    claimed = {}
    first_claimed, second_done = threading.Event(), threading.Event()

    def first():
        with app.app_context():
            claimed["first"] = [m.id for m in outbox.claim("first", 6, Policy(), now=DAY)]
            first_claimed.set()
            second_done.wait(10)  # holds its row locks until the other has claimed
            db.session.commit()
            db.session.remove()

    def second():
        with app.app_context():
            first_claimed.wait(10)
            started = time.monotonic()
            claimed["second"] = [m.id for m in outbox.claim("second", 6, Policy(), now=DAY)]
            claimed["waited"] = time.monotonic() - started
            db.session.commit()
            second_done.set()
            db.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(claimed["first"]) == 6 and len(claimed["second"]) == 4
    assert not set(claimed["first"]) & set(claimed["second"])
    assert claimed["waited"] < 1


def test_the_token_bucket_spaces_sends_at_its_rate():
    bucket = TokenBucket(rate=20, burst=1)
    started = time.monotonic()
    for _ in range(6):
        bucket.take()
    assert 0.24 < time.monotonic() - started < 1.0  # five waits of 1/20 s


def test_the_msdg_adapter_signs_and_marks_unicode(gateway):
    adapter = MsdgGateway(f"{gateway.url}/msdg", "upp-user", "secret", "key-123", "UPPCPL", 2)
    outcome = adapter.send(
        Outgoing(
            reference="cplan-1",
            to="+919700000001",
            text="यूपी पुलिस",
            template_id="1207000000000000102",
            unicode=True,
        )
    )
    assert outcome.accepted and outcome.gateway_id == "fg-1"
    fields = gateway.requests[0]["fields"]
    assert fields["smsservicetype"] == "unicodemsg" and fields["mobileno"] == "9700000001"
    assert fields["templateid"] == "1207000000000000102"
    assert len(fields["key"]) == 128 and fields["password"] != "secret"


# ---- a worker killed mid-batch --------------------------------------------------------------


def _worker_process(database_url, gateway, name):
    env = {
        **os.environ,
        "CPLAN_DATABASE_URL": database_url,
        "CPLAN_SECRET_KEY": TEST_SECRET,
        "CPLAN_ENV_NAME": "testing",
        "CPLAN_SMS_BROADCAST_BACKEND": "http",
        "CPLAN_SMS_BROADCAST_URL": f"{gateway.url}/send",
        "CPLAN_SMS_SENDER_ID": "UPPCPL",
        "CPLAN_SMS_RATE_PER_SECOND": "0",
        "CPLAN_SMS_WORKER_LEASE_SECONDS": "1",
        "CPLAN_SMS_WORKER_BATCH_SIZE": "10",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "cplan", "sms-worker"]
        + ["--poll", "0.2", "--until-idle", "--name", name],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    db, world, gateway, database_url
):
    total = 40
    # Now and urgent: the worker runs on the real clock, whatever the hour of the test run.
    broadcast_to(db, world, total, urgent=True, now=datetime.now(UTC))
    db.session.commit()
    # The 15th request (in the second batch of 10) is accepted by the gateway and its answer
    # held back: the worker is killed before it can record its batch.
    gateway.hold_at = 15
    gateway.hold_seconds = 3
    worker = _worker_process(database_url, gateway, "first")
    deadline = time.monotonic() + 60
    while len(gateway.requests) < 15 and time.monotonic() < deadline:
        if worker.poll() is not None:
            pytest.fail(worker.communicate()[0].decode())
        time.sleep(0.005)
    os.kill(worker.pid, signal.SIGKILL)
    worker.communicate(timeout=10)
    assert worker.returncode == -signal.SIGKILL

    time.sleep(0.2)  # let the gateway finish reading what was already on the wire
    before_restart = len(gateway.requests)
    left = states(db)
    db.session.rollback()  # SQLite: hold no lock while the next worker runs
    # The first batch was recorded; the second (the 15th request among them) was claimed and
    # partly sent, but the worker died before recording it.
    assert left[DeliveryState.SENT] == 10
    assert left[DeliveryState.SENDING] == 10
    assert left[DeliveryState.QUEUED] == total - 20
    assert before_restart >= 15

    restarted = _worker_process(database_url, gateway, "second")
    output = restarted.communicate(timeout=90)[0].decode()
    assert restarted.returncode == 0, output

    assert states(db) == {DeliveryState.SENT: total}
    # Each message reached a handset once. Those of the second batch the gateway had already
    # accepted were sent again under the same reference and recognised as duplicates.
    ids = sorted(db.session.scalars(select(BroadcastMessage.id)))
    assert len(gateway.delivered) == total, (sorted(gateway.accepted), ids)
    assert set(gateway.accepted) == {m["reference"] for m in gateway.requests}
    assert gateway.duplicates == before_restart - 10 >= 5
    assert len(gateway.requests) == total + gateway.duplicates


def test_finished_messages_are_purged_a_year_on_and_unsent_ones_kept(db, world, gateway):
    from cplan.services import retention

    broadcast_to(db, world, 3)
    worker = Worker(http_gateway(gateway), Policy(), batch_size=2, rate=0, clock=lambda: DAY)
    worker.round()  # two sent, one still queued
    step = next(
        step
        for step in retention.plan(DAY + timedelta(days=366))
        if step.data_class.name == "broadcast_messages"
    )
    assert step.expired == 2
    assert retention.purge_batch(step, 100) == 2
    assert states(db) == {DeliveryState.QUEUED: 1}
