"""Faults injected into real components (issue 21, item 7).

The portal is served by a real HTTP server (werkzeug's, threaded) in front of the test database,
and the faults are real: PostgreSQL backends of the portal's own connections killed with
``pg_terminate_backend`` (on this test database only: the server itself is never stopped), the
database "stopped" by cutting a TCP proxy the portal connects through, and SQLite's file full
(its ``max_page_count`` reached, so SQLite answers "database or disk is full" as on a full disk).

What must hold: a read cut off by a lost connection is run again once and answered normally, with
exactly one access record; a write is never run again, answers 503 saying whether it may have
been saved, and changes nothing it did not say; a failure that repeats is logged in full once,
then counted; and the portal serves normally as soon as the fault is gone.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import re
import sqlite3
import threading
import time
import urllib.parse

import psycopg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from cplan import create_app
from cplan.extensions import db as _db
from cplan.models.audit import AuditEvent
from cplan.models.roster import Contact, ContactCategory, ContactStatus, Script
from cplan.services.roster import REVEALED, VIEWED
from cplan.web.faults import is_write
from tests.conftest import _test_config
from tests.test_health import SocketProxy  # the database stopped: its proxy cut

APPLICATION_NAME = "cplan-faults-test"  # the only backends these tests kill


# ---- the portal served for real --------------------------------------------------------------


def live_app(database_url, tmp_path, **config):
    settings = _test_config(database_url, tmp_path)
    settings.update(
        PROPAGATE_EXCEPTIONS=False,
        DB_APPLICATION_NAME=APPLICATION_NAME,
        DB_POOL_SIZE=4,
        SERVER_NAME=None,
        **config,
    )
    return create_app(settings)


@contextlib.contextmanager
def serving(app):
    """``app`` on a threaded HTTP server on a free local port; yields the port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        with app.app_context():
            for engine in _db.engines.values():
                engine.dispose()


class Answer:
    def __init__(self, status, headers, text):
        self.status, self.headers, self.text = status, headers, text


def fetch(port, path, cookie, method="GET", form=None, language="en") -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": f"session={cookie}", "Accept-Language": language}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read().decode("utf-8"))
    finally:
        connection.close()


# ---- the data: a village with contacts, its station officer signed in ------------------------


@pytest.fixture
def village(db, client, make_district, make_station, make_place, make_officer, login_as):
    district = make_district("Baghpat", code="124")
    station = make_station(district, "Baraut")
    place = make_place("BIJROL", station=station, lgd_code="119300")
    for n in range(3):
        db.session.add(
            Contact(
                place=place,
                unit_path=place.unit_path,
                status=ContactStatus.ACTIVE,
                name=f"Ram Kishore {n}",
                name_script=Script.LATIN,
                name_other=f"राम किशोर {n}",
                mobile=f"+91970000000{n}",
                category=ContactCategory.TEACHER,
            )
        )
    officer = make_officer("station_officer", station)
    paths = {
        "page": f"/roster/places/{place.id}",
        "reveal": f"/roster/places/{place.id}/reveal",
    }
    login_as(officer)
    # Nothing loaded again after the commit: on SQLite the test's own session would otherwise
    # begin a transaction (IMMEDIATE: the write lock) and hold it while the server waits.
    return {**paths, "cookie": client.get_cookie("session").value}


def events(db, action) -> int:
    count = db.session.scalar(select(func.count()).where(AuditEvent.action == action))
    db.session.commit()  # no read transaction left open beside the server's
    return count


def retried_reads() -> float:
    return REGISTRY.get_sample_value("cplan_reads_retried_total", {"status": "200"}) or 0.0


def request_lines(text) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"time"')]


# ---- PostgreSQL: backends killed --------------------------------------------------------------


