"""The API's description: ``/api/v1/openapi.json`` (OpenAPI 3.1, generated from the code) and
``/api/v1/docs``, a page listing every operation, rendered on the server from the same document.

The page is our own template: no script and nothing from a CDN, so the app's Content Security
Policy stays as it is. Both are public: they describe what a device token may ask, and hold no
data.
"""

from flask import Blueprint, jsonify, render_template

from cplan.web.access import public
from cplan.web.openapi import document

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

METHODS = ("get", "post", "put", "patch", "delete")


def operations(spec: dict) -> list[dict]:
    """Every operation of ``spec`` in path order: method, path, summary, description, parameters,
    request schema and responses."""
    rows = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            rows.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "tag": (operation.get("tags") or [""])[0],
                    "parameters": item.get("parameters", []) + operation.get("parameters", []),
                    "body": _schema_name(next(iter(body.values()), {}).get("schema")),
                    "responses": [
                        (status, response.get("description", ""))
                        for status, response in operation.get("responses", {}).items()
                    ],
                    "public": operation.get("security") == [],
                }
            )
    return rows


def _schema_name(schema: dict | None) -> str:
    if not schema:
        return ""
    reference = schema.get("$ref", "")
    return reference.rsplit("/", 1)[-1] if reference else schema.get("type", "")


@bp.get("/openapi.json", endpoint="openapi")
@public
def openapi_document():
    """The OpenAPI 3.1 document of /api/v1."""
    return jsonify(document())


@bp.get("/docs", endpoint="page")
@public
def show_docs():
    """A page listing every operation of the JSON API."""
    spec = document()
    return render_template("api/docs.html", info=spec["info"], operations=operations(spec))
