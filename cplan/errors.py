"""Error pages: friendly HTML for people, JSON under /api/, and a rollback on 500; and the
trace a refusal on a record URL leaves in the audit trail (``cplan.services.refusals``)."""
import logging

from flask import jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from cplan.extensions import db
from cplan.security import is_public_endpoint
from cplan.services import refusals

logger = logging.getLogger(__name__)
REFUSALS = (403, 404)


def _messages():
    return {
        400: _("The request could not be understood. Please check what you entered and try again."),
        403: _("You do not have permission to do this."),
        404: _("We could not find that page or record."),
        405: _("That action is not allowed here."),
        409: _("Someone else changed this record first. Reload the page and try again."),
        413: _("The file is too large."),
        429: _("Too many attempts. Please wait a few minutes and try again."),
        500: _("Something went wrong on our side. It has been logged; please try again."),
    }


def wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(status: int, message: str | None = None):
    message = message or _messages().get(status, _messages()[500])
    if wants_json():
        return jsonify(error=message, status=status), status
    return render_template("errors/error.html", status=status, message=message), status


def register(app):
    """Attach the error handlers to ``app``."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400, _("Your form expired or was sent from another page. Please go back, reload and try again.")
        )

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error):
        from cplan.ratelimits import retry_after_seconds

        seconds = retry_after_seconds(error)
        minutes = -(-seconds // 60)
        message = ngettext(
            "Too many requests from your connection in a short time. Please try again in %(num)d minute.",
            "Too many requests from your connection in a short time. Please try again in %(num)d minutes.",
            minutes,
        )
        response = make_response(render_error(429, message))
        response.headers["Retry-After"] = str(seconds)
        return response

    @app.errorhandler(401)
    def sign_in_required(error):
        if wants_json():
            return jsonify(error="sign in required", status=401), 401
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code in _messages():
            return render_error(error.code)
        return error

    @app.errorhandler(InternalServerError)
    def internal_error(error):
        db.session.rollback()
        return render_error(500)

    app.after_request(audit_refusal)


def record_ids() -> dict[str, int]:
    """The record ids a matched URL names (its integer arguments: ``contact_id``, ``seq``...)."""
    return {name: value for name, value in (request.view_args or {}).items()
            if isinstance(value, int) and not isinstance(value, bool)}


def audit_refusal(response):
    """``after_request``: a signed-in officer refused a record (403/404 on a URL naming one by
    id) leaves a throttled ``access.refused`` event. Nothing the refused request started is
    kept. A failure to record is logged and the refusal still answered."""
    if response.status_code not in REFUSALS or request.url_rule is None or not current_user.is_authenticated:
        return response
    ids = record_ids()
    if not ids or is_public_endpoint(request.endpoint):
        return response
    try:
        db.session.rollback()
        refusals.record_refusal(current_user.officer, current_user.post, request.endpoint, response.status_code,
                                request.method, ids, ip_address=request.remote_addr)
        db.session.commit()
    except Exception:
        db.session.rollback()
        logger.exception("could not record a refusal at %s", request.endpoint)
    return response
