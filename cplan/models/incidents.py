"""Incidents and rumours, the places they touch, and their append-only timelines.

An ``Incident`` carries a readable reference (``<district LGD code>/<year>/<serial>``); the
serial counts per district per calendar year (IST) and is allocated from ``IncidentSerial``,
one counter row per district and year, by an UPDATE that two creators cannot both win.

``IncidentPlace`` copies each affected place's ``unit_path`` (its police station's path), so
"incidents a station may see" is the same indexed range condition as for places and contacts,
and an incident spanning two stations is visible to both.

``TimelineEntry`` rows are never changed: the database refuses UPDATE and DELETE on the table
(triggers below, as for ``audit_events``). A correction is a new entry naming the old one.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cplan.models import append_only
from cplan.models.accounts import Officer, Post
from cplan.models.base import Base, UTCDateTime, utcnow
from cplan.models.geo import PathString, Place, Unit, enum_column
from cplan.models.roster import Contact


class IncidentKind(enum.StrEnum):
    RUMOUR = "rumour"
    COMMUNAL_TENSION = "communal_tension"
    DISPUTE_CLASH = "dispute_clash"
    CRIME = "crime"
    ELECTION = "election"
    PROTEST_GATHERING = "protest_gathering"
    OTHER = "other"


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IncidentSource(enum.StrEnum):
    UP112_CALL = "up112_call"
    SOCIAL_MEDIA = "social_media"
    FIELD_REPORT = "field_report"
    CONTACT_TIP = "contact_tip"
    CONTROL_ROOM = "control_room"
    WHATSAPP = "whatsapp"  # a message forwarded in a WhatsApp group


class IncidentStatus(enum.StrEnum):
    NEW = "new"
    VERIFYING = "verifying"
    VERIFIED_TRUE = "verified_true"
    FOUND_FALSE = "found_false"
    UNCONFIRMED = "unconfirmed"
    ACTION_TAKEN = "action_taken"
    CLOSED = "closed"


# The three outcomes of verification.
VERDICT_STATUSES = frozenset(
    {IncidentStatus.VERIFIED_TRUE, IncidentStatus.FOUND_FALSE, IncidentStatus.UNCONFIRMED}
)


class EntryKind(enum.StrEnum):
    NOTE = "note"
    CALL = "call"
    STATUS_CHANGE = "status_change"
    ESCALATION = "escalation"
    REVIEW = "review"
    PUBLIC_MESSAGE = "public_message"
    CORRECTION = "correction"


class CallOutcome(enum.StrEnum):
    CONFIRMED = "confirmed"
    DENIED = "denied"
    UNAWARE = "unaware"
    NO_ANSWER = "no_answer"
    SWITCHED_OFF = "switched_off"
    WRONG_NUMBER = "wrong_number"

    @property
    def answered(self) -> bool:
        """The contact picked up and spoke (the number works)."""
        return self in ANSWERED_OUTCOMES


ANSWERED_OUTCOMES = frozenset({CallOutcome.CONFIRMED, CallOutcome.DENIED, CallOutcome.UNAWARE})


class IncidentSerial(Base):
    """The last serial handed out for one district in one year (the reference counter)."""

    __tablename__ = "incident_serials"

    district_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_serial: Mapped[int] = mapped_column(Integer, default=0)


# The partial indexes' conditions, written out in the queries that use them (a query's WHERE
# must contain them as they are, with no bound parameter, for SQLite to use the index).
OPEN_PREDICATE = "status <> 'closed'"
AWAITING_PREDICATE = "status <> 'closed' AND (first_call_at IS NULL OR verdict_at IS NULL)"


class Incident(Base):
    """A reported incident or rumour being verified, acted on and reviewed."""

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("district_id", "year", "serial", name="uq_incidents_district_year_serial"),
        Index("ix_incidents_district_reported", "district_id", "reported_at"),
        Index("ix_incidents_reported_at", "reported_at"),
        Index("ix_incidents_status", "status"),
        # The review queue: not yet reviewed, oldest report first (statewide for the control room).
        Index("ix_incidents_reviewed_reported", "reviewed_at", "reported_at"),
        Index("ix_incidents_up112_number", "up112_number"),
        # The home pages (cplan.services.dashboard): open incidents by severity, the newest
        # first, statewide and per district, and those still waiting for a first call or a
        # verdict. Partial: a closed incident (most of them, in time) leaves these indexes, so
        # what a home page counts or sorts is only what is still open.
        Index(
            "ix_incidents_open_severity",
            "severity",
            "reported_at",
            sqlite_where=text(OPEN_PREDICATE),
            postgresql_where=text(OPEN_PREDICATE),
        ),
        Index(
            "ix_incidents_open_district",
            "district_id",
            "severity",
            "reported_at",
            sqlite_where=text(OPEN_PREDICATE),
            postgresql_where=text(OPEN_PREDICATE),
        ),
        Index(
            "ix_incidents_awaiting",
            "district_id",
            "reported_at",
            "first_call_at",  # the overdue rule reads the index alone
            "verdict_at",
            sqlite_where=text(AWAITING_PREDICATE),
            postgresql_where=text(AWAITING_PREDICATE),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int] = mapped_column(Integer)
    up112_number: Mapped[str | None] = mapped_column(String(32))

    kind: Mapped[IncidentKind] = mapped_column(enum_column(IncidentKind, 24))
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, 16))
    source: Mapped[IncidentSource] = mapped_column(enum_column(IncidentSource, 16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[IncidentStatus] = mapped_column(
        enum_column(IncidentStatus, 16), default=IncidentStatus.NEW
    )
    # Tips naming a source: visible from the ASP upwards only.
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)

    # "Being handled by": claimed by compare-and-set; a stale claim may be taken over.
    handling_by_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    handling_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    review_comment: Mapped[str] = mapped_column(Text, default="")

    # For the time-to-first-call and time-to-verdict figures (each set once).
    first_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verdict_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Compare-and-set counter for status changes; and the last timeline seq handed out.
    version: Mapped[int] = mapped_column(Integer, default=1)
    last_entry_seq: Mapped[int] = mapped_column(Integer, default=0)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    created_by_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    district: Mapped[Unit] = relationship()
    handling_by: Mapped[Officer | None] = relationship(foreign_keys=[handling_by_officer_id])
    reviewed_by: Mapped[Officer | None] = relationship(foreign_keys=[reviewed_by_officer_id])
    created_by: Mapped[Officer | None] = relationship(foreign_keys=[created_by_officer_id])
    created_by_post: Mapped[Post | None] = relationship(foreign_keys=[created_by_post_id])
    places: Mapped[list[IncidentPlace]] = relationship(
        back_populates="incident", order_by="IncidentPlace.id"
    )
    entries: Mapped[list[TimelineEntry]] = relationship(
        back_populates="incident", order_by="TimelineEntry.seq", viewonly=True
    )

    def __repr__(self) -> str:
        return f"<Incident {self.reference} {self.status}>"

    @property
    def unit_paths(self) -> list[str]:
        """The scope keys of the affected places (their stations' paths)."""
        return sorted({incident_place.unit_path for incident_place in self.places})

    @property
    def is_verdict(self) -> bool:
        return self.status in VERDICT_STATUSES


class IncidentPlace(Base):
    """A place an incident touches, with the place's scope key copied at the time."""

    __tablename__ = "incident_places"
    __table_args__ = (
        UniqueConstraint("incident_id", "place_id", name="uq_incident_places_incident_place"),
        Index("ix_incident_places_unit_path", "unit_path", "incident_id"),
        Index("ix_incident_places_place_id", "place_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"))
    unit_path: Mapped[str] = mapped_column(PathString)

    incident: Mapped[Incident] = relationship(back_populates="places")
    place: Mapped[Place] = relationship()


class TimelineEntry(Base):
    """One entry of an incident's timeline: never edited, never deleted."""

    __tablename__ = "timeline_entries"
    __table_args__ = (
        UniqueConstraint("incident_id", "seq", name="uq_timeline_entries_incident_seq"),
        Index("ix_timeline_entries_contact_id", "contact_id"),
        # Escalations addressed to a unit, the latest first (the home pages).
        Index("ix_timeline_entries_escalated_to", "escalated_to_unit_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, 3... within the incident
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind, 16))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    # Calls (and the contact behind a tip).
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    call_outcome: Mapped[CallOutcome | None] = mapped_column(enum_column(CallOutcome, 16))
    corrects_entry_id: Mapped[int | None] = mapped_column(ForeignKey("timeline_entries.id"))
    from_status: Mapped[IncidentStatus | None] = mapped_column(enum_column(IncidentStatus, 16))
    to_status: Mapped[IncidentStatus | None] = mapped_column(enum_column(IncidentStatus, 16))
    escalated_to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))

    incident: Mapped[Incident] = relationship(back_populates="entries")
    officer: Mapped[Officer | None] = relationship()
    post: Mapped[Post | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    corrects: Mapped[TimelineEntry | None] = relationship(remote_side=[id])
    escalated_to: Mapped[Unit | None] = relationship()

    def __repr__(self) -> str:
        return f"<TimelineEntry {self.incident_id}#{self.seq} {self.kind}>"


# ---- append-only at the database --------------------------------------------------------------


def install_timeline_triggers(connection) -> None:
    """Make ``timeline_entries`` refuse UPDATE and DELETE (idempotent)."""
    append_only.install(connection, "timeline_entries")


def drop_timeline_triggers(connection) -> None:
    """Remove the append-only triggers (migration downgrade and test teardown only)."""
    append_only.drop(connection, "timeline_entries")


def _install_after_create(_table, connection, **_kw):
    install_timeline_triggers(connection)


event.listen(TimelineEntry.__table__, "after_create", _install_after_create)
