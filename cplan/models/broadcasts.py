"""Broadcasts: one DLT-registered message to many contacts of a station or of chosen villages.

A broadcast is composed by a station or district post from a registered template
(``cplan.models.messages.DltTemplate``) and values; its final text, encoding and segment count
are fixed when it is composed. Its audience is a rule (a station, or chosen villages of it, and
optionally a category), resolved to the contacts it holds when the broadcast is approved.

A broadcast may be scheduled (``send_at``, stored UTC, shown IST): its messages are queued when
it is approved but due only then, and until then it may be cancelled (``cancelled``).

Audiences (``audience``): ``places`` (the station, or chosen villages), ``sensitive`` (the
villages of the station graded in the election active in its district), ``out_of_date`` (the
station's contacts not verified within the verification policy).

States: ``awaiting_approval`` (more than the threshold of recipients: an ASP or the SP office
must decide, compare-and-set on ``version``), ``approved`` (its messages are queued),
``rejected``, ``cancelled``.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cplan.models.accounts import Officer, Post
from cplan.models.base import Base, UTCDateTime, utcnow
from cplan.models.geo import PathString, Unit, enum_column
from cplan.models.messages import DltTemplate


class BroadcastStatus(enum.StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class AudienceKind(enum.StrEnum):
    PLACES = "places"
    SENSITIVE = "sensitive"
    OUT_OF_DATE = "out_of_date"


class Broadcast(Base):
    """One message to an audience, with who composed and who approved it."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_unit_path_status", "unit_path", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The station whose contacts (or some of whose villages) are the audience; the broadcast is
    # filed under its path, so scope is the usual range condition.
    station_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    unit_path: Mapped[str] = mapped_column(PathString)
    # Chosen villages (JSON list of place ids); empty: the whole station.
    place_ids: Mapped[str] = mapped_column(Text, default="[]")
    category: Mapped[str | None] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(
        String(16), default=AudienceKind.PLACES.value, server_default=AudienceKind.PLACES.value
    )
    # The sender may see confidential contacts (ASP and above): only then are they included.
    include_confidential: Mapped[bool] = mapped_column(Boolean, default=False)

    template_id: Mapped[int] = mapped_column(ForeignKey("dlt_templates.id"))
    slot_values: Mapped[str] = mapped_column(Text, default="[]")
    body: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(String(8))
    segments: Mapped[int] = mapped_column(Integer)
    audience_size: Mapped[int] = mapped_column(Integer)

    status: Mapped[BroadcastStatus] = mapped_column(enum_column(BroadcastStatus, 24))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Sent even between 21:00 and 09:00 IST: only the SP office may mark it so.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent_by_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    created_by_post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    # When its messages were written to the outbox, and how many.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queued_count: Mapped[int] = mapped_column(Integer, default=0)
    # Scheduled: no message goes before this time (None: as soon as it is queued).
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))

    station: Mapped[Unit] = relationship()
    template: Mapped[DltTemplate] = relationship()
    created_by: Mapped[Officer] = relationship(foreign_keys=[created_by_officer_id])
    created_by_post: Mapped[Post] = relationship(foreign_keys=[created_by_post_id])
    decided_by: Mapped[Officer | None] = relationship(foreign_keys=[decided_by_officer_id])
    cancelled_by: Mapped[Officer | None] = relationship(foreign_keys=[cancelled_by_officer_id])

    def __repr__(self) -> str:
        return f"<Broadcast {self.id} {self.status}>"

    @property
    def places(self) -> list[int]:
        return json.loads(self.place_ids or "[]")

    @property
    def values(self) -> list[str]:
        return json.loads(self.slot_values or "[]")

    @property
    def total_segments(self) -> int:
        return self.segments * (self.queued_count or self.audience_size)


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"  # waiting for a worker (or for ``next_attempt_at`` after a failure)
    SENDING = "sending"  # claimed by a worker at ``claimed_at``
    SENT = "sent"  # the gateway accepted it (``gateway_id``)
    DELIVERED = "delivered"  # the gateway reported it delivered to the handset
    FAILED = "failed"  # refused for good, or retries used up (``error`` says why)
    EXPIRED = "expired"  # not sent in time: too late to be of use


class BroadcastMessage(Base):
    """The outbox: one message of a broadcast to one contact.

    Its id is our reference at the gateway (``reference``), so a message sent again after a
    worker died mid-send is recognised there as the same message.
    """

    __tablename__ = "broadcast_messages"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "contact_id", name="uq_broadcast_messages_contact"),
        Index("ix_broadcast_messages_state_due", "state", "next_attempt_at"),
        Index("ix_broadcast_messages_gateway_id", "gateway_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    to_number: Mapped[str] = mapped_column(String(16))  # E.164, never logged in full
    state: Mapped[DeliveryState] = mapped_column(enum_column(DeliveryState, 16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gateway_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<BroadcastMessage {self.id} {self.state}>"

    @property
    def reference(self) -> str:
        return reference_of(self.id)


REFERENCE_PREFIX = "cplan-"


def reference_of(message_id: int) -> str:
    """Our reference for a message at the gateway (``cplan-123``)."""
    return f"{REFERENCE_PREFIX}{message_id}"
