"""Outbound SMS notices, queued in the transaction of the change they report.

A security action (a CUG number changed) writes its notice here in its own transaction and the
message goes out only after the commit (``cplan.services.sms_queue``): a gateway that hangs or
fails can neither hold the action's transaction nor undo it, and a change that is rolled back
sends nothing. The row then records what the gateway did with it.

States: ``pending`` (committed, not yet taken), ``sending`` (claimed by a deliverer at
``claimed_at``: compare-and-set from ``pending``, so two deliverers never both send it), then
``sent`` or ``failed`` (``error`` says why, without the number). A background worker can later
take over ``pending`` rows, and ``sending`` rows whose claim is older than a few minutes (their
process died mid-send), with the same compare-and-set claim.

The full number is kept, because it is where the message goes; it is never logged (the log and
the audit trail get ``log_safe``). Sign-in codes do not pass through here: they are secrets and
are sent straight from ``cplan.services.otp``.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cplan.models.base import Base, UTCDateTime, utcnow
from cplan.models.geo import enum_column


class MessageState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboundMessage(Base):
    """One templated SMS to one number, with its delivery state."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_messages_state_created", "state", "created_at"),
        Index("ix_outbound_messages_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_number: Mapped[str] = mapped_column(String(16))  # E.164
    template: Mapped[str] = mapped_column(String(32))  # a name from cplan.services.sms.TEMPLATES
    language: Mapped[str] = mapped_column(String(8), default="en")
    # The template's slot values, as a JSON list of strings.
    slot_values: Mapped[str] = mapped_column(Text, default="[]")
    state: Mapped[MessageState] = mapped_column(
        enum_column(MessageState), default=MessageState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(String(200), default="")
    # What the notice is about (a table name and id, as in the audit trail) and the unit whose
    # administrators answer for it.
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[int | None] = mapped_column(Integer)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))

    def __repr__(self) -> str:
        return f"<OutboundMessage {self.id} {self.template} {self.state}>"

    @property
    def values(self) -> list[str]:
        return json.loads(self.slot_values or "[]")
