"""The demo drive in Baghpat: in progress with outcomes of every kind, and two meetings."""

from sqlalchemy import func, select

from cplan.devdata import demo
from cplan.models import (
    CoordinationMeeting,
    DriveDailyProgress,
    TaskState,
    VerificationDrive,
    VerificationMethod,
    VerificationTask,
)
from cplan.services import drives
from cplan.services.principal import Principal
from tests.test_drives import progress


def test_the_demo_drive_is_in_progress_with_every_outcome_and_two_meetings(app, db):
    context = demo.load_demo()
    db.session.commit()
    drive = db.session.scalar(select(VerificationDrive))
    assert drive is not None and drive.task_count > 100, context.log
    states = set(db.session.scalars(select(VerificationTask.state).distinct()))
    assert states == set(TaskState)
    methods = set(db.session.scalars(select(VerificationTask.method).distinct()))
    assert {
        VerificationMethod.CALL,
        VerificationMethod.VISIT,
        VerificationMethod.MEETING,
    } <= methods
    assert db.session.scalar(select(func.count(CoordinationMeeting.id))) == 2
    # The counters agree with the tasks.
    counts = progress(db, drive)
    for state, column in (
        (TaskState.PENDING, "pending"),
        (TaskState.CONFIRMED, "confirmed"),
        (TaskState.UNREACHABLE, "unreachable"),
    ):
        assert counts[column] == db.session.scalar(
            select(func.count()).where(VerificationTask.state == state)
        )
    assert db.session.scalar(select(func.count(func.distinct(DriveDailyProgress.day)))) >= 4
    # Loading again adds nothing.
    demo.load_demo()
    assert db.session.scalar(select(func.count(VerificationDrive.id))) == 1
    sp_post = drive.opened_by.assignments[0].post
    sp = Principal(officer=drive.opened_by, post=sp_post, session=None)
    assert drives.progress_of(sp, drive, drive.scope_unit).total.done > 30
