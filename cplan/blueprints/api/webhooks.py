"""Webhook subscriptions of the state control room: register (URL, events; the secret is shown
once), list (paused and failing ones with their last error), stop and resume. Deliveries are
made by ``flask cplan webhooks`` (``cplan.services.webhooks``)."""

from flask_login import current_user
from flask_smorest import Blueprint

from cplan.blueprints.api.schemas import (
    WebhookAnswer,
    WebhookCreatedAnswer,
    WebhookListAnswer,
    WebhookRequest,
)
from cplan.extensions import db
from cplan.services import webhooks
from cplan.services.permissions import Permission
from cplan.web.access import requires

bp = Blueprint(
    "api_webhooks",
    __name__,
    url_prefix="/api/v1/webhooks",
    description="Incident changes pushed to the control rooms' systems, signed.",
)


def webhook_answer(subscription, pending: int = 0) -> dict:
    return {
        "id": subscription.id,
        "url": subscription.url,
        "events": subscription.events.split(","),
        "active": subscription.active,
        "created_at": subscription.created_at,
        "paused_at": subscription.paused_at,
        "failing_since": subscription.failing_since,
        "last_success_at": subscription.last_success_at,
        "last_error": subscription.last_error,
        "pending": pending,
    }


@bp.post("", endpoint="create")
@bp.arguments(WebhookRequest)
@bp.response(201, WebhookCreatedAnswer)
@requires(Permission.MANAGE_WEBHOOKS)
def create(data):
    """Register an https URL for incident changes from now on; the secret is shown only here."""
    subscription, secret = webhooks.create(current_user, data["url"], data["events"])
    answer = webhook_answer(subscription) | {"secret": secret}
    db.session.commit()
    return answer


@bp.get("", endpoint="index")
@bp.response(200, WebhookListAnswer)
@requires(Permission.MANAGE_WEBHOOKS)
def index():
    """The subscriptions, with paused and failing ones and their last error."""
    listed = webhooks.listed(current_user)
    return {"items": [webhook_answer(subscription, pending) for subscription, pending in listed]}


@bp.post("/<int:subscription_id>/resume", endpoint="resume")
@bp.response(200, WebhookAnswer)
@requires(Permission.MANAGE_WEBHOOKS)
def resume(subscription_id):
    """Resume a paused or stopped subscription: its waiting deliveries go out again."""
    subscription = webhooks.set_active(current_user, subscription_id, True)
    answer = webhook_answer(subscription)
    db.session.commit()
    return answer


@bp.post("/<int:subscription_id>/stop", endpoint="stop")
@bp.response(200, WebhookAnswer)
@requires(Permission.MANAGE_WEBHOOKS)
def stop(subscription_id):
    """Stop a subscription (nothing is sent until it is resumed)."""
    subscription = webhooks.set_active(current_user, subscription_id, False)
    answer = webhook_answer(subscription)
    db.session.commit()
    return answer
