"""Re-verification drives: opening one, recording each contact's outcome, and the counters.

- Opening: the SP office or ASP for its district, the state control room for the state (or a
  phase's districts when the drive names an election phase). A drive that overlaps an open one
  (one area inside the other, dates overlapping) is refused, naming it. Every active contact in
  scope gets a task in ONE ``INSERT ... SELECT``, leaving out contacts verified within
  ``max_age_days`` and, for a phase, contacts marked in that election (candidates, agents...):
  a list meant for neutral verification. The counters are filled by one more ``INSERT ...
  SELECT``.
- Outcomes: confirmed (by call, visit, SMS reply or meeting), changed (a correction goes to the
  ASP through the enrolment workflow), unreachable (counted; unreachable on three different days
  ends the task and flags the contact), no longer suitable (a removal goes to the ASP). Each is a
  compare-and-set UPDATE on the task's ``version``: of two officers recording at once one wins,
  the other gets ``AlreadyDecided`` naming who recorded and when. The contact's last-verified
  date and the counters change in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from cplan.extensions import db, ensure_write_transaction
from cplan.formats import ist_day
from cplan.models.base import UTCDateTime, utcnow
from cplan.models.drives import (
    OUTCOME_COLUMNS,
    DriveDailyProgress,
    DriveProgress,
    DriveState,
    TaskState,
    VerificationDrive,
    VerificationMethod,
    VerificationTask,
)
from cplan.models.elections import (
    ContactElectionMark,
    ElectionPhase,
    PhaseDistrict,
    SensitivePlace,
)
from cplan.models.geo import Unit, UnitKind, path_upper_bound
from cplan.models.roster import Contact, ContactStatus, InactiveReason
from cplan.services import audit, election_marks, enrolment, roster
from cplan.services.errors import (
    AlreadyDecided,
    Decided,
    DomainError,
    NotAllowed,
    NotInScope,
)
from cplan.services.permissions import Permission
from cplan.services.principal import Principal
from cplan.services.scope import get_in_scope

#: Unreachable on this many different days ends the task and flags the contact.
UNREACHABLE_DAYS = 3
MAX_AGE_DAYS_LIMIT = 3650
NAME_LENGTH = 200
#: A drive in one of these states keeps another drive from opening over the same area and days.
OVERLAP_STATES = (DriveState.OPEN, DriveState.OPENING)
#: pg_advisory_xact_lock key serialising the overlap check and the new drive's row: the bytes
#: "cplan.dr" read as a big-endian integer (SQLite: the request's IMMEDIATE transaction).
OPENING_LOCK_KEY = int.from_bytes(b"cplan.dr", "big")


class DriveError(DomainError):
    """A drive or an outcome was refused; the message says why (translatable)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def _require(principal: Principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise NotAllowed(_l("Your post cannot do this."))


def _dialect_insert():
    dialect = db.session.get_bind().dialect.name
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


# ---- opening a drive ---------------------------------------------------------------------------


def _ancestor_paths(path: str) -> list[str]:
    parts = [part for part in path.strip("/").split("/") if part]
    return ["/" + "/".join(parts[: n + 1]) + "/" for n in range(len(parts))]


def overlapping_open_drive(
    scope_unit: Unit, opens_on: date, due_on: date, *, other_than: int | None = None
) -> VerificationDrive | None:
    """An open (or opening) drive whose area contains or lies inside ``scope_unit`` and whose
    dates overlap."""
    return db.session.scalar(
        select(VerificationDrive)
        .where(
            VerificationDrive.state.in_(OVERLAP_STATES),
            or_(
                VerificationDrive.scope_path.in_(_ancestor_paths(scope_unit.path)),
                scope_unit.covers(VerificationDrive.scope_path),
            ),
            VerificationDrive.opens_on <= due_on,
            VerificationDrive.due_on >= opens_on,
            VerificationDrive.id != (other_than or 0),
        )
        .order_by(VerificationDrive.id)
        .limit(1)
    )


def _phase_district_paths(phase: ElectionPhase) -> list[str]:
    return list(
        db.session.scalars(
            select(Unit.path)
            .join(PhaseDistrict, PhaseDistrict.district_id == Unit.id)
            .where(PhaseDistrict.phase_id == phase.id)
            .order_by(Unit.path)
        )
    )


def _phase_areas(scope_unit: Unit, phase: ElectionPhase) -> list[str]:
    """The paths the drive covers: the phase's districts within the scope, or the scope itself
    when it lies inside one of them. Empty: the scope does not vote in this phase."""
    areas = []
    for path in _phase_district_paths(phase):
        if scope_unit.contains_path(path):
            areas.append(path)
        elif scope_unit.path.startswith(path):
            return [scope_unit.path]
    return areas


def _in_areas(column, paths: list[str]):
    return or_(*[and_(column >= path, column < path_upper_bound(path)) for path in paths])


def open_drive(
    principal: Principal,
    *,
    scope_unit_id: int,
    opens_on: date,
    due_on: date,
    max_age_days: int,
    phase_id: int | None = None,
    name: str = "",
    now: datetime | None = None,
    background: bool | None = None,
) -> VerificationDrive:
    """Open a drive: one task per active contact in scope that needs verifying (set-based).

    A drive larger than a district (``background`` None: decided by the area; the command
    line passes False) is only recorded here, ``opening``, and audited as requested: the
    worker creates its tasks (``open_waiting``)."""
    _require(principal, Permission.OPEN_DRIVES)
    scope_unit = get_in_scope(principal, Unit, scope_unit_id)
    if scope_unit.kind.depth > UnitKind.DISTRICT.depth:
        raise DriveError(_l("Open a drive for a district or a larger area."), "scope_unit_id")
    if due_on < opens_on:
        raise DriveError(_l("The due date cannot be before the opening date."), "due_on")
    if not 1 <= max_age_days <= MAX_AGE_DAYS_LIMIT:
        raise DriveError(
            _l("Say how old a verification may be, in days (1 to %(limit)s).", limit=3650),
            "max_age_days",
        )
    phase = None
    if phase_id is not None:
        phase = db.session.get(ElectionPhase, phase_id)
        if phase is None:
            raise DriveError(_l("Choose an election phase from the list."), "phase_id")
    areas = _areas_of(scope_unit, phase)
    if background is None:
        background = opens_in_background(scope_unit)
    _lock_openings()
    _refuse_overlap(scope_unit, opens_on, due_on)
    now = now or utcnow()
    drive = VerificationDrive(
        name=(name or "").strip()[:NAME_LENGTH] or default_name(scope_unit, phase, opens_on),
        scope_unit=scope_unit,
        scope_path=scope_unit.path,
        phase=phase,
        opens_on=opens_on,
        due_on=due_on,
        max_age_days=max_age_days,
        opened_by_id=principal.officer.id,
        opened_at=now,
        state=DriveState.OPENING if background else DriveState.OPEN,
    )
    db.session.add(drive)
    db.session.flush()
    detail = {
        "phase_id": phase_id,
        "opens_on": opens_on,
        "due_on": due_on,
        "max_age_days": max_age_days,
    }
    if background:
        audit.record(
            "drive.opening_requested", actor=principal, target=drive, unit=scope_unit, detail=detail
        )
        return drive
    fill(drive, areas, now)
    audit.record(
        "drive.opened",
        actor=principal,
        target=drive,
        unit=scope_unit,
        detail=detail | {"tasks": drive.task_count},
    )
    return drive


def opens_in_background(scope_unit: Unit) -> bool:
    """A drive for more than a district (the state, or a phase's districts across it) is
    opened by the worker: its tasks take longer to create than a web request may."""
    return scope_unit.kind.depth < UnitKind.DISTRICT.depth


def _areas_of(scope_unit: Unit, phase: ElectionPhase | None) -> list[str]:
    if phase is None:
        return [scope_unit.path]
    areas = _phase_areas(scope_unit, phase)
    if not areas:
        raise DriveError(_l("No district of this area votes in that phase."), "phase_id")
    return areas


def _lock_openings() -> None:
    """Serialise drive openings, so that two requests at once (two clicks) cannot both find no
    overlapping drive: PostgreSQL's advisory lock until the commit; on SQLite the transaction
    takes the write lock up front (IMMEDIATE)."""
    ensure_write_transaction()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OPENING_LOCK_KEY})


