"""The OpenAPI document as a contract: ``ApiClient`` sends requests through the test client and
checks every answer against the document (its path, method and status described, the body valid
against the described schema, the described media type). Every API test uses it, so every
response the suite sees is checked; ``SEEN`` records what was exercised."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from jsonschema import Draft202012Validator

from cplan.models.base import utcnow
from cplan.web.openapi import document

TODAY = datetime.now(UTC).date().isoformat()

SEEN: set[tuple[str, str, str]] = set()


def _resolve(node, root):
    """``node`` with every local ``$ref`` replaced by what it names (our schemas are not
    recursive)."""
    if isinstance(node, dict):
        if "$ref" in node and node["$ref"].startswith("#/"):
            target = root
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            return _resolve(target, root)
        return {key: _resolve(value, root) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(value, root) for value in node]
    return node


def path_template(spec: dict, path: str) -> str | None:
    """The described path (``/api/v1/places/{place_id}``) that ``path`` matches."""
    for template in spec["paths"]:
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return template
    return None


def check(response, method: str, path: str) -> None:
    """Fail unless ``response`` is what the document describes for ``method path``."""
    spec = document()
    template = path_template(spec, path.split("?")[0])
    assert template is not None, f"{path} is not described"
    operation = spec["paths"][template].get(method.lower())
    assert operation is not None, f"{method} {template} is not described"
    status = str(response.status_code)
    described = operation["responses"].get(status) or operation["responses"].get("default")
    assert described is not None, f"{method} {template} {status} is not described"
    described = _resolve(described, spec)
    SEEN.add((method.upper(), template, status))
    content = described.get("content")
    if not content:
        assert not response.data, f"{method} {template} {status} has a body not described"
        return
    assert response.mimetype in content, (
        f"{method} {template} {status}: {response.mimetype} is not one of {list(content)}"
    )
    schema = content[response.mimetype].get("schema")
    if schema is not None:
        errors = sorted(
            Draft202012Validator(schema).iter_errors(response.get_json()), key=lambda e: e.path
        )
        assert not errors, f"{method} {template} {status}: " + "; ".join(
            f"{list(error.path)}: {error.message}" for error in errors[:5]
        )


class ApiClient:
    """The test client speaking to ``/api/v1`` with a device token, checking each answer."""

    def __init__(self, client, token: str | None = None, language: str | None = None):
        self.client, self.token, self.language = client, token, language

    def headers(self, extra=None) -> dict:
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.language:
            headers["Accept-Language"] = self.language
        headers.update(extra or {})
        return headers

    def open(self, method: str, path: str, *, headers=None, **kwargs):
        response = self.client.open(path, method=method, headers=self.headers(headers), **kwargs)
        check(response, method, path)
        return response

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.open("POST", path, json=json, **kwargs)


def report(api, place, headers=None, **overrides):
    body = {
        "place_ids": [place.id],
        "kind": "rumour",
        "severity": "high",
        "occurred_at": (utcnow() - timedelta(hours=1)).isoformat(),
        "summary": "Rumour of a clash at the pond",
    }
    return api.post("/api/v1/incidents", body | overrides, headers=headers)
