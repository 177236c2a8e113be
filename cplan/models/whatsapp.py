"""A station's WhatsApp groups and the reconciliations of each group with the approved roster.

WhatsApp caps a group at 1,024 members, so a big station keeps several groups. A group names its
admin officer (a post of the station) and its purpose; it is retired, never deleted, so past
reconciliations keep their group. Both tables copy the station's path (``unit_path``) so every
query is scoped by the one indexed range condition (``Unit.covers``).

A reconciliation is what one upload of the group's members (numbers, a vCard file or the
group's chat export) showed on that day: its counts, and its three lists as JSON text (the ids
of approved contacts missing from the group, the members not on the roster with their
numbers, and the entries that carried only a name).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cplan.models.accounts import Officer, Post
from cplan.models.base import Base, UTCDateTime, utcnow
from cplan.models.geo import PathString, Unit

# WhatsApp's own cap on the members of one group.
GROUP_MEMBER_CAP = 1024


class WhatsAppGroup(Base):
    __tablename__ = "whatsapp_groups"
    __table_args__ = (Index("ix_whatsapp_groups_unit_path", "unit_path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    unit_path: Mapped[str] = mapped_column(PathString)
    name: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(String(300), default="")
    admin_post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    station: Mapped[Unit] = relationship()
    admin_post: Mapped[Post] = relationship()
    created_by: Mapped[Officer | None] = relationship()

    @property
    def retired(self) -> bool:
        return self.retired_at is not None


class GroupReconciliation(Base):
    __tablename__ = "whatsapp_reconciliations"
    __table_args__ = (
        Index("ix_whatsapp_reconciliations_group", "group_id", "reconciled_at"),
        Index("ix_whatsapp_reconciliations_unit_path", "unit_path"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("whatsapp_groups.id"))
    unit_path: Mapped[str] = mapped_column(PathString)
    reconciled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    # paste, csv, vcf or chat; the file's name (numbers in it masked); for a chat export, the
    # date order it was read in (dmy or mdy) and its first and last dates as ISO text.
    source: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200), default="")
    date_order: Mapped[str] = mapped_column(String(8), default="")
    chat_from: Mapped[str] = mapped_column(String(10), default="")
    chat_to: Mapped[str] = mapped_column(String(10), default="")
    roster_count: Mapped[int] = mapped_column(Integer, default=0)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    matched_count: Mapped[int] = mapped_column(Integer, default=0)
    missing_count: Mapped[int] = mapped_column(Integer, default=0)
    not_on_roster_count: Mapped[int] = mapped_column(Integer, default=0)
    unmatched_count: Mapped[int] = mapped_column(Integer, default=0)
    missing_json: Mapped[str] = mapped_column(Text, default="[]")
    not_on_roster_json: Mapped[str] = mapped_column(Text, default="[]")
    unmatched_json: Mapped[str] = mapped_column(Text, default="[]")

    group: Mapped[WhatsAppGroup] = relationship()
    officer: Mapped[Officer | None] = relationship()

    @property
    def missing_ids(self) -> list[int]:
        return json.loads(self.missing_json or "[]")

    @property
    def not_on_roster(self) -> list[dict]:
        """``{"name": ..., "numbers": [...]}`` per member whose numbers are on no contact."""
        return json.loads(self.not_on_roster_json or "[]")

    @property
    def unmatched(self) -> list[str]:
        return json.loads(self.unmatched_json or "[]")
