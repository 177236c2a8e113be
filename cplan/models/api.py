"""What the JSON API keeps: device tokens (a phone registered through the sign-in steps), and
the first answer to each ``Idempotency-Key`` (a phone's safe retries).

A device token is bound to one officer acting through one post, stored only as a SHA-256 hash,
and ends at its expiry, on revocation, or at once when the officer is deactivated or unassigned,
the post deactivated, or the post's CUG number changed (``cug_number`` is the number the
handset step proved; ``cplan.services.device_tokens.load`` checks every one on each request).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cplan.models.accounts import Officer, Post
from cplan.models.base import Base, SealedString, UTCDateTime, utcnow


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
