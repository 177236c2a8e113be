"""Deciding an enrolment (the JSON endpoint that was ``/api/enrolments/<id>/decision``, which
still answers as before).

The decision is the enrolment service's compare-and-set on the version the approver saw: 409
naming who decided first and when, 404 outside the post's scope, 403 when the approver
enrolled the contact (maker-checker), 422 for an unknown reason or a missing note.
"""

from flask_login import current_user
from flask_smorest import Blueprint

from cplan.blueprints.api.schemas import DecisionAnswer, DecisionRequest
from cplan.extensions import db
from cplan.services import enrolment
from cplan.services.permissions import Permission
from cplan.web.access import requires

bp = Blueprint(
    "api_enrolments",
    __name__,
    url_prefix="/api/v1/enrolments",
    description="Approve or reject pending enrolments.",
)


@bp.post("/<int:contact_id>/decision", endpoint="decide")
@bp.arguments(DecisionRequest)
@bp.response(200, DecisionAnswer)
@bp.alt_response(409, response="DEFAULT_ERROR", description="Decided by someone else first")
@requires(Permission.APPROVE_ENROLMENT)
def decide(data, contact_id):
    """Approve or reject a pending enrolment, naming the version seen."""
    contact = enrolment.decide_enrolment(
        current_user, contact_id, data["version"], data["action"], data["reason"], data["note"]
    )
    answer = {"id": contact.id, "status": contact.status.value, "version": contact.version}
    db.session.commit()
    return answer
