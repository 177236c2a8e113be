"""The OpenAPI document is the API's contract: every route under /api/v1 is described and every
described operation is a route; each has a summary and its answers; and who may read what
through the API is the web's truth table (out of scope: 404; without the permission: 403)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cplan.models import Contact, ContactStatus
from cplan.services import drives
from cplan.services.principal import Principal
from cplan.web.openapi import document
from tests.api_contract import report

UNDESCRIBED = {"api_docs.openapi", "api_docs.page"}  # the description itself
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint in UNDESCRIBED:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        found |= {(method, path) for method in rule.methods & METHODS}
    return found


def described(spec) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method.upper() in METHODS
    }


def test_every_api_route_is_described_and_every_description_is_a_route(app):
    spec = document()
    assert routes(app) - described(spec) == set(), "routes without a description"
    assert described(spec) - routes(app) == set(), "descriptions without a route"


def test_a_route_added_without_a_description_fails_the_check(app):
    spec = document()
    rules = routes(app) | {("GET", "/api/v1/undescribed")}
    assert rules - described(spec) == {("GET", "/api/v1/undescribed")}


def test_every_operation_has_a_summary_answers_and_a_declared_permission(app):
    spec = document()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert operation.get("summary"), f"{method} {path} has no summary (docstring)"
            assert any(code.startswith("2") for code in operation["responses"]), (method, path)
            assert "default" in operation["responses"], (method, path)
            public = operation.get("security") == []
            endpoint = next(
                rule.endpoint
                for rule in app.url_map.iter_rules()
                if re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule) == path
                and method.upper() in rule.methods
            )
            view = app.view_functions[endpoint]
            assert public == bool(getattr(view, "is_public", False)), endpoint


def test_the_document_is_valid_openapi_3_1(app):
    from jsonschema import Draft202012Validator

    spec = document()
    assert spec["openapi"] == "3.1.0"
    for schema in spec["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)  # JSON Schema 2020-12, as OpenAPI 3.1 says


# ---- who may read what: the API's truth table -------------------------------------------------

POSTS = [
    "constable",
    "kotwali_so",
    "asp",
    "sp_office",
    "other_asp",
    "supervisor",
    "state_admin",
]
# place: a village of Baraut; contact: an active contact there; incident: reported there;
# feed: the control rooms' feed; drive: Baghpat's drive; tasks: how many of its tasks (Bijrol's
# two) are listed, or the refusal; meeting: one recorded by Baraut.
EXPECTED = {
    "constable": {"place": 200, "contact": 200, "incident": 200, "feed": 403, "search": 200,
                  "drive": 200, "tasks": 2, "meeting": 200},
    "kotwali_so": {"place": 404, "contact": 404, "incident": 404, "feed": 403, "search": 200,
                   "drive": 200, "tasks": 0, "meeting": 404},
    "asp": {"place": 200, "contact": 200, "incident": 200, "feed": 403, "search": 200,
            "drive": 200, "tasks": 2, "meeting": 200},
    "sp_office": {"place": 200, "contact": 200, "incident": 200, "feed": 200, "search": 200,
                  "drive": 200, "tasks": 2, "meeting": 200},
    "other_asp": {"place": 404, "contact": 404, "incident": 404, "feed": 403, "search": 200,
                  "drive": 404, "tasks": 404, "meeting": 404},
    "supervisor": {"place": 200, "contact": 200, "incident": 200, "feed": 200, "search": 200,
                   "drive": 200, "tasks": 2, "meeting": 200},
    "state_admin": {"place": 403, "contact": 403, "incident": 403, "feed": 403, "search": 403,
                    "drive": 403, "tasks": 403, "meeting": 403},
}  # fmt: skip


@pytest.mark.parametrize("post", POSTS)
def test_api_scope_truth_table(db, api_world, api_as, make_officer, state, post):
    if post == "state_admin":
        api_world["state_admin"] = make_officer("state_admin", state)
    incident = report(api_as(api_world["constable"]), api_world["bijrol"]).get_json()["id"]
    contact = db.session.scalar(select(Contact).where(Contact.status == ContactStatus.ACTIVE))
    sp_office = Principal(
        officer=api_world["sp_office"], post=api_world["sp_office"].test_post, session=None
    )
    today = datetime.now(UTC).date()
    drive = drives.open_drive(
        sp_office,
        scope_unit_id=api_world["district"].id,
        opens_on=today,
        due_on=today + timedelta(days=7),
        max_age_days=30,
    ).id
    db.session.commit()
    meeting = api_as(api_world["constable"]).post(
        "/api/v1/meetings",
        {
            "held_at": datetime.now(UTC).isoformat(),
            "venue": "Thana",
            "chaired_by": "SHO",
            "place_ids": [api_world["bijrol"].id],
        },
    )
    api = api_as(api_world[post])
    urls = {
        "place": f"/api/v1/places/{api_world['bijrol'].id}",
        "contact": f"/api/v1/contacts/{contact.id}",
        "incident": f"/api/v1/incidents/{incident}",
        "feed": "/api/v1/feed/incidents",
        "search": "/api/v1/places?q=bijrol",
        "drive": f"/api/v1/drives/{drive}",
        "tasks": f"/api/v1/drives/{drive}/tasks",
        "meeting": f"/api/v1/meetings/{meeting.get_json()['id']}",
    }
    got = {name: api.get(url).status_code for name, url in urls.items()}
    if got["tasks"] == 200:
        got["tasks"] = len(api.get(urls["tasks"]).get_json()["items"])
    assert got == EXPECTED[post]
