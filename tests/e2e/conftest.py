"""End-to-end fixtures: the Baghpat demo served on localhost, driven by Debian's Chromium.

Independent of ``tests/conftest.py``'s per-test ``app`` (which empties its database after every
test): this run has its own SQLite file, loaded once with the demo, served from a background
thread by werkzeug, so Chromium talks to a real HTTP server with real CSRF tokens and sessions.
SMS go to the ``memory`` backend, where the sign-in reads the one-time codes.
``CPLAN_E2E_DATABASE_URL`` (an empty PostgreSQL database of one's own, emptied first) serves
the same demo from PostgreSQL instead.

Skipped, with the reason in the ``-ra`` summary, when Playwright for Python or Chromium is
missing. Screenshots go to ``tests/e2e/artefacts/`` (git-ignored; emptied at each run's start).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.e2e.browser import (
    ARTEFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    HERE,
    NO_PLAYWRIGHT,
    SCREENS,
    WEIGHED,
    DemoLogin,
    Pages,
)

E2E_SECRET = "e2e-secret-key-that-is-long-enough-0123456789"


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return NO_PLAYWRIGHT
    if not CHROMIUM.exists():
        return f"browser tests: Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = missing()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if WEIGHED:
        terminalreporter.write_line("page weight (empty cache, phone): " + "; ".join(WEIGHED))
    if ARTEFACTS.is_dir() and any(ARTEFACTS.iterdir()):
        terminalreporter.write_line(f"browser test screenshots: {ARTEFACTS}")


# ---- the demo served on localhost -------------------------------------------------------------


@dataclass
class Server:
    """The running app: its base URL, and the Flask app for the SMS outbox and look-ups."""

    url: str
    app: object
    # The posts of the accessibility checks: ("district" | "station", screen, language) -> login.
    checkers: dict

    def forget_code_limits(self, cug: str) -> None:
        """Let ``cug`` have a code at once: the journeys sign the same posts in several times
        within the number's limits (3 codes a burst, one a minute: tests/test_otp.py), and a
        code held back by them leaves the code page waiting for a code that never comes."""
        from sqlalchemy import delete

        from cplan.extensions import db
        from cplan.models.accounts import CugThrottle

        with self.app.app_context():
            db.session.execute(delete(CugThrottle).where(CugThrottle.cug_number == cug))
            db.session.commit()
            db.session.remove()

    def texts_to(self, cug: str) -> list[str]:
        """The texts sent by SMS to ``cug`` (E.164) so far, oldest first."""
        from cplan.services.sms import OUTBOX_KEY

        return [m.text for m in list(self.app.extensions.get(OUTBOX_KEY, [])) if m.to == cug]

    def last_code(self, cug: str, after: int = 0) -> str:
        """The one-time code last sent by SMS to ``cug`` (E.164), waiting up to 10 s for a
        message beyond the first ``after`` (the code may still be on its way when the code page
        shows, and an earlier sign-in's code would be refused)."""
        deadline = time.monotonic() + 10
        while len(texts := self.texts_to(cug)) <= after and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(texts) > after, f"no new SMS was sent to {cug}"
        return re.search(r"\b\d{6}\b", texts[-1]).group()

    def place_id(self, name_en: str, station: str = "Baraut") -> int:
        """The id of demo place ``name_en`` of ``station`` (journeys reach pages by clicking;
        the accessibility and page-weight checks open some directly)."""
        from sqlalchemy import select

        from cplan.extensions import db
        from cplan.models import Place, Unit

        with self.app.app_context():
            place_id = db.session.scalar(
                select(Place.id)
                .join(Unit, Place.station_id == Unit.id)
                .where(Place.name_en == name_en, Unit.name_en == station)
            )
            db.session.remove()
        assert place_id, f"no demo place {name_en} of {station}"
        return place_id

    def busiest_queue_filter(self) -> str:
        """The approval queue's filter (a query string) for the demo place with the most
        pending enrolments."""
        from sqlalchemy import func, select

        from cplan.extensions import db
        from cplan.models import Contact, ContactStatus, Place

        with self.app.app_context():
            station_id, place_id = db.session.execute(
                select(Place.station_id, Place.id)
                .join(Contact, Contact.place_id == Place.id)
                .where(Contact.status == ContactStatus.PENDING)
                .group_by(Place.id)
                .order_by(func.count().desc(), Place.id)
                .limit(1)
            ).one()
            db.session.remove()
        return f"station={station_id}&place={place_id}"


class _QuietHandler(WSGIRequestHandler):
    """Logs errors only, not a line per request."""

    def log_request(self, code="-", size="-"):
        pass


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    from cplan import create_app
    from cplan.devdata.demo import load_demo
    from cplan.extensions import db

    instance = tmp_path_factory.mktemp("e2e")
    database_url = os.environ.get("CPLAN_E2E_DATABASE_URL") or (
        "sqlite:///" + str(instance / "cplan-e2e.sqlite")
    )
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SECRET_KEY": E2E_SECRET,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SMS_BACKEND": "memory",
            # The journeys sign in a dozen posts a minute from one address, which the per-address
            # sign-in limit would refuse; the limits are proven in tests/test_rate_limits.py.
            "RATELIMIT_ENABLED": False,
            # The page-weight budgets hold the pages as they leave the app uncompressed.
            "COMPRESS_RESPONSES": False,
        }
    )
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:  # a clean slate, as tests/conftest.py does
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        db.create_all()
        load_demo()
        checkers = _add_checking_posts()
        db.session.commit()
        db.session.remove()
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield Server(url=f"http://127.0.0.1:{httpd.server_port}", app=app, checkers=checkers)
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


