"""The roster: respected citizens (contacts) of each village and ward, and how they got there.

A contact carries the ``unit_path`` of its place's police station (kept in step when a place
moves), so every scope question about contacts is one indexed range condition, like places.
No caste or religion is recorded, by design.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cplan.models import contact_counts
from cplan.models.accounts import Officer, Post
from cplan.models.base import Base, UTCDateTime, utcnow
from cplan.models.geo import PathString, Place, enum_column


class ContactStatus(enum.StrEnum):
    PENDING = "pending"  # enrolled by station staff, awaiting the ASP
    ACTIVE = "active"  # approved: in the roster
    REJECTED = "rejected"  # refused by the ASP (may be corrected and resubmitted)
    INACTIVE = "inactive"  # left the roster (see InactiveReason); history kept


class InactiveReason(enum.StrEnum):
    MOVED = "moved"
    DECEASED = "deceased"
    UNREACHABLE = "unreachable"
    UNSUITABLE = "unsuitable"
    WITHDREW_CONSENT = "withdrew_consent"


class ContactCategory(enum.StrEnum):
    PRADHAN = "pradhan"
    FORMER_PRADHAN = "former_pradhan"
    BDC_WARD_MEMBER = "bdc_ward_member"
    TEACHER = "teacher"
    DOCTOR = "doctor"
    EX_SERVICEMAN = "ex_serviceman"
    ADVOCATE = "advocate"
    TRADER = "trader"
    RELIGIOUS_LEADER = "religious_leader"
    RETIRED_GOVERNMENT = "retired_government"
    SOCIAL_WORKER = "social_worker"
    JOURNALIST = "journalist"
    YOUTH_REPRESENTATIVE = "youth_representative"
    WOMEN_REPRESENTATIVE = "women_representative"
    OTHER = "other"


class OptOutChannel(enum.StrEnum):
    PHONE_CALL = "phone_call"
    IN_PERSON = "in_person"
    WRITTEN = "written"
    SMS_REPLY = "sms_reply"


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    TRANSGENDER = "transgender"
    NOT_STATED = "not_stated"


class Script(enum.StrEnum):
    DEVANAGARI = "deva"
    LATIN = "latn"


class Contact(Base):
    """A respected citizen enrolled for a place, with the record of notice and consent."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_unit_path_status", "unit_path", "status"),
        Index("ix_contacts_place_status", "place_id", "status"),
        Index("ix_contacts_mobile", "mobile"),
        Index("ix_contacts_mobile_alt", "mobile_alt"),
        Index("ix_contacts_status_enrolled_at", "status", "enrolled_at"),
        # The few pending enrolments of a subtree (the ASP's queue and the count in the menu)
        # without reading the many active contacts that share the subtree; and, covering,
        # coverage's counts per station, status and category without reading any row.
        Index(
            "ix_contacts_status_unit_path",
            "status",
            "unit_path",
            "category",
            "confidential",
            "place_id",
        ),
        # Out-of-date contacts of an area counted on the home pages from one index range.
        Index(
            "ix_contacts_status_unit_path_verified",
            "status",
            "unit_path",
            "last_verified_at",
            "confidential",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"))
    unit_path: Mapped[str] = mapped_column(PathString)

    # The name as written, its script, and the same name in the other script.
    name: Mapped[str] = mapped_column(String(200))
    name_script: Mapped[Script] = mapped_column(enum_column(Script, 8))
    name_other: Mapped[str] = mapped_column(String(200), default="")
    name_other_generated: Mapped[bool] = mapped_column(Boolean, default=True)
    search_key: Mapped[str] = mapped_column(String(400), default="")

    mobile: Mapped[str | None] = mapped_column(String(16))  # E.164; NULL once erased
    mobile_alt: Mapped[str | None] = mapped_column(String(16))
    whatsapp: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[ContactCategory] = mapped_column(enum_column(ContactCategory, 32))
    gender: Mapped[Gender] = mapped_column(enum_column(Gender, 16), default=Gender.NOT_STATED)
    address: Mapped[str] = mapped_column(String(300), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Visible only from ASP upwards (e.g. a source of information on criminal activity).
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)

    status: Mapped[ContactStatus] = mapped_column(
        enum_column(ContactStatus), default=ContactStatus.PENDING
    )
    inactive_reason: Mapped[InactiveReason | None] = mapped_column(enum_column(InactiveReason, 24))
    # Compare-and-set counter: a decision names the version it saw (two approvers, one winner).
    version: Mapped[int] = mapped_column(Integer, default=1)

    # DPDP: the notice given and consent obtained (when, by whom, in which language).
    consent_on: Mapped[date | None] = mapped_column(Date)
    consent_by_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    consent_language: Mapped[str] = mapped_column(String(8), default="")

    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enrolled_by_officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("officers.id"), index=True
    )
    enrolled_by_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    decision_reason: Mapped[str] = mapped_column(String(32), default="")
    decision_note: Mapped[str] = mapped_column(Text, default="")

    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unreachable_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Erasure on the citizen's request: personal fields blanked, the row and audit trail kept.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The citizen asked not to receive broadcasts: when, recorded by whom, and how they asked
    # (``OptOutChannel``); broadcasts never include them.
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An officer's id without a foreign key: adding one to contacts needs a table rebuild on
    # SQLite, which would drop the count triggers (the audit event names the officer too).
    opted_out_by_officer_id: Mapped[int | None] = mapped_column(Integer)
    opt_out_channel: Mapped[str] = mapped_column(String(16), default="", server_default=text("''"))

    place: Mapped[Place] = relationship()
    enrolled_by: Mapped[Officer | None] = relationship(foreign_keys=[enrolled_by_officer_id])
    enrolled_by_post: Mapped[Post | None] = relationship(foreign_keys=[enrolled_by_post_id])
    decided_by: Mapped[Officer | None] = relationship(foreign_keys=[decided_by_officer_id])
    consent_by: Mapped[Officer | None] = relationship(foreign_keys=[consent_by_officer_id])

    def __repr__(self) -> str:
        return f"<Contact {self.id} {self.status}>"

    def display_name(self, locale: str = "en") -> str:
        """The name in the reader's script when we have it, else as written."""
        wants = Script.DEVANAGARI if locale == "hi" else Script.LATIN
        if self.name_script != wants and self.name_other:
            return self.name_other
        return self.name

    def names(self, locale: str = "en") -> tuple[str, str, str, str]:
        """(name, its lang, the name in the other script or "", its lang): the reader's script
        first, for markup that tags each with its ``lang``."""
        written = "hi" if self.name_script == Script.DEVANAGARI else "en"
        other_script = "en" if written == "hi" else "hi"
        primary = self.display_name(locale)
        if primary == self.name:
            primary_lang, other, other_lang = written, self.name_other, other_script
        else:
            primary_lang, other, other_lang = other_script, self.name, written
        return primary, primary_lang, (other if other != primary else ""), other_lang

    def spelling_generated(self, lang: str) -> bool:
        """True when the name shown in ``lang`` ("hi" or "en") is the other-script spelling the
        computer made (``name_other_generated``), not one a person wrote or checked."""
        written = "hi" if self.name_script == Script.DEVANAGARI else "en"
        return bool(self.name_other_generated and self.name_other) and lang != written


