"""The UP-112 pull feed: every change of every incident in scope, once, in order, without gaps
when writers commit out of order."""

import random
import threading
import time

import pytest
from sqlalchemy import select, text

from cplan.extensions import db as _db
from cplan.models import IncidentChange
from cplan.web.ratelimits import limiter_of
from tests.api_contract import report
from tests.concurrency import principal_in_thread


def read_all(api, after=None):
    """Follow the feed to its end; returns (cursors seen, incident ids in order, last cursor)."""
    cursors, ids = [], []
    while True:
        url = "/api/v1/feed/incidents?limit=3" + (f"&after={after}" if after else "")
        page = api.get(url)
        assert page.status_code == 200
        body = page.get_json()
        cursors += [item["cursor"] for item in body["items"]]
        ids += [item["incident"]["id"] for item in body["items"]]
        if not body["items"]:
            return cursors, ids, body["next"]
        after = body["next"]


def read_until(api, want: int, after=None, timeout=30.0):
    """``read_all`` until ``want`` incidents came. On PostgreSQL the feed holds back changes
    while any older transaction still writes, and other databases of the same server (other
    test runs) count too: the wait is the feed's delay, not a gap."""
    cursors, ids = [], []
    deadline = time.monotonic() + timeout
    while True:
        more_cursors, more_ids, after = read_all(api, after)
        cursors += more_cursors
        ids += more_ids
        if len(ids) >= want or time.monotonic() > deadline:
            return cursors, ids, after
        time.sleep(0.1)


def test_the_control_room_follows_every_new_and_changed_incident_statewide(db, api_world, api_as):
    supervisor = api_as(api_world["supervisor"])
    baraut = api_as(api_world["constable"])
    first = report(baraut, api_world["bijrol"]).get_json()["id"]
    second = report(api_as(api_world["kotwali_so"]), api_world["sisana"]).get_json()["id"]
    cursors, ids, cursor = read_until(supervisor, 2)
    assert ids == [first, second] and len(set(cursors)) == len(cursors)
    baraut.post(f"/api/v1/incidents/{first}/notes", {"text": "Calm now"})
    _, changed, cursor = read_until(supervisor, 1, cursor)
    assert changed == [first]
    assert read_all(supervisor, cursor)[1] == []


def test_the_feed_follows_the_scope_and_needs_the_review_permission(db, api_world, api_as):
    report(api_as(api_world["constable"]), api_world["bijrol"])
    report(api_as(api_world["kotwali_so"]), api_world["sisana"])
    other_district = api_as(api_world["other_asp"])
    assert other_district.get("/api/v1/feed/incidents").status_code == 403
    assert api_as(api_world["constable"]).get("/api/v1/feed/incidents").status_code == 403
    assert len(read_until(api_as(api_world["sp_office"]), 2)[1]) == 2
    bad = api_as(api_world["sp_office"]).get("/api/v1/feed/incidents?after=x")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "after"


@pytest.mark.postgres
def test_a_change_committed_late_is_not_skipped(app, db, api_world, api_as):
    """Writer A changes an incident and waits; writer B changes another and commits. The feed
    must hold B back until A commits, then give A's change and B's, in that order."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("on SQLite writers take turns: a change cannot commit before an earlier one")
    supervisor = api_as(api_world["supervisor"])
    constable = api_as(api_world["constable"])
    one = report(constable, api_world["bijrol"]).get_json()["id"]
    two = report(constable, api_world["bijrol"]).get_json()["id"]
    _, _, cursor = read_until(supervisor, 2)
    db.session.commit()
    with db.engine.connect() as writer_a:
        writer_a.execute(
            text("UPDATE incidents SET summary = summary || '.' WHERE id = :id"), {"id": one}
        )
        constable.post(f"/api/v1/incidents/{two}/notes", {"text": "B commits first"})
        held = read_all(supervisor, cursor)
        assert held[1] == [] and held[2] == cursor
        writer_a.commit()
    _, ids, _ = read_until(supervisor, 2, cursor)
    assert ids == [one, two]


@pytest.mark.postgres
def test_a_transaction_open_in_another_database_does_not_hold_the_feed_back(
    app, db, api_world, api_as
):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's transaction ids are shared by the server's databases")
    from sqlalchemy import create_engine

    supervisor = api_as(api_world["supervisor"])
    constable = api_as(api_world["constable"])
    elsewhere = create_engine(db.engine.url.set(database="postgres"))
    try:
        with elsewhere.connect() as other:
            other.execute(text("SELECT pg_current_xact_id()"))  # holds a transaction id, open
            report(constable, api_world["bijrol"])
            assert len(read_all(supervisor)[1]) == 1
            other.rollback()
    finally:
        elsewhere.dispose()


@pytest.mark.slow
def test_interleaved_writers_and_a_reader_see_every_change_once(app, db, api_world, api_as):
    from cplan.services import incidents

    supervisor = api_as(api_world["supervisor"])
    constable = api_as(api_world["constable"])
    ids = [report(constable, api_world["bijrol"]).get_json()["id"] for _ in range(3)]
    officer_id = api_world["constable"].id
    token = supervisor.token
    db.session.commit()
    writing = threading.Event()
    writing.set()
    seen: list[str] = []
    errors: list[BaseException] = []

    def writer(seed):
        rng = random.Random(seed)
        with app.app_context():
            try:
                principal = principal_in_thread(officer_id)
                for n in range(8):
                    incidents.add_note(principal, rng.choice(ids), f"note {seed}-{n}")
                    time.sleep(rng.random() * 0.02)  # hold the transaction open a while
                    _db.session.commit()
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
            finally:
                _db.session.remove()

    def reader():
        after = None
        client = app.test_client()
        quiet_since = None
        with app.app_context():
            try:
                while True:
                    url = "/api/v1/feed/incidents?limit=5" + (f"&after={after}" if after else "")
                    limiter_of(app).reset()  # polling as fast as it can: not a rate-limit test
                    body = client.get(url, headers={"Authorization": f"Bearer {token}"}).get_json()
                    seen.extend(item["cursor"] for item in body["items"])
                    after = body["next"]
                    _db.session.remove()
                    if body["items"] or writing.is_set():
                        quiet_since = None
                        continue
                    # Writers are done: read until the feed has been quiet for a while (on
                    # PostgreSQL it may still hold back changes behind other transactions).
                    quiet_since = quiet_since or time.monotonic()
                    if time.monotonic() - quiet_since > 3:
                        break
                    time.sleep(0.05)
            except BaseException as error:  # noqa: BLE001
                errors.append(error)
            finally:
                _db.session.remove()

    writers = [threading.Thread(target=writer, args=(seed,)) for seed in range(3)]
    reading = threading.Thread(target=reader)
    reading.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(60)
    writing.clear()
    reading.join(60)
    assert errors == []
    db.session.expire_all()
    every = [f"{c.txid}.{c.id}" for c in db.session.scalars(select(IncidentChange))]
    # Each change the reader was given is a real one, given once. An incident changed twice
    # within one page is given once (at its last change), so some cursors may be skipped, but
    # every incident's latest change is among them.
    assert len(seen) == len(set(seen)) and set(seen) <= set(every)
    last = {}
    for change in db.session.scalars(select(IncidentChange).order_by(IncidentChange.id)):
        last[change.incident_id] = f"{change.txid}.{change.id}"
    assert set(last.values()) <= set(seen)
