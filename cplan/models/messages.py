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

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

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


# ---- the DLT registry -------------------------------------------------------------------------
# What TRAI's DLT platform holds for us, copied here so that nothing leaves for a handset that
# the operator would drop: our entity id, the sender headers registered under it, the content
# templates registered under a header, and the URLs and callback numbers whitelisted for
# template variables. Rows are written by the SMS office (or ``flask cplan dlt-sync`` for the
# templates the code itself sends, such as the sign-in code); ``cplan.services.dlt`` builds and
# checks messages against them.


class HeaderCategory(enum.StrEnum):
    """The suffix an operator shows after a header: -S service, -G government, -T transactional,
    -P promotional."""

    SERVICE = "S"
    GOVERNMENT = "G"
    TRANSACTIONAL = "T"
    PROMOTIONAL = "P"


class TemplateCategory(enum.StrEnum):
    SERVICE_IMPLICIT = "service_implicit"
    SERVICE_EXPLICIT = "service_explicit"
    TRANSACTIONAL = "transactional"
    PROMOTIONAL = "promotional"
    GOVERNMENT = "government"


class VariableType(enum.StrEnum):
    """The tag TRAI requires on every ``{#var#}`` since September 2024."""

    NUMBER = "number"
    TEXT = "text"
    URL = "url"
    CALLBACK = "callback"
    DATE = "date"


class WhitelistKind(enum.StrEnum):
    URL = "url"
    CALLBACK = "callback"


class DltEntity(Base):
    """The principal entity registered on DLT (the police department), by its entity id."""

    __tablename__ = "dlt_entities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DltHeader(Base):
    """A registered sender id (six letters, such as ``UPPCPL``) and its category."""

    __tablename__ = "dlt_headers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("dlt_entities.id"))
    sender_id: Mapped[str] = mapped_column(String(6), unique=True)
    category: Mapped[HeaderCategory] = mapped_column(enum_column(HeaderCategory, 1))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entity: Mapped[DltEntity] = relationship()


class DltTemplate(Base):
    """One registered content template: its text with ``{#var#}`` slots, exactly as registered
    (spaces and punctuation included), and the type of each slot in order."""

    __tablename__ = "dlt_templates"
    __table_args__ = (UniqueConstraint("name", "language", name="uq_dlt_templates_name_language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    header_id: Mapped[int] = mapped_column(ForeignKey("dlt_headers.id"))
    # The DLT template id; NULL while a text is not registered yet (it cannot then be sent).
    template_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    # Our name for it ("otp", "rumour_alert"); the English and Hindi texts share the name.
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[TemplateCategory] = mapped_column(enum_column(TemplateCategory, 24))
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    # The slots' types in order, as a JSON list of ``VariableType`` values.
    variable_types: Mapped[str] = mapped_column(Text, default="[]")
    # Sent by the code itself (sign-in code, notices), never chosen for a broadcast.
    system: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    header: Mapped[DltHeader] = relationship()

    def __repr__(self) -> str:
        return f"<DltTemplate {self.name}/{self.language} {self.template_id}>"

    @property
    def types(self) -> list[VariableType]:
        return [VariableType(kind) for kind in json.loads(self.variable_types or "[]")]


class DltWhitelistEntry(Base):
    """A URL (prefix) or callback number whitelisted on DLT for use in template variables."""

    __tablename__ = "dlt_whitelist"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_dlt_whitelist_kind_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("dlt_entities.id"))
    kind: Mapped[WhitelistKind] = mapped_column(enum_column(WhitelistKind, 8))
    # A URL prefix ("https://uppolice.gov.in/") or a callback number in E.164 (or a short code).
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entity: Mapped[DltEntity] = relationship()
