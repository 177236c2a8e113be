"""Refusals on record URLs leave a trace, without letting a scan flood the audit trail.

A signed-in officer refused a record (403 or 404 on a URL naming a record by id, such as
``/roster/contacts/17`` or ``/api/enrolments/17/decision``) is recorded as an
``access.refused`` event (outcome ``denied``): the endpoint, the method, the status and the ids
asked for. Throttled per officer and endpoint in bursts of ``WINDOW`` (one minute):

- the first refusal of a burst writes the event and opens the burst (``RefusalBurst``);
- further refusals at the same endpoint within the minute only count in the burst's row;
- the next refusal after the minute writes a new event, whose ``previous_burst`` detail
  carries how many refusals the burst held and when it started and ended, and opens a new
  burst.

So a script walking ids makes at most one event a minute per endpoint, each saying how many
requests the last minute's burst held, and the audit page shows the running count of a burst
still open. The events are filed under the officer's post, so the district or state audit
page shows them. Counting, not recording each id, is deliberate: the first id of each burst and
the count say what happened; a full list would let the scan write the trail.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from cplan.extensions import db, ensure_write_transaction
from cplan.models.accounts import Officer, Post
from cplan.models.audit import AuditEvent, AuditOutcome, RefusalBurst
from cplan.models.base import utcnow
from cplan.services import audit

ACTION = "access.refused"
WINDOW = timedelta(minutes=1)


def record_refusal(
    officer: Officer,
    post: Post,
    endpoint: str,
    status: int,
    method: str,
    record_ids: dict[str, int],
    *,
    ip_address: str | None = None,
    now: datetime | None = None,
) -> AuditEvent | None:
    """Count one refusal; write the ``access.refused`` event when it opens a new burst.

    Returns the event written, or None when the refusal was counted in an open burst. Flushes
    only; the caller commits (after rolling back whatever the refused request had started).
    """
    now = now or utcnow()
    officer_id = officer.id  # (re)loaded after the caller's rollback, in a reading transaction...
    ensure_write_transaction()  # ...that ends here, so the count begins IMMEDIATE on SQLite
    key = (RefusalBurst.officer_id == officer_id, RefusalBurst.endpoint == endpoint)
    if _count_in_open_burst(key, now):
        return None
    previous = db.session.scalar(select(RefusalBurst).where(*key))
    if previous is not None and previous.started_at > now - WINDOW:
        # A concurrent refusal opened the burst after the count above looked (PostgreSQL reads
        # each statement afresh): count in it, or a reopening below would erase its count.
        if _count_in_open_burst(key, now):
            return None
    detail = {"endpoint": endpoint, "method": method, "status": status, "record": record_ids}
    if previous is not None and previous.count > 1:
        detail["previous_burst"] = {
            "refusals": previous.count,
            "from": previous.started_at,
            "to": previous.last_at,
        }
    event = audit.record(
        ACTION,
        outcome=AuditOutcome.DENIED,
        officer=officer,
        post=post,
        unit=post.unit,
        detail=detail,
        ip_address=ip_address,
    )
    if previous is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    RefusalBurst(
                        officer_id=officer_id,
                        endpoint=endpoint,
                        started_at=now,
                        last_at=now,
                        count=1,
                        event_id=event.id,
                    )
                )
        except IntegrityError:
            pass  # a concurrent refusal opened the burst first; this one has its own event
    else:
        # Compare-and-set on the closed burst seen: a concurrent refusal that reopened it first
        # wins, and this refusal stands counted by its own event.
        db.session.execute(
            update(RefusalBurst)
            .where(
                RefusalBurst.id == previous.id,
                RefusalBurst.started_at == previous.started_at,
                RefusalBurst.started_at <= now - WINDOW,
            )
            .values(started_at=now, last_at=now, count=1, event_id=event.id)
            .execution_options(synchronize_session=False)
        )
    return event


def _count_in_open_burst(key, now: datetime) -> bool:
    """Add one to the officer's burst at the endpoint if it is still open; whether it was."""
    counted = db.session.execute(
        update(RefusalBurst)
        .where(*key, RefusalBurst.started_at > now - WINDOW)
        .values(count=RefusalBurst.count + 1, last_at=now)
        .execution_options(synchronize_session=False)
    )
    return counted.rowcount == 1


def open_burst(event: AuditEvent) -> RefusalBurst | None:
    """The burst ``event`` opened, while it is still the officer's latest at that endpoint
    (the audit page shows its running count); None once a later event has taken it over."""
    if event.action != ACTION:
        return None
    return db.session.scalar(select(RefusalBurst).where(RefusalBurst.event_id == event.id))
