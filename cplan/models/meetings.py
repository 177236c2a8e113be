"""Coordination meetings (समन्वय बैठक): a police station meets its C-Plan members.

A meeting records when and where it was held, who chaired it, the villages whose rosters were
invited (``MeetingPlace``), the contacts who came (``MeetingAttendance``), topics and notes.
It copies its station's path (``unit_path``) so listing per station, circle or district is one
indexed range condition.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cplan.models.accounts import Officer
from cplan.models.base import Base, UTCDateTime, utcnow
from cplan.models.geo import PathString, Place, Unit
from cplan.models.roster import Contact


class CoordinationMeeting(Base):
    __tablename__ = "coordination_meetings"
    __table_args__ = (Index("ix_coordination_meetings_unit_path_held", "unit_path", "held_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    unit_path: Mapped[str] = mapped_column(PathString)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    venue: Mapped[str] = mapped_column(String(200))
    chaired_by: Mapped[str] = mapped_column(String(200))
    topics: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    attendance: Mapped[int] = mapped_column(Integer, default=0)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    station: Mapped[Unit] = relationship()
    recorded_by: Mapped[Officer | None] = relationship()
    places: Mapped[list[MeetingPlace]] = relationship(back_populates="meeting")
    attendees: Mapped[list[MeetingAttendance]] = relationship(back_populates="meeting")


class MeetingPlace(Base):
    __tablename__ = "meeting_places"
    __table_args__ = (UniqueConstraint("meeting_id", "place_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("coordination_meetings.id"))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"))

    meeting: Mapped[CoordinationMeeting] = relationship(back_populates="places")
    place: Mapped[Place] = relationship()


class MeetingAttendance(Base):
    __tablename__ = "meeting_attendance"
    __table_args__ = (
        UniqueConstraint("meeting_id", "contact_id"),
        Index("ix_meeting_attendance_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("coordination_meetings.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))

    meeting: Mapped[CoordinationMeeting] = relationship(back_populates="attendees")
    contact: Mapped[Contact] = relationship()
