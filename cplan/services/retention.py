"""How long each class of data is kept, and removing what has outlived its period.

The table ``DATA_CLASSES`` is the one place the periods live (the README's retention table is
this one); ``CPLAN_RETENTION_DAYS`` (JSON, e.g. ``{"sign_in_sessions": 400}``) overrides single
entries, never below a class's legal floor. The defaults keep every record of who signed in,
from where, and which messages went out for a year: DPDP Rules 2025 (Rule 8) ask for a year of
processing logs, CERT-In (April 2022) for 180 days of logs, so a year satisfies both. Counters
that only serve the lockouts and limits (which forget after a day) go after 30 or 90 days.

Rows are deleted in batches (``purge_batch``; the caller commits between batches so no
transaction holds a large table for long). What is never deleted here, and why, is ``KEPT``:
the audit trail (append-only by trigger and hash-chained: removing its oldest events needs a
signed checkpoint of the chain, which the audit module does not offer yet), incident timelines
(append-only too) and erased citizens' rows (erasure already removed every personal field; the
row keeps the record's history consistent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, and_, delete, exists, func, or_, select, tuple_

from cplan.extensions import db
from cplan.models.accounts import (
    CugThrottle,
    DailyExportCount,
    HandsetProof,
    OtpChallenge,
    SignInCounter,
    SignInSession,
    TrustedDevice,
)
from cplan.models.audit import AuditEvent, RefusalBurst
from cplan.models.broadcasts import BroadcastMessage, DeliveryState
from cplan.models.incidents import TimelineEntry
from cplan.models.messages import MessageState, OutboundMessage
from cplan.models.roster import Contact

DPDP = "DPDP Rules 2025, Rule 8: a year of personal data and processing logs"
CERT_IN = "CERT-In 2022: 180 days of logs"
SECURITY_COUNTER = "serves only the lockouts and send limits, which forget after a day"


class RetentionError(ValueError):
    """A configured period is not allowed: the message says which and why."""


@dataclass(frozen=True)
class DataClass:
    """Rows of one table that expire ``days`` after their ``expired`` condition's time."""

    name: str
    description: str
    days: int
    minimum_days: int
    basis: str
    model: type
    # The rows older than ``cutoff`` that may go (and nothing still in use).
    expired: Callable[[datetime], ColumnElement[bool]]

    @property
    def table(self) -> Table:
        return self.model.__table__


DATA_CLASSES: tuple[DataClass, ...] = (
    DataClass(
        "sign_in_sessions",
        "sign-in sessions: officer, post, address, browser, times",
        365,
        365,
        DPDP,
        SignInSession,
        lambda cutoff: SignInSession.last_seen_at < cutoff,
    ),
    DataClass(
        "handset_proofs",
        "passed handset steps of sign-ins (number the code went to)",
        365,
        365,
        DPDP,
        HandsetProof,
        lambda cutoff: HandsetProof.created_at < cutoff,
    ),
    DataClass(
        "sign_in_codes",
        "sign-in code requests: CUG number, the code's hash, times",
        365,
        365,
        DPDP,
        OtpChallenge,
        lambda cutoff: and_(
            OtpChallenge.created_at < cutoff,
            ~exists().where(HandsetProof.challenge_id == OtpChallenge.id),
        ),
    ),
    DataClass(
        "sms_notices",
        "SMS notices sent or failed: number, template values",
        365,
        365,
        DPDP,
        OutboundMessage,
        lambda cutoff: and_(
            OutboundMessage.created_at < cutoff,
            OutboundMessage.state.in_([MessageState.SENT, MessageState.FAILED]),
        ),
    ),
    DataClass(
        "broadcast_messages",
        "broadcast SMS to contacts, finished: number, state, gateway reference",
        365,
        365,
        DPDP,
        BroadcastMessage,
        lambda cutoff: and_(
            BroadcastMessage.created_at < cutoff,
            BroadcastMessage.state.in_(
                [
                    DeliveryState.SENT,
                    DeliveryState.DELIVERED,
                    DeliveryState.FAILED,
                    DeliveryState.EXPIRED,
                ]
            ),
        ),
    ),
    DataClass(
        "sign_in_counters",
        "wrong-code and wrong-password counters, and the locks they led to",
        30,
        2,
        SECURITY_COUNTER,
        SignInCounter,
        lambda cutoff: and_(
            or_(
                SignInCounter.window_started_at.is_(None), SignInCounter.window_started_at < cutoff
            ),
            or_(SignInCounter.locked_until.is_(None), SignInCounter.locked_until < cutoff),
        ),
    ),
    DataClass(
        "cug_send_counters",
        "code sends per CUG number",
        30,
        2,
        SECURITY_COUNTER,
        CugThrottle,
        lambda cutoff: and_(
            or_(CugThrottle.last_sent_at.is_(None), CugThrottle.last_sent_at < cutoff),
            or_(CugThrottle.window_started_at.is_(None), CugThrottle.window_started_at < cutoff),
            or_(CugThrottle.locked_until.is_(None), CugThrottle.locked_until < cutoff),
        ),
    ),
    DataClass(
        "trusted_browsers",
        "browsers trusted after a sign-in (trust lapses after 30 days unused)",
        90,
        31,
        SECURITY_COUNTER,
        TrustedDevice,
        lambda cutoff: TrustedDevice.last_signed_in_at < cutoff,
    ),
    DataClass(
        "daily_export_counts",
        "exports with full numbers per officer and day (the exports are in the audit trail)",
        90,
        2,
        "caps today's exports only",
        DailyExportCount,
        lambda cutoff: DailyExportCount.day < cutoff.date(),
    ),
    DataClass(
        "refusal_bursts",
        "counts of refused record URLs per officer (copied into audit events)",
        90,
        2,
        "feeds the next audit event of the burst only",
        RefusalBurst,
        lambda cutoff: RefusalBurst.last_at < cutoff,
    ),
)


