"""Error pages: friendly HTML for people, JSON under /api/, and a rollback on 500; every domain
refusal a service raises (``cplan.services.errors``) as its HTTP answer; and the trace a refusal
on a record URL leaves in the audit trail (``cplan.services.refusals``).

Domain refusals are mapped here and nowhere else (``DOMAIN_STATUSES``): a record outside the
principal's subtree (``NotInScope``) is 404 exactly like one that does not exist, ``NotAllowed``
403, ``AlreadyDecided`` and ``InvalidTransition`` 409, any other ``DomainError`` 400. A refusal a
view does not catch rolls the request's changes back and answers with the refusal's own words
(``refusal_message``); a view that shows a refusal on its own page (a field error, a flash)
catches it and words it with the same function.

When the database cannot be reached (refused, timed out, no free connection in the pool) the
answer is a 503 "try again in a minute" page that needs nothing from the database: the signed-in
user is not looked up (Flask-Login is told this request is anonymous), the navigation is left
out, and the language comes from the cookie or the browser.
"""

import logging

from flask import (
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from cplan import formats
from cplan.extensions import db, login_manager
from cplan.services import refusals
from cplan.services.errors import (
    AlreadyDecided,
    DomainError,
    InvalidTransition,
    NotAllowed,
    NotInScope,
)
from cplan.web import faults
from cplan.web.problems import problem
from cplan.web.problems import status_messages as _messages
from cplan.web.security import is_public_endpoint
from cplan.web.templating import current_language

logger = logging.getLogger(__name__)
REFUSALS = (403, 404)
# What a database that is down, restarting, overloaded or out of connections raises.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
RETRY_AFTER_SECONDS = 60


# Each domain refusal as an HTTP status: the first class that matches wins.
DOMAIN_STATUSES = (
    (NotInScope, 404),
    (NotAllowed, 403),
    (AlreadyDecided, 409),
    (InvalidTransition, 409),
    (DomainError, 400),
)


def domain_status(error: DomainError) -> int:
    """The HTTP status of a domain refusal."""
    return next(status for kind, status in DOMAIN_STATUSES if isinstance(error, kind))


def refusal_message(error: DomainError) -> str:
    """A service's refusal in the reader's words: who decided first and when, in the reader's
    language, when the error knows; else its ``refusal`` sentence, else its own message."""
    decided = getattr(error, "decided", None)
    if decided is not None:
        language = current_language()
        who = (
            decided.officer.display_name(language)
            if decided.officer is not None
            else decided.officer_name
        )
        when = formats.datetime_text(decided.decided_at, language) if decided.decided_at else "?"
        return str(error.decided_refusal) % {"officer": who, "name": who, "time": when}
    return str(error.refusal if error.refusal is not None else error)


def explain(error: DomainError) -> str:
    """``refusal_message`` for a refusal a view shows on its own page (beside a field, in a
    flash). A record out of scope is not a refusal to explain: it is raised again, so that the
    one handler answers 404, as for a record that does not exist."""
    if isinstance(error, NotInScope):
        raise error
    return refusal_message(error)


def domain_error_details(error: DomainError) -> dict:
    """What the JSON answer adds to a refusal: who decided first and when."""
    decided = getattr(error, "decided", None)
    if decided is None:
        return {}
    return {
        "decided_by": decided.officer_name,
        "decided_at": decided.decided_at.isoformat() if decided.decided_at else None,
    }


def render_refusal(error: DomainError):
    """A refusal no view caught: nothing the request changed is kept; out of scope answers
    exactly like a record that does not exist."""
    db.session.rollback()
    status = domain_status(error)
    if wants_problem():
        detail = None if status == 404 else refusal_message(error)
        field = getattr(error, "field", None)
        if field and status == 400:  # a refusal about one field: a validation error naming it
            errors = [{"field": field, "in": "json", "message": detail}]
            return problem(422, detail=detail, errors=errors)
        return problem(status, detail=detail, **domain_error_details(error))
    if wants_json():
        message = _messages()[404] if status == 404 else refusal_message(error)
        return jsonify(error=message, status=status, **domain_error_details(error)), status
    return render_error(status, None if status == 404 else refusal_message(error))


def wants_json() -> bool:
    return request.path.startswith("/api/")


def wants_problem() -> bool:
    """Under ``/api/v1`` every error is ``application/problem+json`` (RFC 9457)."""
    return request.path.startswith("/api/v1/")


def validation_errors(messages) -> list[dict]:
    """webargs' nested messages ({"json": {"field": ["..."]}}) as a flat list, each naming its
    field (``items.0.name`` for a field inside a list)."""
    errors = []

    def walk(value, path):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, [*path, str(key)])
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            for message in value:
                errors.append(
                    {"field": ".".join(path[1:]) or path[0], "in": path[0], "message": message}
                )
        else:
            errors.append(
                {"field": ".".join(path[1:]), "in": path[0] if path else "", "message": str(value)}
            )

    for location, fields in (messages or {}).items():
        walk(fields, [location])
    return errors


