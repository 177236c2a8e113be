"""Shared fixtures: the app on SQLite or PostgreSQL, a clean database per test, factories.

Set ``CPLAN_TEST_DATABASE_URL`` (e.g. ``postgresql://root@/cplan_test?host=/var/run/postgresql``)
to run the whole suite on PostgreSQL; otherwise each run uses a fresh SQLite file.
"""

import http.server
import os
import threading
import urllib.parse
from pathlib import Path

import flask_babel
import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import text

from cplan import create_app
from cplan.config import normalise_database_url
from cplan.extensions import db as _db
from cplan.models import Place, PlaceKind, UnitKind
from cplan.services import geo
from cplan.web.ratelimits import limiter_of

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("CPLAN_TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "cplan-test.sqlite")


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    """Create the schema once per run (from the models; migrations are tested separately)."""
    app = create_app(_test_config(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            # A clean slate whatever an older run left behind (drop_all needs today's schema).
            with _db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        else:
            _db.drop_all()
        _db.create_all()
        _db.engine.dispose()
    return True


def _test_config(database_url, instance_path):
    return {
        "TESTING": True,
        "ENV_NAME": "testing",
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SMS_BACKEND": "memory",
        "SERVER_NAME": "localhost",
        # Tests seal the audit trail when they mean to (audit_sealer.seal); a seal after every
        # commit would add statements to the query-count tests.
        "AUDIT_SEAL_AFTER_COMMIT": None,
        # Each run signs its own checkpoints into its own folder: never the checkout's
        # instance/, where `make run` signs the demo's (a stale head there fails verify).
        "AUDIT_CHECKPOINT_KEY": TEST_SECRET[::-1],
        "AUDIT_CHECKPOINT_FILE": str(Path(instance_path) / "audit-checkpoints.jsonl"),
        # Figures as the test has just made them (tests/test_state_map.py proves the cache).
        "STATE_MAP_CACHE_SECONDS": 0,
    }


class RequestIsolatingClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``, as in production.

    The ``app`` fixture keeps one app context open for the whole test (so factories and
    assertions share the session); Flask then reuses that context for each request, and
    per-request caches on ``g`` (the signed-in user, the scope) would leak between requests.
    """

    def open(self, *args, **kwargs):
        for name in list(vars(g)):
            delattr(g, name)
        flask_babel.refresh()  # the language is cached on the context too
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def _shared_app(_schema, database_url, tmp_path_factory):
    """One app for the run: building the URL map and compiling templates costs ~0.15 s per app."""
    app = create_app(_test_config(database_url, tmp_path_factory.mktemp("instance")))
    app.test_client_class = RequestIsolatingClient
    yield app
    with app.app_context():
        _db.engine.dispose()  # close the pooled connections before the interpreter goes


@pytest.fixture
def app(request, _shared_app, database_url, tmp_path):
    """The app, with an empty database; configuration changes and sent SMS are undone afterwards.

    Tests that add routes (``@pytest.mark.fresh_app``) get an app of their own;
    ``fresh_app(reports_replica=True)`` gives it a reports database (the test database again,
    through an engine of its own, as a replica would be).
    """
    from cplan.services.sms import OUTBOX_KEY

    marker = request.node.get_closest_marker("fresh_app")
    if marker:
        config = _test_config(database_url, tmp_path)
        if marker.kwargs.get("reports_replica"):
            config["REPORTS_DATABASE_URL"] = database_url
        app = create_app(config)
        app.test_client_class = RequestIsolatingClient
    else:
        app = _shared_app
    config = dict(app.config)
    # Each test signs the audit trail's checkpoints into a file of its own.
    app.config["AUDIT_CHECKPOINT_FILE"] = str(tmp_path / "audit-checkpoints.jsonl")
    limiter_of(app).reset()  # rate limits count in memory: each test starts with none used
    with app.app_context():
        try:
            yield app
        finally:
            _db.session.remove()
            _empty_all_tables()
            if app is not _shared_app:
                for engine in _db.engines.values():
                    engine.dispose()
    app.config.clear()
    app.config.update(config)
    app.extensions.pop(OUTBOX_KEY, None)


def _empty_all_tables():
    # audit_events and timeline_entries refuse row DELETEs by trigger. On PostgreSQL the session
    # runs as a replica for the clean-up, which skips triggers (the append-only ones and the
    # foreign-key checks alike): a DELETE per table takes milliseconds where a TRUNCATE of every
    # table took most of a second per test. On SQLite the triggers are dropped and re-installed
    # inside the same transaction. Identity sequences are not reset: tests never rely on ids.
    from cplan.models.audit import drop_triggers, install_triggers
    from cplan.models.incidents import drop_timeline_triggers, install_timeline_triggers

    tables = list(reversed(_db.metadata.sorted_tables))
    with _db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for table in tables:
                connection.execute(table.delete())
        else:
            drop_triggers(connection)
            drop_timeline_triggers(connection)
            # units and places refer to each other (a station's HQ place): break the cycle first.
            connection.execute(text("UPDATE units SET hq_place_id = NULL"))
            for table in tables:
                connection.execute(table.delete())
            install_triggers(connection)
            install_timeline_triggers(connection)


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---- factories -------------------------------------------------------------------------------


@pytest.fixture
def make_unit(db):
    def make(kind, name_en, parent=None, **fields):
        return geo.create_unit(UnitKind(kind), name_en, parent, **fields)

    return make


@pytest.fixture
def state(make_unit):
    return make_unit("state", "Uttar Pradesh", name_hi="उत्तर प्रदेश", code="9")


@pytest.fixture
def make_district(make_unit, state):
    """A district under its own zone and range (``make_district("Baghpat", code="124")``)."""

    def make(name_en, code=None, name_hi=""):
        zone = make_unit("zone", f"{name_en} zone", state)
        police_range = make_unit("range", f"{name_en} range", zone)
        return make_unit("district", name_en, police_range, code=code, name_hi=name_hi)

    return make


@pytest.fixture
def make_station(make_unit):
    """A police station under a new circle of ``district``."""

    def make(district, name_en, code=None, circle=None):
        circle = circle or make_unit("circle", f"Circle {name_en}", district)
        return make_unit(
            "station", name_en, circle, code=code or f"{district.code}-{name_en.upper()}"
        )

    return make


@pytest.fixture
def make_place(db):
    counter = {"n": 0}

    def make(
        name_en, district=None, station=None, kind="village", lgd_code=None, name_hi="", **fields
    ):
        counter["n"] += 1
        district = district or _district_of(station)
        place = Place(
            kind=PlaceKind(kind),
            name_en=name_en,
            name_hi=name_hi,
            lgd_code=lgd_code,
            natural_key=f"lgd:{lgd_code}" if lgd_code else f"test:{counter['n']}:{name_en}",
            district_id=district.id,
            district=district,
            **fields,
        )
        return geo.add_place(place, station)

    return make


def _district_of(station):
    return geo.district_of(station)


# ---- people and sign-in ---------------------------------------------------------------------

TEST_PASSWORD = "correct horse battery 42"


@pytest.fixture
def lgd_districts(app, tmp_path):
    """``lgd_districts("124", "169")``: the state and those districts with their sub-districts,
    imported from the real LGD lists (tests/geo_files.py); returns {code: district}."""
    from tests.geo_files import import_lgd_districts

    return lambda *codes: import_lgd_districts(tmp_path, *codes)


@pytest.fixture
def make_post(db):
    """A post with a unique CUG number (``make_post(Role.ASP, district)``)."""
    from cplan.models import Post, Role

    counter = {"n": 0}

    def make(role, unit, title_en=None, cug=None, active=True):
        counter["n"] += 1
        post = Post(
            title_en=title_en or f"{Role(role).value} {unit.name_en} {counter['n']}",
            role=Role(role),
            unit=unit,
            active=active,
            cug_number=cug or f"+9194{counter['n']:08d}",
        )
        db.session.add(post)
        db.session.flush()
        return post

    return make


@pytest.fixture
def make_officer(db, make_post):
    """An officer with a password, holding a new post of ``role`` at ``unit``.

    ``make_officer(role="asp", unit=district)`` returns the officer; ``officer.test_post`` is the
    post.
    """
    from werkzeug.security import generate_password_hash

    from cplan.models import Officer, PostAssignment
    from cplan.services.geo import district_of

    counter = {"n": 0}
    password_hash = generate_password_hash(TEST_PASSWORD, method="pbkdf2:sha256:1000")

    def make(role, unit, post=None, pno=None, name=None):
        counter["n"] += 1
        post = post or make_post(role, unit)
        home = district_of(unit) or unit
        officer = Officer(
            pno=pno or f"PNO{counter['n']:06d}",
            name=name or f"Officer {counter['n']}",
            rank="Inspector",
            unit=home,
            password_hash=password_hash,
        )
        db.session.add(officer)
        db.session.add(PostAssignment(officer=officer, post=post))
        db.session.flush()
        officer.test_post = post
        return officer

    return make


@pytest.fixture
def login_as(db, client):
    """Sign ``officer`` in on the test client through ``post`` without the OTP steps.

    The real two-step sign-in is driven end to end in tests/test_sign_in.py.
    """
    from cplan.services import sessions

    def login(officer, post=None):
        post = post or officer.test_post
        principal = sessions.start(officer, post)
        db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = principal.token
            session["_fresh"] = True
        return principal

    return login


def lock_subject(key, policy, now=None):
    """Count failures on a sign-in subject until its policy locks it (``cplan.services.lockouts``;
    the real attacks are driven in tests/test_otp.py and tests/test_sign_in.py)."""
    from cplan.models.base import utcnow
    from cplan.services import lockouts

    now = now or utcnow()
    for _ in range(policy.limit):
        lockouts.lock_at_limit(key, lockouts.claim(key, now), policy, now)


# ---- a fake SMS gateway -----------------------------------------------------------------------


class _Gateway(http.server.BaseHTTPRequestHandler):
    """Records each request; answers ``server.status``, after ``server.hold`` is set if given
    (a hanging gateway). Shut the server down and close it for one that refuses connections."""

    status = 200

    def do_POST(self):  # noqa: N802 (the name http.server calls)
        length = int(self.headers["Content-Length"])
        self.server.received.append(
            {
                "path": self.path,
                "content_type": self.headers["Content-Type"],
                "fields": urllib.parse.parse_qs(
                    self.rfile.read(length).decode("utf-8"), strict_parsing=True
                ),
            }
        )
        hold = getattr(self.server, "hold", None)
        if hold is not None:  # a slow gateway: it answers when the test lets it
            hold.wait(10)
        self.send_response(self.server.status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *args):
        pass  # keep the test output quiet


@pytest.fixture
def gateway():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Gateway)
    server.received = []
    server.status = 200
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def http_app(app, gateway):
    app.config.update(
        SMS_BACKEND="http",
        SMS_HTTP_URL=f"http://127.0.0.1:{gateway.server_address[1]}/send",
        SMS_HTTP_USERNAME="cplan-user",
        SMS_HTTP_PASSWORD="gateway-password",
        SMS_HTTP_TIMEOUT=5,
        SMS_DLT_ENTITY_ID=1201160000000012345,  # CPLAN_* variables arrive as JSON numbers
        SMS_SENDER_ID="UPPCPL",
        SMS_TEMPLATE_OTP_ID="1207160000000000001",
        SMS_TEMPLATE_OTP_HI_ID="1207160000000000002",
        SMS_TEMPLATE_CUG_CHANGED_ID="1207160000000000003",
        SMS_TEMPLATE_CUG_CHANGED_HI_ID="1207160000000000004",
    )
    return app


@pytest.fixture
def api_as(db, client):
    """``api_as(officer)``: an ``ApiClient`` with a device token of ``officer`` on its post
    (issued directly; the real registration through the sign-in steps is in
    tests/test_api_devices.py). Every answer is checked against the OpenAPI document."""
    from cplan.services import device_tokens
    from tests.api_contract import ApiClient

    def make(officer, post=None, language=None):
        issued = device_tokens.issue(officer, post or officer.test_post, "test phone")
        db.session.commit()
        api = ApiClient(client, issued.token, language)
        api.device = issued.device
        return api

    return make


@pytest.fixture
def api_world(db, make_district, make_station, make_place, make_officer, state):
    district = make_district("Baghpat", code="124")
    baraut = make_station(district, "Baraut")
    kotwali = make_station(district, "Kotwali")
    other = make_district("Meerut", code="135")
    world = {
        "district": district,
        "baraut": baraut,
        "bijrol": make_place("BIJROL", station=baraut, lgd_code="119300", name_hi="बिजरौल"),
        "sisana": make_place("SISANA", station=kotwali, lgd_code="119302"),
        "sardhana": make_place("SARDHANA", station=make_station(other, "Sardhana")),
        "constable": make_officer("constable", baraut, name="Ram Constable"),
        "kotwali_so": make_officer("station_officer", kotwali),
        "asp": make_officer("asp", district, name="Anita ASP"),
        "sp_office": make_officer("sp_office", district),
        "other_asp": make_officer("asp", other),
        "supervisor": make_officer("control_room", state),
    }
    from cplan.models import Contact, ContactCategory, ContactStatus, Script

    counter = iter(range(1, 100))
    for status in (ContactStatus.ACTIVE, ContactStatus.ACTIVE, ContactStatus.PENDING):
        n = next(counter)
        db.session.add(
            Contact(
                place_id=world["bijrol"].id,
                unit_path=world["bijrol"].unit_path,
                name=f"Citizen {n}",
                name_script=Script.LATIN,
                category=ContactCategory.TEACHER,
                status=status,
                mobile=f"+9198765{n:05d}",
            )
        )
    db.session.commit()
    return world
