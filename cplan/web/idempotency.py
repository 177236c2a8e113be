"""The ``Idempotency-Key`` header on every POST of ``/api/v1`` (``cplan.services.idempotency``
keeps the answers).

Before the view: a key already answered for the same request is answered again from the store
(``Idempotent-Replayed: true``), with another request 422, still running 409; a new key is
claimed. After the view: the answer is kept for 24 hours, unless it was the server's failure,
a rate limit or a sign-in refusal, which a retry should meet afresh.
"""

from flask import Response, g, request
from flask_babel import gettext as _
from flask_login import current_user

from cplan.extensions import db
from cplan.services import idempotency
from cplan.services.idempotency import Outcome
from cplan.services.lockouts import address_client
from cplan.web.problems import problem
from cplan.web.security import is_public_endpoint

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
NOT_KEPT = {401, 429}


def _scope() -> str | None:
    """Who sent the request: a key is theirs alone."""
    if current_user.is_authenticated:
        if current_user.device is not None:
            return f"device:{current_user.device.id}"
        return f"session:{current_user.officer.id}:{current_user.post.id}"
    if is_public_endpoint(request.endpoint):
        return f"address:{address_client(request.remote_addr)}"
    return None


def register(app, blueprint_names: set[str]) -> None:
    """Answer and keep POSTs with an ``Idempotency-Key`` to the blueprints named."""

    @app.before_request
    def replay_or_claim():
        if request.method != "POST" or request.blueprint not in blueprint_names:
            return None
        key = request.headers.get(HEADER)
        if key is None:
            return None
        if not idempotency.valid_key(key):
            message = _("Use 1 to 200 printable ASCII characters, such as a UUID.")
            return problem(422, errors=[{"field": HEADER, "in": "header", "message": message}])
        scope = _scope()
        if scope is None:
            return None  # not signed in: the sign-in guard answers
        print_ = idempotency.fingerprint(request.method, request.full_path, request.get_data())
        claim = idempotency.claim(scope, key, print_)
        if claim.outcome is Outcome.RUN:
            g.idempotency_record = claim.record.id
            return None
        if claim.outcome is Outcome.REPLAY:
            record = claim.record
            response = Response(record.body, status=record.status, content_type=record.content_type)
            response.headers[REPLAYED] = "true"
            return response
        if claim.outcome is Outcome.MISMATCH:
            return problem(
                422,
                detail=_("This Idempotency-Key was already used for another request."),
                errors=[
                    {
                        "field": HEADER,
                        "in": "header",
                        "message": _("This Idempotency-Key was already used for another request."),
                    }
                ],
            )
        return problem(
            409,
            detail=_(
                "A request with this Idempotency-Key is still being processed. Try again shortly."
            ),
        )

    @app.after_request
    def keep_answer(response):
        record_id = g.pop("idempotency_record", None)
        if record_id is None:
            return response
        db.session.rollback()  # the view committed what it changed; nothing else is kept
        if response.status_code >= 500 or response.status_code in NOT_KEPT:
            idempotency.release(record_id)
        else:
            idempotency.complete(
                record_id, response.status_code, response.content_type, response.get_data(True)
            )
        db.session.commit()
        return response
