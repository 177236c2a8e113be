"""Device tokens: a phone's sign-in for ``/api/v1``, issued after the same two sign-in steps as
the web (``cplan.services.otp``), checked on every request, listed and revoked.

The token is ``cpl_`` and 43 random characters; the database keeps its SHA-256. It lasts
``DEVICE_TOKEN_DAYS`` (30) days and ends at once on revocation, and (checked in the one query
of every request) when the officer or the post is deactivated, the officer no longer holds the
post, or the post's CUG number is no longer the one the handset step proved. Those changes also
revoke the rows (``sessions.revoke_all`` calls ``revoke_all``), so a later reassignment or
reactivation does not bring an old token back.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update
from sqlalchemy.orm.attributes import set_committed_value

from cplan.extensions import db, ensure_write_transaction
from cplan.models.accounts import Officer, Post, PostAssignment
from cplan.models.api import DeviceToken
from cplan.models.base import utcnow
from cplan.models.geo import Unit
from cplan.services import audit, names
from cplan.services.errors import DomainError, NotInScope
from cplan.services.permissions import Permission
from cplan.services.principal import Principal

PREFIX = "cpl_"
DEFAULT_DAYS = 30
MAX_NAME = 100
LAST_USED_GRANULARITY = timedelta(seconds=60)


class DeviceTokenError(DomainError):
    """A device token request was refused; the message is safe to show, ``field`` what it is
    about."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Issued:
    """A new token: the row, and the token itself (shown once, never stored)."""

    device: DeviceToken
    token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lifetime() -> timedelta:
    return timedelta(days=int(current_app.config.get("DEVICE_TOKEN_DAYS", DEFAULT_DAYS)))


def clean_name(name) -> str:
    """The device's name tidied like every name people type, at most 100 characters."""
    text = names.tidy(name if isinstance(name, str) else "")
    if not text or not names.has_letter(text):
        raise DeviceTokenError(_l("Give the device a name, such as “SHO Baraut's phone”."), "name")
    return text[:MAX_NAME]


def issue(officer: Officer, post: Post, name: str, ip_address: str = "") -> Issued:
    """A token for ``officer`` acting through ``post`` (after both sign-in steps)."""
    token = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    device = DeviceToken(
        token_hash=_hash(token),
        officer=officer,
        post=post,
        name=clean_name(name),
        cug_number=post.cug_number,
        created_at=now,
        expires_at=now + lifetime(),
        ip_address=(ip_address or "")[:64],
    )
    db.session.add(device)
    db.session.flush()
    audit.record(
        "auth.device_registered",
        officer=officer,
        post=post,
        unit=post.unit,
        target=device,
        detail={"device": device.id, "expires_at": device.expires_at.isoformat()},
        ip_address=ip_address,
    )
    return Issued(device, token)


def load(token: str | None, *, ip_address: str = "", now: datetime | None = None):
    """The principal of a bearer token, or None when unknown, expired, revoked or no longer
    valid for its officer and post. One query; ``last_used_at`` is stamped once a minute."""
    if not token or len(token) > 100 or not token.startswith(PREFIX):
        return None
    now = now or utcnow()
    row = db.session.execute(
        select(DeviceToken, Officer, Post, Unit)
        .join(Officer, Officer.id == DeviceToken.officer_id)
        .join(Post, Post.id == DeviceToken.post_id)
        .join(Unit, Unit.id == Post.unit_id)
        .where(
            DeviceToken.token_hash == _hash(token),
            DeviceToken.revoked_at.is_(None),
            DeviceToken.expires_at > now,
            DeviceToken.cug_number == Post.cug_number,
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
    device, officer, post, _unit = row
    principal = Principal(
        officer=officer, post=post, session=None, ip_address=ip_address, device=device
    )
    if device.last_used_at is None or now - device.last_used_at > LAST_USED_GRANULARITY:
        ensure_write_transaction()
        db.session.execute(
            update(DeviceToken)
            .where(DeviceToken.id == device.id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(device, "last_used_at", now)
        principal.touched = True
    return principal


def visible_condition(principal: Principal):
    """The tokens ``principal`` may list and revoke: their own, and (the SP office, the state
    administrator) those of every post in their subtree."""
    own = DeviceToken.officer_id == principal.officer.id
    if not principal.can(Permission.MANAGE_ACCOUNTS):
        return own
    in_scope = exists().where(
        Post.id == DeviceToken.post_id,
        Unit.id == Post.unit_id,
        principal.unit.covers(Unit.path),
    )
    return own | in_scope


def listed(principal: Principal, *, include_ended: bool = False) -> list[DeviceToken]:
    """Tokens ``principal`` may see, newest first (open ones only unless ``include_ended``)."""
    statement = select(DeviceToken).where(visible_condition(principal))
    if not include_ended:
        statement = statement.where(
            DeviceToken.revoked_at.is_(None), DeviceToken.expires_at > utcnow()
        )
    return list(db.session.scalars(statement.order_by(DeviceToken.id.desc()).limit(500)))


def revoke(principal: Principal, device_id: int) -> DeviceToken:
    """End one token now (its officer's own, or one in the SP office's district)."""
    device = db.session.scalar(
        select(DeviceToken).where(DeviceToken.id == device_id, visible_condition(principal))
    )
    if device is None:
        raise NotInScope()
    if device.revoked_at is None:
        ensure_write_transaction()
        device.revoked_at = utcnow()
        device.revoked_reason = "revoked"
        db.session.flush()
        audit.record(
            "auth.device_revoked",
            actor=principal,
            target=device,
            unit=device.post.unit,
            detail={"device": device.id, "officer": device.officer_id},
        )
    return device


def revoke_all(*, officer_id: int | None = None, post_id: int | None = None, reason: str) -> int:
    """End every open token of an officer and/or a post (with their sessions)."""
    conditions = [DeviceToken.revoked_at.is_(None)]
    if officer_id is not None:
        conditions.append(DeviceToken.officer_id == officer_id)
    if post_id is not None:
        conditions.append(DeviceToken.post_id == post_id)
    if len(conditions) == 1:
        raise ValueError("revoke_all needs an officer or a post")
    result = db.session.execute(
        update(DeviceToken)
        .where(*conditions)
        .values(revoked_at=utcnow(), revoked_reason=reason[:64])
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
