"""The personal-data breach register (DPDP Rules 2025, Rule 7; CERT-In directions of 2022).

A breach is recorded by the SP office of a district or by the state when it is found: what
happened, which data and how many people, what was done. The clocks run from ``found_at``:
CERT-In wants a report within 6 hours, the Data Protection Board the full report within 72
hours (after an intimation without delay, as the people affected). Each notification is a
time, set when it was made; the register shows what is still due and by when.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cplan.models.accounts import Officer, Post
from cplan.models.base import Base, UTCDateTime, utcnow
from cplan.models.geo import PathString, Unit

BOARD_REPORT_WINDOW = timedelta(hours=72)
CERT_IN_WINDOW = timedelta(hours=6)


class Breach(Base):
    """One personal-data breach, its facts and its notifications."""

    __tablename__ = "breaches"
    __table_args__ = (Index("ix_breaches_unit_path_found", "unit_path", "found_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    unit_path: Mapped[str] = mapped_column(PathString)  # the recording post's unit
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text)
    data_affected: Mapped[str] = mapped_column(Text)
    people_affected: Mapped[int] = mapped_column(Integer)
    measures: Mapped[str] = mapped_column(Text, default="")
    cert_in_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    board_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    people_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    board_report_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    recorded_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    unit: Mapped[Unit] = relationship()
    recorded_by: Mapped[Officer | None] = relationship()
    recorded_post: Mapped[Post | None] = relationship()

    @property
    def board_report_due(self) -> datetime:
        return self.found_at + BOARD_REPORT_WINDOW

    @property
    def cert_in_due(self) -> datetime:
        return self.found_at + CERT_IN_WINDOW

    def __repr__(self) -> str:
        return f"<Breach {self.id} found {self.found_at:%Y-%m-%d %H:%M}>"
