"""What the JSON API keeps: device tokens (a phone registered through the sign-in steps), and
the first answer to each ``Idempotency-Key`` (a phone's safe retries), and every change of an
incident in commit-safe order (the UP-112 pull feed).

A device token is bound to one officer acting through one post, stored only as a SHA-256 hash,
and ends at its expiry, on revocation, or at once when the officer is deactivated or unassigned,
the post deactivated, or the post's CUG number changed (``cug_number`` is the number the
handset step proved; ``cplan.services.device_tokens.load`` checks every one on each request).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cplan.models.accounts import Officer, Post
from cplan.models.base import Base, SealedString, UTCDateTime, utcnow
from cplan.models.incidents import Incident  # noqa: F401  (incident_changes refers to it)


class SealedText(SealedString):
    """``SealedString`` without a length limit: an API answer kept encrypted at rest (it may
    hold a device token or a citizen's number)."""

    impl = Text
    cache_ok = True


class DeviceToken(Base):
    """A phone's bearer token for ``/api/v1``: the token itself is never stored."""

    __tablename__ = "device_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    cug_number: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str] = mapped_column(String(64), default="")
    ip_address: Mapped[str] = mapped_column(String(64), default="")

    officer: Mapped[Officer] = relationship()
    post: Mapped[Post] = relationship()


class IdempotentRequest(Base):
    """A POST sent with an ``Idempotency-Key``: claimed before it runs, then its answer.

    ``scope`` is who sent it (a device token, a web session's officer and post, or for the
    sign-in steps the client's address); the same key from someone else is another request.
    ``fingerprint`` is the SHA-256 of the method, path and body: the same key with another body
    is refused. ``status`` is None while the first request is still running.
    """

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[str | None] = mapped_column(SealedText)


class IncidentChange(Base):
    """One change of an incident (its report, or any later UPDATE of its row), written by a
    database trigger, for the control rooms' pull feed (``cplan.services.feed``).

    ``txid`` is the writing transaction's id on PostgreSQL (``pg_current_xact_id``), 0 on
    SQLite. The feed reads in (``txid``, ``id``) order only below the oldest transaction still
    running, so a change committed late never lands behind a cursor that has moved on.
    """

    __tablename__ = "incident_changes"
    __table_args__ = (
        Index("ix_incident_changes_order", "txid", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


_SQLITE_TRIGGERS = [
    (
        "CREATE TRIGGER IF NOT EXISTS incident_changed_insert AFTER INSERT ON incidents "
        "BEGIN INSERT INTO incident_changes (incident_id, txid, changed_at) VALUES "
        "(NEW.id, 0, datetime('now')); END"
    ),
    (
        "CREATE TRIGGER IF NOT EXISTS incident_changed_update AFTER UPDATE ON incidents "
        "BEGIN INSERT INTO incident_changes (incident_id, txid, changed_at) VALUES "
        "(NEW.id, 0, datetime('now')); END"
    ),
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS incident_changed_insert",
    "DROP TRIGGER IF EXISTS incident_changed_update",
]
_POSTGRESQL_TRIGGERS = [
    (
        "CREATE OR REPLACE FUNCTION cplan_incident_changed() RETURNS trigger AS $$ BEGIN "
        "INSERT INTO incident_changes (incident_id, txid, changed_at) VALUES "
        "(NEW.id, pg_current_xact_id()::text::bigint, now()); RETURN NULL; END $$ "
        "LANGUAGE plpgsql"
    ),
    "DROP TRIGGER IF EXISTS incident_changed ON incidents",
    (
        "CREATE TRIGGER incident_changed AFTER INSERT OR UPDATE ON incidents "
        "FOR EACH ROW EXECUTE FUNCTION cplan_incident_changed()"
    ),
]
_POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS incident_changed ON incidents",
    "DROP FUNCTION IF EXISTS cplan_incident_changed()",
]


def install_change_triggers(connection) -> None:
    """Record every change of an incident from now on (idempotent)."""
    statements = _SQLITE_TRIGGERS if connection.dialect.name == "sqlite" else _POSTGRESQL_TRIGGERS
    for statement in statements:
        connection.exec_driver_sql(statement)


def drop_change_triggers(connection) -> None:
    statements = _SQLITE_DROP if connection.dialect.name == "sqlite" else _POSTGRESQL_DROP
    for statement in statements:
        connection.exec_driver_sql(statement)


def _install_after_create(_table, connection, **_kw):
    install_change_triggers(connection)


event.listen(IncidentChange.__table__, "after_create", _install_after_create)


class WebhookSubscription(Base):
    """A control room's system that gets each incident change pushed to ``url``, signed with
    ``secret`` (kept sealed: it must be read to sign). ``cursor`` is how far the incident feed
    has been turned into deliveries for it; the scope is its post's. Paused after a day of
    failed deliveries (``failing_since``) until resumed."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[str] = mapped_column(String(200))
    secret: Mapped[str | None] = mapped_column(SealedString)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    cursor: Mapped[str] = mapped_column(String(50), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(200), default="")

    officer: Mapped[Officer] = relationship()
    post: Mapped[Post] = relationship()


class WebhookDelivery(Base):
    """One event for one subscription: pending until its endpoint answers 2xx, retried with
    backoff (``next_attempt_at``)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(200), default="")

    subscription: Mapped[WebhookSubscription] = relationship()
