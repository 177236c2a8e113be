"""Error pages and security headers: friendly in both languages, JSON under /api/, no traces."""

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cplan.models import Unit, UnitKind

TEMPLATES = Path(__file__).resolve().parents[1] / "cplan" / "templates"
pytestmark = pytest.mark.fresh_app  # broken_route adds routes to the app


@pytest.fixture
def broken_route(app, db):
    """A throwaway page that writes to the session and then fails."""

    def explode():
        db.session.add(Unit(kind=UnitKind.STATE, name_en="Half-written state", path="/"))
        db.session.flush()
        raise RuntimeError("secret internal detail")

    explode.is_public = True  # reachable without signing in, like any public page
    app.add_url_rule("/test-only/explode", "explode", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # let the 500 handler answer, as in production
    return "/test-only/explode"


def test_a_missing_page_is_friendly_in_english(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert '<html lang="en">' in page
    assert "Page not found" in page
    assert "We could not find that page or record." in page
    assert 'href="/"' in page


def test_a_missing_page_is_friendly_in_hindi(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "hi"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert '<html lang="hi">' in page
    assert "पृष्ठ नहीं मिला" in page
    assert "Page not found" not in page


def test_a_missing_record_is_the_same_friendly_page(client, state, make_officer, login_as):
    login_as(make_officer("control_room", state))
    response = client.get("/geo/places/424242")
    assert response.status_code == 404
    assert "We could not find that page or record." in response.get_data(as_text=True)


def test_errors_under_api_are_json(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json() == {"error": "We could not find that page or record.", "status": 404}


def test_a_wrong_method_gets_a_friendly_page(client):
    response = client.get("/language/hi")
    assert response.status_code == 405
    assert "That action is not allowed here." in response.get_data(as_text=True)


def test_a_form_without_its_csrf_token_gets_a_friendly_page(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/language/hi", data={"next": "/"})
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)


def test_a_server_error_rolls_back_and_shows_no_traceback(client, db, broken_route):
    response = client.get(broken_route)
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side." in page
    assert "Traceback" not in page and "secret internal detail" not in page
    assert "RuntimeError" not in page
    # The request shares this test's session: had the handler not rolled back, the flushed
    # row would still be visible here.
    assert db.session.scalar(select(func.count(Unit.id))) == 0


def test_a_server_error_under_api_is_json_without_detail(app, client, broken_route):
    def explode_api():
        raise RuntimeError("secret internal detail")

    explode_api.is_public = True
    app.add_url_rule("/api/test-only/explode", "explode_api", explode_api)
    response = client.get("/api/test-only/explode")
    assert response.status_code == 500
    assert response.is_json
    assert "secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/no-such-page", "/geo/", "/geo/search?q=ab"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    policy = headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ")}
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"  # issue 14


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda path: path.name)
def test_templates_need_no_inline_script_or_style(template):
    """The CSP blocks inline script, inline style and event-handler attributes: use none."""
    source = template.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)", source), "inline <script>"
    assert "<style" not in source, "inline <style>"
    assert not re.search(r"\sstyle=", source), "style attribute"
    assert not re.search(r"\son[a-z]+=", source), "event-handler attribute"
    assert "javascript:" not in source


def test_the_stylesheet_is_fingerprinted_and_cached_for_a_signed_in_phone(
    client, state, make_officer, login_as
):
    login_as(make_officer("control_room", state))
    page = client.get("/").get_data(as_text=True)
    href = re.search(r'<link rel="stylesheet" href="([^"]+)"', page).group(1)
    assert re.fullmatch(r"/static/css/cplan\.css\?v=[0-9a-f]{12}", href)
    with client.get(href) as response:
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")
        assert "max-age=31536000" in response.headers["Cache-Control"]
    assert client.get("/").headers["Cache-Control"] == "no-store"  # pages stay private
