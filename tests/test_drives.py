"""Re-verification drives: opening one set-based, outcomes recorded once, counters kept."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cplan.models import (
    AuditEvent,
    Contact,
    ContactCategory,
    ContactElectionMark,
    ContactProposal,
    ContactStatus,
    DriveDailyProgress,
    DriveProgress,
    DriveState,
    Election,
    ElectionAuthority,
    ElectionKind,
    ElectionPhase,
    ElectionRole,
    PhaseDistrict,
    ProposalKind,
    Script,
    SensitivePlace,
    SensitivityLevel,
    TaskState,
    VerificationTask,
)
from cplan.models.base import utcnow
from cplan.services import drives, roster
from cplan.services.errors import AlreadyDecided, NotAllowed, NotInScope
from cplan.services.principal import Principal
from tests.concurrency import principal_in_thread, run_together

TODAY = date(2027, 3, 1)


def principal(officer):
    return Principal(officer=officer, post=officer.test_post, session=None)


@pytest.fixture
def make_contact(db):
    counter = {"n": 0}

    def make(place, status=ContactStatus.ACTIVE, last_verified_at=None, confidential=False):
        counter["n"] += 1
        contact = Contact(
            place_id=place.id,
            unit_path=place.unit_path,
            name=f"Citizen {counter['n']}",
            name_script=Script.LATIN,
            category=ContactCategory.TEACHER,
            status=status,
            mobile=f"+9198765{counter['n']:05d}",
            last_verified_at=last_verified_at,
            confidential=confidential,
        )
        db.session.add(contact)
        db.session.flush()
        return contact

    return make


@pytest.fixture
def world(db, state, make_district, make_station, make_place, make_officer, make_contact):
    baghpat = make_district("Baghpat", code="124")
    meerut = make_district("Meerut", code="135")
    baraut = make_station(baghpat, "Baraut")
    khekra = make_station(baghpat, "Khekra")
    sardhana = make_station(meerut, "Sardhana")
    bijrol = make_place("BIJROL", station=baraut, lgd_code="119300")
    bamnauli = make_place("BAMNAULI", station=baraut, lgd_code="119301")
    khekra_village = make_place("KHEKRA", station=khekra, lgd_code="119400")
    sardhana_village = make_place("SARDHANA", station=sardhana, lgd_code="120000")
    now = utcnow()
    contacts = {
        "bijrol": [make_contact(bijrol) for _ in range(3)],
        "bamnauli": [make_contact(bamnauli) for _ in range(2)],
        "khekra": [make_contact(khekra_village)],
        "recent": make_contact(bijrol, last_verified_at=now - timedelta(days=5)),
        "old": make_contact(bijrol, last_verified_at=now - timedelta(days=90)),
        "pending": make_contact(bijrol, status=ContactStatus.PENDING),
        "meerut": make_contact(sardhana_village),
    }
    election = Election(
        kind=ElectionKind.GRAM_PANCHAYAT,
        authority=ElectionAuthority.STATE_ELECTION_COMMISSION,
        name_en="Panchayat 2027",
    )
    phase = ElectionPhase(election=election, number=2, poll_date=date(2027, 4, 19))
    db.session.add_all([election, phase])
    db.session.flush()
    db.session.add(
        PhaseDistrict(election_id=election.id, phase_id=phase.id, district_id=baghpat.id)
    )
    db.session.add(
        SensitivePlace(
            election_id=election.id,
            place_id=bamnauli.id,
            unit_path=bamnauli.unit_path,
            level=SensitivityLevel.HYPER_SENSITIVE,
            rank=2,
        )
    )
    db.session.flush()
    return {
        "state": state,
        "baghpat": baghpat,
        "meerut": meerut,
        "baraut": baraut,
        "khekra": khekra,
        "bijrol": bijrol,
        "bamnauli": bamnauli,
        "contacts": contacts,
        "election": election,
        "phase": phase,
        "sp": make_officer("sp_office", baghpat),
        "control_room": make_officer("control_room", state),
        "meerut_sp": make_officer("sp_office", meerut),
        "baraut_so": make_officer("station_officer", baraut),
        "baraut_constable": make_officer("constable", baraut, name="Constable Ram"),
        "khekra_so": make_officer("station_officer", khekra),
        "asp": make_officer("asp", baghpat),
    }


def open_for(world, who="sp", unit="baghpat", **overrides):
    values = dict(
        scope_unit_id=world[unit].id,
        opens_on=TODAY,
        due_on=TODAY + timedelta(days=20),
        max_age_days=30,
    )
    values.update(overrides)
    drive = drives.open_drive(principal(world[who]), **values)
    if drive.state == DriveState.OPENING:
        # A drive larger than a district is the worker's to open: its half, in this transaction
        # (tests/test_drive_opening.py runs the worker itself).
        drives.finish_opening(drive)
    return drive


def tasks_of(db, drive):
    return db.session.scalars(
        select(VerificationTask).where(VerificationTask.drive_id == drive.id)
    ).all()


def progress(db, drive):
    """The counters summed over stations and levels."""
    table = DriveProgress
    row = db.session.execute(
        select(
            func.sum(table.tasks),
            func.sum(table.pending),
            func.sum(table.confirmed),
            func.sum(table.changed),
            func.sum(table.unreachable),
            func.sum(table.unsuitable),
            func.sum(table.attempted),
        ).where(table.drive_id == drive.id)
    ).one()
    keys = ("tasks", "pending", "confirmed", "changed", "unreachable", "unsuitable", "attempted")
    return dict(zip(keys, row, strict=True))


def test_a_district_drive_gives_a_task_to_each_active_contact_not_verified_recently(db, world):
    drive = open_for(world)
    contacts = world["contacts"]
    expected = {c.id for c in contacts["bijrol"] + contacts["bamnauli"] + contacts["khekra"]}
    expected.add(contacts["old"].id)  # verified 90 days ago: older than the 30 days that count
    assert {task.contact_id for task in tasks_of(db, drive)} == expected
    assert drive.task_count == len(expected)
    assert progress(db, drive)["tasks"] == progress(db, drive)["pending"] == len(expected)
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "drive.opened")) == 1


def test_a_phase_drive_leaves_out_contacts_marked_in_the_election_and_grades_villages(db, world):
    candidate, agent_before = world["contacts"]["bijrol"][:2]
    db.session.add_all(
        [
            ContactElectionMark(
                election_id=world["election"].id,
                contact_id=candidate.id,
                unit_path=candidate.unit_path,
                role=ElectionRole.CANDIDATE,
            ),
            ContactElectionMark(  # an ended mark: neutral again
                election_id=world["election"].id,
                contact_id=agent_before.id,
                unit_path=agent_before.unit_path,
                role=ElectionRole.POLLING_AGENT,
                ended_at=utcnow(),
            ),
        ]
    )
    db.session.flush()
    drive = open_for(world, who="control_room", unit="state", phase_id=world["phase"].id)
    tasks = {task.contact_id: task for task in tasks_of(db, drive)}
    assert candidate.id not in tasks
    assert agent_before.id in tasks
    assert world["contacts"]["meerut"].id not in tasks  # Meerut does not vote in phase 2
    assert {tasks[c.id].sensitivity for c in world["contacts"]["bamnauli"]} == {2}
    assert tasks[world["contacts"]["khekra"][0].id].sensitivity == 0
    rows = db.session.scalars(select(DriveProgress).where(DriveProgress.drive_id == drive.id))
    by_key = {(row.unit_path, row.sensitivity): row.tasks for row in rows}
    assert by_key[(world["baraut"].path, 2)] == 2


def test_a_drive_overlapping_an_open_one_is_refused_naming_it(db, world):
    first = open_for(world, name="Before phase 2")
    with pytest.raises(drives.DriveError) as refused:
        open_for(world, who="control_room", unit="state", opens_on=TODAY + timedelta(days=10))
    assert f"Drive {first.id} (Before phase 2" in str(refused.value)
    # Another district, or dates after the first is due, are fine; so is a closed one's area.
    open_for(world, who="meerut_sp", unit="meerut")
    open_for(world, opens_on=TODAY + timedelta(days=21), due_on=TODAY + timedelta(days=30))
    drives.close_drive(principal(world["sp"]), first.id)
    open_for(world, opens_on=TODAY, due_on=TODAY + timedelta(days=5))


@pytest.mark.parametrize(
    ("who", "unit", "error"),
    [
        ("meerut_sp", "baghpat", NotInScope),
        ("baraut_so", "baghpat", NotAllowed),
        ("sp", "baraut", drives.DriveError),  # a station is not a drive's area
    ],
)
def test_only_district_and_state_posts_open_drives_for_their_own_area(db, world, who, unit, error):
    with pytest.raises(error):
        open_for(world, who=who, unit=unit)


def first_task(db, drive, contact):
    return db.session.scalar(
        select(VerificationTask).where(
            VerificationTask.drive_id == drive.id, VerificationTask.contact_id == contact.id
        )
    )


def test_a_confirmation_dates_the_contact_and_counts_once(db, world):
    drive = open_for(world)
    contact = world["contacts"]["bijrol"][0]
    task = first_task(db, drive, contact)
    constable = principal(world["baraut_constable"])
    drives.record_outcome(constable, task.id, task.version, "confirmed", method="visit")
    assert task.state == TaskState.CONFIRMED and task.method.value == "visit"
    assert contact.last_verified_at is not None
    assert task.done_by.id == world["baraut_constable"].id
    counts = progress(db, drive)
    assert counts["confirmed"] == 1 and counts["pending"] == drive.task_count - 1
    daily = db.session.scalars(select(DriveDailyProgress)).all()
    assert [(row.unit_path, row.confirmed) for row in daily] == [(world["baraut"].path, 1)]
    with pytest.raises(AlreadyDecided):
        drives.record_outcome(constable, task.id, task.version - 1, "confirmed")
    assert progress(db, drive)["confirmed"] == 1


def test_changed_and_unsuitable_go_to_the_asp_as_a_correction_and_a_removal(db, world):
    drive = open_for(world)
    changed, unsuitable = world["contacts"]["bamnauli"]
    so = principal(world["baraut_so"])
    task = first_task(db, drive, changed)
    details = roster.ContactDetails(
        name=changed.name, mobile="98111 22334", category="teacher", consent_on=date(2026, 1, 1)
    )
    drives.record_outcome(so, task.id, task.version, "changed", details=details)
    correction = db.session.get(ContactProposal, task.proposal_id)
    assert correction.kind == ProposalKind.CORRECTION and "+919811122334" in correction.changes
    assert changed.mobile != "+919811122334"  # until the ASP approves
    task = first_task(db, drive, unsuitable)
    drives.record_outcome(
        so, task.id, task.version, "unsuitable", reason="unsuitable", note="Now a candidate"
    )
    removal = db.session.get(ContactProposal, task.proposal_id)
    assert removal.kind == ProposalKind.REMOVAL and removal.note == "Now a candidate"
    counts = progress(db, drive)
    assert (counts["changed"], counts["unsuitable"]) == (1, 1)


def test_unreachable_on_three_different_days_ends_the_task(db, world):
    drive = open_for(world)
    contact = world["contacts"]["khekra"][0]
    task = first_task(db, drive, contact)
    so = principal(world["khekra_so"])
    day = datetime(2027, 3, 2, 6, 0, tzinfo=UTC)
    for when in (day, day + timedelta(hours=3), day + timedelta(days=1)):
        drives.record_outcome(so, task.id, task.version, "unreachable", now=when)
    assert (task.state, task.attempts, task.unreachable_days) == (TaskState.PENDING, 3, 2)
    assert progress(db, drive)["attempted"] == 1
    drives.record_outcome(so, task.id, task.version, "unreachable", now=day + timedelta(days=3))
    assert task.state == TaskState.UNREACHABLE
    assert contact.unreachable_count == 4 and contact.last_verified_at is None
    counts = progress(db, drive)
    assert (counts["unreachable"], counts["attempted"]) == (1, 0)


def test_a_station_cannot_record_another_stations_contact(db, world):
    drive = open_for(world)
    task = first_task(db, drive, world["contacts"]["khekra"][0])
    with pytest.raises(NotInScope):
        drives.record_outcome(principal(world["baraut_so"]), task.id, task.version, "confirmed")


def test_verify_next_starts_with_the_most_sensitive_village(db, world):
    drive = open_for(world, who="control_room", unit="state", phase_id=world["phase"].id)
    so = principal(world["baraut_so"])
    seen = []
    while (task := drives.next_task(so, drive, world["baraut"])) is not None:
        seen.append(task.place_id)
        drives.record_outcome(so, task.id, task.version, "confirmed")
    bamnauli, bijrol = world["bamnauli"].id, world["bijrol"].id
    assert seen == [bamnauli, bamnauli, bijrol, bijrol, bijrol, bijrol]


def test_two_officers_recording_the_same_contact_at_once_one_wins(app, db, world):
    drive = open_for(world)
    task = first_task(db, drive, world["contacts"]["bijrol"][0])
    officers = [world["baraut_so"].id, world["baraut_constable"].id]
    task_id, version = task.id, task.version
    db.session.commit()

    def record(officer_id, outcome):
        def work():
            return drives.record_outcome(
                principal_in_thread(officer_id), task_id, version, outcome
            ).state

        return work

    results = run_together(
        app, [record(officers[0], "confirmed"), record(officers[1], "unreachable")]
    )
    winners = [r for r in results if isinstance(r, TaskState)]
    losers = [r for r in results if isinstance(r, AlreadyDecided)]
    assert len(winners) == 1 and len(losers) == 1, results
    db.session.expire_all()
    task = db.session.get(VerificationTask, task_id)
    assert losers[0].decided.officer_name == task.done_by.name
    counts = progress(db, drive)
    assert counts["confirmed"] + counts["attempted"] == 1


def test_counting_again_set_based_gives_the_counters_kept_on_each_outcome(db, world):
    drive = open_for(world)
    so = principal(world["baraut_so"])
    evening = datetime(2027, 3, 2, 20, 0, tzinfo=UTC)  # 01:30 the next day in India
    for step, outcome in enumerate(["confirmed", "unreachable", "confirmed", "unsuitable"]):
        task = drives.next_task(so, drive, world["baraut"])
        extra = {"reason": "moved", "note": "Moved to Delhi"} if outcome == "unsuitable" else {}
        drives.record_outcome(
            so, task.id, task.version, outcome, now=evening + timedelta(days=step), **extra
        )

    def snapshot():
        db.session.expire_all()
        progress_rows = db.session.scalars(
            select(DriveProgress).where(DriveProgress.drive_id == drive.id)
        )
        daily_rows = db.session.scalars(
            select(DriveDailyProgress).where(DriveDailyProgress.drive_id == drive.id)
        )
        return (
            sorted(
                (r.unit_path, r.sensitivity, r.tasks, r.pending, r.confirmed, r.changed)
                + (r.unreachable, r.unsuitable, r.attempted)
                for r in progress_rows
            ),
            sorted(
                (r.unit_path, r.day, r.confirmed, r.changed, r.unreachable, r.unsuitable)
                for r in daily_rows
            ),
        )

    kept = snapshot()
    assert kept[1][0][1] == date(2027, 3, 3)  # the day in India
    drives.recount(drive)
    assert snapshot() == kept


@pytest.mark.parametrize(
    ("role", "opens", "verifies", "follows"),
    [
        ("constable", False, True, True),
        ("station_officer", False, True, True),
        ("circle_officer", False, False, True),
        ("asp", True, False, True),
        ("sp_office", True, False, True),
        ("control_room", True, False, True),
        ("state_admin", False, False, False),
    ],
)
def test_who_opens_drives_records_outcomes_and_follows_progress(role, opens, verifies, follows):
    from cplan.models import Role
    from cplan.services.permissions import Permission, has_permission

    assert has_permission(Role(role), Permission.OPEN_DRIVES) is opens
    assert has_permission(Role(role), Permission.VERIFY_CONTACTS) is verifies
    assert has_permission(Role(role), Permission.VIEW_DRIVES) is follows


def test_a_drive_opens_from_the_command_line_as_a_post(app, db, world):
    db.session.commit()
    cug = world["control_room"].test_post.cug_number
    runner = app.test_cli_runner()
    args = ["cplan", "drives", "open", "--cug", cug, "--opens", "2027-03-01"]
    result = runner.invoke(args=[*args, "--due", "2027-03-20", "--name", "Statewide"])
    assert result.exit_code == 0, result.output
    assert "opened with 8 tasks" in result.output  # Baghpat and Meerut
    result = runner.invoke(args=[*args, "--due", "2027-03-05", "--district", "124"])
    assert result.exit_code == 1 and "(Statewide, 2027-03-01 to 2027-03-20)" in result.output
