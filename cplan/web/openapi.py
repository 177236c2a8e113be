"""The OpenAPI 3.1 description of ``/api/v1``, generated from the API blueprints' own code.

flask-smorest documents each view from its route, its marshmallow schemas (``@bp.arguments``,
``@bp.response``) and its docstring (the first line is the summary). Its ``Api`` object is made
per app (``register``), never at import time, and answers no errors itself: every error, under
``/api/v1`` as on the pages, is answered by ``cplan.web.errors`` (``application/problem+json``
there). The document is served by ``cplan.blueprints.api.docs`` (``/api/v1/openapi.json``).
"""

from copy import deepcopy

import marshmallow as ma
from flask import current_app, request
from flask_login import current_user
from flask_smorest import Api

from cplan.extensions import csrf
from cplan.web import idempotency
from cplan.web.problems import PROBLEM_JSON

EXTENSION_KEY = "cplan_api"


class ProblemSchema(ma.Schema):
    """An error answer (RFC 9457): what went wrong, in the reader's language."""

    type = ma.fields.String(required=True, metadata={"description": "about:blank"})
    title = ma.fields.String(required=True, metadata={"description": "In Hindi or English"})
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    instance = ma.fields.String()
    # Validation errors: the request field each message is about.
    errors = ma.fields.List(ma.fields.Dict())
    # Conflicts: who decided or changed the record first, and when.
    decided_by = ma.fields.String(allow_none=True)
    decided_at = ma.fields.DateTime(allow_none=True)
    # Enrolling a number that is already on the roster (confirm_duplicate to go ahead).
    duplicates = ma.fields.List(ma.fields.Dict())
    elsewhere = ma.fields.List(ma.fields.Dict())
    # A sign-in step failed and must start again from the CUG number.
    restart = ma.fields.Boolean()
    reauthenticate = ma.fields.String()


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Any unique string (a UUID): the same key and body within 24 hours gets the first "
        "answer again (header Idempotent-Replayed: true) without doing it twice; the same key "
        "with another body is refused (422)."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}


class CplanApi(Api):
    """flask-smorest's ``Api`` without its app-wide error handler (``cplan.web.errors`` answers
    every error of the app, pages and API alike)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        return None


def register(app, blueprints) -> CplanApi:
    """Document and register the ``/api/v1`` blueprints on ``app``."""
    app.config.setdefault("API_TITLE", "cplan")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": (
                    "The JSON API of the C-Plan portal for the field app and the UP-112 "
                    "control room. Authenticate with a device token: "
                    "`Authorization: Bearer <token>`."
                )
            },
            "servers": [{"url": "/"}],
            "security": [{"deviceToken": []}],
        },
    )
    api = CplanApi(app)
    api.spec.components.security_scheme(
        "deviceToken", {"type": "http", "scheme": "bearer", "description": "A device token"}
    )
    names = set()
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)
        names.add(blueprint.name)

    @app.before_request
    def protect_cookie_requests():
        # A device token is sent by the app itself, never by a browser on its own: no CSRF.
        # A request signed in by the web session's cookie is checked like a form.
        if (
            request.blueprint in names
            and request.method not in ("GET", "HEAD", "OPTIONS")
            and current_user.is_authenticated
            and current_user.device is None
        ):
            csrf.protect()

    idempotency.register(app, names)
    app.extensions[EXTENSION_KEY] = api
    return api


def document(app=None) -> dict:
    """The OpenAPI document as a dict, errors described as ``application/problem+json``."""
    app = app or current_app
    cache = app.extensions.setdefault("cplan_api_document", {})
    if "document" not in cache:
        spec = deepcopy(app.extensions[EXTENSION_KEY].spec.to_dict())
        for response in spec.get("components", {}).get("responses", {}).values():
            if "application/json" in response.get("content", {}):
                response["content"] = {PROBLEM_JSON: response["content"]["application/json"]}
        spec["components"].setdefault("parameters", {})["IdempotencyKey"] = IDEMPOTENCY_KEY
        for item in spec.get("paths", {}).values():
            if "post" in item:
                item["post"].setdefault("parameters", []).append(
                    {"$ref": "#/components/parameters/IdempotencyKey"}
                )
        cache["document"] = spec
    return cache["document"]
