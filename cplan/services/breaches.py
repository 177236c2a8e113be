"""The breach register: record a personal-data breach, keep its notifications up to date.

Only posts with ``MANAGE_BREACHES`` (the SP office of a district, the state administrator)
record and see breaches, within their subtree: a breach is filed under the recording post's
unit, so the state sees every district's and a district only its own. Each change is an audit
event in the same transaction (``breach.recorded``, ``breach.updated`` with the names of the
fields changed, ``breach.exported``); details hold counts and field names, never the text.
Updates are compare-and-set on ``version``: two officers editing at once cannot overwrite each
other unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from cplan.extensions import db
from cplan.models.base import utcnow
from cplan.models.breaches import Breach
from cplan.services import audit
from cplan.services.errors import AlreadyDecided, NotAllowed, NotInScope, WorkflowError
from cplan.services.permissions import Permission
from cplan.services.principal import Principal

NOTIFICATIONS = ("cert_in_reported_at", "board_told_at", "people_told_at", "board_report_at")
FIELDS = ("found_at", "summary", "data_affected", "people_affected", "measures", *NOTIFICATIONS)
# A clock a little fast on the officer's phone is not a breach found in the future.
CLOCK_SLACK = timedelta(minutes=10)


class BreachError(WorkflowError):
    """A breach's details do not hold together; ``field`` names the one to correct."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class BreachFacts:
    """What the form gives: the facts and the notification times (aware UTC)."""

    found_at: datetime
    summary: str
    data_affected: str
    people_affected: int
    measures: str = ""
    cert_in_reported_at: datetime | None = None
    board_told_at: datetime | None = None
    people_told_at: datetime | None = None
    board_report_at: datetime | None = None


def _require(principal: Principal) -> None:
    if not principal.can(Permission.MANAGE_BREACHES):
        raise NotAllowed(_l("Your post cannot do this."))


def _check(facts: BreachFacts, now: datetime) -> None:
    if facts.found_at > now + CLOCK_SLACK:
        raise BreachError(_l("A breach cannot be found in the future."), "found_at")
    if not facts.summary.strip():
        raise BreachError(_l("Say what happened."), "summary")
    if not facts.data_affected.strip():
        raise BreachError(_l("Say which personal data was affected."), "data_affected")
    if facts.people_affected < 0:
        raise BreachError(_l("The number of people cannot be negative."), "people_affected")
    for name in NOTIFICATIONS:
        told = getattr(facts, name)
        if told is None:
            continue
        if told < facts.found_at:
            raise BreachError(_l("This cannot be before the breach was found."), name)
        if told > now + CLOCK_SLACK:
            raise BreachError(_l("This cannot be in the future."), name)


def record(principal: Principal, facts: BreachFacts) -> Breach:
    """Record a breach found by ``principal``'s office (flush only)."""
    _require(principal)
    now = utcnow()
    _check(facts, now)
    breach = Breach(
        unit_id=principal.unit.id,
        unit_path=principal.unit.path,
        recorded_by_id=principal.officer.id,
        recorded_post_id=principal.post.id,
        created_at=now,
        updated_at=now,
        version=1,
        **{name: _clean(getattr(facts, name)) for name in FIELDS},
    )
    db.session.add(breach)
    db.session.flush()
    audit.record(
        "breach.recorded",
        actor=principal,
        target=breach,
        unit=principal.unit,
        detail={"people_affected": facts.people_affected},
    )
    return breach


def update_breach(principal: Principal, breach_id: int, version: int, facts: BreachFacts) -> Breach:
    """Change a breach's facts or notifications, if nobody changed it since ``version``."""
    breach = get_in_scope(principal, breach_id)
    _check(facts, utcnow())
    values = {name: _clean(getattr(facts, name)) for name in FIELDS}
    changed = sorted(name for name, value in values.items() if getattr(breach, name) != value)
    if not changed:
        return breach
    result = db.session.execute(
        update(Breach)
        .where(Breach.id == breach.id, Breach.version == version)
        .values(**values, version=Breach.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise AlreadyDecided(refusal=_l("Someone else changed this breach; here is their version."))
    db.session.refresh(breach)
    audit.record(
        "breach.updated",
        actor=principal,
        target=breach,
        unit=breach.unit,
        detail={"changed": changed},
    )
    return breach


def get_in_scope(principal: Principal, breach_id: int) -> Breach:
    """A breach within ``principal``'s subtree, or ``NotInScope``."""
    _require(principal)
    breach = db.session.scalar(
        select(Breach).where(Breach.id == breach_id, principal.unit.covers(Breach.unit_path))
    )
    if breach is None:
        raise NotInScope()
    return breach


def in_scope(principal: Principal) -> list[Breach]:
    """The breaches within ``principal``'s subtree, the latest found first."""
    _require(principal)
    return list(
        db.session.scalars(
            select(Breach)
            .where(principal.unit.covers(Breach.unit_path))
            .order_by(Breach.found_at.desc(), Breach.id.desc())
        )
    )


def note_export(principal: Principal, breach: Breach) -> None:
    """Record that ``principal`` downloaded ``breach``'s report (flush only)."""
    audit.record("breach.exported", actor=principal, target=breach, unit=breach.unit)


@dataclass(frozen=True)
class Deadline:
    """One report owed: its name, when it is due, when it was made (None: not yet)."""

    name: str
    due: datetime
    done: datetime | None

    def left(self, now: datetime) -> timedelta:
        """Time left before it is due (negative: overdue)."""
        return self.due - now


def deadlines(breach: Breach) -> list[Deadline]:
    """CERT-In's 6 hours and the Board's 72-hour full report, from when it was found."""
    return [
        Deadline("cert_in", breach.cert_in_due, breach.cert_in_reported_at),
        Deadline("board_report", breach.board_report_due, breach.board_report_at),
    ]


def _clean(value):
    return value.strip() if isinstance(value, str) else value
