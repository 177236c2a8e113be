"""Per-client rate limits (issue 14, finding 5): the sign-in steps per address, searches and
exports per officer, a 429 in the reader's language, and one count shared by every server."""

import re
import socket
import uuid

import pytest
from sqlalchemy import func, select

from cplan import create_app
from cplan.extensions import db as _db
from cplan.models import AuditEvent, OtpChallenge
from cplan.services import sessions
from cplan.web.access import public
from cplan.web.ratelimits import LIMITS, limiter_of
from tests.conftest import _test_config

STRANGER = {"REMOTE_ADDR": "203.0.113.9"}


def count(model):
    return _db.session.scalar(select(func.count()).select_from(model))


def first_limit(endpoint):
    """The first (shortest) limit of an endpoint: '10 per minute;100 per hour' gives 10."""
    return int(re.match(r"[0-9]+", LIMITS[endpoint].limit).group())


@pytest.fixture
def officer_client(app, db, make_district, make_station, make_officer):
    """``officer_client(environ, app=...)``: a new browser signed in as a new station officer."""
    station = make_station(make_district("Baghpat", code="124"), "Baraut")

    def make(environ=None, server=app):
        officer = make_officer("station_officer", station)
        principal = sessions.start(officer, officer.test_post)
        db.session.commit()
        browser = server.test_client()
        browser.environ_base.update(environ or {})
        with browser.session_transaction() as session:
            session["_user_id"] = principal.token
        return browser

    return make


@pytest.fixture
def quick_search_limits(database_url, tmp_path, db):
    """An app whose searches allow 5 a minute: sixty searches on a loaded machine can take
    longer than the minute they are counted in."""
    app = create_app(
        {
            **_test_config(database_url, tmp_path),
            "RATE_LIMITS": {"search.index": "5 per minute", "geo.search": "5 per minute"},
        }
    )
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def test_the_eleventh_sign_in_start_in_a_minute_is_refused_and_writes_nothing(client, db):
    """Fifty starts in 0.6 s each wrote a challenge, a throttle row and an audit event."""
    events = count(AuditEvent)
    answers = [
        client.post(
            "/auth/sign-in", data={"cug": "+919876543210"}, environ_base=STRANGER
        ).status_code
        for _ in range(50)
    ]
    assert answers == [302] * 10 + [429] * 40
    assert count(OtpChallenge) == 10
    assert count(AuditEvent) == events + 10
    # Another address is counted apart.
    assert (
        client.post(
            "/auth/sign-in",
            data={"cug": "+919876543210"},
            environ_base={"REMOTE_ADDR": "198.51.100.1"},
        ).status_code
        == 302
    )


def test_one_subscribers_ipv6_addresses_share_one_count(client, db):
    for host in range(1, 11):
        client.post(
            "/auth/sign-in",
            data={"cug": "x"},
            environ_base={"REMOTE_ADDR": f"2001:db8:5:6::{host:x}"},
        )
    assert (
        client.post(
            "/auth/sign-in", data={"cug": "x"}, environ_base={"REMOTE_ADDR": "2001:db8:5:6:ffff::1"}
        ).status_code
        == 429
    )
    assert (
        client.post(
            "/auth/sign-in", data={"cug": "x"}, environ_base={"REMOTE_ADDR": "2001:db8:5:7::1"}
        ).status_code
        == 302
    )


@pytest.mark.parametrize(
    "endpoint", ["auth.enter_code", "auth.identify", "auth.resend_code", "auth.set_up"]
)
def test_every_unauthenticated_step_is_limited_per_address(app, client, db, endpoint):
    path = app.url_for(endpoint)
    limit = first_limit(endpoint)
    answers = [client.post(path, environ_base=STRANGER).status_code for _ in range(limit + 1)]
    assert 429 not in answers[:limit] and answers[limit] == 429


def test_reading_the_sign_in_page_is_not_counted(client, db):
    for _ in range(20):
        assert client.get("/auth/sign-in", environ_base=STRANGER).status_code == 200
    assert client.post("/auth/sign-in", data={"cug": "x"}, environ_base=STRANGER).status_code == 302


