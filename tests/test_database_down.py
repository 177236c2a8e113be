"""Error pages without the database (issue 14, finding 10).

"With PostgreSQL down, signed-in users get gunicorn's bare English 'Internal Server Error',
because the error page itself loads the session from the database." A signed-in officer's
browser is pointed at a fresh app whose database cannot be reached (a closed port, a SQLite file
in a folder that does not exist): every page answers 503 with a page in the officer's language
that asks them to try again in a minute.
"""

import pytest
from sqlalchemy import create_engine, text

from cplan import create_app
from cplan.web.i18n import LANGUAGE_SESSION_KEY
from tests.conftest import TEST_SECRET, RequestIsolatingClient

UNREACHABLE = {
    "postgresql": "postgresql://cplan@127.0.0.1:1/cplan",  # nothing listens on port 1
    "sqlite": "sqlite:////nonexistent-folder-for-cplan-tests/cplan.sqlite",
}
pytestmark = pytest.mark.fresh_app  # the last test adds a route


@pytest.fixture
def signed_in_cookie(client, db, make_district, make_officer, login_as):
    """The session cookie of an SP office signed in on the working app."""
    login_as(make_officer("sp_office", make_district("Baghpat", code="124")))
    return client.get_cookie("session").value


def browser_of_a_dead_app(tmp_path, url, cookie, language=None):
    app = create_app(
        {
            "TESTING": True,
            "ENV_NAME": "testing",
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": url,
            "SMS_BACKEND": "memory",
            "SERVER_NAME": "localhost",
            "WTF_CSRF_ENABLED": False,
            "PROPAGATE_EXCEPTIONS": False,
            "DB_POOL_TIMEOUT": 2,
        }
    )
    app.instance_path = str(tmp_path)
    app.test_client_class = RequestIsolatingClient
    browser = app.test_client()
    browser.set_cookie("session", cookie, domain="localhost")
    if language:
        with browser.session_transaction() as session:
            session[LANGUAGE_SESSION_KEY] = language
    return browser


@pytest.mark.parametrize("database", sorted(UNREACHABLE))
@pytest.mark.parametrize("path", ["/", "/admin/posts", "/roster-files/export"])
def test_a_signed_in_officer_gets_a_friendly_503_when_the_database_is_unreachable(
    tmp_path, signed_in_cookie, database, path
):
    browser = browser_of_a_dead_app(tmp_path, UNREACHABLE[database], signed_in_cookie)

    response = browser.get(path, headers={"Accept-Language": "en"})

    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert (
        response.headers["Retry-After"] == "60" and response.headers["Cache-Control"] == "no-store"
    )
    assert '<html lang="en">' in page
    assert "Please try again in a minute" in page and "cannot reach its database" in page
    assert (
        "Internal Server Error" not in page and "Traceback" not in page and "127.0.0.1" not in page
    )
    assert "Sign out" not in page  # nothing about the signed-in officer: it needs the database
    assert f'href="{path}"' in page  # "Try again"


def test_the_page_is_in_the_language_chosen_in_the_cookie(tmp_path, signed_in_cookie):
    browser = browser_of_a_dead_app(
        tmp_path, UNREACHABLE["postgresql"], signed_in_cookie, language="hi"
    )
    response = browser.get("/", headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and '<html lang="hi">' in page
    assert "कृपया एक मिनट बाद फिर प्रयास करें" in page and "Please try again" not in page


def test_the_page_is_in_the_browsers_language_without_a_choice(tmp_path, signed_in_cookie):
    browser = browser_of_a_dead_app(tmp_path, UNREACHABLE["sqlite"], signed_in_cookie)
    page = browser.get("/", headers={"Accept-Language": "hi-IN,hi;q=0.9"}).get_data(as_text=True)
    assert '<html lang="hi">' in page and "कृपया एक मिनट बाद फिर प्रयास करें" in page


def test_a_form_sent_while_the_database_is_down_gets_the_page_too(tmp_path, signed_in_cookie):
    browser = browser_of_a_dead_app(tmp_path, UNREACHABLE["postgresql"], signed_in_cookie)
    response = browser.post("/auth/sign-in", data={"cug": "+919876543210"})
    assert response.status_code == 503 and "Please try again in a minute" in response.get_data(
        as_text=True
    )


def test_the_api_answers_503_in_json(tmp_path, signed_in_cookie):
    browser = browser_of_a_dead_app(tmp_path, UNREACHABLE["postgresql"], signed_in_cookie)
    response = browser.post("/api/enrolments/1/decision", json={"action": "approve", "version": 1})
    assert response.status_code == 503 and response.is_json
    assert response.get_json()["status"] == 503


@pytest.mark.parametrize("database", sorted(UNREACHABLE))
def test_the_v1_api_answers_503_as_problem_json_saying_nothing_was_saved(
    tmp_path, signed_in_cookie, database
):
    browser = browser_of_a_dead_app(tmp_path, UNREACHABLE[database], signed_in_cookie)
    response = browser.post(
        "/api/v1/enrolments/1/decision",
        json={"action": "approve", "version": 1},
        headers={"Authorization": "Bearer cpl_" + "a" * 43, "Accept-Language": "hi"},
    )
    body = response.get_json(force=True)
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert body["status"] == 503 and body["title"] == "कृपया एक मिनट बाद फिर प्रयास करें"
    assert "आपका भेजा कुछ भी सहेजा नहीं गया" in body["detail"]
    assert response.headers["Retry-After"] == "60"


def test_the_database_failing_in_the_middle_of_a_signed_in_page_gets_the_same_page(
    app, client, db, make_district, make_officer, login_as
):
    """The officer was loaded from the database; then it went away (here: another, dead one)."""

    def report():
        with create_engine(
            UNREACHABLE["postgresql"].replace("postgresql://", "postgresql+psycopg://")
        ).connect() as c:
            c.execute(text("SELECT 1"))

    app.add_url_rule("/test-only/report", "report", report)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    login_as(make_officer("sp_office", make_district("Baghpat", code="124")))

    response = client.get("/test-only/report")

    page = response.get_data(as_text=True)
    assert response.status_code == 503 and "Please try again in a minute" in page
    assert "Sign out" not in page and "Posts and officers" not in page


def test_postgresql_connections_give_up_quickly_on_a_host_that_is_down():
    from cplan.config import postgresql_engine_options

    from_defaults = postgresql_engine_options(
        {
            "DB_POOL_SIZE": 2,
            "DB_MAX_OVERFLOW": 3,
            "DB_POOL_TIMEOUT": 10,
            "DB_POOL_RECYCLE": 1800,
            "DB_STATEMENT_TIMEOUT_MS": 20000,
            "DB_APPLICATION_NAME": "cplan",
            "DB_CONNECT_TIMEOUT": 5,
        }
    )
    assert from_defaults["connect_args"]["connect_timeout"] == 5
