"""Webhooks: the incident feed pushed to the control rooms' own systems, signed as the Standard
Webhooks convention asks (headers ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``).

A subscription (URL, events, a secret shown once) belongs to a post with
``MANAGE_WEBHOOKS`` (the state control room) and sees what that post sees. ``fan_out`` turns
the gapless incident feed (``cplan.services.feed``) into deliveries, one per incident change,
and moves the subscription's cursor in the same transaction: each change becomes exactly one
delivery. ``deliver_due`` sends what is due through ``post_json`` (the one HTTP adapter; tests
put a fake server on localhost); a failure is retried after 30 s, 1, 2, 4... minutes (at most an
hour); after a day of failures the subscription is paused and the control room sees it in its
list, with the last error, until it resumes it. Deliveries may overtake one another after a
retry: each carries the incident's ``version`` and ``updated_at`` so a receiver keeps the
newest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from cplan.extensions import db, ensure_write_transaction
from cplan.models.accounts import Post
from cplan.models.api import WebhookDelivery, WebhookSubscription
from cplan.models.base import utcnow
from cplan.models.geo import Unit
from cplan.services import audit, feed
from cplan.services.errors import DomainError, NotAllowed, NotInScope
from cplan.services.permissions import Permission
from cplan.services.principal import Principal

EVENTS = ("incident.changed",)
PAUSE_AFTER = timedelta(days=1)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
TIMEOUT_SECONDS = 10
BATCH = 200


class WebhookError(DomainError):
    """A webhook subscription was refused; ``field`` names what was wrong."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---- signing -------------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``<id>.<timestamp>.<body>`` under the secret's key."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify(secret: str, headers: dict, body: bytes, tolerance: int = 300, now=None) -> bool:
    """The receiving side's check (as in the README): a signature of ours, sent recently."""
    try:
        message_id = headers["webhook-id"]
        timestamp = int(headers["webhook-timestamp"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = signature(secret, message_id, timestamp, body).split(",", 1)[1]
    offered = [part.split(",", 1)[-1] for part in headers.get("webhook-signature", "").split()]
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


# ---- subscriptions ---------------------------------------------------------------------------


def _check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urllib.parse.urlsplit(url)
    allow_http = bool(current_app.config.get("WEBHOOK_ALLOW_HTTP"))
    if parts.scheme not in (("https", "http") if allow_http else ("https",)) or not parts.hostname:
        raise WebhookError(_l("Give an https:// address."), "url")
    if parts.username or parts.password:
        raise WebhookError(_l("Put no user name or password in the address."), "url")
    return url


def _require(principal: Principal) -> None:
    if not principal.can(Permission.MANAGE_WEBHOOKS):
        raise NotAllowed("webhooks are the control room's")


def create(principal: Principal, url: str, events: list[str]) -> tuple[WebhookSubscription, str]:
    """A subscription for ``principal``'s post; returns it with its secret (shown once). It
    starts at the feed's present: changes from now on."""
    _require(principal)
    url = _check_url(url)
    events = sorted(set(events or EVENTS))
    if not set(events) <= set(EVENTS):
        raise WebhookError(_l("Choose events from the list."), "events")
    secret = new_secret()
    subscription = WebhookSubscription(
        url=url,
        events=",".join(events),
        secret=secret,
        officer_id=principal.officer.id,
        post_id=principal.post.id,
        cursor=feed.latest_cursor() or "",
    )
    db.session.add(subscription)
    db.session.flush()
    audit.record(
        "webhook.created",
        actor=principal,
        target=subscription,
        detail={"host": urllib.parse.urlsplit(url).hostname, "events": events},
    )
    return subscription, secret


def _visible(principal: Principal):
    return select(WebhookSubscription).where(
        WebhookSubscription.post_id.in_(
            select(Post.id)
            .join(Unit, Unit.id == Post.unit_id)
            .where(principal.unit.covers(Unit.path))
        )
    )


def listed(principal: Principal) -> list[tuple[WebhookSubscription, int]]:
    """The subscriptions of the posts in ``principal``'s subtree, with their pending counts."""
    _require(principal)
    subscriptions = list(db.session.scalars(_visible(principal).order_by(WebhookSubscription.id)))
    pending = dict(
        db.session.execute(
            select(WebhookDelivery.subscription_id, func.count())
            .where(
                WebhookDelivery.state == "pending",
                WebhookDelivery.subscription_id.in_([s.id for s in subscriptions]),
            )
            .group_by(WebhookDelivery.subscription_id)
        ).all()
    )
    return [(subscription, pending.get(subscription.id, 0)) for subscription in subscriptions]


def get(principal: Principal, subscription_id: int) -> WebhookSubscription:
    _require(principal)
    subscription = db.session.scalar(
        _visible(principal).where(WebhookSubscription.id == subscription_id)
    )
    if subscription is None:
        raise NotInScope()
    return subscription


def set_active(principal: Principal, subscription_id: int, active: bool) -> WebhookSubscription:
    """Resume (its pending deliveries go out again) or stop a subscription."""
    subscription = get(principal, subscription_id)
    ensure_write_transaction()
    subscription.active = active
    subscription.paused_at = None if active else utcnow()
    subscription.failing_since = None if active else subscription.failing_since
    if active:
        db.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.subscription_id == subscription.id,
                WebhookDelivery.state == "pending",
            )
            .values(next_attempt_at=utcnow())
        )
    db.session.flush()
    audit.record(
        "webhook.resumed" if active else "webhook.stopped", actor=principal, target=subscription
    )
    return subscription