@pytest.fixture
def postgresql(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("kills PostgreSQL backends")
    url = make_url(database_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:
        yield admin


def kill(admin, pid: int) -> None:
    """Terminate one backend of this test's own portal and wait until it is gone."""
    admin.execute(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
        "WHERE pid = %s AND application_name = %s AND datname = current_database()",
        (pid, APPLICATION_NAME),
    )


@contextlib.contextmanager
def killing_backend(app, admin, when):
    """Kill the backend of the portal's connection once, just before the first statement
    ``when(statement)`` accepts (or, with ``when="commit"``, before the first COMMIT of a
    transaction that wrote)."""
    done = threading.Event()
    with app.app_context():
        engine = _db.engine

    def before_statement(connection, cursor, statement, parameters, context, executemany):
        if when != "commit" and not done.is_set() and when(statement):
            done.set()
            kill(admin, cursor.connection.info.backend_pid)

    wrote = {}

    def note_write(connection, cursor, statement, parameters, context, executemany):
        if is_write(statement):
            wrote[id(connection)] = True

    def before_commit(connection):
        if when == "commit" and not done.is_set() and wrote.pop(id(connection), False):
            done.set()
            kill(admin, connection.connection.dbapi_connection.info.backend_pid)

    event.listen(engine, "before_cursor_execute", before_statement)
    event.listen(engine, "before_cursor_execute", note_write)
    event.listen(engine, "commit", before_commit)
    try:
        yield done
    finally:
        event.remove(engine, "before_cursor_execute", before_statement)
        event.remove(engine, "before_cursor_execute", note_write)
        event.remove(engine, "commit", before_commit)


def reads_contacts(statement):
    return statement.lstrip().startswith("SELECT") and "FROM contacts" in statement


def inserts_an_audit_event(statement):
    return statement.lstrip().startswith("INSERT INTO audit_events")


@pytest.mark.parametrize(
    "when",
    [reads_contacts, inserts_an_audit_event],
    ids=["while-reading", "while-writing-the-access-record"],
)
def test_a_read_cut_off_by_a_killed_backend_is_answered_after_one_retry_with_one_access_record(
    tmp_path, db, village, postgresql, caplog, when
):
    caplog.set_level(logging.INFO, logger="cplan.requests")
    retried_before = retried_reads()
    app = live_app(db.engine.url.render_as_string(hide_password=False), tmp_path)
    with serving(app) as port, killing_backend(app, postgresql, when) as killed:
        answer = fetch(port, village["page"], village["cookie"])

    assert killed.is_set()
    assert answer.status == 200 and "Ram Kishore 0" in answer.text
    assert events(db, VIEWED) == 1  # the cut-off attempt's record went with its transaction
    # One request-log line, the second attempt's, saying so; the first attempt left none.
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "cplan.requests"]
    assert [(line["status"], line.get("retried")) for line in lines] == [(200, True)]
    assert lines[0]["request_id"] == answer.headers["X-Request-Id"]
    assert "connection lost in a read; running it again" in caplog.text
    assert retried_reads() == retried_before + 1  # cplan_reads_retried_total{status="200"}


def test_a_read_whose_access_record_commit_is_cut_off_is_not_run_again(
    tmp_path, db, village, postgresql
):
    """The COMMIT was sent: it might have been recorded, so a second run might record it twice."""
    app = live_app(db.engine.url.render_as_string(hide_password=False), tmp_path)
    with serving(app) as port:
        with killing_backend(app, postgresql, "commit") as killed:
            cut = fetch(port, village["page"], village["cookie"])
        after = fetch(port, village["page"], village["cookie"])

    assert killed.is_set()
    assert cut.status == 503 and "Please try again in a minute" in cut.text
    assert after.status == 200  # clean at once: the pool replaced the dead connection
    # The backend died before it received the COMMIT: nothing of the cut-off view was kept.
    assert events(db, VIEWED) == 1


@pytest.mark.parametrize(
    ("when", "words"),
    [
        (inserts_an_audit_event, "Nothing you sent was saved."),
        ("commit", "may have been saved before the connection was lost"),
    ],
    ids=["before-its-commit", "during-its-commit"],
)
def test_a_write_cut_off_by_a_killed_backend_is_never_run_again(
    tmp_path, db, village, postgresql, when, words
):
    app = live_app(db.engine.url.render_as_string(hide_password=False), tmp_path)
    with serving(app) as port:
        with killing_backend(app, postgresql, when) as killed:
            cut = fetch(
                port, village["reveal"], village["cookie"], method="POST", form={"reason": "rumour"}
            )
        assert killed.is_set()
        assert cut.status == 503 and words in cut.text
        assert events(db, REVEALED) == 0  # not half-done, and not done twice

        again = fetch(
            port, village["reveal"], village["cookie"], method="POST", form={"reason": "rumour"}
        )
    assert again.status == 302 and events(db, REVEALED) == 1


def test_the_cut_off_write_page_is_in_the_officers_language(tmp_path, db, village, postgresql):
    app = live_app(db.engine.url.render_as_string(hide_password=False), tmp_path)
    with serving(app) as port:
        with killing_backend(app, postgresql, inserts_an_audit_event):
            hindi = fetch(
                port,
                village["reveal"],
                village["cookie"],
                method="POST",
                form={"reason": "rumour"},
                language="hi",
            )
    assert hindi.status == 503 and '<html lang="hi">' in hindi.text
    assert "आपका भेजा कुछ भी सहेजा नहीं गया" in hindi.text


def test_reads_under_load_while_backends_are_killed_get_no_errors_and_one_record_each(
    tmp_path, db, village, postgresql, caplog
):
    """Four browsers read the village page while one of the portal's backends is killed every
    0.3 s, until six have been killed (however fast the machine serves); then the killing stops."""
    caplog.set_level(logging.INFO, logger="cplan.requests")
    app = live_app(db.engine.url.render_as_string(hide_password=False), tmp_path)
    statuses: list[int] = []
    stop = threading.Event()

    def browse(port):
        while not stop.is_set():
            statuses.append(fetch(port, village["page"], village["cookie"]).status)

    def killer():
        deadline = time.monotonic() + 60
        # One backend of the portal's at a time, busy or idle.
        while len(kills) < 6 and time.monotonic() < deadline and not stop.wait(0.3):
            row = postgresql.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s "
                "AND datname = current_database() ORDER BY random() LIMIT 1",
                (APPLICATION_NAME,),
            ).fetchone()
            if row:
                kill(postgresql, row[0])
                kills.append(row[0])
        stop.set()

    kills: list[int] = []
    with serving(app) as port:
        browsers = [threading.Thread(target=browse, args=(port,)) for _ in range(4)]
        for browser in browsers:
            browser.start()
        killing = threading.Thread(target=killer)
        killing.start()
        killing.join()
        for browser in browsers:
            browser.join()
        after = [fetch(port, village["page"], village["cookie"]).status for _ in range(10)]

    retried = [
        line
        for line in (
            json.loads(r.getMessage()) for r in caplog.records if r.name == "cplan.requests"
        )
        if line.get("retried")
    ]
    print(
        f"{len(kills)} backends killed; {statuses.count(503)} of {len(statuses)} reads got 503; "
        f"{len(retried)} retried"
    )
    assert set(statuses) <= {200, 503}  # never a 500
    assert len(kills) >= 3 and retried
    # A 503 needs the retry cut off too, or the COMMIT of the access record: fewer than the
    # reads the retry saved.
    assert statuses.count(503) < len([line for line in retried if line["status"] == 200])
    assert after == [200] * 10
    recorded = events(db, VIEWED)
    served = statuses.count(200) + len(after)
    # One record per page served; a 503 whose COMMIT was cut off may have been recorded.
    assert served <= recorded <= served + statuses.count(503)


