"""SQLite transactions: pages read side by side, a page's access record after its reads still
lands when another writer committed meanwhile, and the session's activity stamp does not turn
a page into a writer (cplan/extensions.py)."""

import threading

import pytest
from sqlalchemy import func, select

from cplan.extensions import db
from cplan.models import AuditEvent, Unit
from cplan.services import audit


@pytest.fixture(autouse=True)
def _sqlite_only(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's locking only")


def in_thread(app, work, method="GET"):
    """Run ``work`` in its own thread, request context and session; return (result, error)."""
    outcome = {}

    def run():
        with app.test_request_context("/", method=method):
            app.preprocess_request()
            try:
                outcome["result"] = work()
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - the test looks at it
                db.session.rollback()
                outcome["error"] = error
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_two_pages_read_at_the_same_time(app, state):
    db.session.commit()
    db.session.close()
    reading, done = threading.Event(), threading.Event()

    def slow_page():
        db.session.scalar(select(func.count(Unit.id)))  # the first page's transaction is open...
        reading.set()
        assert done.wait(10)  # ...and stays open until the second page has finished
        return "first"

    first, first_outcome = in_thread(app, slow_page)
    assert reading.wait(10)
    second, second_outcome = in_thread(app, lambda: db.session.scalar(select(func.count(Unit.id))))
    second.join(10)
    done.set()
    first.join(10)
    assert second_outcome == {"result": 1}  # not "database is locked" after waiting on the first
    assert first_outcome == {"result": "first"}


def test_a_pages_access_record_lands_after_another_writer_committed(app, state):
    db.session.commit()
    db.session.close()
    reading, written = threading.Event(), threading.Event()

    def page():
        unit = db.session.scalar(select(Unit))  # the page reads...
        reading.set()
        assert written.wait(10)  # ...another request writes meanwhile...
        audit.record("roster.viewed", unit=unit, target=unit)  # ...then the page's access record
        return "recorded"

    viewer, viewer_outcome = in_thread(app, page)
    assert reading.wait(10)
    writer, writer_outcome = in_thread(
        app, lambda: audit.record("test.written", unit=None), method="POST"
    )
    writer.join(10)
    written.set()
    viewer.join(10)
    assert writer_outcome.get("error") is None and viewer_outcome == {"result": "recorded"}
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 2
    assert audit.verify_chain().ok


def test_a_pages_reads_after_the_session_stamp_take_no_write_lock(
    app, client, make_district, make_station, make_officer, login_as
):
    """Once a minute the sign-in check stamps the session: it commits that at once, and the page
    then reads as a plain (deferred) transaction instead of holding the write lock throughout."""
    from datetime import timedelta

    from sqlalchemy import event

    station = make_station(make_district("Baghpat", code="124"), "Baraut")
    principal = login_as(make_officer("station_officer", station))
    principal.session.last_seen_at -= timedelta(minutes=5)
    db.session.commit()
    db.session.close()
    statements = []

    def listener(_conn, _cursor, sql, *_):
        statements.append(
            sql.split()[0] + (" IMMEDIATE" if sql.startswith("BEGIN IMMEDIATE") else "")
        )

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get("/incidents/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    begins = [sql for sql in statements if sql.startswith("BEGIN")]
    assert begins[:2] == ["BEGIN", "BEGIN IMMEDIATE"]  # the sign-in check reads, then stamps
    assert begins[2:] == ["BEGIN"]  # the page: a reader again
    assert statements.count("UPDATE") == 1