def test_the_refusal_is_a_page_in_english_with_when_to_try_again(client, db):
    for _ in range(10):
        client.post("/auth/sign-in", data={"cug": "x"}, environ_base=STRANGER)
    response = client.post(
        "/auth/sign-in", data={"cug": "x"}, environ_base=STRANGER, headers={"Accept-Language": "en"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and response.mimetype == "text/html"
    assert "Please wait" in page
    assert (
        "Too many requests from your connection in a short time. Please try again in 1 minute."
        in page
    )
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_the_refusal_is_a_page_in_hindi_for_a_hindi_reader(client, db):
    for _ in range(10):
        client.post("/auth/sign-in", data={"cug": "x"}, environ_base=STRANGER)
    response = client.post(
        "/auth/sign-in", data={"cug": "x"}, environ_base=STRANGER, headers={"Accept-Language": "hi"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and '<html lang="hi">' in page
    assert "कृपया 1 मिनट बाद फिर से प्रयास करें" in page
    assert "Too many requests" not in page


@pytest.mark.fresh_app
def test_a_refusal_under_api_is_json(app, client):
    @public
    def ping():
        return {"ok": True}

    app.add_url_rule(
        "/api/test-only/ping", "test_only_ping", limiter_of(app).limit("2 per minute")(ping)
    )
    assert [client.get("/api/test-only/ping").status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/test-only/ping", headers={"Accept-Language": "en"})
    assert response.status_code == 429 and response.is_json
    assert response.get_json() == {
        "error": "Too many requests from your connection in a short time. "
        "Please try again in 1 minute.",
        "status": 429,
    }
    assert "Retry-After" in response.headers


@pytest.mark.parametrize("path", ["/search?q=Baraut", "/geo/search?q=Baraut"])
def test_searches_are_limited_per_officer_not_per_address(
    officer_client, quick_search_limits, path
):
    station_router = {"REMOTE_ADDR": "10.1.2.3"}
    officer = officer_client(station_router, server=quick_search_limits)
    answers = [officer.get(path).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    colleague = officer_client(
        station_router, server=quick_search_limits
    )  # same address, own count
    assert colleague.get(path).status_code == 200


def test_incident_feed_exports_are_limited_per_officer(officer_client):
    officer = officer_client()
    answers = [officer.get("/incidents/export.csv").status_code for _ in range(21)]
    assert answers == [200] * 20 + [429]
    assert officer.get("/incidents/").status_code == 200  # the feed itself is not limited


def test_roster_exports_are_limited_per_officer(officer_client):
    officer = officer_client()
    answers = [officer.post("/roster-files/export", data={}).status_code for _ in range(21)]
    assert 429 not in answers[:20] and answers[20] == 429
    assert officer.get("/roster-files/export").status_code == 200  # the form itself is not limited


def test_every_public_endpoint_that_accepts_a_post_is_limited(app):
    """A new unauthenticated form cannot be added without a limit."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "is_public", False) and "POST" in rule.methods:
            assert rule.endpoint in LIMITS, rule.endpoint
    assert all(endpoint in app.view_functions for endpoint in LIMITS)


def test_without_its_store_the_limiter_counts_in_memory_and_pages_still_work(
    database_url, tmp_path, db
):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    app = create_app(
        {
            **_test_config(database_url, tmp_path),
            "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{port}/0",
        }
    )
    browser = app.test_client()
    try:
        answers = [
            browser.post("/auth/sign-in", data={"cug": "x"}, environ_base=STRANGER).status_code
            for _ in range(11)
        ]
    finally:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
    assert answers == [302] * 10 + [429]


# ---- several app servers ----------------------------------------------------------------------


def _redis_reachable(host="127.0.0.1", port=6379) -> str | None:
    """None when a Redis server answers PING there, else why not."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            answer = connection.recv(16)
    except OSError as error:
        return f"no Redis at {host}:{port} ({error.__class__.__name__})"
    return None if answer.startswith(b"+PONG") else f"{host}:{port} did not answer PING like Redis"


@pytest.fixture
def two_servers(database_url, tmp_path, db):
    """Two app instances (two servers, or two workers) counting in the machine's Redis, under a
    key prefix of their own so that parallel runs never share counts."""
    reason = _redis_reachable()
    if reason:
        pytest.skip(f"shared rate limits: {reason}")
    prefix = f"cplan-test-{uuid.uuid4().hex}"
    config = {
        **_test_config(database_url, tmp_path),
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": prefix,
    }
    apps = [create_app(config), create_app(config)]
    yield apps
    import redis

    store = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    keys = list(store.scan_iter(match=f"*{prefix}*"))
    if keys:
        store.delete(*keys)
    store.close()
    for app in apps:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()


def test_two_servers_share_one_count_in_redis(two_servers):
    first, second = (app.test_client() for app in two_servers)
    answers = [
        (first if index % 2 else second)
        .post("/auth/sign-in", data={"cug": "x"}, environ_base=STRANGER)
        .status_code
        for index in range(11)
    ]
    assert answers == [302] * 10 + [429]
    assert first.post("/auth/sign-in", data={"cug": "x"}, environ_base=STRANGER).status_code == 429
