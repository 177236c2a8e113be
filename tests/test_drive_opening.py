"""Drives larger than a district: the page records them, the worker (a real process) opens them.

The page's request only writes the drive (``opening``) and its audit event; the SMS worker's
second job creates the tasks. Failures show on the drive's page and can be retried; the overlap
rule and two clicks are decided when the drive is recorded.
"""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from cplan.models import (
    AuditEvent,
    DriveState,
    PhaseDistrict,
    VerificationDrive,
    VerificationTask,
)
from cplan.services import drives
from cplan.services.drives import DriveError
from cplan.workers import drive_opener
from tests import test_drives
from tests.concurrency import principal_in_thread, run_together
from tests.conftest import TEST_SECRET
from tests.test_drives import TODAY, principal

ROOT = Path(__file__).resolve().parent.parent

# The fixtures of the drive tests, shared.
make_contact = test_drives.make_contact
world = test_drives.world

# Active contacts of the state not verified within 30 days: Bijrol's three and the one verified
# 90 days ago, Bamnauli's two, Khekra's one and Meerut's one.
STATE_TASKS = 8


def _form(world, **changes):
    return {
        "scope_unit_id": str(world["state"].id),
        "phase_id": "",
        "opens_on": TODAY.isoformat(),
        "due_on": (TODAY + timedelta(days=10)).isoformat(),
        "max_age_days": "30",
        "name": "Statewide before the polls",
    } | changes


def _drives(db):
    db.session.expire_all()
    return db.session.scalars(select(VerificationDrive).order_by(VerificationDrive.id)).all()


def _task_count(db, drive_id):
    return db.session.scalar(
        select(func.count())
        .select_from(VerificationTask)
        .where(VerificationTask.drive_id == drive_id)
    )


def _actions(db, drive_id):
    return db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.target_type == "verification_drives", AuditEvent.target_id == drive_id)
        .order_by(AuditEvent.id)
    ).all()


def _run_worker(database_url):
    """``flask cplan sms-worker --until-idle``, as production runs it (nothing to send here)."""
    env = {
        **os.environ,
        "CPLAN_DATABASE_URL": database_url,
        "CPLAN_SECRET_KEY": TEST_SECRET,
        "CPLAN_ENV_NAME": "testing",
        "CPLAN_SMS_BROADCAST_BACKEND": "console",
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "cplan", "sms-worker"]
        + ["--poll", "0.2", "--until-idle", "--name", "drive-test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_control_room_records_a_statewide_drive_and_the_worker_process_opens_it(
    client, db, login_as, world, database_url
):
    login_as(world["control_room"])
    response = client.post("/drives/new", data=_form(world))
    assert response.status_code == 302
    (drive,) = _drives(db)
    # The request only recorded it: no task yet, and it says so, refreshing itself.
    assert drive.state == DriveState.OPENING and drive.task_count == 0
    assert _task_count(db, drive.id) == 0
    assert _actions(db, drive.id) == ["drive.opening_requested"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "the worker is now creating its tasks" in page
    assert "Being opened" in page and 'http-equiv="refresh"' in page
    assert "Being opened" in client.get("/drives/").get_data(as_text=True)
    db.session.rollback()  # SQLite: hold no lock while the worker writes

    worker = _run_worker(database_url)
    assert worker.returncode == 0, worker.stdout + worker.stderr
    assert "drives opened 1, failed to open 0" in worker.stdout

    (drive,) = _drives(db)
    assert drive.state == DriveState.OPEN and drive.task_count == STATE_TASKS
    assert _task_count(db, drive.id) == STATE_TASKS
    assert _actions(db, drive.id) == ["drive.opening_requested", "drive.opened"]
    opened = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "drive.opened", AuditEvent.target_id == drive.id
        )
    )
    assert opened.officer_id == world["control_room"].id
    page = client.get(f"/drives/{drive.id}").get_data(as_text=True)
    assert "Drive open" in page and 'http-equiv="refresh"' not in page
    assert "Baghpat" in page and "Meerut" in page  # the progress, by district


def test_a_district_drive_still_opens_at_once_from_the_page(client, db, login_as, world):
    login_as(world["control_room"])
    response = client.post("/drives/new", data=_form(world, scope_unit_id=str(world["baghpat"].id)))
    assert response.status_code == 302
    (drive,) = _drives(db)
    assert drive.state == DriveState.OPEN and drive.task_count == STATE_TASKS - 1


def test_a_second_click_is_refused_naming_the_drive_being_opened(client, db, login_as, world):
    login_as(world["control_room"])
    assert client.post("/drives/new", data=_form(world)).status_code == 302
    again = client.post("/drives/new", data=_form(world))
    assert again.status_code == 400
    (drive,) = _drives(db)
    assert f"Drive {drive.id} (Statewide before the polls" in again.get_data(as_text=True)
    assert "already being opened" in again.get_data(as_text=True)
    # A district inside it, on overlapping days, waits for it as well.
    sp = client.post("/drives/new", data=_form(world, scope_unit_id=str(world["baghpat"].id)))
    assert sp.status_code == 400 and len(_drives(db)) == 1


