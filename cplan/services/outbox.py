"""The broadcast outbox: one row per (broadcast, contact), and the rules workers follow.

``enqueue`` writes a broadcast's messages with one ``INSERT ... SELECT`` in the caller's
transaction (the approval's), so a broadcast is either approved with all its messages queued or
neither. Workers (``cplan.workers.sms_worker``) then:

* ``claim`` a batch: ``queued`` rows that are due, and ``sending`` rows whose claim is older than
  the lease (their worker died), moved to ``sending`` in one short transaction. On PostgreSQL the
  rows are picked with ``FOR UPDATE SKIP LOCKED``, so several workers on several machines share
  the work without waiting for each other or taking the same row; on SQLite (one worker) the
  write lock does the same. Outside 09:00-21:00 IST only urgent broadcasts' rows are claimed.
* send each with our message id as the gateway's reference, holding no transaction meanwhile;
* ``record`` the outcome: ``sent``; or back to ``queued`` after an exponential backoff for a
  temporary error (timeout, HTTP 429/5xx) until ``max_attempts``; or ``failed`` at once with the
  reason for a permanent one (DLT scrubbing, a bad number).

A worker killed at any point loses nothing: a claimed row it never sent, or sent but never
recorded, is claimed again once the lease has passed and sent again under the same reference,
which the gateway deduplicates. Queued rows older than the time-to-live become ``expired``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, literal, or_, select, update

from cplan.extensions import db
from cplan.models.base import UTCDateTime, utcnow
from cplan.models.broadcasts import Broadcast, BroadcastMessage, DeliveryState, reference_of
from cplan.services import broadcast_hours

__all__ = ["DeliveryState", "reference_of"]


@dataclass(frozen=True)
class Policy:
    """How a worker retries: ``backoff * 2**(attempt-1)`` seconds (at most ``max_backoff``),
    ``max_attempts`` in all; a claim older than ``lease`` seconds is taken over; a message not
    sent ``ttl_hours`` after it was queued expires."""

    max_attempts: int = 5
    backoff: float = 30.0
    max_backoff: float = 3600.0
    lease: float = 120.0
    ttl_hours: float = 24.0

    @classmethod
    def from_config(cls, config) -> Policy:
        return cls(
            max_attempts=int(config.get("SMS_WORKER_MAX_ATTEMPTS", cls.max_attempts)),
            backoff=float(config.get("SMS_WORKER_BACKOFF_SECONDS", cls.backoff)),
            max_backoff=float(config.get("SMS_WORKER_MAX_BACKOFF_SECONDS", cls.max_backoff)),
            lease=float(config.get("SMS_WORKER_LEASE_SECONDS", cls.lease)),
            ttl_hours=float(config.get("SMS_MESSAGE_TTL_HOURS", cls.ttl_hours)),
        )

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.max_backoff, self.backoff * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Claimed:
    """A message a worker has claimed: what it needs to send it."""

    id: int
    to_number: str
    broadcast_id: int
    attempts: int


def enqueue(
    broadcast: Broadcast,
    audience_condition,
    *,
    now: datetime | None = None,
    due: datetime | None = None,
) -> int:
    """Queue one message per contact matching ``audience_condition`` (set-based), due at
    ``due`` (a scheduled broadcast's time; default now); returns how many. Flushes, never
    commits: the caller's transaction (the approval) commits them."""
    from cplan.models.roster import Contact

    now = now or utcnow()
    stamp = literal(now, UTCDateTime())
    due_stamp = literal(max(due or now, now), UTCDateTime())
    rows = select(
        literal(broadcast.id),
        Contact.id,
        Contact.mobile,
        literal(DeliveryState.QUEUED.value),
        literal(0),
        due_stamp,
        literal(""),
        literal(""),
        stamp,
    ).where(audience_condition)
    db.session.execute(
        insert(BroadcastMessage).from_select(
            [
                "broadcast_id",
                "contact_id",
                "to_number",
                "state",
                "attempts",
                "next_attempt_at",
                "claimed_by",
                "error",
                "created_at",
            ],
            rows,
        )
    )
    # Counted, not taken from the cursor: psycopg reports -1 for an INSERT ... SELECT with
    # bound parameters.
    return db.session.scalar(
        select(func.count()).where(BroadcastMessage.broadcast_id == broadcast.id)
    )


def claim(worker: str, limit: int, policy: Policy, *, now: datetime | None = None) -> list[Claimed]:
    """Take up to ``limit`` due messages for ``worker`` (the caller commits at once)."""
    now = now or utcnow()
    stale = now - timedelta(seconds=policy.lease)
    due = or_(
        and_(
            BroadcastMessage.state == DeliveryState.QUEUED,
            BroadcastMessage.next_attempt_at <= now,
        ),
        and_(
            BroadcastMessage.state == DeliveryState.SENDING,
            BroadcastMessage.claimed_at < stale,
        ),
    )
    picked = select(BroadcastMessage.id).where(due)
    if broadcast_hours.is_quiet(now):
        picked = picked.where(
            BroadcastMessage.broadcast_id.in_(select(Broadcast.id).where(Broadcast.urgent))
        )
    picked = picked.order_by(BroadcastMessage.id).limit(limit).with_for_update(skip_locked=True)
    ids = list(db.session.scalars(picked))
    if not ids:
        return []
    rows = db.session.execute(
        update(BroadcastMessage)
        .where(BroadcastMessage.id.in_(ids))
        .values(
            state=DeliveryState.SENDING,
            claimed_at=now,
            claimed_by=worker[:64],
            attempts=BroadcastMessage.attempts + 1,
        )
        .returning(
            BroadcastMessage.id,
            BroadcastMessage.to_number,
            BroadcastMessage.broadcast_id,
            BroadcastMessage.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    return sorted((Claimed(*row) for row in rows), key=lambda claimed: claimed.id)


def bodies(broadcast_ids) -> dict[int, tuple[str, str, bool]]:
    """Per broadcast: (text, DLT template id, unicode) for the messages a worker claimed."""
    from cplan.models.messages import DltTemplate

    rows = db.session.execute(
        select(Broadcast.id, Broadcast.body, DltTemplate.template_id, Broadcast.encoding)
        .join(DltTemplate, DltTemplate.id == Broadcast.template_id)
        .where(Broadcast.id.in_(set(broadcast_ids)))
    )
    return {row[0]: (row[1], row[2] or "", row[3] == "UCS-2") for row in rows}


def record_sent(message_id: int, gateway_id: str, *, now: datetime | None = None) -> bool:
    """The gateway accepted the message; False when it was no longer ``sending`` (a delivery
    report got there first, which is kept)."""
    result = db.session.execute(
        update(BroadcastMessage)
        .where(BroadcastMessage.id == message_id, BroadcastMessage.state == DeliveryState.SENDING)
        .values(
            state=DeliveryState.SENT, sent_at=now or utcnow(), gateway_id=gateway_id[:64], error=""
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def record_failure(
    message: Claimed,
    reason: str,
    *,
    temporary: bool,
    policy: Policy,
    now: datetime | None = None,
) -> DeliveryState:
    """A send failed: retry later (temporary, attempts left) or fail for good."""
    now = now or utcnow()
    if temporary and message.attempts < policy.max_attempts:
        state = DeliveryState.QUEUED
        values = {"next_attempt_at": now + policy.delay(message.attempts), "error": reason[:200]}
    else:
        state = DeliveryState.FAILED
        if temporary:
            reason = f"gave up after {message.attempts} attempts: {reason}"
        values = {"error": reason[:200]}
    db.session.execute(
        update(BroadcastMessage)
        .where(BroadcastMessage.id == message.id, BroadcastMessage.state == DeliveryState.SENDING)
        .values(state=state, **values)
        .execution_options(synchronize_session=False)
    )
    return state


def expire(policy: Policy, *, now: datetime | None = None) -> int:
    """Mark queued messages older than the time-to-live ``expired``; returns how many. A
    scheduled broadcast's messages count from its time, not from when they were queued."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=policy.ttl_hours)
    result = db.session.execute(
        update(BroadcastMessage)
        .where(
            BroadcastMessage.state == DeliveryState.QUEUED,
            BroadcastMessage.created_at < cutoff,
            BroadcastMessage.broadcast_id.not_in(
                select(Broadcast.id).where(Broadcast.send_at >= cutoff)
            ),
        )
        .values(state=DeliveryState.EXPIRED, error="not sent in time")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def counts(broadcast_id: int) -> Counter:
    """Messages of a broadcast by state (``Counter`` of ``DeliveryState``)."""
    rows = db.session.execute(
        select(BroadcastMessage.state, func.count())
        .where(BroadcastMessage.broadcast_id == broadcast_id)
        .group_by(BroadcastMessage.state)
    )
    return Counter({DeliveryState(state): number for state, number in rows})


def failure_reasons(broadcast_id: int, limit: int = 10) -> list[tuple[str, int]]:
    """The commonest reasons messages of a broadcast failed, with how many."""
    rows = db.session.execute(
        select(BroadcastMessage.error, func.count())
        .where(
            BroadcastMessage.broadcast_id == broadcast_id,
            BroadcastMessage.state.in_([DeliveryState.FAILED, DeliveryState.EXPIRED]),
        )
        .group_by(BroadcastMessage.error)
        .order_by(func.count().desc())
        .limit(limit)
    )
    return [(error, number) for error, number in rows]


# ---- delivery reports -------------------------------------------------------------------------
# A gateway reports what became of a message, naming it by our reference. Reports may come twice,
# late, out of order, or before the worker has recorded that the gateway accepted the message:
# a state only ever moves forward (queued < sending < sent < delivered | failed | expired), so a
# repeated or stale report changes nothing, and the worker's own "sent" never overwrites a report
# that got there first.

_RANK = {
    DeliveryState.QUEUED: 0,
    DeliveryState.SENDING: 1,
    DeliveryState.SENT: 2,
    DeliveryState.DELIVERED: 3,
    DeliveryState.FAILED: 3,
    DeliveryState.EXPIRED: 3,
}
REPORTED_STATES = {
    "sent": DeliveryState.SENT,
    "accepted": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "failed": DeliveryState.FAILED,
    "undelivered": DeliveryState.FAILED,
    "rejected": DeliveryState.FAILED,
    "expired": DeliveryState.EXPIRED,
}


def message_id_of(reference: str) -> int | None:
    """Our message id from a reference ``cplan-123`` (ASCII digits only), else None."""
    from cplan.models.broadcasts import REFERENCE_PREFIX

    digits = (reference or "").removeprefix(REFERENCE_PREFIX)
    if not reference.startswith(REFERENCE_PREFIX) or not digits.isascii() or not digits.isdigit():
        return None
    return int(digits) if len(digits) < 18 else None


def record_report(
    reference: str,
    status: str,
    *,
    gateway_id: str = "",
    reason: str = "",
    now: datetime | None = None,
) -> str:
    """Apply one delivery report; returns "applied", "already" (nothing new) or "unknown".

    A message reported failed counts as an unreachable attempt on its contact, once.
    """
    from cplan.models.roster import Contact

    message_id = message_id_of(reference)
    new_state = REPORTED_STATES.get((status or "").lower())
    if message_id is None or new_state is None:
        return "unknown"
    now = now or utcnow()
    earlier = [state for state, rank in _RANK.items() if rank < _RANK[new_state]]
    values: dict = {"state": new_state}
    if gateway_id:
        values["gateway_id"] = func.coalesce(BroadcastMessage.gateway_id, gateway_id[:64])
    if new_state == DeliveryState.DELIVERED:
        values["delivered_at"] = now
    if new_state in (DeliveryState.FAILED, DeliveryState.EXPIRED):
        values["error"] = (reason or status)[:200]
    if new_state == DeliveryState.SENT:
        values["sent_at"] = func.coalesce(BroadcastMessage.sent_at, now)
    changed = db.session.execute(
        update(BroadcastMessage)
        .where(BroadcastMessage.id == message_id, BroadcastMessage.state.in_(earlier))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        exists = db.session.scalar(
            select(BroadcastMessage.id).where(BroadcastMessage.id == message_id)
        )
        return "already" if exists else "unknown"
    if new_state == DeliveryState.FAILED:
        db.session.execute(
            update(Contact)
            .where(
                Contact.id
                == select(BroadcastMessage.contact_id)
                .where(BroadcastMessage.id == message_id)
                .scalar_subquery()
            )
            .values(unreachable_count=Contact.unreachable_count + 1)
            .execution_options(synchronize_session=False)
        )
    return "applied"


def signature_ok(secret: str, body: bytes, signature: str) -> bool:
    """True when ``signature`` is ``sha256=`` and the HMAC-SHA256 of ``body`` under ``secret``
    (compared in constant time)."""
    import hashlib
    import hmac

    if not secret:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), (signature or "").encode("utf-8", "replace"))