def _install_counts_after_create(_table, connection, **_kw):
    contact_counts.install_triggers(connection)


event.listen(Contact.__table__, "after_create", _install_counts_after_create)


class ProposalKind(enum.StrEnum):
    CORRECTION = "correction"  # new number, name fix, category, another village of the station
    REMOVAL = (
        "removal"  # mark inactive (moved, deceased, unreachable, unsuitable, withdrew consent)
    )


class ProposalStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ContactProposal(Base):
    """A change to an active contact proposed by station staff, decided by the ASP.

    Until approved the roster shows the current values; ``changes`` holds the proposed values
    (already validated and normalised) as JSON. Decided by compare-and-set on ``version``.
    """

    __tablename__ = "contact_proposals"
    __table_args__ = (
        Index("ix_contact_proposals_unit_path_status", "unit_path", "status"),
        Index("ix_contact_proposals_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    unit_path: Mapped[str] = mapped_column(PathString)
    kind: Mapped[ProposalKind] = mapped_column(enum_column(ProposalKind))
    status: Mapped[ProposalStatus] = mapped_column(
        enum_column(ProposalStatus), default=ProposalStatus.PENDING
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    changes: Mapped[str] = mapped_column(Text, default="{}")
    inactive_reason: Mapped[InactiveReason | None] = mapped_column(enum_column(InactiveReason, 24))
    note: Mapped[str] = mapped_column(Text, default="")
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    proposed_by_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    proposed_by_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    decision_reason: Mapped[str] = mapped_column(String(32), default="")
    decision_note: Mapped[str] = mapped_column(Text, default="")

    contact: Mapped[Contact] = relationship()
    proposed_by: Mapped[Officer | None] = relationship(foreign_keys=[proposed_by_officer_id])
    decided_by: Mapped[Officer | None] = relationship(foreign_keys=[decided_by_officer_id])