def test_two_clicks_at_the_same_moment_record_one_drive(app, db, world):
    officer_id = world["control_room"].id
    state_id = world["state"].id
    db.session.commit()

    def click():
        return drives.open_drive(
            principal_in_thread(officer_id),
            scope_unit_id=state_id,
            opens_on=TODAY,
            due_on=TODAY + timedelta(days=10),
            max_age_days=30,
        ).id

    results = run_together(app, [click, click])
    recorded = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, DriveError)]
    assert len(recorded) == 1 and len(refused) == 1, results
    assert f"Drive {recorded[0]} " in str(refused[0])
    assert len(_drives(db)) == 1


def test_a_failed_opening_is_shown_and_can_be_retried(client, db, login_as, world):
    login_as(world["control_room"])
    phase = world["phase"]
    response = client.post("/drives/new", data=_form(world, phase_id=str(phase.id)))
    assert response.status_code == 302
    (drive,) = _drives(db)
    # Before the worker gets to it, Baghpat is taken out of the phase: nothing left to open.
    db.session.execute(PhaseDistrict.__table__.delete().where(PhaseDistrict.phase_id == phase.id))
    db.session.commit()

    result = drive_opener.open_waiting()
    assert (result.opened, result.failed) == (0, 1)
    (drive,) = _drives(db)
    assert drive.state == DriveState.FAILED and _task_count(db, drive.id) == 0
    assert "No district of this area votes in that phase" in drive.open_failure
    assert _actions(db, drive.id) == ["drive.opening_requested", "drive.open_failed"]
    page = client.get(f"/drives/{drive.id}").get_data(as_text=True)
    assert "Opening failed" in page and "No district of this area votes" in page
    assert f"/drives/{drive.id}/retry" in page

    db.session.add(
        PhaseDistrict(
            election_id=phase.election_id, phase_id=phase.id, district_id=world["baghpat"].id
        )
    )
    db.session.commit()
    retried = client.post(f"/drives/{drive.id}/retry")
    assert retried.status_code == 302
    page = client.get(retried.headers["Location"]).get_data(as_text=True)
    assert "The worker will try again to open the drive." in page and "Being opened" in page
    assert drive_opener.open_waiting().opened == 1
    (drive,) = _drives(db)
    assert drive.state == DriveState.OPEN and drive.open_failure is None
    # Baghpat's active contacts not verified within 30 days: only the phase's district.
    assert drive.task_count == STATE_TASKS - 1
    assert _actions(db, drive.id)[-2:] == ["drive.opening_retried", "drive.opened"]


def test_a_retry_overlapping_a_drive_opened_meanwhile_is_refused_naming_it(
    client, db, login_as, world
):
    login_as(world["control_room"])
    client.post("/drives/new", data=_form(world, phase_id=str(world["phase"].id)))
    (failed,) = _drives(db)
    drives.record_opening_failure(failed.id, "OperationalError: canceling statement")
    db.session.commit()
    district = drives.open_drive(
        principal(world["sp"]),
        scope_unit_id=world["baghpat"].id,
        opens_on=TODAY,
        due_on=TODAY + timedelta(days=3),
        max_age_days=30,
        name="Baghpat first",
    )
    db.session.commit()
    refused = client.post(f"/drives/{failed.id}/retry", follow_redirects=True)
    assert f"Drive {district.id} (Baghpat first" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(VerificationDrive, failed.id).state == DriveState.FAILED
    # Given up instead: closed, and nothing waits for the worker.
    assert client.post(f"/drives/{failed.id}/close").status_code == 302
    db.session.expire_all()
    assert db.session.get(VerificationDrive, failed.id).state == DriveState.CLOSED


def test_a_drive_being_opened_cannot_be_closed_or_worked(client, db, login_as, world):
    login_as(world["control_room"])
    client.post("/drives/new", data=_form(world))
    (drive,) = _drives(db)
    page = client.post(f"/drives/{drive.id}/close", follow_redirects=True).get_data(as_text=True)
    assert "still being opened" in page
    assert _drives(db)[0].state == DriveState.OPENING
    login_as(world["baraut_so"])
    assert "Verify next" not in client.get("/drives/").get_data(as_text=True)
    assert drives.open_drive_for(principal(world["baraut_so"]), world["baraut"]) is None


def test_the_page_in_hindi_says_the_drive_is_being_opened(client, db, login_as, world):
    login_as(world["control_room"])
    client.post("/drives/new", data=_form(world))
    client.post("/language/hi", data={"next": "/"})
    (drive,) = _drives(db)
    page = client.get(f"/drives/{drive.id}").get_data(as_text=True)
    assert "खोला जा रहा है" in page