def _refuse_overlap(
    scope_unit: Unit, opens_on: date, due_on: date, *, other_than: int | None = None
) -> None:
    clash = overlapping_open_drive(scope_unit, opens_on, due_on, other_than=other_than)
    if clash is None:
        return
    if clash.state == DriveState.OPENING:
        message = _l(
            "Drive %(id)s (%(name)s, %(opens)s to %(due)s) is already being opened for this "
            "area; wait for it or choose other dates.",
            id=clash.id,
            name=clash.name,
            opens=clash.opens_on.isoformat(),
            due=clash.due_on.isoformat(),
        )
    else:
        message = _l(
            "Drive %(id)s (%(name)s, %(opens)s to %(due)s) is already open for this area; "
            "close it or choose other dates.",
            id=clash.id,
            name=clash.name,
            opens=clash.opens_on.isoformat(),
            due=clash.due_on.isoformat(),
        )
    raise DriveError(message, "opens_on")


# ---- the worker's half: opening the drives recorded as opening -------------------------------


def waiting_drive() -> VerificationDrive | None:
    """The oldest drive waiting to be opened, locked for this worker (PostgreSQL: ``FOR UPDATE
    SKIP LOCKED``, so two workers never open the same drive; SQLite: one writer at a time)."""
    query = (
        select(VerificationDrive)
        .where(VerificationDrive.state == DriveState.OPENING)
        .order_by(VerificationDrive.id)
        .limit(1)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return db.session.scalar(query)


def finish_opening(drive: VerificationDrive, now: datetime | None = None) -> VerificationDrive:
    """Create the tasks and counters of a drive recorded as opening, and open it (audited as
    the officer who asked). The overlap was refused when it was recorded (or retried)."""
    if drive.state != DriveState.OPENING:
        raise DriveError(_l("This drive is not waiting to be opened."))
    now = now or utcnow()
    fill(drive, _areas_of(drive.scope_unit, drive.phase), now)
    drive.state = DriveState.OPEN
    drive.opened_at = now
    drive.open_failure = None
    db.session.flush()
    audit.record(
        "drive.opened",
        officer=drive.opened_by,
        target=drive,
        unit=drive.scope_unit,
        detail={"tasks": drive.task_count, "by": "worker"},
    )
    return drive


def record_opening_failure(drive_id: int, reason: str) -> VerificationDrive | None:
    """The worker's attempt failed (its transaction rolled back): say so on the drive, so the
    page shows it and offers to try again. Only a drive still opening changes."""
    drive = db.session.get(VerificationDrive, drive_id)
    if drive is None or drive.state != DriveState.OPENING:
        return None
    drive.state = DriveState.FAILED
    drive.open_failure = reason[:500]
    db.session.flush()
    audit.record(
        "drive.open_failed",
        outcome="failure",
        officer=drive.opened_by,
        target=drive,
        unit=drive.scope_unit,
        detail={"reason": reason[:200]},
    )
    return drive


def retry_opening(principal: Principal, drive_id: int) -> VerificationDrive:
    """Ask the worker again to open a drive whose opening failed, by the same overlap rule."""
    _require(principal, Permission.OPEN_DRIVES)
    drive = get_drive(principal, drive_id)
    if not principal.unit.contains(drive.scope_unit):
        raise NotInScope()
    _lock_openings()
    db.session.refresh(drive)
    if drive.state != DriveState.FAILED:
        raise DriveError(_l("Only a drive whose opening failed can be tried again."))
    _refuse_overlap(drive.scope_unit, drive.opens_on, drive.due_on, other_than=drive.id)
    drive.state = DriveState.OPENING
    db.session.flush()
    audit.record(
        "drive.opening_retried",
        actor=principal,
        target=drive,
        unit=drive.scope_unit,
        detail={"failure": (drive.open_failure or "")[:200]},
    )
    return drive


#: A statewide drive's INSERT ... SELECT writes a million rows: more than the app's statement
#: timeout (``DB_STATEMENT_TIMEOUT_MS``, 20 s) allows a page's queries.
OPEN_STATEMENT_TIMEOUT_MS = 180_000
#: A drive of this many tasks or more refreshes the tables' statistics as it opens (PostgreSQL).
ANALYZE_AFTER_TASKS = 50_000


def fill(drive: VerificationDrive, areas: list[str], now: datetime) -> None:
    """The tasks of a new drive and its counters, set-based (also used by the generator)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"SET LOCAL statement_timeout = {int(OPEN_STATEMENT_TIMEOUT_MS)}"))
    _create_tasks(drive, areas, now)
    _initialise_counters(drive)
    # The driver's row count of an INSERT ... SELECT is not portable: read the counters.
    drive.task_count = db.session.scalar(
        select(func.coalesce(func.sum(DriveProgress.tasks), 0)).where(
            DriveProgress.drive_id == drive.id
        )
    )
    db.session.flush()
    if (
        drive.task_count >= ANALYZE_AFTER_TASKS
        and db.session.get_bind().dialect.name == "postgresql"
    ):
        # The planner's statistics do not know the new drive yet: until autovacuum samples the
        # table, "verify next" on a statewide drive chose a plan taking 1.7 s instead of 60 ms
        # (bench/RESULTS.md). ANALYZE counts this transaction's own rows; about a second.
        db.session.execute(text("ANALYZE verification_tasks"))
        db.session.execute(text("ANALYZE drive_progress"))


def default_name(scope_unit: Unit, phase: ElectionPhase | None, opens_on: date) -> str:
    name = f"{scope_unit.name_en} {opens_on.isoformat()}"
    if phase is not None:
        name = f"{phase.election.name_en}, phase {phase.number}: {name}"
    return name[:NAME_LENGTH]


def _create_tasks(drive: VerificationDrive, areas: list[str], now: datetime) -> None:
    """Every active contact of ``areas`` not verified within the drive's age, in one statement."""
    cutoff = now - timedelta(days=drive.max_age_days)
    contacts = Contact.__table__.c
    conditions = [
        contacts.status == ContactStatus.ACTIVE.value,
        _in_areas(contacts.unit_path, areas),
        or_(contacts.last_verified_at.is_(None), contacts.last_verified_at < cutoff),
    ]
    sensitivity = literal(0, Integer)
    source = Contact.__table__
    if drive.phase is not None:
        election_id = drive.phase.election_id
        marks = ContactElectionMark.__table__.c
        conditions.append(
            ~select(marks.id)
            .where(
                marks.contact_id == contacts.id,
                marks.election_id == election_id,
                marks.ended_at.is_(None),
            )
            .exists()
        )
        places = SensitivePlace.__table__.c
        graded = (
            select(places.place_id, func.max(places.rank).label("rank"))
            .where(places.election_id == election_id)
            .group_by(places.place_id)
            .subquery("graded")
        )
        source = source.outerjoin(graded, graded.c.place_id == contacts.place_id)
        sensitivity = func.coalesce(graded.c.rank, 0)
    columns = [
        "drive_id",
        "contact_id",
        "unit_path",
        "place_id",
        "sensitivity",
        "state",
        "version",
        "attempts",
        "unreachable_days",
        "note",
    ]
    query = (
        select(
            literal(drive.id, Integer),
            contacts.id,
            contacts.unit_path,
            contacts.place_id,
            sensitivity,
            literal(TaskState.PENDING.value, String),
            literal(1, Integer),
            literal(0, Integer),
            literal(0, Integer),
            literal("", String),
        )
        .select_from(source)
        .where(*conditions)
    )
    result = db.session.execute(VerificationTask.__table__.insert().from_select(columns, query))
    return result.rowcount


def _initialise_counters(drive: VerificationDrive) -> None:
    tasks = VerificationTask.__table__.c
    count = func.count()
    query = (
        select(
            tasks.drive_id,
            tasks.unit_path,
            tasks.sensitivity,
            count,
            count,
            *[literal(0, Integer)] * 5,
        )
        .where(tasks.drive_id == drive.id)
        .group_by(tasks.drive_id, tasks.unit_path, tasks.sensitivity)
    )
    columns = ["drive_id", "unit_path", "sensitivity", "tasks", "pending"]
    columns += ["confirmed", "changed", "unreachable", "unsuitable", "attempted"]
    db.session.execute(DriveProgress.__table__.insert().from_select(columns, query))


def close_drive(principal: Principal, drive_id: int) -> VerificationDrive:
    """Close an open drive (its tasks stay as they are, no more outcomes are recorded), or give
    up one whose opening failed."""
    _require(principal, Permission.OPEN_DRIVES)
    drive = get_drive(principal, drive_id)
    if drive.state == DriveState.OPENING:
        raise DriveError(_l("This drive is still being opened; close it once it is open."))
    if drive.state not in (DriveState.OPEN, DriveState.FAILED):
        raise DriveError(_l("This drive is already closed."))
    drive.state = DriveState.CLOSED
    drive.closed_at = utcnow()
    drive.closed_by_id = principal.officer.id
    db.session.flush()
    audit.record("drive.closed", actor=principal, target=drive, unit=drive.scope_unit)
    return drive


# ---- reading drives ----------------------------------------------------------------------------


def covering_condition(unit: Unit):
    """Drives whose area contains ``unit`` or lies inside it."""
    return or_(
        VerificationDrive.scope_path.in_(_ancestor_paths(unit.path)),
        unit.covers(VerificationDrive.scope_path),
    )


def visible_drives_condition(principal: Principal):
    """Drives a post follows: those covering its unit (a station sees the district's drive) and
    those inside its area."""
    return covering_condition(principal.unit)


def get_drive(principal: Principal, drive_id: int) -> VerificationDrive:
    drive = db.session.scalar(
        select(VerificationDrive).where(
            VerificationDrive.id == drive_id, visible_drives_condition(principal)
        )
    )
    if drive is None:
        raise NotInScope()
    return drive


def drives_for(principal: Principal, *, limit: int = 50) -> list[VerificationDrive]:
    """The drives a post follows, open ones first, newest first."""
    return list(
        db.session.scalars(
            select(VerificationDrive)
            .where(visible_drives_condition(principal))
            .options(selectinload(VerificationDrive.scope_unit))
            .order_by(
                (VerificationDrive.state == DriveState.OPEN).desc(),
                VerificationDrive.opens_on.desc(),
                VerificationDrive.id.desc(),
            )
            .limit(limit)
        )
    )


def open_drive_for(principal: Principal, unit: Unit) -> VerificationDrive | None:
    """The open drive covering ``unit`` (a station), if any: the latest opened."""
    return db.session.scalar(
        select(VerificationDrive)
        .where(
            VerificationDrive.state == DriveState.OPEN,
            VerificationDrive.scope_path.in_(_ancestor_paths(unit.path)),
            visible_drives_condition(principal),
        )
        .order_by(VerificationDrive.opened_at.desc(), VerificationDrive.id.desc())
        .limit(1)
    )


def get_task(principal: Principal, task_id: int) -> VerificationTask:
    """A task whose contact the principal may see, or ``NotInScope``."""
    task = db.session.scalar(
        select(VerificationTask)
        .join(Contact, Contact.id == VerificationTask.contact_id)
        .where(
            VerificationTask.id == task_id,
            principal.unit.covers(VerificationTask.unit_path),
            roster.visible_condition(principal),
        )
    )
    if task is None:
        raise NotInScope()
    return task


def next_task(principal: Principal, drive: VerificationDrive, station: Unit):
    """The station's next pending task: the most sensitive village first, then the village with
    the smallest share of its tasks done; in it the contact tried least, never verified first,
    then verified longest ago."""
    return _next_pending(principal, drive, station)


def _next_pending(principal: Principal, drive: VerificationDrive, station: Unit):
    places = _least_verified_places(drive, station)
    neutral = []
    if drive.phase is not None:
        # A contact marked in the election after the drive opened (now a candidate, an agent)
        # drops out of the neutral list at once; its task stays pending, uncounted as done.
        neutral.append(election_marks.neutral_condition(drive.phase.election_id))
    base = (
        select(VerificationTask)
        .join(Contact, Contact.id == VerificationTask.contact_id)
        .where(
            VerificationTask.drive_id == drive.id,
            station.covers(VerificationTask.unit_path),
            principal.unit.covers(VerificationTask.unit_path),
            VerificationTask.state == TaskState.PENDING,
            roster.visible_condition(principal),
            *neutral,
        )
        .options(
            selectinload(VerificationTask.contact),
            selectinload(VerificationTask.place),
        )
    )
    order = (
        VerificationTask.attempts,
        Contact.last_verified_at.is_(None).desc(),
        Contact.last_verified_at,
        VerificationTask.id,
    )
    for place_id in places:
        task = db.session.scalar(
            base.where(VerificationTask.place_id == place_id).order_by(*order).limit(1)
        )
        if task is not None:
            return task
    return None


def _least_verified_places(drive: VerificationDrive, station: Unit) -> list[int]:
    """The station's places with pending tasks: most sensitive first, then fewest done."""
    tasks = VerificationTask
    rows = db.session.execute(
        select(
            tasks.place_id,
            func.max(tasks.sensitivity).label("sensitivity"),
            func.sum(func.cast(tasks.state != TaskState.PENDING, Integer)).label("done"),
            func.sum(func.cast(tasks.state == TaskState.PENDING, Integer)).label("pending"),
        )
        .where(tasks.drive_id == drive.id, station.covers(tasks.unit_path))
        .group_by(tasks.place_id)
    ).all()
    rows = [row for row in rows if row.pending]
    rows.sort(key=lambda row: (-row.sensitivity, row.done / (row.done + row.pending), row.place_id))
    return [row.place_id for row in rows]


def task_changed_at(drive: VerificationDrive):
    """SQL: when a task of ``drive`` last changed as a phone shows it: its last attempt or
    outcome (the drive's opening before any), or its contact's details, whichever is later."""
    task_stamp = func.coalesce(VerificationTask.done_at, type_coerce(drive.opened_at, UTCDateTime))
    return type_coerce(
        case((Contact.updated_at > task_stamp, Contact.updated_at), else_=task_stamp),
        UTCDateTime,
    )


def changed_at(task: VerificationTask) -> datetime:
    """``task_changed_at`` of one loaded task."""
    return max(task.contact.updated_at, task.done_at or task.drive.opened_at)


def tasks_of_drive(principal: Principal, drive: VerificationDrive):
    """SELECT of the tasks of ``drive`` whose contacts the post may see (a station post: its
    station's)."""
    return (
        select(VerificationTask)
        .join(Contact, Contact.id == VerificationTask.contact_id)
        .where(
            VerificationTask.drive_id == drive.id,
            principal.unit.covers(VerificationTask.unit_path),
            roster.visible_condition(principal),
        )
        .options(
            selectinload(VerificationTask.contact),
            selectinload(VerificationTask.place),
            selectinload(VerificationTask.done_by),
        )
    )


def record_tasks_viewed(principal: Principal, drive: VerificationDrive, shown: int) -> None:
    """Full numbers sent to a phone in a list of tasks: who received how many is kept, as for a
    roster view."""
    if shown and roster.sees_full_numbers(principal):
        audit.record(
            "drive.tasks_viewed",
            actor=principal,
            unit=principal.unit,
            detail={"drive_id": drive.id, "tasks": shown},
        )


def record_next_viewed(
    principal: Principal, drive: VerificationDrive, task: VerificationTask, station: Unit
) -> None:
    """A full number on screen ("verify next"): who saw which citizen is kept."""
    audit.record(
        "drive.next_viewed",
        actor=principal,
        target=task.contact,
        unit=station,
        detail={"drive_id": drive.id, "task_id": task.id},
    )


# ---- recording outcomes ------------------------------------------------------------------------


OUTCOME_CHOICES = ("confirmed", "changed", "unreachable", "unsuitable")


def _refused_as_decided(task: VerificationTask) -> AlreadyDecided:
    db.session.refresh(task)
    if task.done_by is None:  # a version the page never showed: nobody to name
        return AlreadyDecided(f"task {task.id}: stale version")
    who = task.done_by.name
    return AlreadyDecided(
        f"task {task.id} already recorded by {who} at {task.done_at}",
        decided=Decided(who, task.done_at, task.done_by),
    )


def record_outcome(
    principal: Principal,
    task_id: int,
    seen_version: int,
    outcome: str,
    *,
    method: str | None = None,
    details: roster.ContactDetails | None = None,
    reason: str | None = None,
    note: str = "",
    now: datetime | None = None,
) -> VerificationTask:
    """Record what became of one contact of a drive, exactly once (compare-and-set)."""
    _require(principal, Permission.VERIFY_CONTACTS)
    task = get_task(principal, task_id)
    if task.drive.state != DriveState.OPEN:
        raise DriveError(_l("This drive is closed."))
    if outcome not in OUTCOME_CHOICES:
        raise DriveError(_l("Choose an outcome."))
    if task.state != TaskState.PENDING or task.version != seen_version:
        raise _refused_as_decided(task)
    now = now or utcnow()
    try:
        chosen = VerificationMethod(method or VerificationMethod.CALL)
    except ValueError:
        raise DriveError(_l("Choose how the contact was verified."), "method") from None
    if outcome == "confirmed":
        return _settle(principal, task, TaskState.CONFIRMED, now, method=chosen)
    if outcome == "unreachable":
        return _attempt(principal, task, now)
    # Changed or unsuitable: the task is settled first (compare-and-set), then the change goes to
    # the ASP; a refusal of the proposal rolls the whole transaction back with it.
    if outcome == "changed":
        if details is None:
            raise DriveError(_l("Give the new details."))
        task = _settle(principal, task, TaskState.CHANGED, now, method=chosen)
        proposal = enrolment.propose_correction(principal, task.contact_id, details)
    else:
        try:
            why = InactiveReason(reason or "")
        except ValueError:
            raise DriveError(_l("Choose a reason from the list."), "reason") from None
        task = _settle(principal, task, TaskState.UNSUITABLE, now, method=chosen)
        proposal = enrolment.propose_removal(principal, task.contact_id, why, note)
    task.proposal_id = proposal.id
    db.session.flush()
    return task


def _compare_and_set(task: VerificationTask, now: datetime, principal: Principal, **values):
    result = db.session.execute(
        update(VerificationTask)
        .where(
            VerificationTask.id == task.id,
            VerificationTask.version == task.version,
            VerificationTask.state == TaskState.PENDING,
        )
        .values(
            version=VerificationTask.version + 1,
            done_by_id=principal.officer.id,
            done_at=now,
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise _refused_as_decided(task)


def _settle(
    principal: Principal,
    task: VerificationTask,
    state: TaskState,
    now: datetime,
    *,
    method: VerificationMethod | None,
    audit_detail: dict | None = None,
) -> VerificationTask:
    had_attempts = task.attempts > 0
    _compare_and_set(task, now, principal, state=state, method=method)
    db.session.refresh(task)
    _count(task, state, had_attempts=had_attempts, day=ist_day(now))
    if state != TaskState.UNREACHABLE:
        db.session.execute(
            update(Contact)
            .where(Contact.id == task.contact_id)
            .values(last_verified_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.refresh(task.contact)
    audit.record(
        "drive.outcome_recorded",
        actor=principal,
        target=task.contact,
        unit=task.place.station,
        detail={
            "drive_id": task.drive_id,
            "task_id": task.id,
            "outcome": state.value,
            "method": method.value if method else None,
            **(audit_detail or {}),
        },
    )
    return task


def _attempt(principal: Principal, task: VerificationTask, now: datetime) -> VerificationTask:
    """An unreachable attempt; unreachable on the third different day ends the task."""
    today = ist_day(now)
    days = task.unreachable_days + (1 if task.last_attempt_on != today else 0)
    final = days >= UNREACHABLE_DAYS
    had_attempts = task.attempts > 0
    values = dict(
        attempts=VerificationTask.attempts + 1, unreachable_days=days, last_attempt_on=today
    )
    if final:
        values["state"] = TaskState.UNREACHABLE
    _compare_and_set(task, now, principal, **values)
    db.session.execute(
        update(Contact)
        .where(Contact.id == task.contact_id)
        .values(unreachable_count=Contact.unreachable_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(task)
    db.session.refresh(task.contact)
    if final:
        _count(task, TaskState.UNREACHABLE, had_attempts=had_attempts, day=today)
    elif not had_attempts:
        _bump_progress(task, attempted=+1)
    audit.record(
        "drive.outcome_recorded" if final else "drive.attempt_recorded",
        actor=principal,
        target=task.contact,
        unit=task.place.station,
        detail={
            "drive_id": task.drive_id,
            "task_id": task.id,
            "outcome": TaskState.UNREACHABLE.value if final else None,
            "attempts": task.attempts,
            "days": days,
        },
    )
    return task


def _bump_progress(task: VerificationTask, **changes: int) -> None:
    table = DriveProgress.__table__
    db.session.execute(
        update(table)
        .where(
            table.c.drive_id == task.drive_id,
            table.c.unit_path == task.unit_path,
            table.c.sensitivity == task.sensitivity,
        )
        .values({table.c[name]: table.c[name] + delta for name, delta in changes.items()})
    )


def _count(task: VerificationTask, state: TaskState, *, had_attempts: bool, day: date) -> None:
    """The counters of one settled task: its station's row and the day's row (upserted)."""
    column = OUTCOME_COLUMNS[state]
    changes = {"pending": -1, column: +1}
    if had_attempts:
        changes["attempted"] = -1
    _bump_progress(task, **changes)
    table = DriveDailyProgress.__table__
    insert = _dialect_insert()
    counts = {name: 0 for name in OUTCOME_COLUMNS.values()} | {column: 1}
    statement = insert(table).values(
        drive_id=task.drive_id, unit_path=task.unit_path, day=day, **counts
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["drive_id", "unit_path", "day"],
            set_={column: table.c[column] + 1},
        )
    )


# ---- progress, from the counters ---------------------------------------------------------------

COUNTER_NAMES = ("tasks", "pending", "confirmed", "changed", "unreachable", "unsuitable")
SENSITIVITY_LEVELS = (3, 2, 1, 0)  # most sensitive first; 0: not graded


@dataclass
class Tally:
    """Counts of one area (or one sensitivity level) of a drive."""

    tasks: int = 0
    pending: int = 0
    confirmed: int = 0
    changed: int = 0
    unreachable: int = 0
    unsuitable: int = 0
    attempted: int = 0
    overdue: int = 0

    @property
    def done(self) -> int:
        return self.tasks - self.pending

    @property
    def percent_done(self) -> int:
        return round(100 * self.done / self.tasks) if self.tasks else 0

    def add(self, row) -> None:
        for name in (*COUNTER_NAMES, "attempted"):
            setattr(self, name, getattr(self, name) + int(getattr(row, name) or 0))


@dataclass
class Progress:
    drive: VerificationDrive
    unit: Unit
    total: Tally
    by_level: dict[int, Tally]
    children: list[tuple[Unit, Tally]]
    daily: list  # rows: day, confirmed, changed, unreachable, unsuitable, remaining
    overdue: bool


def _sums(*group_by):
    table = DriveProgress
    return select(
        *group_by,
        *[func.sum(getattr(table, name)).label(name) for name in (*COUNTER_NAMES, "attempted")],
    )


def progress_of(
    principal: Principal, drive: VerificationDrive, unit: Unit, *, today: date | None = None
) -> Progress:
    """A drive's progress over ``unit`` (in the principal's scope) from the counters: totals,
    by sensitivity level, by the unit's children and by day. Never counts tasks."""
    if not principal.unit.contains(unit):
        raise NotInScope()
    today = today or ist_day(utcnow())
    overdue = today > drive.due_on
    area = unit.covers(DriveProgress.unit_path)
    where = (DriveProgress.drive_id == drive.id, area)
    total = Tally()
    by_level = {level: Tally() for level in SENSITIVITY_LEVELS}
    for row in db.session.execute(
        _sums(DriveProgress.sensitivity).where(*where).group_by(DriveProgress.sensitivity)
    ):
        total.add(row)
        by_level.setdefault(row.sensitivity, Tally()).add(row)
    children = _children_tallies(drive, unit, where)
    for tally in [total, *by_level.values(), *(tally for _, tally in children)]:
        tally.overdue = tally.pending if overdue else 0
    return Progress(
        drive=drive,
        unit=unit,
        total=total,
        by_level=by_level,
        children=children,
        daily=_daily(drive, unit, total.tasks),
        overdue=overdue,
    )


def _children_tallies(drive, unit: Unit, where) -> list[tuple[Unit, Tally]]:
    """The counters summed per child unit of ``unit`` (by the next segment of each path)."""
    if unit.kind == UnitKind.STATION:
        return []
    depth = len(unit.ancestor_ids)
    tallies: dict[int, Tally] = {}
    for row in db.session.execute(
        _sums(DriveProgress.unit_path).where(*where).group_by(DriveProgress.unit_path)
    ):
        parts = row.unit_path.strip("/").split("/")
        if len(parts) <= depth:
            continue  # places answered for by the unit itself (unattached to a station)
        tallies.setdefault(int(parts[depth]), Tally()).add(row)
    if not tallies:
        return []
    units = db.session.scalars(select(Unit).where(Unit.id.in_(tallies))).all()
    return sorted(((u, tallies[u.id]) for u in units), key=lambda pair: pair[0].name_en)


@dataclass
class Day:
    day: date
    confirmed: int
    changed: int
    unreachable: int
    unsuitable: int
    remaining: int  # tasks still pending at the end of the day (the burn-down)


def _daily(drive: VerificationDrive, unit: Unit, tasks: int) -> list[Day]:
    table = DriveDailyProgress
    names = ("confirmed", "changed", "unreachable", "unsuitable")
    rows = db.session.execute(
        select(table.day, *[func.sum(getattr(table, name)).label(name) for name in names])
        .where(table.drive_id == drive.id, unit.covers(table.unit_path))
        .group_by(table.day)
        .order_by(table.day)
    ).all()
    remaining = tasks
    days = []
    for row in rows:
        counts = [int(getattr(row, name) or 0) for name in names]
        remaining -= sum(counts)
        days.append(Day(row.day, *counts, remaining=remaining))
    return days


# ---- choices for the opening form --------------------------------------------------------------


def scope_choices(principal: Principal) -> list[Unit]:
    """The areas a post may open a drive for: its own unit when it is a district or larger, and
    the districts below it."""
    units = []
    if principal.unit.kind.depth <= UnitKind.DISTRICT.depth:
        units.append(principal.unit)
    if principal.unit.kind.depth < UnitKind.DISTRICT.depth:
        units += db.session.scalars(
            select(Unit)
            .where(Unit.kind == UnitKind.DISTRICT, principal.unit.covers(Unit.path))
            .order_by(Unit.name_en)
        )
    return units


def phase_choices() -> list[ElectionPhase]:
    """Phases still to poll or polled recently (the last year), latest election first."""
    since = ist_day(utcnow()) - timedelta(days=365)
    return list(
        db.session.scalars(
            select(ElectionPhase)
            .where(ElectionPhase.poll_date >= since)
            .options(selectinload(ElectionPhase.election))
            .order_by(ElectionPhase.election_id.desc(), ElectionPhase.number)
        )
    )


# ---- labels ------------------------------------------------------------------------------------

SENSITIVITY_LABELS = {
    3: _l("Hyper-sensitive plus village"),
    2: _l("Hyper-sensitive village"),
    1: _l("Sensitive village"),
    0: _l("Village not graded"),
}
STATE_LABELS = {
    TaskState.PENDING: _l("Still to verify"),
    TaskState.CONFIRMED: _l("Confirmed"),
    TaskState.CHANGED: _l("Details changed"),
    TaskState.UNREACHABLE: _l("Unreachable"),
    TaskState.UNSUITABLE: _l("No longer suitable"),
}


# ---- out-of-date contacts (outside any drive) --------------------------------------------------

DEFAULT_POLICY_DAYS = 180


def policy_days() -> int:
    """Days a verification stays current (config ``VERIFICATION_POLICY_DAYS``, 180)."""
    return int(current_app.config.get("VERIFICATION_POLICY_DAYS", DEFAULT_POLICY_DAYS))


def policy_cutoff(now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=policy_days())


def is_out_of_date(contact: Contact, cutoff: datetime) -> bool:
    """An active contact never verified, or last verified before ``cutoff``."""
    return contact.status == ContactStatus.ACTIVE and (
        contact.last_verified_at is None or contact.last_verified_at < cutoff
    )


def out_of_date_condition(cutoff: datetime):
    return and_(
        Contact.status == ContactStatus.ACTIVE,
        or_(Contact.last_verified_at.is_(None), Contact.last_verified_at < cutoff),
    )


def place_sensitivity(today: date | None = None):
    """A subquery (place_id, rank): each place's highest grade in the elections still to poll."""
    today = today or ist_day(utcnow())
    upcoming = select(ElectionPhase.election_id).where(ElectionPhase.poll_date >= today)
    return (
        select(SensitivePlace.place_id, func.max(SensitivePlace.rank).label("rank"))
        .where(SensitivePlace.election_id.in_(upcoming))
        .group_by(SensitivePlace.place_id)
        .subquery("graded")
    )


def out_of_date_contacts(principal: Principal, station: Unit, *, page: int = 1, per_page: int = 25):
    """A station's active contacts not verified within the policy: sensitive villages first,
    then never verified, then verified longest ago. A page of (contact, grade) rows."""
    if not principal.unit.contains(station) and not station.contains(principal.unit):
        raise NotInScope()
    graded = place_sensitivity()
    rank = func.coalesce(graded.c.rank, 0).label("rank")
    query = (
        select(Contact, rank)
        .outerjoin(graded, graded.c.place_id == Contact.place_id)
        .where(
            station.covers(Contact.unit_path),
            roster.visible_condition(principal),
            out_of_date_condition(policy_cutoff()),
        )
        .options(selectinload(Contact.place))
        .order_by(
            rank.desc(),
            Contact.last_verified_at.is_(None).desc(),
            Contact.last_verified_at,
            Contact.place_id,
            Contact.id,
        )
    )
    total = db.session.scalar(
        select(func.count()).select_from(
            select(Contact.id)
            .where(
                station.covers(Contact.unit_path),
                roster.visible_condition(principal),
                out_of_date_condition(policy_cutoff()),
            )
            .subquery()
        )
    )
    rows = db.session.execute(query.limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return rows, total


def confirm_attended(
    principal: Principal, contact_ids: list[int], now: datetime
) -> list[VerificationTask]:
    """Confirm (method: meeting) the pending tasks of these contacts in open drives; a task
    someone recorded meanwhile is left as it is."""
    if not contact_ids:
        return []
    tasks = db.session.scalars(
        select(VerificationTask)
        .join(VerificationDrive, VerificationDrive.id == VerificationTask.drive_id)
        .where(
            VerificationTask.contact_id.in_(contact_ids),
            VerificationTask.state == TaskState.PENDING,
            VerificationDrive.state == DriveState.OPEN,
            principal.unit.covers(VerificationTask.unit_path),
        )
        .order_by(VerificationTask.id)
    ).all()
    confirmed = []
    for task in tasks:
        try:
            with db.session.begin_nested():
                confirmed.append(
                    _settle(
                        principal, task, TaskState.CONFIRMED, now, method=VerificationMethod.MEETING
                    )
                )
        except AlreadyDecided:
            continue
    return confirmed


# ---- counting again, set-based -------------------------------------------------------------------


def _ist_date(column):
    """SQL: the day in India of a UTC timestamp column."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Kolkata", column))
    return func.date(column, "+5 hours", "+30 minutes")


def recount(drive: VerificationDrive) -> None:
    """Rebuild a drive's counters and daily series from its tasks, set-based (three statements):
    for data written outside ``record_outcome`` (the state-scale generator) or a repair."""
    tasks = VerificationTask.__table__.c
    for model in (DriveProgress, DriveDailyProgress):
        db.session.execute(model.__table__.delete().where(model.__table__.c.drive_id == drive.id))

    def count_of(condition):
        return func.sum(case((condition, 1), else_=0))

    outcome_sums = [
        count_of(tasks.state == state.value) for state in OUTCOME_COLUMNS
    ]  # confirmed, changed, unreachable, unsuitable
    progress = (
        select(
            tasks.drive_id,
            tasks.unit_path,
            tasks.sensitivity,
            func.count(),
            count_of(tasks.state == TaskState.PENDING.value),
            *outcome_sums,
            count_of(and_(tasks.state == TaskState.PENDING.value, tasks.attempts > 0)),
        )
        .where(tasks.drive_id == drive.id)
        .group_by(tasks.drive_id, tasks.unit_path, tasks.sensitivity)
    )
    columns = ["drive_id", "unit_path", "sensitivity", "tasks", "pending"]
    columns += [*OUTCOME_COLUMNS.values(), "attempted"]
    db.session.execute(DriveProgress.__table__.insert().from_select(columns, progress))
    day = _ist_date(tasks.done_at)
    daily = (
        select(tasks.drive_id, tasks.unit_path, day, *outcome_sums)
        .where(tasks.drive_id == drive.id, tasks.state != TaskState.PENDING.value)
        .group_by(tasks.drive_id, tasks.unit_path, day)
    )
    db.session.execute(
        DriveDailyProgress.__table__.insert().from_select(
            ["drive_id", "unit_path", "day", *OUTCOME_COLUMNS.values()], daily
        )
    )
    db.session.flush()


def tasks_of_contact(principal: Principal, contact: Contact) -> list[VerificationTask]:
    """The contact's tasks in drives the post follows, latest drive first (its page shows
    them: confirmed when and by whom, or unreachable on three days: the flag)."""
    return list(
        db.session.scalars(
            select(VerificationTask)
            .join(VerificationDrive, VerificationDrive.id == VerificationTask.drive_id)
            .where(VerificationTask.contact_id == contact.id, visible_drives_condition(principal))
            .options(selectinload(VerificationTask.drive), selectinload(VerificationTask.done_by))
            .order_by(VerificationDrive.opened_at.desc(), VerificationTask.id.desc())
            .limit(10)
        )
    )
