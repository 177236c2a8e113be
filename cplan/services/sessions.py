"""Server-side sign-in sessions: created on sign-in, checked on every request, revocable.

The cookie carries only a random token; the database keeps its SHA-256. A session ends after
30 idle minutes (15 for a post that can approve, export full numbers or administer:
``permissions.is_privileged``) or 12 hours in all, and is revoked on sign-out, on the officer's
deactivation or unassignment, and when the post's CUG number changes or the post is deactivated.
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm.attributes import set_committed_value

from cplan.extensions import db, ensure_write_transaction
from cplan.models.accounts import Officer, Post, PostAssignment, SignInSession
from cplan.models.base import utcnow
from cplan.models.geo import Unit
from cplan.services import device_tokens
from cplan.services.permissions import is_privileged
from cplan.services.principal import Principal

IDLE_TIMEOUT = timedelta(minutes=30)
PRIVILEGED_IDLE_TIMEOUT = timedelta(minutes=15)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# Record activity at most this often, so reading pages does not write on every request.
LAST_SEEN_GRANULARITY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(officer: Officer, post: Post, ip_address: str = "", user_agent: str = "") -> Principal:
    """Open a session for ``officer`` acting through ``post``; returns the principal with its
    token."""
    token = secrets.token_urlsafe(32)
    # Signing in ends with the officer's password, so a new session starts fresh for the
    # sensitive actions (``cplan.web.access.fresh_sign_in``).
    session = SignInSession(
        token_hash=_hash(token),
        officer=officer,
        post=post,
        ip_address=(ip_address or "")[:64],
        user_agent=(user_agent or "")[:300],
        password_confirmed_at=utcnow(),
    )
    db.session.add(session)
    db.session.flush()
    return Principal(
        officer=officer, post=post, session=session, token=token, ip_address=session.ip_address
    )


def load(
    token: str | None, now=None, ip_address: str = "", *, activity: bool = True
) -> Principal | None:
    """The principal for a cookie's token, or None when unknown, revoked or timed out;
    ``ip_address`` is the client's address in this request (kept on the principal for the audit).
    ``activity`` False: a page refreshing itself, not the officer; the idle time keeps running.

    One query on every request: the session with its officer, post and the post's unit (the
    scope), provided the officer still holds the post and both are active.
    """
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    row = db.session.execute(
        select(SignInSession, Officer, Post, Unit)
        .join(Officer, Officer.id == SignInSession.officer_id)
        .join(Post, Post.id == SignInSession.post_id)
        .join(Unit, Unit.id == Post.unit_id)
        .where(
            SignInSession.token_hash == _hash(token),
            SignInSession.revoked_at.is_(None),
            Officer.active.is_(True),
            Post.active.is_(True),
            exists().where(
                PostAssignment.officer_id == Officer.id,
                PostAssignment.post_id == Post.id,
                PostAssignment.ended_at.is_(None),
            ),
        )
    ).first()
    if row is None:
        return None
    session, officer, post, _unit = row  # the unit is now in the session's identity map
    if (
        now - session.last_seen_at > idle_timeout(post)
        or now - session.created_at > ABSOLUTE_TIMEOUT
    ):
        return None
    principal = Principal(
        officer=officer, post=post, session=session, token=token, ip_address=ip_address
    )
    if activity and now - session.last_seen_at > LAST_SEEN_GRANULARITY:
        touch(session, now)
        principal.touched = True
    return principal


def idle_timeout(post: Post) -> timedelta:
    """How long a session of ``post`` may sit unused."""
    return PRIVILEGED_IDLE_TIMEOUT if is_privileged(post.role) else IDLE_TIMEOUT


def touch(session: SignInSession, now) -> None:
    """Stamp the session's activity (at most once a minute: the idle timeout counts from it).

    A conditional UPDATE, so that the requests of one session arriving together stamp it once;
    the sign-in check commits it at once (``security.require_sign_in``): a page that only reads
    must still keep its session alive, and must not hold the row until it has finished.
    """
    ensure_write_transaction()
    db.session.execute(
        update(SignInSession)
        .where(
            SignInSession.id == session.id, SignInSession.last_seen_at < now - LAST_SEEN_GRANULARITY
        )
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(session, "last_seen_at", now)


def revoke(session: SignInSession, reason: str) -> None:
    """End one session now."""
    if session.revoked_at is None:
        session.revoked_at = utcnow()
        session.revoked_reason = reason
        db.session.flush()


def revoke_all(*, officer_id: int | None = None, post_id: int | None = None, reason: str) -> int:
    """End every open session of an officer and/or a post; returns how many were ended."""
    conditions = [SignInSession.revoked_at.is_(None)]
    if officer_id is not None:
        conditions.append(SignInSession.officer_id == officer_id)
    if post_id is not None:
        conditions.append(SignInSession.post_id == post_id)
    if len(conditions) == 1:
        raise ValueError("revoke_all needs an officer or a post")
    # The same events end the officer's device tokens (the phone's sign-in for the API).
    device_tokens.revoke_all(officer_id=officer_id, post_id=post_id, reason=reason)
    result = db.session.execute(
        update(SignInSession)
        .where(*conditions)
        .values(revoked_at=utcnow(), revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
