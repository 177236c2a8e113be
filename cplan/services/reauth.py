"""Fresh sign-in: the signed-in officer's password again before a sensitive action.

A session stays open for up to 12 hours, on a handset that may be shared or left unlocked. Exports
with full numbers, CUG and post changes, confidential marking and erasure therefore need the
password typed within the last ``FRESH_SIGN_IN_MINUTES`` (10) minutes of this session
(``cplan.web.access.fresh_sign_in`` sends the officer to "Confirm it is you"). Signing in counts as
a confirmation (``sessions.start``).

Wrong passwords are counted on the session row before the password is checked, with a
conditional UPDATE, so parallel guesses queue on the row and at most ``MAX_FAILURES`` are ever
checked; the last allowed wrong one ends the session, and only a new sign-in with the post's
handset opens another. Every attempt writes an ``auth.password_confirm`` audit event.
"""

from __future__ import annotations

import enum
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from cplan.extensions import db, ensure_write_transaction
from cplan.models.accounts import SignInSession
from cplan.models.base import utcnow
from cplan.services import accounts, audit, sessions
from cplan.services.principal import Principal

MAX_FAILURES = 3
DEFAULT_MINUTES = 10


class Outcome(enum.StrEnum):
    CONFIRMED = "confirmed"
    WRONG = "wrong"  # try again: ``failures_left`` more before the session ends
    SIGNED_OUT = "signed_out"


def window(minutes: int | None = None) -> timedelta:
    """How recent the password must be (``minutes``, else config ``FRESH_SIGN_IN_MINUTES``)."""
    if minutes is None:
        minutes = int(current_app.config.get("FRESH_SIGN_IN_MINUTES", DEFAULT_MINUTES))
    return timedelta(minutes=minutes)


def is_fresh(principal: Principal, minutes: int | None = None, now=None) -> bool:
    """True when the principal's officer typed their password in this session recently enough."""
    return principal.session.password_confirmed_within(window(minutes), now or utcnow())


def failures_left(principal: Principal) -> int:
    return max(0, MAX_FAILURES - (principal.session.password_failures or 0))


def confirm_password(principal: Principal, password: str, ip_address: str = "") -> Outcome:
    """Check ``password`` against the signed-in officer's; flushes, the caller commits.

    A right one stamps the session as confirmed now and clears its failures; a wrong one counts,
    and the ``MAX_FAILURES``-th ends the session (``SIGNED_OUT``).
    """
    ensure_write_transaction()
    session = principal.session
    counted = db.session.execute(
        update(SignInSession)
        .where(
            SignInSession.id == session.id,
            SignInSession.revoked_at.is_(None),
            SignInSession.password_failures < MAX_FAILURES,
        )
        .values(password_failures=SignInSession.password_failures + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    failures = db.session.scalar(
        select(SignInSession.password_failures).where(SignInSession.id == session.id)
    )
    if counted == 1:
        officer = accounts.authenticate_officer(
            principal.post, principal.officer.pno, password or ""
        )
        if officer is not None and officer.id == principal.officer.id:
            now = utcnow()
            db.session.execute(
                update(SignInSession)
                .where(SignInSession.id == session.id)
                .values(password_failures=0, password_confirmed_at=now)
                .execution_options(synchronize_session=False)
            )
            db.session.refresh(session)
            audit.record(
                "auth.password_confirm",
                officer=principal.officer,
                post=principal.post,
                ip_address=ip_address,
            )
            return Outcome.CONFIRMED
    signed_out = counted != 1 or failures >= MAX_FAILURES
    audit.record(
        "auth.password_confirm",
        outcome="failure",
        officer=principal.officer,
        post=principal.post,
        ip_address=ip_address,
        detail={"failures": failures, "signed_out": signed_out},
    )
    if signed_out:
        sessions.revoke(session, "password_confirmation_failed")
        return Outcome.SIGNED_OUT
    db.session.refresh(session)
    return Outcome.WRONG
