"""A small JSON API for enrolment decisions (``/api/enrolments/<id>/decision``), kept for the
pages' scripts; the versioned API has the same decision at ``/api/v1/enrolments/<id>/decision``
(``cplan.blueprints.api.enrolments``), and answers here name it in a ``Link`` header.

CSRF stays on: a script sends the page's token in the ``X-CSRFToken`` header (Flask-WTF reads
it there). Answers: 200 with the new status; a malformed request is 400 here; every refusal of
the decision itself is the service's (``cplan.services.enrolment``), answered by the one
mapping of ``cplan.web.errors``: 409 when someone else decided first (naming who and when),
404 outside the post's scope, 403 when the officer enrolled the contact themselves
(maker-checker), 400 for an unknown reason or a missing note.
"""

from flask import Blueprint, jsonify, request, url_for
from flask_login import current_user

from cplan.extensions import db
from cplan.services import enrolment
from cplan.services.permissions import Permission
from cplan.web.access import requires

api_bp = Blueprint("enrolment_api", __name__, url_prefix="/api/enrolments")


def _error(status: int, message: str):
    db.session.rollback()
    return jsonify(error=message, status=status), status


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
    contact = enrolment.decide_enrolment(current_user, contact_id, version, action, reason, note)
    result = {"id": contact.id, "status": contact.status.value, "version": contact.version}
    db.session.commit()
    response = jsonify(result)
    response.headers["Link"] = (
        f'<{url_for("api_enrolments.decide", contact_id=contact_id)}>; rel="successor-version"'
    )
    return response
