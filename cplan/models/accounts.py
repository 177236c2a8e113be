"""Posts, officers, who holds which post, and server-side sign-in sessions.

A CUG number belongs to a *post* ("SHO Baraut"), not to a person: it stays with the post when
the officer is transferred, and one station handset is shared by several constables. Officers
prove who they are with their PNO (police number) and a personal password once the post's
handset has proved itself with a one-time code.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cplan.models.base import Base, SealedString, UTCDateTime, utcnow
from cplan.models.geo import Unit, enum_column


class Role(enum.StrEnum):
    """What a post does; its permissions live in ``cplan.services.permissions``."""

    CONSTABLE = "constable"  # beat constable / station staff
    STATION_OFFICER = "station_officer"  # SHO / SO
    CIRCLE_OFFICER = "circle_officer"  # CO
    ASP = "asp"
    SP_OFFICE = "sp_office"
    CONTROL_ROOM = "control_room"  # UP-112 / DGP control-room supervisor
    STATE_ADMIN = "state_admin"


class Post(Base):
    """An official post with its CUG handset number and the unit whose subtree it may see."""

    __tablename__ = "posts"
    __table_args__ = (
        # A CUG number is unique among active posts; a retired post may keep its old number.
        Index(
            "uq_posts_active_cug",
            "cug_number",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title_en: Mapped[str] = mapped_column(String(200))
    title_hi: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(enum_column(Role, 24))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    cug_number: Mapped[str] = mapped_column(String(16))  # E.164, +91XXXXXXXXXX
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cug_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()
    assignments: Mapped[list[PostAssignment]] = relationship(back_populates="post")

    def __repr__(self) -> str:
        return f"<Post {self.role} {self.title_en}>"

    def display_title(self, locale: str = "en") -> str:
        if locale == "hi" and self.title_hi:
            return self.title_hi
        return self.title_en


class Officer(Base):
    """A police officer: PNO, name, rank, personal password and optional authenticator app."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pno: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The name in Devanagari, shown on Hindi pages; empty when not known (the name is shown).
    name_hi: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    rank: Mapped[str] = mapped_column(String(100), default="")
    # The unit whose administrators manage this officer (their district, or the state).
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # One-time setup code issued by an administrator (only its hash is kept).
    setup_code_hash: Mapped[str | None] = mapped_column(String(128))
    setup_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Authenticator app (TOTP): the shared secret (sealed at rest), and the last time step
    # accepted (no replay).
    totp_secret: Mapped[str | None] = mapped_column(SealedString)
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    assignments: Mapped[list[PostAssignment]] = relationship(back_populates="officer")

    def __repr__(self) -> str:
        return f"<Officer {self.pno}>"

    def display_name(self, language: str = "en") -> str:
        """The name for a reader of ``language``: the Hindi name on Hindi pages when there is
        one, else the name as registered (templates: ``officer|name``)."""
        if language == "hi" and self.name_hi:
            return self.name_hi
        return self.name


class PostAssignment(Base):
    """An officer holding a post for a period; ``ended_at`` NULL means holding it now."""

    __tablename__ = "post_assignments"
    __table_args__ = (Index("ix_post_assignments_post_officer", "post_id", "officer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    post: Mapped[Post] = relationship(back_populates="assignments")
    officer: Mapped[Officer] = relationship(back_populates="assignments")


class SignInSession(Base):
    """A signed-in (officer, post) session; the cookie carries only its random id.

    Revoking the row (logout, deactivation, reassignment, CUG change) makes the cookie useless.
    """

    __tablename__ = "sign_in_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str] = mapped_column(String(64), default="")
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(Text, default="")
    # When the officer last typed their password in this session (sign-in, or "Confirm it is
    # you"): sensitive actions need it recent (``cplan.web.access.fresh_sign_in``).
    password_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Wrong passwords on "Confirm it is you" since the last right one; too many end the session.
    password_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    officer: Mapped[Officer] = relationship()
    post: Mapped[Post] = relationship()

    def password_confirmed_within(self, window: timedelta, now: datetime) -> bool:
        """True when the password was typed in this session no longer than ``window`` ago."""
        confirmed = self.password_confirmed_at
        return confirmed is not None and timedelta(0) <= now - confirmed <= window


class OtpChallenge(Base):
    """One sign-in attempt on a CUG number: the code's keyed hash, never the code.

    A challenge exists for unknown and locked numbers too (without a post and without an SMS),
    so the response to every number looks the same.
    """

    __tablename__ = "otp_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    cug_number: Mapped[str] = mapped_column(String(16), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    code_hash: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the handset step was passed with an officer's authenticator app.
    totp_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))

    post: Mapped[Post | None] = relationship()


class CugThrottle(Base):
    """Send counters per CUG number, in the database so every server process shares them.

    Kept for any well-formed number, registered or not, so limits never reveal registration.
    ``failures``, ``locked_until`` and ``lock_count`` are no longer written: failures and locks
    live in ``sign_in_counters`` (per number, per number and client, per post, per officer).
    They stay for one release, for servers still running the previous one during an upgrade.
    """

    __tablename__ = "cug_throttles"

    cug_number: Mapped[str] = mapped_column(String(16), primary_key=True)
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sends_in_window: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lock_count: Mapped[int] = mapped_column(Integer, default=0)


class HandsetProof(Base):
    """A passed handset step (a right code) waiting for the officer step; one sign-in at most.

    The browser that answered the code gets a random token in its session cookie; only the
    token's SHA-256 is kept here. The officer step takes an attempt (``attempts``, a few per
    proof) and, on success, consumes the row with one compare-and-set, so a replayed cookie can
    neither open a second session nor buy more password guesses.
    """

    __tablename__ = "handset_proofs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("otp_challenges.id"), unique=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    cug_number: Mapped[str] = mapped_column(String(16))  # the number the code went to
    # Set when the code came from an officer's authenticator app: only that officer may follow.
    totp_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("officers.id")
    )  # who signed in with it

    post: Mapped[Post] = relationship()


class SignInCounter(Base):
    """Failed sign-in attempts of one subject, and the lock they led to.

    ``key`` names the subject: ``cug:<number>`` (wrong codes on a number, from anywhere),
    ``cug-client:<number>|<client>`` (wrong codes on a number from one client), ``post:<id>``
    and ``officer:<id>`` (wrong passwords at the officer step). The policy for each lives in
    ``cplan.services.lockouts``. Failures older than the counting window no longer count.
    """

    __tablename__ = "sign_in_counters"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lock_count: Mapped[int] = mapped_column(Integer, default=0)


class TrustedDevice(Base):
    """A browser in which an officer completed a sign-in on a post (a long-lived device cookie).

    Such a browser may still sign in to that post while strangers' wrong codes have locked the
    number, and has send limits of its own; its own failures are counted apart. The cookie holds a
    random token, the row its SHA-256; trust lapses after ``cplan.services.lockouts.DEVICE_TRUST``
    without a sign-in.
    """

    __tablename__ = "trusted_devices"
    __table_args__ = (
        UniqueConstraint("token_hash", "post_id", name="uq_trusted_devices_token_post"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_signed_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Its own send limits (as ``CugThrottle``'s), so strangers cannot use up the number's for it.
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sends_in_window: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DailyExportCount(Base):
    """How many exports with full numbers an officer made on one day (IST), to cap them.

    A row per officer and day, raised by a conditional UPDATE (``count < limit``), so two
    exports at the same moment cannot both take the last one on either database.
    """

    __tablename__ = "daily_export_counts"

    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    exports: Mapped[int] = mapped_column(Integer, default=0)