# ---- PostgreSQL stopped: the portal reaches it through a proxy that is cut and restored ------


def test_while_postgresql_is_stopped_reads_and_writes_get_503_and_it_serves_once_back(
    tmp_path, db, village, postgresql
):
    url = db.engine.url
    socket_folder = url.query.get("host", "/var/run/postgresql")
    proxy = SocketProxy(f"{socket_folder}/.s.PGSQL.{url.port or 5432}")
    proxy.start()
    through_proxy = url.set(host="127.0.0.1", port=proxy.port, query={})
    app = live_app(through_proxy.render_as_string(hide_password=False), tmp_path)
    try:
        with serving(app) as server:
            assert fetch(server, village["page"], village["cookie"]).status == 200
            proxy.stop()
            started = time.monotonic()
            read = fetch(server, village["page"], village["cookie"])
            write = fetch(
                server,
                village["reveal"],
                village["cookie"],
                method="POST",
                form={"reason": "rumour"},
            )
            ready = fetch(server, "/readyz", cookie="")  # the balancer signs nothing in
            waited = time.monotonic() - started
            proxy.start()
            back = [fetch(server, village["page"], village["cookie"]).status for _ in range(3)]
    finally:
        proxy.stop()

    assert read.status == 503 and "Please try again in a minute" in read.text
    assert write.status == 503 and "Nothing you sent was saved." in write.text
    assert ready.status == 503 and json.loads(ready.text)["checks"]["database"] == "unreachable"
    assert waited < 5  # refused at once: no worker held for a connect timeout
    assert back == [200, 200, 200]
    assert events(db, REVEALED) == 0 and events(db, VIEWED) == 4