@dataclass(frozen=True)
class Kept:
    """Data this command never deletes, and why; ``older`` counts rows past a year."""

    name: str
    reason: str
    older: Callable[[datetime], ColumnElement[bool]]
    model: type


KEPT: tuple[Kept, ...] = (
    Kept(
        "audit_events",
        "append-only and hash-chained; deleting old events needs a signed chain checkpoint",
        lambda cutoff: AuditEvent.occurred_at < cutoff,
        AuditEvent,
    ),
    Kept(
        "incident_timelines",
        "append-only; an incident's record is kept whole",
        lambda cutoff: TimelineEntry.at < cutoff,
        TimelineEntry,
    ),
    Kept(
        "erased_contacts",
        "erasure already removed every personal field; the row keeps the history consistent",
        lambda cutoff: Contact.erased_at < cutoff,
        Contact,
    ),
)


@dataclass(frozen=True)
class Step:
    data_class: DataClass
    days: int
    cutoff: datetime
    expired: int


def periods(overrides: dict | None) -> dict[str, int]:
    """Each class's period in days: the defaults, with ``overrides`` checked and applied."""
    days = {data_class.name: data_class.days for data_class in DATA_CLASSES}
    floors = {data_class.name: data_class for data_class in DATA_CLASSES}
    for name, value in (overrides or {}).items():
        if name not in days:
            raise RetentionError(
                f"CPLAN_RETENTION_DAYS names {name!r}, which is none of: {', '.join(days)}"
            )
        if isinstance(value, bool) or not isinstance(value, int):
            raise RetentionError(f"CPLAN_RETENTION_DAYS[{name!r}] must be a number of days")
        if value < floors[name].minimum_days:
            raise RetentionError(
                f"{name} must be kept at least {floors[name].minimum_days} days "
                f"({floors[name].basis}), not {value}"
            )
        days[name] = value
    return days


def plan(now: datetime, overrides: dict | None = None) -> list[Step]:
    """What has expired at ``now``, class by class (counts only; nothing changes)."""
    days = periods(overrides)
    steps = []
    for data_class in DATA_CLASSES:
        cutoff = now - timedelta(days=days[data_class.name])
        count = db.session.scalar(
            select(func.count()).select_from(data_class.table).where(data_class.expired(cutoff))
        )
        steps.append(Step(data_class, days[data_class.name], cutoff, count or 0))
    return steps


def purge_batch(step: Step, batch_size: int) -> int:
    """Delete up to ``batch_size`` expired rows of ``step``'s class (flush only); how many."""
    table = step.data_class.table
    key = list(table.primary_key.columns)
    chosen = select(*key).where(step.data_class.expired(step.cutoff)).limit(batch_size)
    if len(key) == 1:
        condition = key[0].in_(chosen.scalar_subquery())
    else:
        condition = tuple_(*key).in_(chosen)
    result = db.session.execute(
        delete(table).where(condition).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def kept(now: datetime, days: int = 365) -> list[tuple[Kept, int]]:
    """The classes never deleted here, each with its rows older than ``days``."""
    cutoff = now - timedelta(days=days)
    return [
        (
            entry,
            db.session.scalar(
                select(func.count()).select_from(entry.model).where(entry.older(cutoff))
            )
            or 0,
        )
        for entry in KEPT
    ]