# ---- turning the feed into deliveries --------------------------------------------------------


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def fan_out(now: datetime | None = None) -> int:
    """New deliveries for every active subscription from the incident feed (flush); returns how
    many. Each subscription's cursor moves in the same transaction as its deliveries."""
    now = now or utcnow()
    made = 0
    ensure_write_transaction()
    for subscription in db.session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
    ):
        principal = Principal(subscription.officer, subscription.post, None)
        changes = feed.changes(principal, subscription.cursor or None, BATCH)
        for change in changes:
            payload = {
                "type": "incident.changed",
                "timestamp": now.isoformat(),
                "data": {
                    "cursor": change.cursor,
                    "incident": change.incident,
                },
            }
            db.session.add(
                WebhookDelivery(
                    subscription_id=subscription.id,
                    message_id="msg_" + secrets.token_hex(16),
                    event="incident.changed",
                    payload=json.dumps(payload, default=_json_default, separators=(",", ":")),
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            made += 1
        if changes:
            subscription.cursor = changes[-1].cursor
    db.session.flush()
    return made


# ---- delivering ------------------------------------------------------------------------------


def post_json(url: str, body: bytes, headers: dict) -> tuple[int, str]:
    """The HTTP adapter: POST ``body`` and return (status, error); 0 when nothing answered."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return 0, type(getattr(error, "reason", error)).__name__[:200]


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), LONGEST_RETRY)


def due(now: datetime | None = None, limit: int = 100) -> list[int]:
    """Ids of the deliveries to try now, of active subscriptions, oldest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(WebhookDelivery.id)
            .join(WebhookSubscription)
            .where(
                WebhookDelivery.state == "pending",
                WebhookDelivery.next_attempt_at <= now,
                WebhookSubscription.active.is_(True),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
    )


def attempt(delivery_id: int, now: datetime | None = None, send=post_json) -> bool:
    """Try one delivery (flush): sent on 2xx; else rescheduled with backoff, and its
    subscription paused after a day of failures. Returns whether it was sent. Two workers
    cannot both send it: the attempt is claimed by moving ``next_attempt_at`` first."""
    now = now or utcnow()
    ensure_write_transaction()
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.state == "pending",
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + timedelta(seconds=TIMEOUT_SECONDS * 3))
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return False
    delivery = db.session.get(WebhookDelivery, delivery_id)
    db.session.refresh(delivery)
    subscription = delivery.subscription
    body = delivery.payload.encode()
    timestamp = int(now.timestamp())
    headers = {
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(
            subscription.secret or "", delivery.message_id, timestamp, body
        ),
    }
    status, error = send(subscription.url, body, headers)
    delivery.attempts += 1
    if 200 <= status < 300:
        delivery.state = "sent"
        delivery.delivered_at = now
        delivery.last_error = ""
        subscription.failing_since = None
        subscription.last_success_at = now
        subscription.last_error = ""
        db.session.flush()
        return True
    delivery.last_error = error or f"HTTP {status}"
    delivery.next_attempt_at = now + retry_delay(delivery.attempts)
    subscription.last_error = delivery.last_error
    subscription.failing_since = subscription.failing_since or now
    if subscription.active and now - subscription.failing_since >= PAUSE_AFTER:
        subscription.active = False
        subscription.paused_at = now
        audit.record(
            "webhook.paused",
            target=subscription,
            officer=subscription.officer,
            post=subscription.post,
            unit=subscription.post.unit,
            detail={"failing_since": subscription.failing_since.isoformat()},
        )
    db.session.flush()
    return False