# ---- SQLite: the disk full --------------------------------------------------------------------


@pytest.fixture
def sqlite_file(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("fills a SQLite file")
    return database_url.removeprefix("sqlite:///")


class PageLimit:
    """SQLite's ``max_page_count`` on every connection the portal checks out: at the file's
    current size the database cannot grow, and SQLite answers "database or disk is full" as it
    does when the disk is. ``lift()`` is the disk freed."""

    UNLIMITED = 1_073_741_823

    def __init__(self, app, path):
        self.path, self.pages = path, self.UNLIMITED
        with app.app_context():
            self.engine = _db.engine
        event.listen(self.engine, "checkout", self._apply)

    def _apply(self, dbapi_connection, record, proxy):
        dbapi_connection.execute(f"PRAGMA max_page_count = {int(self.pages)}")

    def fill(self):
        with contextlib.closing(sqlite3.connect(self.path, isolation_level=None)) as connection:
            # Free pages (rows earlier tests deleted) would take new rows without the file
            # growing: give them back first, so the file is as full as it is large.
            connection.execute("VACUUM")
            self.pages = connection.execute("PRAGMA page_count").fetchone()[0]
        self.engine.pool.dispose()  # every connection takes the limit at its next checkout

    def lift(self):
        self.pages = self.UNLIMITED
        self.engine.pool.dispose()

    def close(self):
        event.remove(self.engine, "checkout", self._apply)


def fill_until_refused(port, village, attempts=400) -> int:
    """Read the village page (each view writes an access record) until the file is full."""
    for n in range(attempts):
        if fetch(port, village["page"], village["cookie"]).status == 503:
            return n
    raise AssertionError("the file never filled")


def test_on_a_full_sqlite_file_writes_get_503_change_nothing_and_it_serves_once_freed(
    tmp_path, db, village, sqlite_file
):
    app = live_app(f"sqlite:///{sqlite_file}", tmp_path)
    limit = PageLimit(app, sqlite_file)
    try:
        with serving(app) as port:
            limit.fill()
            fill_until_refused(port, village)
            viewed = events(db, VIEWED)

            write = fetch(
                port, village["reveal"], village["cookie"], method="POST", form={"reason": "rumour"}
            )
            read = fetch(port, village["page"], village["cookie"])
            alive = fetch(port, "/livez", village["cookie"])
            assert events(db, REVEALED) == 0 and events(db, VIEWED) == viewed

            limit.lift()
            back = fetch(port, village["page"], village["cookie"])
    finally:
        limit.close()

    assert write.status == 503 and "Nothing you sent was saved." in write.text
    assert read.status == 503  # a page that cannot record its view is not shown
    assert alive.status == 200
    assert back.status == 200 and events(db, VIEWED) == viewed + 1


@pytest.fixture
def app_log():
    """The app's own log handlers as production configures them (``TESTING`` off); the loggers
    are put back afterwards for the other tests."""
    saved = {
        name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
        for name in ("cplan", "cplan.requests")
    }
    yield
    for name, (handlers, propagate) in saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).propagate = propagate