def render_error(status: int, message: str | None = None):
    if wants_problem():
        return problem(status, detail=message)
    message = message or _messages().get(status, _messages()[500])
    if wants_json():
        return jsonify(error=message, status=status), status
    return render_template("errors/error.html", status=status, message=message), status


def render_database_unavailable(error: Exception):
    """503 without touching the database again: no user lookup, no navigation. A read cut off
    by a lost connection is run again once instead (``cplan.web.faults``); a write is not, and
    its page says whether anything may have been saved."""
    original = getattr(error, "orig", None) or error
    # The driver's first line only: SQLAlchemy's full text carries the statement's parameters.
    first_line = (str(original).strip().splitlines() or [""])[0][:200]
    retrying = faults.retry_if_read(error)
    current_app.logger.error(
        "database %s: %s: %s",
        "connection lost in a read; running it again" if retrying else "unavailable",
        type(original).__name__,
        first_line,
        # The first of a kind in full (parameters hidden: cplan.config), then counted.
        exc_info=error,
    )
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the session is dropped at teardown
        pass
    # Flask-Login's per-request user: anonymous from here on, so nothing (templates, the
    # language choice, the security headers) loads the signed-in session from the database.
    g._login_user = login_manager.anonymous_user()
    if retrying:
        return "", 503  # thrown away by faults.RetryReads
    message = _("The portal cannot reach its database just now. Please try again in a minute.")
    if request.method not in faults.SAFE_METHODS:
        if faults.may_have_saved(error):
            message += " " + _(
                "What you sent may have been saved before the connection was lost: check before "
                "you send it again."
            )
        else:
            message += " " + _("Nothing you sent was saved.")
    if wants_problem():
        response = problem(503, title=_("Please try again in a minute"), detail=message)
    elif wants_json():
        response = jsonify(error=message, status=503)
    else:
        retry_url = request.full_path.rstrip("?") if request.method == "GET" else None
        response = make_response(
            render_template("errors/unavailable.html", message=message, retry_url=retry_url)
        )
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app):
    """Attach the error handlers to ``app``."""

    for database_error in DATABASE_UNAVAILABLE:
        app.register_error_handler(database_error, render_database_unavailable)
    app.register_error_handler(DomainError, render_refusal)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400,
            _(
                "Your form expired or was sent from another page. Please go back, reload and try "
                "again."
            ),
        )

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error):
        from cplan.web.ratelimits import retry_after_seconds

        seconds = retry_after_seconds(error)
        minutes = -(-seconds // 60)
        message = ngettext(
            "Too many requests from your connection in a short time. Please try again in %(num)d "
            "minute.",
            "Too many requests from your connection in a short time. Please try again in %(num)d "
            "minutes.",
            minutes,
        )
        response = make_response(render_error(429, message))
        response.headers["Retry-After"] = str(seconds)
        return response

    @app.errorhandler(401)
    def sign_in_required(error):
        if wants_problem():
            response = problem(401, _("Send a valid device token (Authorization: Bearer)."))
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        if wants_json():
            return jsonify(error="sign in required", status=401), 401
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if wants_problem():
            db.session.rollback()
            data = getattr(error, "data", None) or {}
            errors = validation_errors(data.get("messages")) if error.code == 422 else None
            response = problem(error.code or 500, errors=errors)
            for name, value in (data.get("headers") or {}).items():
                response.headers[name] = value
            return response
        if error.code in _messages():
            return render_error(error.code)
        return error

    @app.errorhandler(InternalServerError)
    def internal_error(error):
        if isinstance(error.original_exception, DATABASE_UNAVAILABLE):
            return render_database_unavailable(error.original_exception)
        db.session.rollback()
        return render_error(500)

    app.after_request(audit_refusal)


def record_ids() -> dict[str, int]:
    """The record ids a matched URL names (its integer arguments: ``contact_id``, ``seq``...)."""
    return {
        name: value
        for name, value in (request.view_args or {}).items()
        if isinstance(value, int) and not isinstance(value, bool)
    }


def audit_refusal(response):
    """``after_request``: a signed-in officer refused a record (403/404 on a URL naming one by
    id) leaves a throttled ``access.refused`` event. Nothing the refused request started is
    kept. A failure to record is logged and the refusal still answered."""
    if (
        response.status_code not in REFUSALS
        or request.url_rule is None
        or not current_user.is_authenticated
    ):
        return response
    ids = record_ids()
    if not ids or is_public_endpoint(request.endpoint):
        return response
    try:
        db.session.rollback()
        refusals.record_refusal(
            current_user.officer,
            current_user.post,
            request.endpoint,
            response.status_code,
            request.method,
            ids,
            ip_address=request.remote_addr,
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        logger.exception("could not record a refusal at %s", request.endpoint)
    return response
