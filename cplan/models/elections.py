"""Elections: their phases and the districts that vote in each, the places most likely to see
trouble, and the contacts who take a side in the poll.

- ``Election``: the kind (gram panchayat, urban local body, Vidhan Sabha, Lok Sabha, bye-election),
  who conducts it (the State Election Commission or the Election Commission of India) and when it
  was notified. Created by the state control room.
- ``ElectionPhase``: a numbered phase with its poll date; ``PhaseDistrict`` says which districts
  vote in it. A district votes in one phase of an election (unique per election).
- ``SensitivePlace``: for one election, a village or ward (optionally one polling booth location
  in it) graded संवेदनशील / अति संवेदनशील / अति संवेदनशील प्लस, with reason codes from a fixed list
  and a note. Criminal records themselves stay out of cplan: a reason code and a free-text
  ``reference`` (a file number) at most.
- ``ContactElectionMark``: during an election a contact may be a candidate, an agent, a party
  office-bearer or a candidate's close relative; such contacts are left out of lists meant for
  neutral verification. A mark is ended (``ended_at``), never deleted, so its history stays.

Sensitive places and marks copy the ``unit_path`` of their place (its police station's path),
kept in step when a place moves (services/geo.py), so scope is one indexed range condition.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cplan.models.accounts import Officer
from cplan.models.base import Base, UTCDateTime, utcnow
from cplan.models.geo import PathString, Place, Unit, enum_column
from cplan.models.roster import Contact


class ElectionKind(enum.StrEnum):
    GRAM_PANCHAYAT = "gram_panchayat"
    URBAN_LOCAL_BODY = "urban_local_body"
    VIDHAN_SABHA = "vidhan_sabha"
    LOK_SABHA = "lok_sabha"
    BYE_ELECTION = "bye_election"


class ElectionAuthority(enum.StrEnum):
    STATE_ELECTION_COMMISSION = "sec"  # panchayat and urban local body polls
    ELECTION_COMMISSION_OF_INDIA = "eci"  # Vidhan Sabha and Lok Sabha polls


class SensitivityLevel(enum.StrEnum):
    SENSITIVE = "sensitive"  # संवेदनशील
    HYPER_SENSITIVE = "hyper_sensitive"  # अति संवेदनशील
    HYPER_SENSITIVE_PLUS = "hyper_sensitive_plus"  # अति संवेदनशील प्लस


#: Most sensitive first is the order of work: a higher rank comes first.
SENSITIVITY_RANK = {
    SensitivityLevel.SENSITIVE: 1,
    SensitivityLevel.HYPER_SENSITIVE: 2,
    SensitivityLevel.HYPER_SENSITIVE_PLUS: 3,
}


class SensitivityReason(enum.StrEnum):
    PAST_POLL_VIOLENCE = "past_poll_violence"
    VOTERS_PREVENTED = "voters_prevented"
    COMMUNAL_TENSION = "communal_tension"
    CASTE_TENSION = "caste_tension"
    CANDIDATE_CRIMINAL_RECORD = "candidate_criminal_record"
    EARLIER_REPOLL = "earlier_repoll"
    BOOTH_CAPTURING = "booth_capturing"
    REMOTE_OR_INACCESSIBLE = "remote_or_inaccessible"
    OTHER = "other"


class ElectionRole(enum.StrEnum):
    CANDIDATE = "candidate"
    POLLING_AGENT = "polling_agent"
    COUNTING_AGENT = "counting_agent"
    PARTY_OFFICE_BEARER = "party_office_bearer"
    CANDIDATE_RELATIVE = "candidate_relative"


class Election(Base):
    __tablename__ = "elections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[ElectionKind] = mapped_column(enum_column(ElectionKind, 24))
    authority: Mapped[ElectionAuthority] = mapped_column(enum_column(ElectionAuthority, 8))
    name_en: Mapped[str] = mapped_column(String(200))
    name_hi: Mapped[str] = mapped_column(String(200), default="")
    notified_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[Officer | None] = relationship()
    phases: Mapped[list[ElectionPhase]] = relationship(
        back_populates="election", order_by="ElectionPhase.number"
    )

    def __repr__(self) -> str:
        return f"<Election {self.id} {self.kind} {self.name_en}>"


class ElectionPhase(Base):
    __tablename__ = "election_phases"
    __table_args__ = (UniqueConstraint("election_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    number: Mapped[int] = mapped_column(Integer)
    poll_date: Mapped[date] = mapped_column(Date)

    election: Mapped[Election] = relationship(back_populates="phases")
    districts: Mapped[list[PhaseDistrict]] = relationship(back_populates="phase")


class PhaseDistrict(Base):
    """A district votes in this phase; ``election_id`` is repeated so that a district can be
    held to one phase per election by a unique constraint."""

    __tablename__ = "phase_districts"
    __table_args__ = (
        UniqueConstraint("election_id", "district_id"),
        Index("ix_phase_districts_phase", "phase_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    phase_id: Mapped[int] = mapped_column(ForeignKey("election_phases.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("units.id"))

    phase: Mapped[ElectionPhase] = relationship(back_populates="districts")
    district: Mapped[Unit] = relationship()


class SensitivePlace(Base):
    __tablename__ = "sensitive_places"
    __table_args__ = (
        UniqueConstraint("election_id", "place_id", "booth"),
        Index("ix_sensitive_places_election_unit_path", "election_id", "unit_path"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True)
    booth: Mapped[str] = mapped_column(String(200), default="")  # "" = the whole place
    unit_path: Mapped[str] = mapped_column(PathString)
    level: Mapped[SensitivityLevel] = mapped_column(enum_column(SensitivityLevel, 24))
    rank: Mapped[int] = mapped_column(Integer)  # SENSITIVITY_RANK[level], for ordering
    reasons: Mapped[str] = mapped_column(String(400), default="")  # SensitivityReason codes, csv
    note: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str] = mapped_column(String(200), default="")
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    election: Mapped[Election] = relationship()
    place: Mapped[Place] = relationship()
    set_by: Mapped[Officer | None] = relationship()

    @property
    def reason_codes(self) -> list[SensitivityReason]:
        return [SensitivityReason(code) for code in self.reasons.split(",") if code]


class ContactElectionMark(Base):
    __tablename__ = "contact_election_marks"
    __table_args__ = (
        Index("ix_contact_election_marks_contact", "contact_id", "ended_at"),
        Index("ix_contact_election_marks_election_unit_path", "election_id", "unit_path"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    unit_path: Mapped[str] = mapped_column(PathString)
    role: Mapped[ElectionRole] = mapped_column(enum_column(ElectionRole, 24))
    note: Mapped[str] = mapped_column(String(400), default="")
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))

    election: Mapped[Election] = relationship()
    contact: Mapped[Contact] = relationship()
    marked_by: Mapped[Officer | None] = relationship(foreign_keys=[marked_by_id])
    ended_by: Mapped[Officer | None] = relationship(foreign_keys=[ended_by_id])
