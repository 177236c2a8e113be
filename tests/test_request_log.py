"""One JSON line per request with its id, returned in X-Request-Id (issue 21)."""

import json
import logging

import pytest
from sqlalchemy import select

from cplan.extensions import db as _db
from cplan.models.audit import AuditEvent
from cplan.services import audit
from cplan.web.access import public


@pytest.fixture
def request_lines(caplog):
    caplog.set_level(logging.INFO, logger="cplan.requests")

    def lines():
        return [
            json.loads(record.getMessage())
            for record in caplog.records
            if record.name == "cplan.requests"
        ]

    return lines


def test_every_response_carries_a_fresh_request_id_and_one_json_line(client, request_lines):
    first = client.get("/livez")
    second = client.get("/auth/sign-in")

    ids = [first.headers["X-Request-Id"], second.headers["X-Request-Id"]]
    assert ids[0] != ids[1] and all(len(i) == 32 for i in ids)
    lines = request_lines()
    assert [line["request_id"] for line in lines] == ids
    assert lines[0]["endpoint"] == "health.livez" and lines[0]["status"] == 200
    assert lines[0]["method"] == "GET" and lines[0]["post_id"] is None
    assert isinstance(lines[0]["duration_ms"], float) and lines[0]["time"].endswith("Z")


def test_the_line_names_the_signed_in_post(
    client, request_lines, make_district, make_officer, login_as
):
    officer = make_officer("sp_office", make_district("Baghpat", code="124"))
    login_as(officer)
    response = client.get("/")
    (line,) = request_lines()
    assert line["post_id"] == officer.test_post.id and line["status"] == response.status_code


def test_no_number_code_token_or_query_reaches_the_log(
    client, request_lines, make_district, make_officer, login_as
):
    officer = make_officer("sp_office", make_district("Baghpat", code="124"))
    login_as(officer)
    token = client.get_cookie("session").value
    client.get("/search?q=9876543210&code=482913")
    client.get("/auth/sign-in?next=/roster/9812345678")
    client.post("/auth/sign-in", data={"cug": "+91 98123 45678"})

    text = json.dumps(request_lines())
    for secret in ("9876543210", "482913", "9812345678", "98123", token):
        assert secret not in text
    assert "search.index" in text  # the endpoint, not the path


def test_nginx_request_id_is_kept_only_behind_a_trusted_proxy(app, client, request_lines):
    nginx_id = "3f2a9c4d8e1b4a6f9d0c7b5a2e8f1d3c"
    assert (
        client.get("/livez", headers={"X-Request-Id": nginx_id}).headers["X-Request-Id"] != nginx_id
    )


@pytest.mark.fresh_app
def test_behind_a_trusted_proxy_a_plain_id_is_kept_and_a_forged_one_replaced(
    database_url, tmp_path
):
    from cplan import create_app
    from tests.conftest import TEST_SECRET

    app = create_app(
        {
            "TESTING": True,
            "ENV_NAME": "testing",
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SMS_BACKEND": "memory",
            "TRUSTED_PROXIES": 1,
        }
    )
    browser = app.test_client()
    nginx_id = "3f2a9c4d8e1b4a6f9d0c7b5a2e8f1d3c"
    assert (
        browser.get("/livez", headers={"X-Request-Id": nginx_id}).headers["X-Request-Id"]
        == nginx_id
    )
    forged = browser.get("/livez", headers={"X-Request-Id": 'x" "admin":true'})
    assert forged.headers["X-Request-Id"] != 'x" "admin":true'
    assert len(forged.headers["X-Request-Id"]) == 32


@pytest.mark.fresh_app
def test_the_line_lists_the_audit_events_the_request_committed(app, client, request_lines):
    def write(outcome):
        audit.record("ops.test_event", detail={"outcome": outcome})
        if outcome == "kept":
            _db.session.commit()
        else:
            _db.session.rollback()
        return "done"

    app.add_url_rule("/test-only/kept", "kept", public(lambda: write("kept")))
    app.add_url_rule("/test-only/undone", "undone", public(lambda: write("undone")))

    client.get("/test-only/kept")
    client.get("/test-only/undone")

    kept, undone = request_lines()
    (event,) = _db.session.scalars(select(AuditEvent)).all()
    assert kept["audit_ids"] == [event.id]
    assert "audit_ids" not in undone
