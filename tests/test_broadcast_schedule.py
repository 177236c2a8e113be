"""Scheduled broadcasts: stored UTC and shown IST, never sent before their time by the worker,
the quiet hours judged at the scheduled time, and cancelling before the time (audited)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cplan.formats import IST
from cplan.models import AuditEvent
from cplan.models.base import utcnow
from cplan.models.broadcasts import Broadcast, BroadcastMessage, BroadcastStatus, DeliveryState
from cplan.services import broadcasts, sms_gateways
from cplan.services.errors import AlreadyDecided, NotAllowed, WorkflowError
from cplan.services.outbox import Policy
from cplan.workers.sms_worker import Worker
from tests import test_broadcasts as base
from tests.test_broadcasts import DAY, compose, principal

world, add_contacts = base.world, base.add_contacts  # the broadcast tests' fixtures

# 2026-11-20 14:00 IST and 22:30 IST
AFTERNOON = DAY + timedelta(hours=3)
LATE = DAY + timedelta(hours=11, minutes=30)


def messages(db, broadcast, state=None):
    query = select(func.count()).where(BroadcastMessage.broadcast_id == broadcast.id)
    if state is not None:
        query = query.where(BroadcastMessage.state == state)
    return db.session.scalar(query)


def worker_at(moment):
    gateway = sms_gateways.MemoryGateway([])
    return Worker(gateway, Policy(), name="test", clock=lambda: moment, rate=0), gateway


def test_a_scheduled_broadcast_is_not_sent_before_its_time(db, world, add_contacts):
    add_contacts(world["bijrol"], 3)
    draft = compose(world["baraut_so"], world["baraut"], send_at=AFTERNOON, now=DAY)
    broadcast = broadcasts.submit(principal(world["baraut_so"]), draft, now=DAY)
    db.session.commit()
    assert broadcast.status == BroadcastStatus.APPROVED and broadcast.send_at == AFTERNOON
    assert messages(db, broadcast, DeliveryState.QUEUED) == 3

    early, gateway = worker_at(AFTERNOON - timedelta(minutes=1))
    assert early.round() == 0 and gateway.outbox == []
    # A worker run until idle (``--until-idle``) stops: a later broadcast is no work for now.
    assert early.run(poll=0.01, until_idle=True).sent == 0
    on_time, gateway = worker_at(AFTERNOON)
    assert on_time.round() == 3
    assert len(gateway.outbox) == 3 and messages(db, broadcast, DeliveryState.SENT) == 3


def test_the_quiet_hours_apply_to_the_scheduled_time_not_to_when_it_is_composed(
    db, world, add_contacts
):
    add_contacts(world["bijrol"], 2)
    night = compose(world["baraut_so"], world["baraut"], send_at=LATE, now=DAY)
    with pytest.raises(WorkflowError, match="21:00"):
        broadcasts.submit(principal(world["baraut_so"]), night, now=DAY)
    # Composed at 22:30 IST for 14:00 IST the next day: accepted.
    tomorrow = AFTERNOON + timedelta(days=1)
    draft = compose(world["baraut_so"], world["baraut"], send_at=tomorrow, now=LATE)
    broadcast = broadcasts.submit(principal(world["baraut_so"]), draft, now=LATE)
    assert broadcast.send_at == tomorrow
    # The SP office may schedule an urgent one at night.
    urgent = compose(world["sp"], world["baraut"], send_at=LATE, urgent=True, now=DAY)
    assert broadcasts.submit(principal(world["sp"]), urgent, now=DAY).send_at == LATE


def test_an_approval_at_night_of_a_broadcast_scheduled_for_the_day_is_accepted(
    db, world, add_contacts
):
    add_contacts(world["bijrol"], 101)
    draft = compose(
        world["baraut_so"], world["baraut"], send_at=AFTERNOON + timedelta(days=1), now=DAY
    )
    broadcast = broadcasts.submit(principal(world["baraut_so"]), draft, now=DAY)
    assert broadcast.status == BroadcastStatus.AWAITING_APPROVAL
    broadcasts.decide(principal(world["asp"]), broadcast.id, broadcast.version, "approve", now=LATE)
    assert messages(db, broadcast) == 101
    early, gateway = worker_at(AFTERNOON + timedelta(days=1) - timedelta(seconds=1))
    assert early.round() == 0


def test_a_time_already_past_or_too_far_ahead_is_refused(db, world, add_contacts):
    add_contacts(world["bijrol"], 1)
    with pytest.raises(WorkflowError, match="still to come"):
        compose(world["baraut_so"], world["baraut"], send_at=DAY - timedelta(minutes=1), now=DAY)
    with pytest.raises(WorkflowError, match="30 days"):
        compose(world["baraut_so"], world["baraut"], send_at=DAY + timedelta(days=31), now=DAY)


def test_a_scheduled_broadcast_cancelled_before_its_time_sends_nothing(db, world, add_contacts):
    add_contacts(world["bijrol"], 3)
    draft = compose(world["baraut_so"], world["baraut"], send_at=AFTERNOON, now=DAY)
    broadcast = broadcasts.submit(principal(world["baraut_so"]), draft, now=DAY)
    # A constable of the station neither composed it nor approves broadcasts.
    with pytest.raises(NotAllowed):
        broadcasts.cancel(principal(world["constable"]), broadcast.id, broadcast.version, now=DAY)
    broadcasts.cancel(principal(world["baraut_so"]), broadcast.id, broadcast.version, now=DAY)
    db.session.commit()
    assert broadcast.status == BroadcastStatus.CANCELLED
    assert broadcast.cancelled_by_officer_id == world["baraut_so"].id
    assert messages(db, broadcast) == 0
    worker, gateway = worker_at(AFTERNOON)
    assert worker.round() == 0 and gateway.outbox == []
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "broadcast.cancelled"))
    assert event.target_id == broadcast.id and '"messages":3' in event.detail


def test_a_broadcast_that_has_started_cannot_be_cancelled(db, world, add_contacts):
    add_contacts(world["bijrol"], 2)
    draft = compose(world["baraut_so"], world["baraut"], send_at=AFTERNOON, now=DAY)
    broadcast = broadcasts.submit(principal(world["baraut_so"]), draft, now=DAY)
    db.session.commit()
    with pytest.raises(WorkflowError, match="started"):
        broadcasts.cancel(
            principal(world["baraut_so"]), broadcast.id, broadcast.version, now=AFTERNOON
        )
    # Its time has not come by the canceller's clock, but a worker took the messages already.
    worker, _gateway = worker_at(AFTERNOON)
    worker.round()
    with pytest.raises(WorkflowError, match="started"):
        broadcasts.cancel(principal(world["baraut_so"]), broadcast.id, broadcast.version, now=DAY)
    db.session.rollback()
    assert db.session.get(Broadcast, broadcast.id).status == BroadcastStatus.APPROVED
    assert messages(db, broadcast, DeliveryState.SENT) == 2
    # Nor does its page offer it: two messages sent, none queued.
    sent = {state: 0 for state in DeliveryState} | {DeliveryState.SENT: 2}
    seen = db.session.get(Broadcast, broadcast.id)
    assert not broadcasts.may_cancel(principal(world["baraut_so"]), seen, now=DAY, counts=sent)
    assert broadcasts.may_cancel(principal(world["baraut_so"]), seen, now=DAY)


def test_a_cancel_with_a_stale_version_is_told_and_changes_nothing(db, world, add_contacts):
    add_contacts(world["bijrol"], 101)
    draft = compose(world["baraut_so"], world["baraut"])
    broadcast = broadcasts.submit(principal(world["baraut_so"]), draft, now=DAY)
    seen = broadcast.version
    broadcasts.decide(principal(world["asp"]), broadcast.id, seen, "reject", note="not needed")
    with pytest.raises((AlreadyDecided, WorkflowError)):
        broadcasts.cancel(principal(world["baraut_so"]), broadcast.id, seen, now=DAY)
    assert broadcast.status == BroadcastStatus.REJECTED


def test_scheduling_and_cancelling_on_the_pages_show_ist(client, db, world, add_contacts, login_as):
    add_contacts(world["bijrol"], 2)
    db.session.commit()
    login_as(world["baraut_so"])
    page = client.get(f"/broadcasts/new?station={world['baraut'].id}")
    assert b'name="send_at"' in page.data and b'type="datetime-local"' in page.data
    template = base.alert()
    when = (
        (utcnow() + timedelta(days=1))
        .astimezone(IST)
        .replace(hour=11, minute=15, second=0, microsecond=0)
    )
    form = {
        "template": str(template.id),
        "value_1": "the Baraut fair",
        "value_2": "112",
        "station": str(world["baraut"].id),
        "audience": "places",
        "send_at": when.strftime("%Y-%m-%dT%H:%M"),
        "send": "1",
    }
    answer = client.post(f"/broadcasts/new?station={world['baraut'].id}", data=form)
    assert answer.status_code == 302
    broadcast = db.session.scalar(select(Broadcast).order_by(Broadcast.id.desc()))
    assert broadcast.send_at == when  # stored as the same instant, in UTC
    assert broadcast.send_at.utcoffset() == timedelta(0)
    shown = client.get(answer.location).get_data(as_text=True)
    assert "11:15" in shown and "Cancel the broadcast" in shown
    cancelled = client.post(
        f"/broadcasts/{broadcast.id}/cancel", data={"version": broadcast.version}
    )
    assert cancelled.status_code == 302
    shown = client.get(cancelled.location).get_data(as_text=True)
    assert "nothing of it will be sent" in shown and "Withdrawn" in shown
    assert "Cancel the broadcast" not in shown
