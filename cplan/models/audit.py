"""The audit trail: an append-only, hash-chained record of who did what, where and when.

A request inserts its ``AuditEvent`` unsealed (no ``seq``, ``prev_hash`` or ``hash``), taking no
lock. The sealer (``cplan.services.audit_sealer``) then gives committed events, in batches, a
gapless sequence number and the SHA-256 of their contents together with the previous event's
hash, so changing, removing or inserting any sealed event breaks every hash after it (``flask
cplan audit verify`` finds the first break); each batch leaves an ``AuditCheckpoint``. The
database refuses DELETE on the table and every UPDATE except that one sealing (triggers below),
so the application cannot rewrite history by accident either.

What an event may hold is deliberately narrow. The acting officer and post are snapshotted
(PNO, post title) so the trail reads correctly after transfers and renames. Never stored: an
OTP or setup code, a password, a session token, a full mobile number (only the masked form from
``cplan.services.phone.log_safe``), and nothing that names a citizen: citizens appear only as
``target_type``/``target_id``. Erasing a citizen's personal data later (DPDP Act correction and
erasure) therefore leaves every event, and so the chain, intact. ``cplan.services.audit.record``
enforces the mechanical part of these rules.
"""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column

from cplan.models import append_only
from cplan.models.base import Base, UTCDateTime, utcnow
from cplan.models.geo import PathString, enum_column

# The prev_hash of the first event.
GENESIS_HASH = "0" * 64

# SQLite gives autoincrement only to a column declared exactly INTEGER PRIMARY KEY.
BigIntegerKey = BigInteger().with_variant(Integer, "sqlite")


class AuditOutcome(enum.StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"  # attempted and did not work (wrong code, expired link...)
    DENIED = "denied"  # refused by a permission or scope check


class AuditEvent(Base):
    """One entry of the audit trail; see the module docstring for what it may contain."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_unit_path", "unit_path"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
        Index("ix_audit_events_officer_pno", "officer_pno"),
        Index("ix_audit_events_target", "target_type", "target_id"),
        # What the sealer reads: the few events not sealed yet, in insert order.
        Index(
            "ix_audit_events_unsealed",
            "id",
            sqlite_where=text("seq IS NULL"),
            postgresql_where=text("seq IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True)
    # 1, 2, 3... with no gaps: the chain order, given by the sealer (ids may skip, seq may not;
    # an event inserted earlier can be sealed later when its transaction commits later).
    # None until sealed, like ``prev_hash`` and ``hash``.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[AuditOutcome] = mapped_column(
        enum_column(AuditOutcome), default=AuditOutcome.SUCCESS
    )
    # No foreign keys: the trail must outlive, and never block or cascade from, the rows it names.
    officer_id: Mapped[int | None] = mapped_column(Integer)
    officer_pno: Mapped[str] = mapped_column(String(20), default="")
    post_id: Mapped[int | None] = mapped_column(Integer)
    post_title: Mapped[str] = mapped_column(String(200), default="")
    # Path of the unit the event concerns (the target's, else the acting post's): the scope key.
    unit_path: Mapped[str | None] = mapped_column(PathString)
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    # Canonical JSON (sorted keys, no spaces), exactly as hashed.
    detail: Mapped[str] = mapped_column(Text, default="{}")
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<AuditEvent #{self.seq or '-'} {self.action} {self.outcome}>"

    @property
    def sealed(self) -> bool:
        return self.seq is not None

    def compute_hash(self) -> str:
        """The hash this event should carry, from its current field values."""
        return event_hash({name: getattr(self, name) for name in HASHED_FIELDS})

    @property
    def detail_data(self) -> dict:
        return json.loads(self.detail or "{}")


class RefusalBurst(Base):
    """Refusals (403/404 on a record URL) of one officer at one endpoint since the audit event
    that opened the burst (``event_id``); see ``cplan.services.refusals``.

    Not part of the chain: a counter the next ``access.refused`` event of the same officer and
    endpoint copies into its detail, so a scan of ids leaves one event a minute, not one a
    request. One row per officer and endpoint, reused burst after burst.
    """

    __tablename__ = "refusal_bursts"
    __table_args__ = (
        UniqueConstraint("officer_id", "endpoint", name="uq_refusal_bursts_officer_endpoint"),
        Index("ix_refusal_bursts_event_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign key, as for the trail: the count outlives the officer's record.
    officer_id: Mapped[int] = mapped_column(Integer)
    endpoint: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=1)
    # The id of the event, not its seq: an event is sealed (given its seq) after its commit.
    event_id: Mapped[int] = mapped_column(BigInteger)


class AuditCheckpoint(Base):
    """What one sealing batch appended to the chain: its seq range, the chain's length and head
    hash after it. The signed copy outside the database is what proves the head
    (``cplan.services.audit_sealer``); these rows let ``audit verify`` say which batch a break
    falls in. Append-only like the events."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    head_hash: Mapped[str] = mapped_column(String(64))


# Every column the hash covers (all but ``id`` and ``hash`` itself).
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "action",
    "outcome",
    "officer_id",
    "officer_pno",
    "post_id",
    "post_title",
    "unit_path",
    "target_type",
    "target_id",
    "detail",
    "ip_address",
    "prev_hash",
)


def canonical_time(value: datetime) -> str:
    """A fixed-width UTC ISO 8601 form with microseconds (both databases keep microseconds)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(fields) -> str:
    """SHA-256 (hex) of the canonical serialisation of an event's hashed fields.

    ``fields`` is any mapping with the ``HASHED_FIELDS`` keys: a model's attributes, or a row
    read straight from the table while verifying. The serialisation is JSON with sorted keys,
    no whitespace and ASCII escapes, so it is the same bytes on every platform.
    """
    payload = {}
    for name in HASHED_FIELDS:
        value = fields[name]
        if name == "occurred_at":
            value = canonical_time(value)
        elif isinstance(value, enum.Enum):
            value = value.value
        payload[name] = value
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


# ---- append-only at the database --------------------------------------------------------------


# The columns the sealer fills in, once, on an unsealed event.
SEAL_COLUMNS = ("seq", "prev_hash", "hash")
# The columns no UPDATE may change (the sealing compares them before and after).
FIXED_COLUMNS = tuple(name for name in HASHED_FIELDS if name not in SEAL_COLUMNS) + ("id",)


def install_triggers(connection) -> None:
    """Make ``audit_events`` refuse DELETE, TRUNCATE (PostgreSQL) and every UPDATE but the
    sealing of an unsealed event; make ``audit_checkpoints`` append-only (idempotent).

    Called after ``create_all`` creates the tables and from the Alembic migrations
    (``install_triggers(op.get_bind())``).
    """
    _install_on_events(connection)
    _install_on_checkpoints(connection)


def drop_triggers(connection) -> None:
    """Remove the append-only triggers (migration downgrade and test teardown only)."""
    append_only.drop(connection, "audit_events")
    append_only.drop(connection, "audit_checkpoints")


def _install_on_events(connection, **_kw) -> None:
    append_only.install(
        connection, "audit_events", sealable=(SEAL_COLUMNS, FIXED_COLUMNS), no_truncate=True
    )


def _install_on_checkpoints(connection, **_kw) -> None:
    append_only.install(connection, "audit_checkpoints", no_truncate=True)


event.listen(AuditEvent.__table__, "after_create", lambda _t, c, **kw: _install_on_events(c))
event.listen(
    AuditCheckpoint.__table__, "after_create", lambda _t, c, **kw: _install_on_checkpoints(c)
)
