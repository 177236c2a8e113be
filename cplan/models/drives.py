"""Re-verification drives: before the polls every active contact in scope is checked again.

- ``VerificationDrive``: opened by the SP office for its district or by the state control room
  (optionally for one election phase, then only the phase's districts), with the day it opens,
  the day it is due and how old a verification may be to count (``max_age_days``): contacts
  verified more recently get no task.
- ``VerificationTask``: one contact in one drive, created set-based when the drive opens. It
  copies the contact's ``unit_path`` and place, and the place's sensitivity for the drive's
  election (``sensitivity``: 0 none, else ``SensitivePlace.rank``), so the order of work and the
  counters never need a join. An outcome is recorded by compare-and-set on ``version``.
- ``DriveProgress``: the counters per drive, station (``unit_path``) and sensitivity, kept in the
  same transaction as each outcome; progress pages sum a few thousand rows at most, never the
  tasks. ``DriveDailyProgress``: outcomes per drive, station and day (IST), for a burn-down.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cplan.models.accounts import Officer
from cplan.models.base import Base, UTCDateTime, utcnow
from cplan.models.elections import ElectionPhase
from cplan.models.geo import PathString, Place, Unit, enum_column
from cplan.models.roster import Contact


class DriveState(enum.StrEnum):
    # A drive larger than a district is recorded as opening by the page and opened by the
    # worker (``flask cplan sms-worker``): creating a million tasks takes longer than a request
    # may. Failed: the worker's attempt failed (``open_failure`` says why); it can be retried.
    OPENING = "opening"
    OPEN = "open"
    FAILED = "failed"
    CLOSED = "closed"


class TaskState(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"  # same person, same number, still willing
    CHANGED = "changed"  # reached, details changed: a correction went to the ASP
    UNREACHABLE = "unreachable"  # unreachable on three different days: the contact is flagged
    UNSUITABLE = "unsuitable"  # no longer suitable: a removal went to the ASP


class VerificationMethod(enum.StrEnum):
    CALL = "call"
    VISIT = "visit"
    SMS = "sms"
    MEETING = "meeting"


#: The outcome columns of the counters, by the state a task ends in.
OUTCOME_COLUMNS = {
    TaskState.CONFIRMED: "confirmed",
    TaskState.CHANGED: "changed",
    TaskState.UNREACHABLE: "unreachable",
    TaskState.UNSUITABLE: "unsuitable",
}


class VerificationDrive(Base):
    __tablename__ = "verification_drives"
    __table_args__ = (Index("ix_verification_drives_state_scope", "state", "scope_path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    scope_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    scope_path: Mapped[str] = mapped_column(PathString)
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("election_phases.id"))
    opens_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    max_age_days: Mapped[int] = mapped_column(Integer)
    state: Mapped[DriveState] = mapped_column(enum_column(DriveState), default=DriveState.OPEN)
    # Set when the drive opened: the tasks created, and the contacts left out because a
    # verification recent enough already counts.
    task_count: Mapped[int] = mapped_column(Integer, default=0)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the worker's last attempt to open it failed (technical, for the page and the logs).
    open_failure: Mapped[str | None] = mapped_column(Text)

    scope_unit: Mapped[Unit] = relationship()
    phase: Mapped[ElectionPhase | None] = relationship()
    opened_by: Mapped[Officer | None] = relationship(foreign_keys=[opened_by_id])

    def __repr__(self) -> str:
        return f"<VerificationDrive {self.id} {self.state} {self.scope_path}>"


class VerificationTask(Base):
    __tablename__ = "verification_tasks"
    __table_args__ = (
        UniqueConstraint("drive_id", "contact_id"),
        # "Verify next": a station's pending tasks, most sensitive village first.
        Index("ix_verification_tasks_drive_path_state", "drive_id", "unit_path", "state"),
        Index("ix_verification_tasks_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drive_id: Mapped[int] = mapped_column(ForeignKey("verification_drives.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    unit_path: Mapped[str] = mapped_column(PathString)
    # No foreign-key constraints on place_id, done_by_id and proposal_id: the drive service
    # writes them from rows it has just read, places and officers are never deleted, and each
    # constraint costs PostgreSQL a trigger call per inserted task (1.1 million for a statewide
    # drive). drive_id and contact_id keep theirs.
    place_id: Mapped[int] = mapped_column(Integer)
    sensitivity: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[TaskState] = mapped_column(enum_column(TaskState), default=TaskState.PENDING)
    version: Mapped[int] = mapped_column(Integer, default=1)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Unreachable on how many different days (IST), and the last of them.
    unreachable_days: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_on: Mapped[date | None] = mapped_column(Date)
    method: Mapped[VerificationMethod | None] = mapped_column(enum_column(VerificationMethod))
    # Who recorded last and when (an attempt or the outcome): the loser of a race is told.
    done_by_id: Mapped[int | None] = mapped_column(Integer)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposal_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")

    drive: Mapped[VerificationDrive] = relationship()
    contact: Mapped[Contact] = relationship()
    place: Mapped[Place] = relationship(
        primaryjoin="foreign(VerificationTask.place_id) == Place.id", viewonly=True
    )
    done_by: Mapped[Officer | None] = relationship(
        primaryjoin="foreign(VerificationTask.done_by_id) == Officer.id", viewonly=True
    )


class DriveProgress(Base):
    """Counters of one drive for one station (``unit_path``) and sensitivity level."""

    __tablename__ = "drive_progress"
    __table_args__ = (UniqueConstraint("drive_id", "unit_path", "sensitivity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drive_id: Mapped[int] = mapped_column(ForeignKey("verification_drives.id"))
    unit_path: Mapped[str] = mapped_column(PathString)
    sensitivity: Mapped[int] = mapped_column(Integer, default=0)
    tasks: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    unreachable: Mapped[int] = mapped_column(Integer, default=0)
    unsuitable: Mapped[int] = mapped_column(Integer, default=0)
    attempted: Mapped[int] = mapped_column(Integer, default=0)  # pending with an attempt made


class DriveDailyProgress(Base):
    """Outcomes of one drive recorded on one day (IST) at one station."""

    __tablename__ = "drive_daily_progress"
    __table_args__ = (UniqueConstraint("drive_id", "unit_path", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drive_id: Mapped[int] = mapped_column(ForeignKey("verification_drives.id"))
    unit_path: Mapped[str] = mapped_column(PathString)
    day: Mapped[date] = mapped_column(Date)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    unreachable: Mapped[int] = mapped_column(Integer, default=0)
    unsuitable: Mapped[int] = mapped_column(Integer, default=0)