def _add_checking_posts():
    """A district post (as the SP office), a station post (as SHO Baraut), an ASP and a state
    control room for each screen size and language of the accessibility checks, and one for the
    keyboard-only sign-in.

    Their own CUG numbers let each check sign in through the pages without waiting for another
    post's one-minute code interval; their own officers keep the language each check chooses
    (it is remembered per officer) away from the posts the journeys use.
    """
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from cplan.devdata.demo_people import DEMO_PASSWORD
    from cplan.extensions import db
    from cplan.models import Officer, Post, PostAssignment, Role, Unit, UnitKind, utcnow

    district = db.session.scalar(
        select(Unit).where(Unit.kind == UnitKind.DISTRICT, Unit.code == "124")
    )
    station = db.session.scalar(
        select(Unit).where(Unit.kind == UnitKind.STATION, Unit.name_en == "Baraut")
    )
    password_hash = generate_password_hash(DEMO_PASSWORD)
    checkers = {}

    def add(scope, role, unit, screen, language):
        number = len(checkers) + 1
        title = f"Accessibility check {number}"
        post = Post(
            title_en=title,
            title_hi=f"सुलभता जाँच {number}",
            role=role,
            unit=unit,
            cug_number=f"+9190000099{number:02d}",
        )
        officer = Officer(
            pno=f"9900000{number:02d}",
            name=f"Checker {number}",
            rank="Inspector",
            unit=district,
            password_hash=password_hash,
            password_set_at=utcnow(),
            language=language,
        )
        db.session.add_all([post, officer, PostAssignment(officer=officer, post=post)])
        checkers[scope, screen, language] = DemoLogin(
            title, post.cug_number, officer.pno, officer.name
        )

    state = db.session.scalar(select(Unit).where(Unit.kind == UnitKind.STATE))
    for scope, role, unit in (
        ("district", Role.SP_OFFICE, district),
        ("station", Role.STATION_OFFICER, station),
        # The other homes: an ASP's (approvals first) and the state control room's.
        ("asp", Role.ASP, district),
        ("control-room", Role.CONTROL_ROOM, state),
    ):
        for screen in SCREENS:
            for language in ("en", "hi"):
                add(scope, role, unit, screen, language)
    add("keyboard", Role.SP_OFFICE, district, "phone", "en")  # the keyboard-only sign-in's own post
    db.session.flush()
    return checkers


# ---- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artefacts():
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    ARTEFACTS.mkdir(parents=True)
    return ARTEFACTS


@pytest.fixture(scope="session")
def signed_in_states():
    """Cookies of each post signed in this run, by CUG (a CUG takes one code a minute)."""
    return {}


@pytest.fixture(params=list(SCREENS))
def screen(request):
    """The screen size a test runs at: each runs at both."""
    return request.param


@pytest.fixture
def pages(browser, server, screen, signed_in_states, artefacts, request):
    """New pages at this test's screen size; closed after the test."""
    name = request.node.originalname.removeprefix("test_")
    pages = Pages(browser, server, screen, signed_in_states, artefacts, name)
    yield pages
    pages.close()
