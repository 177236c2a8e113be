"""The SMS worker: sends the broadcast outbox through the configured gateway.

``flask cplan sms-worker`` runs one (``make worker``; production runs it under systemd, several
on several machines if need be). Each round it expires messages too old to be of use, claims a
batch (``cplan.services.outbox.claim``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and commits
the claim, then sends the batch on ``SMS_WORKER_CONCURRENCY`` threads, at most
``SMS_RATE_PER_SECOND`` (a token bucket), and records the batch's outcomes in one short
transaction. No transaction is open while the gateway answers. A worker killed at any moment
leaves its claimed rows ``sending``; once the lease has passed another worker (or this one
restarted) claims them again and sends them under the same reference, so a gateway that
deduplicates delivers each message once.

Between two rounds it also opens the verification drives the page recorded as ``opening``
(``cplan.workers.drive_opener``): sending pauses while one opens (about half a minute for the
whole state, a few times a year); other workers, on PostgreSQL, go on sending meanwhile.

SIGTERM or SIGINT stops the worker after the message (or the drive) in hand.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cplan.extensions import db
from cplan.models.base import utcnow
from cplan.services import outbox, sms_gateways
from cplan.services.outbox import Policy
from cplan.services.sms_gateways import Gateway, Outgoing
from cplan.workers import drive_opener

logger = logging.getLogger("cplan.sms_worker")


class TokenBucket:
    """At most ``rate`` sends a second on average, ``burst`` at once."""

    def __init__(self, rate: float, burst: float | None = None, clock=time.monotonic):
        self.rate = float(rate)
        self.capacity = float(burst if burst is not None else max(1.0, rate))
        self.tokens = self.capacity
        self.clock = clock
        self.last = clock()
        self.lock = threading.Lock()  # shared by the sending threads

    def take(self) -> None:
        if self.rate <= 0:
            return
        while True:
            with self.lock:
                now = self.clock()
                self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
                self.last = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            time.sleep(wait)


@dataclass
class Totals:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0
    drives_opened: int = 0
    drives_failed: int = 0
    by_state: dict = field(default_factory=dict)


class Worker:
    """One worker process's loop (it needs an app context)."""

    def __init__(
        self,
        gateway: Gateway,
        policy: Policy,
        *,
        name: str | None = None,
        batch_size: int = 50,
        rate: float = 20.0,
        clock=utcnow,
        concurrency: int = 8,
    ):
        self.gateway = gateway
        self.policy = policy
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.batch_size = batch_size
        self.bucket = TokenBucket(rate)
        self.totals = Totals()
        self.stopping = False
        self.clock = clock
        self.pool = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="cplan-sms-send")

    def stop(self, *_args) -> None:
        self.stopping = True

    def run(self, *, poll: float = 2.0, until_idle: bool = False) -> Totals:
        """Send until stopped (or, with ``until_idle``, until nothing is due)."""
        try:
            while not self.stopping:
                claimed = self.round()
                opened = self.open_drives()
                if claimed == 0 and opened == 0:
                    if until_idle and not self._anything_left():
                        break
                    time.sleep(poll)
        finally:
            self.pool.shutdown(wait=True)
        return self.totals

    def open_drives(self) -> int:
        """Open the drives waiting to be opened; returns how many were tried."""
        result = drive_opener.open_waiting(stop=lambda: self.stopping)
        self.totals.drives_opened += result.opened
        self.totals.drives_failed += result.failed
        return result.tried

    def _anything_left(self) -> bool:
        from sqlalchemy import select

        from cplan.models.broadcasts import Broadcast, BroadcastMessage, DeliveryState
        from cplan.models.drives import DriveState, VerificationDrive

        # Messages of a broadcast scheduled for later are not work left for now.
        later = select(Broadcast.id).where(Broadcast.send_at > self.clock())
        left = db.session.scalar(
            select(BroadcastMessage.id)
            .where(
                BroadcastMessage.state.in_([DeliveryState.QUEUED, DeliveryState.SENDING]),
                BroadcastMessage.broadcast_id.not_in(later),
            )
            .limit(1)
        )
        waiting = db.session.scalar(
            select(VerificationDrive.id)
            .where(VerificationDrive.state == DriveState.OPENING)
            .limit(1)
        )
        db.session.rollback()
        return left is not None or waiting is not None

    def round(self) -> int:
        """Expire, claim one batch and send it; returns how many were claimed."""
        self.totals.expired += outbox.expire(self.policy, now=self.clock())
        batch = outbox.claim(self.name, self.batch_size, self.policy, now=self.clock())
        texts = outbox.bodies({message.broadcast_id for message in batch}) if batch else {}
        db.session.commit()
        self.totals.claimed += len(batch)
        if not batch:
            return 0
        outgoing = []
        for message in batch:
            text, template_id, unicode = texts[message.broadcast_id]
            outgoing.append(
                Outgoing(
                    reference=outbox.reference_of(message.id),
                    to=message.to_number,
                    text=text,
                    template_id=template_id,
                    unicode=unicode,
                )
            )
        # The gateway's answers are awaited on a few threads (a real gateway takes tens of ms
        # a message); the database is touched only here, once the batch is back.
        outcomes = list(self.pool.map(self._send, outgoing))
        for message, outcome in zip(batch, outcomes, strict=True):
            if outcome is None:
                continue  # stopping: left claimed until the lease passes
            if outcome.accepted:
                outbox.record_sent(message.id, outcome.gateway_id, now=self.clock())
                self.totals.sent += 1
                continue
            state = outbox.record_failure(
                message,
                outcome.reason,
                temporary=outcome.temporary,
                policy=self.policy,
                now=self.clock(),
            )
            if state == outbox.DeliveryState.QUEUED:
                self.totals.retried += 1
            else:
                self.totals.failed += 1
        db.session.commit()
        return len(batch)

    def _send(self, message: Outgoing):
        if self.stopping:
            return None
        self.bucket.take()
        return self.gateway.send(message)


def run_from_app(app, *, batch_size=None, poll=2.0, until_idle=False, name=None) -> Totals:
    """Build a worker from the app's configuration and run it (in an app context)."""
    config = app.config
    worker = Worker(
        sms_gateways.from_config(app),
        Policy.from_config(config),
        name=name,
        batch_size=int(batch_size or config.get("SMS_WORKER_BATCH_SIZE", 50)),
        rate=float(config.get("SMS_RATE_PER_SECOND", 20)),
        concurrency=int(config.get("SMS_WORKER_CONCURRENCY", 8)),
    )
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    logger.info(
        "sms worker %s: gateway %s, batches of %d",
        worker.name,
        worker.gateway.name,
        worker.batch_size,
    )
    totals = worker.run(poll=poll, until_idle=until_idle)
    logger.info(
        "sms worker %s stopped: %d sent, %d retried later, %d failed, %d expired; "
        "%d drives opened, %d failed to open",
        worker.name,
        totals.sent,
        totals.retried,
        totals.failed,
        totals.expired,
        totals.drives_opened,
        totals.drives_failed,
    )
    return totals
