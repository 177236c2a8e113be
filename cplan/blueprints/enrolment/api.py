"""A small JSON API for enrolment decisions (``/api/enrolments/<id>/decision``).

CSRF stays on: a script sends the page's token in the ``X-CSRFToken`` header (Flask-WTF reads
it there). Answers: 200 with the new status, 409 when someone else decided first (naming who
and when), 404 outside the post's scope, 400 on a malformed request or an unknown reason,
403 when the officer enrolled the contact themselves (maker-checker).
"""
from flask import Blueprint, abort, jsonify, request
from flask_login import current_user

from cplan.blueprints.enrolment.views import already_decided_message
from cplan.extensions import db
from cplan.services import enrolment, roster
from cplan.services.enrolment import WorkflowError
from cplan.services.errors import AlreadyDecided, InvalidTransition, NotInScope
from cplan.services.permissions import Permission
from cplan.web.access import requires

api_bp = Blueprint("enrolment_api", __name__, url_prefix="/api/enrolments")


def _error(status: int, message: str, **extra):
    db.session.rollback()
    return jsonify(error=message, status=status, **extra), status


@api_bp.post("/<int:contact_id>/decision", endpoint="decide")
@requires(Permission.APPROVE_ENROLMENT)
def decide(contact_id):
    """Approve or reject a pending enrolment from JSON {action, version, reason, note}."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _error(400, "send a JSON object")
    action, version = payload.get("action"), payload.get("version")
    reason, note = payload.get("reason") or "", payload.get("note") or ""
    if action not in ("approve", "reject"):
        return _error(400, "action must be approve or reject")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        return _error(400, "version must be the positive integer the page showed")
    if not isinstance(reason, str) or not isinstance(note, str):
        return _error(400, "reason and note must be text")
    if action == "reject" and reason not in enrolment.REJECT_REASONS:
        return _error(400, "unknown reason", reasons=list(enrolment.REJECT_REASONS))
    try:
        contact = roster.get_visible_contact(current_user, contact_id)
    except NotInScope:
        abort(404)
    if contact.enrolled_by_officer_id == current_user.officer.id:
        return _error(403, "you enrolled this contact, so someone else must decide it")
    try:
        contact = enrolment.decide_enrolment(current_user, contact_id, version, action, reason, note)
    except NotInScope:
        db.session.rollback()
        abort(404)
    except AlreadyDecided as error:
        decided = getattr(error, "decided", None)
        return _error(409, already_decided_message(error),
                      decided_by=decided.officer_name if decided else None,
                      decided_at=decided.decided_at.isoformat() if decided and decided.decided_at else None)
    except InvalidTransition:
        return _error(409, "this enrolment is no longer waiting for a decision")
    except WorkflowError as error:
        return _error(400, str(error))
    result = {"id": contact.id, "status": contact.status.value, "version": contact.version}
    db.session.commit()
    return jsonify(result)