def test_a_failure_repeated_on_a_full_disk_is_logged_once_in_full_then_counted(
    tmp_path, db, village, sqlite_file, app_log, capfd
):
    app = live_app(
        f"sqlite:///{sqlite_file}",
        tmp_path,
        TESTING=False,
        ENV_NAME="development",
        LOG_REPEAT_SECONDS=1,
    )
    limit = PageLimit(app, sqlite_file)
    try:
        with serving(app) as port:
            limit.fill()
            served = fill_until_refused(port, village)
            statuses = []

            def browse():
                for _ in range(40):
                    statuses.append(fetch(port, village["page"], village["cookie"]).status)

            browsers = [threading.Thread(target=browse) for _ in range(4)]
            for browser in browsers:
                browser.start()
            for browser in browsers:
                browser.join()
            time.sleep(2.5)  # the last interval ends and its count is written
            limit.lift()
            assert fetch(port, village["page"], village["cookie"]).status == 200
    finally:
        limit.close()
    log = capfd.readouterr().err
    failures = [line for line in log.splitlines() if " ERROR cplan" in line]
    tracebacks = log.count("Traceback (most recent call last)")
    counted = [int(n) for n in re.findall(r"\[repeated (\d+) times in the last 1 s; the", log)]
    with capfd.disabled():
        print(f"{tracebacks} traceback(s), {len(failures)} error lines, counts {counted}")

    assert statuses == [503] * 160
    # One JSON line per request, never held back: those served, the 161 refused, the last.
    assert len(request_lines(log)) == served + 161 + 1
    in_full = len(failures) - len(counted)
    # One kind of failure, logged in full once (twice if the machine paused a whole interval),
    # its traceback printed with the driver's error that caused it.
    assert 1 <= in_full <= 2 and tracebacks == 2 * in_full
    assert "database or disk is full" in log
    assert counted
    # Every failure is in the log: in full, or in a count.
    assert len(failures) - len(counted) + sum(counted) == 161
    assert len(failures) < 20
    # A statement's parameters never reach the log (they can hold a mobile number).
    assert "[SQL parameters hidden due to hide_parameters=True]" in log


# ---- what counts as a write -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("SELECT contacts.id FROM contacts", False),
        ("BEGIN IMMEDIATE", False),
        ("  /* a comment */ select 1", False),
        ("SELECT pg_advisory_xact_lock(1)", False),
        ("INSERT INTO audit_events (action) VALUES (?)", True),
        ("UPDATE sign_in_sessions SET last_seen_at = ?", True),
        ("DELETE FROM sign_in_codes", True),
        ("WITH moved AS (UPDATE places SET x = 1 RETURNING id) SELECT * FROM moved", True),
        ("WITH recent AS (SELECT id FROM contacts) SELECT * FROM recent", False),
    ],
)
def test_a_statement_that_changes_anything_counts_as_a_write(statement, writes):
    assert is_write(statement) is writes


# ---- repeated failures in a forked worker -----------------------------------------------------


def test_a_worker_forked_after_a_failure_still_logs_its_own_first_one_and_counts_the_rest():
    """gunicorn forks its workers from the master, where the log's filter is made: a failure the
    master logged must not leave the workers counting its repeats forever, never writing them."""
    import io

    from cplan.logging import RepeatedFailures

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RepeatedFailures(0.3))
    logger = logging.getLogger("cplan.tests.forked")
    logger.addHandler(handler)
    logger.propagate = False

    def fail():
        try:
            raise ZeroDivisionError("division by zero")
        except ZeroDivisionError:
            logger.exception("could not divide")

    try:
        fail()  # in the "master"
        child = os.fork()
        if child == 0:  # the "worker": its own output only
            stream.seek(0)
            stream.truncate()
            for _ in range(5):
                fail()
            time.sleep(0.8)
            text = stream.getvalue()
            os._exit(0 if text.count("Traceback") == 1 and "repeated 4 times" in text else 1)
        _, status = os.waitpid(child, 0)
    finally:
        logger.removeHandler(handler)
    assert os.waitstatus_to_exitcode(status) == 0
